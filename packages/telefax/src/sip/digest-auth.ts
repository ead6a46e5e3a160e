/**
 * @module
 * HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617, RFC 7616; RFC 8760 for SHA-256 in SIP):
 * parsing WWW-Authenticate / Proxy-Authenticate challenges, computing credentials with MD5 or SHA-256 (and their
 * -sess variants) for qop=auth, auth-int or no qop, and verifying credentials on the server side.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SipParseError } from './sip-parse-error.ts';

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  /** Upper-case algorithm name; MD5 when absent (RFC 2617 §3.2.1). */
  readonly algorithm: string;
  readonly qop: readonly string[];
  readonly stale: boolean;
}

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
  /** Answer only challenges of this realm; any realm when absent. */
  readonly realm?: string;
}

const HASHES: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'MD5-SESS': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-SESS': 'sha256',
  'SHA-512-256': 'sha512-256',
  'SHA-512-256-SESS': 'sha512-256',
};

export function isSupportedAlgorithm(algorithm: string): boolean {
  return HASHES[algorithm.toUpperCase()] !== undefined;
}

function hash(algorithm: string, text: string): string {
  return createHash(HASHES[algorithm.toUpperCase()] ?? 'md5')
    .update(text, 'utf8')
    .digest('hex');
}

/** Parses `Digest name=value, name="quoted"` into lower-case names and unquoted values. */
export function parseAuthParams(value: string): { scheme: string; params: Map<string, string> } {
  const m = /^\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(.*)$/s.exec(value);
  if (!m) throw new SipParseError('bad-auth', 'Malformed authentication header');
  const params = new Map<string, string>();
  const text = m[2]!;
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[\s,]/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const nameMatch = /^([A-Za-z0-9\-.!%*_+`'~]+)\s*=\s*/.exec(text.slice(i));
    if (!nameMatch) throw new SipParseError('bad-auth', 'Malformed authentication parameter');
    i += nameMatch[0].length;
    let v = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        v += text[i];
        i++;
      }
      if (text[i] !== '"') throw new SipParseError('bad-auth', 'Unterminated quoted string');
      i++;
    } else {
      const end = text.slice(i).search(/[\s,]/);
      v = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i += v.length;
    }
    params.set(nameMatch[1]!.toLowerCase(), v);
  }
  return { scheme: m[1]!, params };
}

export function parseDigestChallenge(value: string): DigestChallenge {
  const { scheme, params } = parseAuthParams(value);
  if (scheme.toLowerCase() !== 'digest') throw new SipParseError('bad-auth', `Unsupported scheme ${scheme}`);
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined)
    throw new SipParseError('bad-auth', 'Challenge without realm/nonce');
  const opaque = params.get('opaque');
  return {
    realm,
    nonce,
    ...(opaque !== undefined ? { opaque } : {}),
    algorithm: (params.get('algorithm') ?? 'MD5').toUpperCase(),
    qop: (params.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter(Boolean),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
}

export interface DigestResponseInput {
  readonly method: string;
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm: string;
  readonly qop?: string;
  readonly nc?: string;
  readonly cnonce?: string;
  readonly body?: Buffer;
}

/** The `response` value (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1). */
export function computeDigestResponse(input: DigestResponseInput): string {
  const alg = input.algorithm.toUpperCase();
  let ha1 = hash(alg, `${input.username}:${input.realm}:${input.password}`);
  if (alg.endsWith('-SESS')) ha1 = hash(alg, `${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  const ha2 =
    input.qop === 'auth-int'
      ? hash(
          alg,
          `${input.method}:${input.uri}:${createHash(HASHES[alg]!)
            .update(input.body ?? Buffer.alloc(0))
            .digest('hex')}`,
        )
      : hash(alg, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return hash(alg, `${ha1}:${input.nonce}:${ha2}`);
  return hash(alg, `${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** Builds an Authorization / Proxy-Authorization value answering a challenge. `nc` counts uses of the nonce. */
export function buildAuthorization(
  challenge: DigestChallenge,
  credentials: DigestCredentials,
  request: { readonly method: string; readonly uri: string; readonly body?: Buffer },
  nc = 1,
): string {
  const qop = challenge.qop.includes('auth')
    ? 'auth'
    : challenge.qop.includes('auth-int')
      ? 'auth-int'
      : undefined;
  const cnonce = randomBytes(8).toString('hex');
  const ncText = nc.toString(16).padStart(8, '0');
  const response = computeDigestResponse({
    method: request.method,
    uri: request.uri,
    username: credentials.username,
    password: credentials.password,
    realm: challenge.realm,
    nonce: challenge.nonce,
    algorithm: challenge.algorithm,
    ...(qop !== undefined ? { qop, nc: ncText, cnonce } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const parts = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(request.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${ncText}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}

/** A challenge header value for a server (registrar, proxy, or the loopback carrier). */
export function formatDigestChallenge(
  realm: string,
  nonce: string,
  options: { algorithm?: string; opaque?: string; stale?: boolean } = {},
): string {
  const parts = [`realm=${quote(realm)}`, `nonce=${quote(nonce)}`, `algorithm=${options.algorithm ?? 'MD5'}`];
  parts.push('qop="auth"');
  if (options.opaque !== undefined) parts.push(`opaque=${quote(options.opaque)}`);
  if (options.stale) parts.push('stale=TRUE');
  return `Digest ${parts.join(', ')}`;
}

export interface DigestVerification {
  readonly ok: boolean;
  readonly username?: string;
  readonly nonce?: string;
}

/** Checks an Authorization value against the password of its user; nonce freshness is the caller's policy. */
export function verifyAuthorization(
  value: string,
  request: { readonly method: string; readonly body?: Buffer },
  passwordFor: (username: string, realm: string) => string | undefined,
): DigestVerification {
  let parsed: ReturnType<typeof parseAuthParams>;
  try {
    parsed = parseAuthParams(value);
  } catch {
    return { ok: false };
  }
  const p = parsed.params;
  const username = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase();
  if (
    parsed.scheme.toLowerCase() !== 'digest' ||
    !username ||
    realm === undefined ||
    !nonce ||
    !uri ||
    !response
  ) {
    return { ok: false };
  }
  if (!isSupportedAlgorithm(algorithm)) return { ok: false };
  const password = passwordFor(username, realm);
  if (password === undefined) return { ok: false, username };
  const qop = p.get('qop');
  const expected = computeDigestResponse({
    method: request.method,
    uri,
    username,
    password,
    realm,
    nonce,
    algorithm,
    ...(qop !== undefined ? { qop, nc: p.get('nc') ?? '', cnonce: p.get('cnonce') ?? '' } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const a = Buffer.from(expected);
  const b = Buffer.from(response.toLowerCase());
  return { ok: a.length === b.length && timingSafeEqual(a, b), username, nonce };
}
