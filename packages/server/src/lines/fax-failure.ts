/**
 * @module lines/fax-failure
 * Where SIP call failures and T.30 outcomes become the platform's failure taxonomy — the one place the lines
 * decide what a protocol failure means to a user (and so whether it is retried, domain/failure-taxonomy.ts).
 */
import type { FaxCallError } from 'telefax/sip/fax-call';
import type { FaxFailureReason, FaxOutcome } from 'telefax/t30/fax-outcome';
import type { FailureCode } from '../domain/failure-taxonomy.ts';
import type { NegotiatedLine } from '../domain/fax-line.ts';

/** A SIP final response that refused the call (RFC 3261 §21.4–21.6). */
function refusalFailure(status: number | undefined): FailureCode {
  switch (status) {
    case 404:
    case 410:
    case 484:
    case 604:
      return 'invalid_number';
    case 408:
    case 480:
      return 'no_answer';
    case 486:
    case 600:
      return 'busy';
    case 500:
    case 502:
    case 503:
    case 504:
      return 'congestion';
    default:
      return 'call_rejected';
  }
}

/** Why a call did not reach T.38. */
export function callFailure(error: FaxCallError): { code: FailureCode; message: string } {
  const sip = error.status === undefined ? '' : ` (SIP ${error.status})`;
  switch (error.reason) {
    case 'busy':
      return { code: 'busy', message: `The line was busy${sip}.` };
    case 'no_answer':
      return { code: 'no_answer', message: `The call was not answered${sip}.` };
    case 't38_not_supported':
      return { code: 't38_not_supported', message: `The far end refused T.38 fax${sip}.` };
    case 'fax_not_detected':
      return { code: 'fax_not_detected', message: 'The call was answered, but it never switched to fax.' };
    case 'rejected': {
      const code = refusalFailure(error.status);
      return { code, message: `The call was refused${sip}.` };
    }
    case 'cancelled':
      return { code: 'call_dropped', message: 'The call was given up before it was answered.' };
    case 'call_dropped':
      return { code: 'call_dropped', message: `The call ended before the fax started${sip}.` };
    case 'timeout':
      return { code: 'line_unavailable', message: 'The carrier did not respond to the call.' };
    case 'auth_failed':
      return { code: 'line_unavailable', message: 'The carrier refused our credentials.' };
    case 'unroutable':
      return { code: 'invalid_number', message: 'The number cannot be reached through the carrier.' };
  }
}

const T30_FAILURES: Readonly<Record<FaxFailureReason, FailureCode>> = {
  // Answered by SIP, but nothing T.30 came during T1 (T.30 §5.2): not a fax machine.
  no_answer: 'fax_not_detected',
  fax_not_detected: 'fax_not_detected',
  negotiation_failed: 'incompatible_receiver',
  training_failed: 'training_failed',
  page_rejected: 'page_rejected',
  remote_disconnected: 'receiver_refused',
  no_response: 'protocol_timeout',
  timeout_t1: 'protocol_timeout',
  timeout_t2: 'protocol_timeout',
  timeout_t5: 'protocol_timeout',
  ecm_failed: 'page_rejected',
  invalid_response: 'call_dropped',
  document_error: 'invalid_document',
  storage_failed: 'internal_error',
  call_timeout: 'call_dropped',
  canceled: 'canceled',
  transport_closed: 'call_dropped',
  internal_error: 'internal_error',
};

/** Why a T.30 session failed; `remoteHungUp` turns anything after a BYE into a dropped call. */
export function sessionFailure(
  outcome: Extract<FaxOutcome, { ok: false }>,
  direction: 'send' | 'receive',
  remoteHungUp: boolean,
): { code: FailureCode; message: string } {
  if (remoteHungUp || outcome.reason === 'transport_closed') {
    return { code: 'call_dropped', message: `The far end hung up after ${outcome.pages} page(s).` };
  }
  // A sender that stops with DCN mid-document gave up; the receiving side reports the call as dropped.
  if (direction === 'receive' && outcome.reason === 'remote_disconnected') {
    return { code: 'call_dropped', message: `The sender ended the call after ${outcome.pages} page(s).` };
  }
  return { code: T30_FAILURES[outcome.reason], message: `${outcome.message} (T.30 phase ${outcome.phase}).` };
}

/** The negotiated line and the far end's identity, for the fax record. */
export function negotiatedLine(outcome: FaxOutcome): NegotiatedLine {
  const line = outcome.line;
  return {
    ...(line
      ? { bitRate: line.bitRate, ecm: line.ecm, compression: line.compression, resolution: line.resolution }
      : {}),
    ...(outcome.remoteIdent ? { remoteIdent: outcome.remoteIdent } : {}),
  };
}
