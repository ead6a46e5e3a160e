/**
 * @module
 * SIP URIs (RFC 3261 §19.1) and the name-addr / addr-spec forms of From, To, Contact, Route and Record-Route
 * (§20.10, §25.1). Other absolute URIs (tel:, urn:) are kept opaque. Every failure is a {@link SipParseError}.
 */
import { SipParseError } from './sip-parse-error.ts';

/** Parameters in wire order; names are lower-cased (RFC 3261 §19.1.4: parameter names compare case-insensitively). */
export type SipParams = Map<string, string | null>;

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  readonly user?: string;
  readonly password?: string;
  /** Host name, IPv4 address, or IPv6 reference with brackets. */
  readonly host: string;
  readonly port?: number;
  readonly params: SipParams;
  /** The raw `?headers` part without the question mark, or empty. */
  readonly headers: string;
}

/** Any other absolute URI (tel:, urn:, http:…), kept as written. */
export interface OpaqueUri {
  readonly scheme: string;
  readonly opaque: string;
}

export type Uri = SipUri | OpaqueUri;

export interface NameAddr {
  readonly displayName?: string;
  readonly uri: Uri;
  /** Header parameters such as tag, expires, q. */
  readonly params: SipParams;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
// '#' is not legal unescaped (RFC 3261 §25.1) but gateways write it in dialled strings such as *97#.
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/#]|%[0-9A-Fa-f]{2})+$/;
const PASSWORD = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;
const HOSTNAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;
const IPV6_REFERENCE = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const PARAM_CHARS = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+$/;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const OPAQUE = /^[^\s<>"]+$/;

function badUri(reason: string): SipParseError {
  return new SipParseError('bad-uri', reason);
}

/** Parses `;name[=value]` parameters of a URI; `text` starts after the host part. */
function parseUriParams(text: string): SipParams {
  const params: SipParams = new Map();
  if (text === '') return params;
  if (!text.startsWith(';')) throw badUri('Bad URI parameters');
  for (const part of text.slice(1).split(';')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (!PARAM_CHARS.test(name)) throw badUri('Bad URI parameter name');
    if (value !== null && !PARAM_CHARS.test(value)) throw badUri('Bad URI parameter value');
    params.set(name.toLowerCase(), value);
  }
  return params;
}

/** Splits `host[:port]` (host may be an IPv6 reference). */
export function parseHostPort(text: string): { host: string; port?: number } {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw badUri('Unterminated IPv6 reference');
    host = text.slice(0, close + 1);
    rest = text.slice(close + 1);
    if (!IPV6_REFERENCE.test(host)) throw badUri('Bad IPv6 reference');
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
    if (!HOSTNAME.test(host)) throw badUri('Bad host');
  }
  if (rest === '') return { host };
  if (!/^:[0-9]{1,5}$/.test(rest)) throw badUri('Bad port');
  const port = Number(rest.slice(1));
  if (port > 65535) throw badUri('Port out of range');
  return { host, port };
}

/** Parses any absolute URI; sip: and sips: are parsed fully, others kept opaque. */
export function parseUri(text: string): Uri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw badUri('URI without scheme');
  const scheme = text.slice(0, colon);
  if (!SCHEME.test(scheme)) throw badUri('Bad URI scheme');
  const lower = scheme.toLowerCase();
  if (lower !== 'sip' && lower !== 'sips') {
    const opaque = text.slice(colon + 1);
    if (!OPAQUE.test(opaque)) throw badUri('Bad URI');
    return { scheme: lower, opaque };
  }
  return parseSipUriBody(lower, text.slice(colon + 1));
}

/** Parses a URI that must be sip: or sips:. */
export function parseSipUri(text: string): SipUri {
  const uri = parseUri(text);
  if (!isSipUri(uri)) throw badUri('Not a SIP URI');
  return uri;
}

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

function parseSipUriBody(scheme: 'sip' | 'sips', body: string): SipUri {
  const question = body.indexOf('?');
  const headers = question < 0 ? '' : body.slice(question + 1);
  if (question >= 0 && !/^[A-Za-z0-9\-_.!~*'()[\]/?:+$%=&]*$/.test(headers)) throw badUri('Bad URI headers');
  const main = question < 0 ? body : body.slice(0, question);
  const at = main.lastIndexOf('@');
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = main;
  if (at >= 0) {
    const userInfo = main.slice(0, at);
    hostPart = main.slice(at + 1);
    const pwColon = userInfo.indexOf(':');
    user = pwColon < 0 ? userInfo : userInfo.slice(0, pwColon);
    if (pwColon >= 0) password = userInfo.slice(pwColon + 1);
    if (!USER.test(user)) throw badUri('Bad URI user part');
    if (password !== undefined && !PASSWORD.test(password)) throw badUri('Bad URI password');
  }
  const semi = hostPart.indexOf(';');
  const hostPort = semi < 0 ? hostPart : hostPart.slice(0, semi);
  const { host, port } = parseHostPort(hostPort);
  const params = parseUriParams(semi < 0 ? '' : hostPart.slice(semi));
  const uri: SipUri = { scheme, host, params, headers };
  return {
    ...uri,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}

export function formatParams(params: SipParams): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

export function formatUri(uri: Uri): string {
  if (!isSipUri(uri)) return `${uri.scheme}:${uri.opaque}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += uri.user;
    if (uri.password !== undefined) out += `:${uri.password}`;
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += formatParams(uri.params);
  if (uri.headers !== '') out += `?${uri.headers}`;
  return out;
}

/** Reads a quoted-string at `start` (which holds the opening quote); returns the unescaped text and end index. */
export function readQuotedString(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\') {
      if (i + 1 >= text.length) break;
      const next = text.charCodeAt(i + 1);
      if (next === 0x0a || next === 0x0d) break;
      value += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\r' || ch === '\n') break;
    value += ch;
    i++;
  }
  throw new SipParseError('bad-header', 'Unterminated quoted string');
}

/**
 * Parses header parameters `;name[=value]` (values may be quoted strings). Used by name-addr headers, Via and
 * Content-Type-like headers.
 */
export function parseHeaderParams(text: string): SipParams {
  const params: SipParams = new Map();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= text.length) break;
    if (text[i] !== ';') throw new SipParseError('bad-header', 'Bad header parameters');
    i++;
    while (text[i] === ' ' || text[i] === '\t') i++;
    let j = i;
    while (j < text.length && !'=; \t'.includes(text[j]!)) j++;
    const name = text.slice(i, j);
    if (!TOKEN.test(name)) throw new SipParseError('bad-header', 'Bad header parameter name');
    i = j;
    while (text[i] === ' ' || text[i] === '\t') i++;
    let value: string | null = null;
    if (text[i] === '=') {
      i++;
      while (text[i] === ' ' || text[i] === '\t') i++;
      if (text[i] === '"') {
        const q = readQuotedString(text, i);
        value = q.value;
        i = q.end;
      } else {
        j = i;
        while (j < text.length && !'; \t'.includes(text[j]!)) j++;
        value = text.slice(i, j);
        if (!/^[A-Za-z0-9\-.!%*_+`'~:[\]/@?&$#]+$/.test(value)) {
          throw new SipParseError('bad-header', 'Bad header parameter value');
        }
        i = j;
      }
    }
    params.set(name.toLowerCase(), value);
  }
  return params;
}

/** Parses From/To/Contact/Route values: `"Name" <uri>;params`, `Name <uri>;params` or `uri;params`. */
export function parseNameAddr(input: string): NameAddr {
  const text = input.trim();
  let displayName: string | undefined;
  let rest: string;
  let uriText: string;
  if (text.startsWith('"')) {
    const q = readQuotedString(text, 0);
    displayName = q.value;
    rest = text.slice(q.end).trimStart();
    if (!rest.startsWith('<')) throw new SipParseError('bad-name-addr', 'Display name without <URI>');
  } else {
    const lt = text.indexOf('<');
    if (lt >= 0) {
      const name = text.slice(0, lt).trim();
      // Unquoted display names should be tokens, but phones write any text (accents, dots, parentheses) here.
      if (name !== '' && /[\x00-\x08\x0a-\x1f\x7f"<>]/.test(name)) {
        throw new SipParseError('bad-name-addr', 'Bad display name');
      }
      if (name !== '') displayName = name;
      rest = text.slice(lt);
    } else {
      rest = text;
    }
  }
  let paramsText: string;
  if (rest.startsWith('<')) {
    const gt = rest.indexOf('>');
    if (gt < 0) throw new SipParseError('bad-name-addr', 'Unterminated <URI>');
    uriText = rest.slice(1, gt);
    paramsText = rest.slice(gt + 1);
  } else {
    // addr-spec form: parameters after the URI belong to the header (RFC 3261 §20.10).
    const semi = rest.indexOf(';');
    uriText = (semi < 0 ? rest : rest.slice(0, semi)).trimEnd();
    paramsText = semi < 0 ? '' : rest.slice(semi);
    if (/[\s,?]/.test(uriText)) throw new SipParseError('bad-name-addr', 'Bad addr-spec');
  }
  const uri = parseUri(uriText);
  const params = parseHeaderParams(paramsText);
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

function quoteIfNeeded(value: string): string {
  return /^[A-Za-z0-9\-.!%*_+`'~:[\]]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

export function formatHeaderParams(params: SipParams): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${quoteIfNeeded(value)}`;
  return out;
}

export function formatNameAddr(value: NameAddr): string {
  const name = value.displayName === undefined ? '' : `"${value.displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${name}<${formatUri(value.uri)}>${formatHeaderParams(value.params)}`;
}
