/**
 * @module
 * Typed views of the header values the transaction and dialog layers depend on: Via (RFC 3261 §20.42, with
 * received §18.2.1 and rport RFC 3581), CSeq (§20.16) and Max-Forwards (§20.22).
 */
import { SipParseError } from './sip-parse-error.ts';
import { formatHeaderParams, parseHeaderParams, parseHostPort, type SipParams } from './sip-uri.ts';

/** Branch prefix that marks an RFC 3261 branch (§8.1.1.7). */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  /** Transport in upper case: UDP, TCP, TLS, SCTP, WS… */
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly params: SipParams;
}

export function parseVia(value: string): Via {
  const m = /^SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+([^; \t]+)[ \t]*(.*)$/i.exec(
    value.trim(),
  );
  if (!m) throw new SipParseError('bad-via', 'Malformed Via header');
  let hostPort: { host: string; port?: number };
  let params: SipParams;
  try {
    hostPort = parseHostPort(m[2]!);
    params = parseHeaderParams(m[3]!);
  } catch (err) {
    if (err instanceof SipParseError)
      throw new SipParseError('bad-via', `Malformed Via header (${err.reason})`);
    throw err;
  }
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null && !/^[0-9]{1,5}$/.test(rport)) {
    throw new SipParseError('bad-via', 'Malformed Via rport');
  }
  return { transport: m[1]!.toUpperCase(), ...hostPort, params };
}

export function formatVia(via: Via): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `SIP/2.0/${via.transport} ${via.host}${port}${formatHeaderParams(via.params)}`;
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(value: string): CSeq {
  const m = /^([0-9]{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value.trim());
  if (!m) throw new SipParseError('bad-cseq', 'Malformed CSeq header');
  const seq = Number(m[1]);
  // RFC 3261 §8.1.1.5: the sequence number is a 32-bit unsigned integer below 2**31.
  if (seq >= 2 ** 31) throw new SipParseError('bad-cseq', 'CSeq number out of range');
  return { seq, method: m[2]! };
}

export function parseMaxForwards(value: string): number {
  if (!/^[0-9]{1,10}$/.test(value.trim()))
    throw new SipParseError('bad-max-forwards', 'Malformed Max-Forwards');
  const n = Number(value.trim());
  if (n > 255) throw new SipParseError('bad-max-forwards', 'Max-Forwards out of range');
  return n;
}

/** Parses a delta-seconds header such as Expires, Session-Expires or Min-SE; params (refresher) come back too. */
export function parseDeltaSeconds(value: string): { seconds: number; params: SipParams } {
  const m = /^([0-9]{1,10})[ \t]*(.*)$/.exec(value.trim());
  if (!m) throw new SipParseError('bad-header', 'Malformed delta-seconds');
  return { seconds: Number(m[1]), params: parseHeaderParams(m[2]!) };
}
