/**
 * @module
 * Session descriptions (RFC 4566): parse and serialize, keeping lines we do not interpret so that nothing a peer
 * sent is lost. Parsing tolerates what real equipment writes (LF-only line ends, trailing spaces, lines in an
 * unusual order) but rejects text that is not SDP with a {@link SipParseError} of code `bad-sdp`.
 */
import { SipParseError } from './sip-parse-error.ts';

export interface SdpConnection {
  readonly netType: string;
  readonly addrType: string;
  /** Address without the /ttl or /count suffix. */
  readonly address: string;
}

export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  /** Kept as text: real offers use values beyond 2**53 (NTP timestamps). */
  readonly sessionVersion: string;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

export interface SdpAttribute {
  readonly name: string;
  /** Text after the colon; undefined for a property attribute such as `a=sendrecv`. */
  readonly value?: string;
}

/** A line we keep but do not interpret (i=, u=, e=, p=, z=, k=, r=…), as type letter and value. */
export type SdpLine = readonly [string, string];

export interface SdpMedia {
  /** audio, image, video… */
  readonly type: string;
  /** 0 rejects or disables the stream (RFC 3264 §6). */
  readonly port: number;
  readonly portCount?: number;
  /** RTP/AVP, udptl, UDPTL… as written. */
  readonly protocol: string;
  readonly formats: readonly string[];
  readonly connection?: SdpConnection;
  readonly bandwidths: readonly string[];
  readonly attributes: readonly SdpAttribute[];
  readonly otherLines: readonly SdpLine[];
}

export interface SessionDescription {
  readonly origin: SdpOrigin;
  readonly sessionName: string;
  readonly connection?: SdpConnection;
  readonly bandwidths: readonly string[];
  /** The t= value, normally `0 0`. */
  readonly timing: string;
  readonly attributes: readonly SdpAttribute[];
  readonly otherLines: readonly SdpLine[];
  readonly media: readonly SdpMedia[];
}

const MAX_SDP_BYTES = 16384;
const MAX_SDP_LINES = 512;

function bad(reason: string): SipParseError {
  return new SipParseError('bad-sdp', reason);
}

function parseConnection(value: string): SdpConnection {
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 3) throw bad('Malformed c= line');
  return { netType: parts[0]!, addrType: parts[1]!, address: parts[2]!.split('/')[0]! };
}

function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: value.trim() };
  return { name: value.slice(0, colon).trim(), value: value.slice(colon + 1).trim() };
}

interface MutableMedia {
  type: string;
  port: number;
  portCount?: number;
  protocol: string;
  formats: string[];
  connection?: SdpConnection;
  bandwidths: string[];
  attributes: SdpAttribute[];
  otherLines: SdpLine[];
}

export function parseSdp(text: string): SessionDescription {
  if (text.length > MAX_SDP_BYTES) throw bad('SDP too large');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > MAX_SDP_LINES) throw bad('Too many SDP lines');
  if (lines[0]?.trim() !== 'v=0') throw bad('SDP must start with v=0');
  let origin: SdpOrigin | undefined;
  let sessionName = '-';
  let connection: SdpConnection | undefined;
  let timing = '0 0';
  const bandwidths: string[] = [];
  const attributes: SdpAttribute[] = [];
  const otherLines: SdpLine[] = [];
  const media: MutableMedia[] = [];
  for (const raw of lines.slice(1)) {
    const line = raw.replace(/[ \t]+$/, '');
    if (!/^[a-zA-Z]=/.test(line)) throw bad('Malformed SDP line');
    const type = line[0]!;
    const value = line.slice(2);
    const current = media[media.length - 1];
    switch (type) {
      case 'o': {
        const p = value.trim().split(/\s+/);
        if (p.length !== 6) throw bad('Malformed o= line');
        origin = {
          username: p[0]!,
          sessionId: p[1]!,
          sessionVersion: p[2]!,
          netType: p[3]!,
          addrType: p[4]!,
          address: p[5]!,
        };
        break;
      }
      case 's':
        sessionName = value;
        break;
      case 't':
        timing = value;
        break;
      case 'c':
        if (current) current.connection = parseConnection(value);
        else connection = parseConnection(value);
        break;
      case 'b':
        (current ? current.bandwidths : bandwidths).push(value);
        break;
      case 'a':
        (current ? current.attributes : attributes).push(parseAttribute(value));
        break;
      case 'm': {
        const m = /^([A-Za-z0-9-]+) ([0-9]{1,5})(?:\/([0-9]{1,5}))? ([A-Za-z0-9/._-]+)((?: +[^ ]+)*) *$/.exec(
          value,
        );
        if (!m) throw bad('Malformed m= line');
        const port = Number(m[2]);
        if (port > 65535) throw bad('m= port out of range');
        media.push({
          type: m[1]!.toLowerCase(),
          port,
          ...(m[3] !== undefined ? { portCount: Number(m[3]) } : {}),
          protocol: m[4]!,
          formats: m[5]!.trim().split(/ +/).filter(Boolean),
          bandwidths: [],
          attributes: [],
          otherLines: [],
        });
        break;
      }
      case 'v':
        throw bad('Repeated v= line');
      default:
        (current ? current.otherLines : otherLines).push([type, value]);
    }
  }
  if (!origin) throw bad('Missing o= line');
  return {
    origin,
    sessionName,
    ...(connection ? { connection } : {}),
    bandwidths,
    timing,
    attributes,
    otherLines,
    media,
  };
}

function formatAttributes(attributes: readonly SdpAttribute[]): string[] {
  return attributes.map((a) => (a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`));
}

function formatConnection(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

/** Writes SDP in the order RFC 4566 §5 requires, with CRLF line ends. */
export function serializeSdp(sdp: SessionDescription): string {
  const o = sdp.origin;
  const lines = [
    'v=0',
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`,
    `s=${sdp.sessionName || '-'}`,
  ];
  for (const [type, value] of sdp.otherLines) if ('iuep'.includes(type)) lines.push(`${type}=${value}`);
  if (sdp.connection) lines.push(formatConnection(sdp.connection));
  for (const b of sdp.bandwidths) lines.push(`b=${b}`);
  lines.push(`t=${sdp.timing}`);
  for (const [type, value] of sdp.otherLines) if (!'iuep'.includes(type)) lines.push(`${type}=${value}`);
  lines.push(...formatAttributes(sdp.attributes));
  for (const m of sdp.media) {
    const count = m.portCount === undefined ? '' : `/${m.portCount}`;
    lines.push(`m=${m.type} ${m.port}${count} ${m.protocol} ${m.formats.join(' ')}`);
    for (const [type, value] of m.otherLines) if (type === 'i') lines.push(`i=${value}`);
    if (m.connection) lines.push(formatConnection(m.connection));
    for (const b of m.bandwidths) lines.push(`b=${b}`);
    for (const [type, value] of m.otherLines) if (type !== 'i') lines.push(`${type}=${value}`);
    lines.push(...formatAttributes(m.attributes));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The connection address that applies to a media line (media-level c= overrides session-level). */
export function mediaAddress(sdp: SessionDescription, media: SdpMedia): string | undefined {
  return (media.connection ?? sdp.connection)?.address;
}

/** First attribute of that name (case-insensitive), or undefined. */
export function findAttribute(attributes: readonly SdpAttribute[], name: string): SdpAttribute | undefined {
  const lower = name.toLowerCase();
  return attributes.find((a) => a.name.toLowerCase() === lower);
}
