/**
 * @module
 * The one error type the SIP parsers throw. Each failure has a stable code, the status a UAS answers with when the
 * message was a request it could still reply to (RFC 3261 §21.4.1: the reason phrase names the syntax problem), and
 * a human-readable detail used as that reason phrase.
 */

import type { SipMessage } from './sip-message.ts';

export type SipParseErrorCode =
  | 'message-too-large'
  | 'body-too-large'
  | 'line-too-long'
  | 'too-many-headers'
  | 'bad-start-line'
  | 'bad-version'
  | 'bad-method'
  | 'bad-status'
  | 'bad-header'
  | 'missing-header'
  | 'bad-content-length'
  | 'truncated-body'
  | 'bad-cseq'
  | 'bad-via'
  | 'bad-uri'
  | 'bad-name-addr'
  | 'bad-max-forwards'
  | 'bad-encoding'
  | 'bad-sdp'
  | 'bad-auth';

/** The status a UAS answers a request with for each code; message-too-large is 513 (RFC 3261 §21.5.14). */
const STATUS_BY_CODE: Readonly<Record<SipParseErrorCode, number>> = {
  'message-too-large': 513,
  'body-too-large': 413,
  'line-too-long': 400,
  'too-many-headers': 400,
  'bad-start-line': 400,
  'bad-version': 505,
  'bad-method': 400,
  'bad-status': 400,
  'bad-header': 400,
  'missing-header': 400,
  'bad-content-length': 400,
  'truncated-body': 400,
  'bad-cseq': 400,
  'bad-via': 400,
  'bad-uri': 400,
  'bad-name-addr': 400,
  'bad-max-forwards': 400,
  'bad-encoding': 400,
  'bad-sdp': 400,
  'bad-auth': 400,
};

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /** Status to answer a malformed request with. */
  readonly status: number;
  /**
   * What could be read of the message before the failure (start line and headers), so a UAS can still answer a
   * malformed request with 400 when Via, From, To, Call-ID and CSeq are usable.
   */
  partial?: SipMessage;
  constructor(
    readonly code: SipParseErrorCode,
    /** Short description, usable as a SIP reason phrase (no CR/LF). */
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
    this.status = STATUS_BY_CODE[code];
  }
}
