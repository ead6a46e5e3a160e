/**
 * @module
 * Why a request we sent did not succeed, with a stable code: the final response's status when there was one
 * (RFC 3261 §21), a transaction timeout (§8.1.3.1 treats it as 408), a CANCEL we sent, or a failed authentication.
 */
import type { SipResponse } from './sip-message.ts';

export type SipRequestErrorCode =
  | 'rejected'
  | 'timeout'
  | 'cancelled'
  | 'auth_failed'
  | 'no_ack'
  | 'closed'
  | 'unroutable';

export class SipRequestError extends Error {
  override readonly name = 'SipRequestError';
  constructor(
    readonly code: SipRequestErrorCode,
    readonly method: string,
    readonly status?: number,
    readonly response?: SipResponse,
  ) {
    super(
      `${method} ${code}${status !== undefined ? ` (${status}${response ? ` ${response.reason}` : ''})` : ''}`,
    );
  }

  /** The call the failed request belonged to, when a response tells. */
  get callId(): string | undefined {
    return this.response?.headers.get('call-id');
  }
}
