/**
 * @module
 * A strict SIP message parser (RFC 3261 §7, §25) with limits so that a hostile peer cannot make it use unbounded
 * time or memory. It throws only {@link SipParseError}; when the start line and headers could be read, the error
 * carries them in `partial` so the UAS can still answer 400 (§21.4.1).
 */
import { parseCSeq, parseMaxForwards, parseVia } from './sip-header-values.ts';
import { headerKey, SipHeaders } from './sip-headers.ts';
import type { SipMessage, SipRequest, SipResponse } from './sip-message.ts';
import { SipParseError } from './sip-parse-error.ts';
import { parseNameAddr, parseUri } from './sip-uri.ts';

export interface SipParseLimits {
  /** Largest message accepted; 65535 bytes fits any UDP datagram (RFC 3261 §18.1.1 discusses the MTU). */
  readonly maxMessageBytes?: number;
  readonly maxHeaderCount?: number;
  readonly maxLineLength?: number;
  readonly maxBodyBytes?: number;
  /** Stream transports frame by Content-Length, so it must be present (RFC 3261 §18.3). */
  readonly requireContentLength?: boolean;
}

export const DEFAULT_PARSE_LIMITS: Required<SipParseLimits> = {
  maxMessageBytes: 65535,
  maxHeaderCount: 256,
  maxLineLength: 8192,
  maxBodyBytes: 32768,
  requireContentLength: false,
};

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;
const ESSENTIAL: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);
const HEADER_END = Buffer.from('\r\n\r\n');
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Offset just past the blank line that ends the header section, or -1. */
export function findHeaderEnd(data: Uint8Array, from = 0): number {
  const index = Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(HEADER_END, from);
  return index < 0 ? -1 : index + 4;
}

/** Number of leading CRLFs (keep-alives and stray line ends a parser ignores, RFC 3261 §7.5). */
export function leadingLineEnds(data: Uint8Array): number {
  let i = 0;
  while (i + 1 < data.length && data[i] === 0x0d && data[i + 1] === 0x0a) i += 2;
  return i;
}

export function parseSipMessage(data: Uint8Array, limits: SipParseLimits = {}): SipMessage {
  const lim = { ...DEFAULT_PARSE_LIMITS, ...limits };
  if (data.length > lim.maxMessageBytes) throw new SipParseError('message-too-large', 'Message Too Large');
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const start = leadingLineEnds(buf);
  const headerEnd = findHeaderEnd(buf, start);
  if (headerEnd < 0) throw new SipParseError('bad-start-line', 'Missing end of headers');
  let text: string;
  try {
    text = UTF8.decode(buf.subarray(start, headerEnd - 4));
  } catch {
    throw new SipParseError('bad-encoding', 'Header section is not UTF-8');
  }
  const rawLines = text.split('\r\n');
  const lines: string[] = [];
  // Limit violations are reported after the essential headers were read, so that a 400/413 can still be sent.
  let deferred: SipParseError | undefined;
  const defer = (err: SipParseError) => {
    deferred ??= err;
  };
  let skipping = false;
  for (const line of rawLines) {
    const folded = (line.startsWith(' ') || line.startsWith('\t')) && lines.length > 1;
    if (line.length > lim.maxLineLength) {
      defer(new SipParseError('line-too-long', 'Header line too long'));
      skipping = true;
      if (!folded) lines.push('');
      continue;
    }
    if (/[\r\n\0]/.test(line)) throw new SipParseError('bad-header', 'Bare CR, LF or NUL in header section');
    if (folded) {
      if (skipping) continue;
      // Folded continuation line (RFC 3261 §7.3.1): replace the line break with a space.
      lines[lines.length - 1] += ` ${line.trim()}`;
      if (lines[lines.length - 1]!.length > lim.maxLineLength) {
        defer(new SipParseError('line-too-long', 'Header line too long'));
        lines[lines.length - 1] = '';
        skipping = true;
      }
    } else {
      skipping = false;
      lines.push(line);
    }
  }
  const startLine = lines[0]!;
  const headers = new SipHeaders();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' && deferred) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError('bad-header', 'Malformed header line');
    const name = line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!TOKEN.test(name)) throw new SipParseError('bad-header', 'Malformed header name');
    const value = line.slice(colon + 1).trim();
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value))
      throw new SipParseError('bad-header', `Control character in ${name}`);
    if (headers.size >= lim.maxHeaderCount) {
      defer(new SipParseError('too-many-headers', 'Too many headers'));
      if (!ESSENTIAL.has(headerKey(name)) || headers.size >= lim.maxHeaderCount + 16) continue;
    }
    headers.append(name, value);
  }
  const bodyBytes = buf.subarray(headerEnd);
  const message = parseStartLine(startLine, headers, Buffer.alloc(0));
  if (deferred) {
    deferred.partial = message;
    throw deferred;
  }
  try {
    validateHeaders(message);
    const body = extractBody(headers, bodyBytes, lim);
    return { ...message, body: Buffer.from(body) };
  } catch (err) {
    if (err instanceof SipParseError) err.partial = message;
    throw err;
  }
}

function parseStartLine(line: string, headers: SipHeaders, body: Buffer): SipRequest | SipResponse {
  if (line.startsWith('SIP/')) {
    // Reason-Phrase may be empty; some peers then omit the SP before it too (RFC 4475 §3.1.1.13).
    const m = /^SIP\/([0-9]+\.[0-9]+) ([0-9]{3})(?: ([^\r\n]*))?$/.exec(line);
    if (!m) throw new SipParseError('bad-status', 'Malformed status line');
    if (m[1] !== '2.0') throw new SipParseError('bad-version', 'Version Not Supported');
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw new SipParseError('bad-status', 'Status code out of range');
    return { kind: 'response', status, reason: m[3] ?? '', headers, body };
  }
  const parts = line.split(' ');
  if (parts.length !== 3) throw new SipParseError('bad-start-line', 'Malformed request line');
  const [method, uri, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) throw new SipParseError('bad-method', 'Malformed method');
  if (!/^SIP\/[0-9]+\.[0-9]+$/i.test(version))
    throw new SipParseError('bad-start-line', 'Malformed SIP version');
  const request: SipRequest = { kind: 'request', method, uri, headers, body };
  if (version.toUpperCase() !== 'SIP/2.0') {
    const err = new SipParseError('bad-version', 'Version Not Supported');
    err.partial = request;
    throw err;
  }
  try {
    parseUri(uri);
  } catch (err) {
    if (err instanceof SipParseError) err.partial = request;
    throw err;
  }
  return request;
}

function validateHeaders(message: SipMessage): void {
  const { headers } = message;
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    if (!headers.has(name)) throw new SipParseError('missing-header', `Missing ${name} header`);
  }
  for (const via of headers.getAll('via')) parseVia(via);
  for (const name of ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type']) {
    const values = headers.getAll(name);
    if (values.length > 1 && values.some((v) => v !== values[0])) {
      throw new SipParseError('bad-header', `Conflicting ${values.length} ${name} headers`);
    }
  }
  for (const name of ['from', 'to']) {
    try {
      parseNameAddr(headers.get(name)!);
    } catch (err) {
      if (err instanceof SipParseError) {
        throw new SipParseError('bad-name-addr', `Malformed ${name === 'from' ? 'From' : 'To'} header`);
      }
      throw err;
    }
  }
  if (!CALL_ID.test(headers.get('call-id')!))
    throw new SipParseError('bad-header', 'Malformed Call-ID header');
  const cseq = parseCSeq(headers.get('cseq')!);
  if (message.kind === 'request' && cseq.method !== message.method) {
    throw new SipParseError('bad-cseq', 'CSeq method does not match request method');
  }
  const maxForwards = headers.get('max-forwards');
  if (maxForwards !== undefined) parseMaxForwards(maxForwards);
}

function extractBody(headers: SipHeaders, available: Buffer, lim: Required<SipParseLimits>): Buffer {
  const value = headers.get('content-length');
  if (value === undefined) {
    if (lim.requireContentLength)
      throw new SipParseError('bad-content-length', 'Missing Content-Length header');
    if (available.length > lim.maxBodyBytes)
      throw new SipParseError('body-too-large', 'Request Entity Too Large');
    return available;
  }
  if (!/^[0-9]{1,10}$/.test(value)) throw new SipParseError('bad-content-length', 'Malformed Content-Length');
  const length = Number(value);
  if (length > lim.maxBodyBytes) throw new SipParseError('body-too-large', 'Request Entity Too Large');
  // RFC 3261 §18.3: on a datagram, fewer bytes than Content-Length is an error; extra bytes are discarded.
  if (length > available.length)
    throw new SipParseError('truncated-body', 'Body shorter than Content-Length');
  return available.subarray(0, length);
}
