/**
 * @module domain/failure-taxonomy
 * Why a fax failed, in one place. Lines, the renderer and the queue report one of these codes; the
 * API, events and retries read `retryable` from here and nowhere else.
 *
 * Retryable: the far end or the network may behave differently next time (busy, no answer, a call
 * dropped mid-page, a T.30 exchange that timed out). Not retryable: trying again cannot change the
 * answer (the number is wrong, the document is bad, the far end refused our capabilities).
 * `fax_not_detected` is not retryable: the call was answered but no fax tone came (T.30 §5.2, CED /
 * V.21 preamble missing) — usually a voice line, and redialling a person repeatedly is worse than failing.
 */

export interface FaxFailure {
  readonly code: FailureCode;
  readonly retryable: boolean;
  readonly message: string;
}

const FAILURES = {
  busy: { retryable: true, message: 'The line was busy.' },
  no_answer: { retryable: true, message: 'The call was not answered.' },
  congestion: { retryable: true, message: 'The network could not complete the call (congestion).' },
  call_dropped: { retryable: true, message: 'The call ended before the fax was complete.' },
  negotiation_failed: {
    retryable: true,
    message: 'The fax machines could not agree on capabilities in time (T.30 phase B).',
  },
  training_failed: {
    retryable: true,
    message: 'The line quality check failed at every speed (T.30 TCF/FTT).',
  },
  page_rejected: {
    retryable: true,
    message: 'The receiver rejected a page after retransmissions (T.30 RTN/PPR).',
  },
  protocol_timeout: {
    retryable: true,
    message: 'The remote fax machine stopped responding (T.30 timeout T2/T4).',
  },
  line_unavailable: { retryable: true, message: 'No line or channel was available to place the call.' },
  invalid_number: { retryable: false, message: 'The number does not exist or cannot be dialled.' },
  call_rejected: { retryable: false, message: 'The call was rejected by the network or the far end.' },
  fax_not_detected: { retryable: false, message: 'The call was answered, but not by a fax machine.' },
  t38_not_supported: { retryable: false, message: 'The far end does not support T.38 fax over IP.' },
  incompatible_receiver: {
    retryable: false,
    message: 'The receiver cannot accept this page width, resolution or coding.',
  },
  receiver_refused: {
    retryable: false,
    message: 'The receiver refused the fax (e.g. out of paper or memory, T.30 DCN).',
  },
  invalid_document: { retryable: false, message: 'A document could not be rendered into fax pages.' },
  canceled: { retryable: false, message: 'The fax was canceled.' },
  internal_error: { retryable: true, message: 'An internal error interrupted the fax.' },
} as const satisfies Record<string, { retryable: boolean; message: string }>;

export type FailureCode = keyof typeof FAILURES;

export const FAILURE_CODES = Object.keys(FAILURES) as FailureCode[];

export function isFailureCode(value: string): value is FailureCode {
  return Object.hasOwn(FAILURES, value);
}

/** The taxonomy entry for `code`; `message` may be replaced by a more specific one (no personal data). */
export function faxFailure(code: FailureCode, message?: string): FaxFailure {
  const entry = FAILURES[code];
  return { code, retryable: entry.retryable, message: message ?? entry.message };
}
