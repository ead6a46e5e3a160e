/**
 * @module lines/call-party
 * Numbers as SIP writes them (user part of a Request-URI, To, From or P-Asserted-Identity; RFC 3966 tel: URIs)
 * turned into E.164 for the platform. Carriers write DIDs with or without "+", with an international "00" prefix,
 * or with visual separators; anything else is not a number.
 */
import type { SipRequest } from 'telefax/sip/sip-message';
import { type OpaqueUri, parseNameAddr, parseUri, type SipUri, type Uri } from 'telefax/sip/sip-uri';

const E164 = /^\+[1-9][0-9]{6,14}$/;

/** "+14155550100", "14155550100", "0014155550100", "+1 (415) 555-0100" → "+14155550100"; otherwise null. */
export function toE164(user: string | undefined): string | null {
  if (!user) return null;
  let digits = decodeURIComponent(user)
    .split(';')[0]!
    .replace(/[\s().-]/g, '');
  if (digits.startsWith('00')) digits = `+${digits.slice(2)}`;
  else if (!digits.startsWith('+')) digits = `+${digits}`;
  return E164.test(digits) ? digits : null;
}

function userOf(uri: Uri): string | undefined {
  if ((uri as SipUri).host !== undefined) return (uri as SipUri).user;
  const opaque = uri as OpaqueUri;
  return opaque.scheme.toLowerCase() === 'tel' ? opaque.opaque : undefined;
}

function userOfHeader(request: SipRequest, name: string): string | undefined {
  const value = request.headers.get(name);
  if (!value) return undefined;
  try {
    return userOf(parseNameAddr(value).uri);
  } catch {
    return undefined;
  }
}

/** The called number: Request-URI user first (what the carrier routed on), then the To user. */
export function calledNumber(request: SipRequest): string | null {
  let fromRuri: string | undefined;
  try {
    fromRuri = userOf(parseUri(request.uri));
  } catch {
    fromRuri = undefined;
  }
  return toE164(fromRuri) ?? toE164(userOfHeader(request, 'to'));
}

/** The caller: P-Asserted-Identity (RFC 3325) when present, else the From user; raw when not a number. */
export function callingNumber(request: SipRequest): string {
  const asserted = userOfHeader(request, 'p-asserted-identity');
  const from = userOfHeader(request, 'from');
  return toE164(asserted) ?? toE164(from) ?? (from ?? '').slice(0, 64);
}
