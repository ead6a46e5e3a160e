/**
 * @module lines/trunk-config
 * SIP trunks as configured (FAXWIRE_TRUNKS, a JSON array, or FAXWIRE_TRUNKS_FILE naming a JSON file): where
 * calls go (proxy/SBC), how we authenticate (REGISTER with digest credentials, or IP-authenticated), how many
 * channels, the T.38 policy (fax-engines.md §3.1–3.2), the outbound dial plan from E.164 to a SIP URI, and the
 * inbound DID routing. Every problem is reported, not just the first.
 */
import { parseSipUri } from 'telefax/sip/sip-uri';

export type TrunkAuth = 'register' | 'ip';
export type G711Codec = 'PCMU' | 'PCMA';

export interface TrunkT38Policy {
  /** What our INVITE offers: audio first (PSTN gateways expect it), T.38 at once, or both. */
  readonly initialOffer: 'audio' | 't38' | 'both';
  /** After the answer, how long we wait for the far end's T.38 re-INVITE before sending ours. */
  readonly reinviteWaitMs: number;
  /** Send our own re-INVITE when the far end does not. */
  readonly sendReinvite: boolean;
  /** From answer to T.38; past it the call fails as fax_not_detected. */
  readonly switchTimeoutMs: number;
  /** Ringing longer than this is no_answer. */
  readonly noAnswerTimeoutMs: number;
}

export interface TrunkConfig {
  /** Lower-case letters, digits and dashes; the group key of its jobs is `trunk:<name>`. */
  readonly name: string;
  /** Where every call goes (SBC/proxy), e.g. sip:sbc.carrier.example:5060;transport=tcp. */
  readonly proxy: string;
  /** Host of Request-URIs and From; default the proxy's host. */
  readonly domain: string;
  readonly auth: TrunkAuth;
  /** REGISTER target; default the proxy. */
  readonly registrar: string;
  readonly username: string | null;
  readonly password: string | null;
  readonly realm: string | null;
  /** Registration expiry asked for, seconds. */
  readonly registerExpiresS: number;
  /** Simultaneous calls, both directions. */
  readonly channels: number;
  readonly t38: TrunkT38Policy;
  /** G.711 codecs offered while a call is still audio. */
  readonly codecs: readonly G711Codec[];
  /** E.164 prefixes this trunk dials ("+" for all), longest match wins across trunks. */
  readonly prefixes: readonly string[];
  /** Request-URI for a number: {e164} is +digits, {digits} without "+", {domain} the trunk's domain. */
  readonly dialTemplate: string;
  /** DID → E.164 for inbound calls whose DID is not the number itself. */
  readonly dids: Readonly<Record<string, string>>;
  /** Inbound INVITEs are taken only from these IP addresses (empty: from anywhere). */
  readonly inboundFrom: readonly string[];
  /** SIP bind address and port of this trunk's user agent. */
  readonly localHost: string;
  readonly localPort: number;
  /** Host written in Via/Contact/SDP when the bind address is not reachable (NAT, 0.0.0.0). */
  readonly advertisedHost: string | null;
  readonly transport: 'udp' | 'tcp';
}

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const PREFIX = /^\+[0-9]{0,14}$/;

/** Parses the trunk list; problems are pushed as "FAXWIRE_TRUNKS[i].field …" lines. */
export function parseTrunks(json: string, problems: string[], what = 'FAXWIRE_TRUNKS'): TrunkConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    problems.push(`${what} is not valid JSON: ${(error as Error).message}`);
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.push(`${what} must be a JSON array of trunks`);
    return [];
  }
  const trunks: TrunkConfig[] = [];
  const names = new Set<string>();
  raw.forEach((item: unknown, i) => {
    const at = `${what}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const trunk = parseTrunk(item as Record<string, unknown>, at, problems);
    if (!trunk) return;
    if (names.has(trunk.name)) problems.push(`${at}.name "${trunk.name}" is used twice`);
    names.add(trunk.name);
    trunks.push(trunk);
  });
  return trunks;
}

function parseTrunk(o: Record<string, unknown>, at: string, problems: string[]): TrunkConfig | null {
  const before = problems.length;
  const str = (key: string, fallback: string | null): string | null => {
    const v = o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || v === '') {
      problems.push(`${at}.${key} must be a non-empty string`);
      return fallback;
    }
    return v;
  };
  const int = (key: string, fallback: number, min: number, max: number, obj = o, path = at): number => {
    const v = obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${path}.${key} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return v;
  };
  const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T, obj = o, path = at): T => {
    const v = obj[key];
    if (v === undefined) return fallback;
    if (!values.includes(v as T)) {
      problems.push(`${path}.${key} must be one of ${values.join(', ')}`);
      return fallback;
    }
    return v as T;
  };
  const sipUri = (key: string, value: string | null): string | null => {
    if (value === null) return null;
    try {
      parseSipUri(value);
      return value;
    } catch {
      problems.push(`${at}.${key} must be a sip: or sips: URI, got "${value}"`);
      return null;
    }
  };

  const name = str('name', null);
  if (name === null) problems.push(`${at}.name is required`);
  else if (!NAME.test(name)) problems.push(`${at}.name must be lower-case letters, digits and dashes`);
  const proxy = sipUri('proxy', str('proxy', null));
  if (o.proxy === undefined) problems.push(`${at}.proxy is required`);
  const proxyHost = proxy === null ? '' : parseSipUri(proxy).host;
  const auth = oneOf<TrunkAuth>('auth', ['register', 'ip'], 'ip');
  const username = str('username', null);
  const password = str('password', null);
  if (auth === 'register' && (username === null || password === null)) {
    problems.push(`${at}: auth "register" needs username and password`);
  }
  const registrar = sipUri('registrar', str('registrar', proxy));

  const t38Raw = (o.t38 ?? {}) as Record<string, unknown>;
  if (typeof t38Raw !== 'object' || Array.isArray(t38Raw)) problems.push(`${at}.t38 must be an object`);
  const t38At = `${at}.t38`;
  const t38: TrunkT38Policy = {
    initialOffer: oneOf('initialOffer', ['audio', 't38', 'both'] as const, 'audio', t38Raw, t38At),
    reinviteWaitMs: int('reinviteWaitMs', 5000, 0, 60_000, t38Raw, t38At),
    sendReinvite: t38Raw.sendReinvite === undefined ? true : t38Raw.sendReinvite === true,
    switchTimeoutMs: int('switchTimeoutMs', 30_000, 1000, 300_000, t38Raw, t38At),
    noAnswerTimeoutMs: int('noAnswerTimeoutMs', 60_000, 1000, 600_000, t38Raw, t38At),
  };
  if (t38Raw.sendReinvite !== undefined && typeof t38Raw.sendReinvite !== 'boolean') {
    problems.push(`${t38At}.sendReinvite must be true or false`);
  }

  const codecs = (o.codecs ?? ['PCMU', 'PCMA']) as unknown;
  if (!Array.isArray(codecs) || codecs.length === 0 || !codecs.every((c) => c === 'PCMU' || c === 'PCMA')) {
    problems.push(`${at}.codecs must be a non-empty list of PCMU, PCMA`);
  }
  const prefixes = (o.prefixes ?? ['+']) as unknown;
  if (!Array.isArray(prefixes) || !prefixes.every((p) => typeof p === 'string' && PREFIX.test(p))) {
    problems.push(`${at}.prefixes must be a list of E.164 prefixes such as "+1" or "+"`);
  }
  const dialTemplate = str('dialTemplate', 'sip:{e164}@{domain}')!;
  if (!dialTemplate.includes('{e164}') && !dialTemplate.includes('{digits}')) {
    problems.push(`${at}.dialTemplate must contain {e164} or {digits}`);
  }
  const dids = (o.dids ?? {}) as Record<string, unknown>;
  if (typeof dids !== 'object' || Array.isArray(dids)) problems.push(`${at}.dids must be an object`);
  else {
    for (const [did, number] of Object.entries(dids)) {
      if (typeof number !== 'string' || !E164.test(number))
        problems.push(`${at}.dids["${did}"] must be an E.164 number`);
    }
  }
  const inboundFrom = (o.inboundFrom ?? []) as unknown;
  if (!Array.isArray(inboundFrom) || !inboundFrom.every((a) => typeof a === 'string')) {
    problems.push(`${at}.inboundFrom must be a list of IP addresses`);
  }
  const localHost = str('localHost', '0.0.0.0')!;
  const localPort = int('localPort', 5060, 0, 65535);
  const advertisedHost = str('advertisedHost', null);
  const transport = oneOf('transport', ['udp', 'tcp'] as const, 'udp');

  if (problems.length > before || name === null || proxy === null) return null;
  return Object.freeze({
    name,
    proxy,
    domain: str('domain', proxyHost)!,
    auth,
    registrar: registrar ?? proxy,
    username,
    password,
    realm: str('realm', null),
    registerExpiresS: int('registerExpiresS', 3600, 60, 86_400),
    channels: int('channels', 10, 1, 10_000),
    t38: Object.freeze(t38),
    codecs: Object.freeze([...(codecs as G711Codec[])]),
    prefixes: Object.freeze([...(prefixes as string[])]),
    dialTemplate,
    dids: Object.freeze({ ...(dids as Record<string, string>) }),
    inboundFrom: Object.freeze([...(inboundFrom as string[])]),
    localHost,
    localPort,
    advertisedHost,
    transport,
  });
}

/** The Request-URI for `e164` on a trunk (its dial plan). */
export function dialUri(trunk: Pick<TrunkConfig, 'dialTemplate' | 'domain'>, e164: string): string {
  return trunk.dialTemplate
    .replaceAll('{e164}', e164)
    .replaceAll('{digits}', e164.slice(1))
    .replaceAll('{domain}', trunk.domain);
}
