/**
 * @module
 * SIP requests and responses as plain data (RFC 3261 §7), with the accessors every layer needs and the rule for
 * building a response from a request (§8.2.6.2: Via, From, To, Call-ID and CSeq copied, To tag added).
 */
import { type CSeq, parseCSeq, parseVia, type Via } from './sip-header-values.ts';
import { SipHeaders } from './sip-headers.ts';
import { SipParseError } from './sip-parse-error.ts';
import { type NameAddr, parseNameAddr } from './sip-uri.ts';

export interface SipRequest {
  readonly kind: 'request';
  readonly method: string;
  /** Request-URI as written on the start line. */
  readonly uri: string;
  readonly headers: SipHeaders;
  readonly body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: SipHeaders;
  readonly body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  422: 'Session Interval Too Small',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status < 300 ? 'OK' : 'Error');
}

export function createRequest(
  method: string,
  uri: string,
  headers: Iterable<readonly [string, string]>,
  body?: Buffer | string,
): SipRequest {
  return {
    kind: 'request',
    method,
    uri,
    headers: new SipHeaders(headers),
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0)),
  };
}

export interface ResponseOptions {
  readonly reason?: string;
  /** To tag for a response that has none yet (RFC 3261 §8.2.6.2); ignored for 100 Trying. */
  readonly toTag?: string;
  readonly headers?: Iterable<readonly [string, string]>;
  readonly body?: Buffer | string;
}

/** Builds a response that copies Via, From, To, Call-ID, CSeq (and Record-Route for 18x/2xx) from the request. */
export function createResponse(
  request: SipRequest,
  status: number,
  options: ResponseOptions = {},
): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getAll('via')) headers.append('Via', via);
  const from = request.headers.get('from');
  if (from !== undefined) headers.append('From', from);
  let to = request.headers.get('to');
  if (to !== undefined && status > 100 && options.toTag !== undefined && !hasTag(to)) {
    to = `${to};tag=${options.toTag}`;
  }
  if (to !== undefined) headers.append('To', to);
  const callId = request.headers.get('call-id');
  if (callId !== undefined) headers.append('Call-ID', callId);
  const cseq = request.headers.get('cseq');
  if (cseq !== undefined) headers.append('CSeq', cseq);
  if (status > 100 && status < 300) {
    for (const rr of request.headers.getAll('record-route')) headers.append('Record-Route', rr);
  }
  if (options.headers) for (const [name, value] of options.headers) headers.append(name, value);
  const body = options.body;
  return {
    kind: 'response',
    status,
    reason: sanitizeReason(options.reason ?? reasonPhrase(status)),
    headers,
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0)),
  };
}

function sanitizeReason(reason: string): string {
  return reason.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 200);
}

function hasTag(nameAddr: string): boolean {
  try {
    return parseNameAddr(nameAddr).params.has('tag');
  } catch {
    return /;\s*tag=/i.test(nameAddr);
  }
}

function required(message: SipMessage, name: string): string {
  const value = message.headers.get(name);
  if (value === undefined) throw new SipParseError('missing-header', `Missing ${name} header`);
  return value;
}

export function topVia(message: SipMessage): Via {
  return parseVia(required(message, 'Via'));
}

export function cseqOf(message: SipMessage): CSeq {
  return parseCSeq(required(message, 'CSeq'));
}

export function callIdOf(message: SipMessage): string {
  return required(message, 'Call-ID');
}

export function fromOf(message: SipMessage): NameAddr {
  return parseNameAddr(required(message, 'From'));
}

export function toOf(message: SipMessage): NameAddr {
  return parseNameAddr(required(message, 'To'));
}

export function tagOf(nameAddr: NameAddr): string | undefined {
  return nameAddr.params.get('tag') ?? undefined;
}

/**
 * The body as text when it is SDP, else undefined. Besides `application/sdp` this reads the SDP part of a
 * `multipart/mixed` body (RFC 5621), as SIP-I trunks send SDP next to an ISUP part.
 */
export function sdpBodyOf(message: SipMessage): string | undefined {
  if (message.body.length === 0) return undefined;
  const contentType = message.headers.get('content-type') ?? '';
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/sdp') return message.body.toString('utf8');
  if (type !== 'multipart/mixed' && type !== 'multipart/related') return undefined;
  const boundary = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return undefined;
  for (const part of message.body.toString('utf8').split(`--${marker}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    if (/^content-type:\s*application\/sdp/im.test(head)) return part.slice(split + 4).replace(/\r\n$/, '');
  }
  return undefined;
}
