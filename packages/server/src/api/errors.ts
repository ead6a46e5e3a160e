/**
 * @module api/errors
 * The one catalogue of API errors. Each code is stable once published (never renamed, never reused),
 * has one HTTP status and a default message; responses are `{ error: { code, message, details } }`.
 * Everything that fails a request — validation, auth, documents, domain rules, Fastify's own errors —
 * is mapped onto an entry here by the error handler in build-app.ts.
 */

export const ERROR_CATALOGUE = {
  validation_failed: { status: 400, message: 'The request is invalid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_phone_number: { status: 400, message: 'Phone numbers must be E.164, e.g. +14155550100.' },
  unknown_from_number: { status: 400, message: '`from` must be one of your numbers.' },
  invalid_document: { status: 400, message: 'A document could not be read.' },
  password_protected: { status: 400, message: 'A document is password protected.' },
  too_many_pages: { status: 400, message: 'The fax has more pages than allowed.' },
  too_many_documents: { status: 400, message: 'The fax has more documents than allowed.' },
  invalid_cursor: { status: 400, message: 'The pagination cursor is invalid.' },
  invalid_event_type: { status: 400, message: 'Unknown event type.' },
  webhook_url_not_allowed: {
    status: 400,
    message:
      'The webhook URL resolves to a private, loopback or link-local address, which webhooks may not reach. ' +
      'To allow it, add its network to FAXWIRE_WEBHOOK_ALLOW_NETS (comma-separated CIDRs, e.g. 10.0.0.0/8) and restart the server.',
  },
  document_url_invalid: {
    status: 400,
    message:
      'A document URL must be an absolute http:// or https:// URL without a user name or password, ' +
      'e.g. https://example.com/invoice.pdf.',
  },
  document_url_forbidden: {
    status: 400,
    message:
      'The document URL points at a private, loopback or link-local address, which the server may not fetch from. ' +
      'Use a publicly reachable URL, or add its network to FAXWIRE_FETCH_ALLOW_NETS (comma-separated CIDRs) and restart the server.',
  },
  unauthorized: { status: 401, message: 'A valid API key is required: Authorization: Bearer fw_…' },
  forbidden: { status: 403, message: 'This API key may not do that.' },
  not_found: { status: 404, message: 'Not found.' },
  idempotency_conflict: {
    status: 409,
    message: 'This Idempotency-Key was already used with a different request body.',
  },
  fax_not_cancelable: { status: 409, message: 'The fax is finished and can no longer be canceled.' },
  fax_not_resendable: {
    status: 409,
    message: 'Only a finished outbound fax with its documents can be resent.',
  },
  fax_in_progress: { status: 409, message: 'The fax is still in progress; cancel it first.' },
  page_not_ready: { status: 409, message: 'The page has not arrived yet; it may still come.' },
  number_unavailable: { status: 409, message: 'No free number is left in the loopback range.' },
  number_in_use: { status: 409, message: 'The number has faxes in progress.' },
  webhook_disabled: { status: 409, message: 'The webhook endpoint is disabled; enable it first.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  document_too_large: { status: 413, message: 'A document is larger than allowed.' },
  unsupported_media_type: { status: 415, message: 'This content type is not supported.' },
  document_fetch_failed: {
    status: 422,
    message:
      'The document could not be fetched from its URL; check that the URL is right and publicly reachable.',
  },
  document_fetch_timeout: {
    status: 422,
    message: 'Fetching the document from its URL took too long; use a faster server or send the file itself.',
  },
  rate_limited: { status: 429, message: 'Too many requests; retry later.' },
  internal_error: { status: 500, message: 'Internal error.' },
  service_unavailable: { status: 503, message: 'The service is shutting down or overloaded; retry later.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export type ErrorDetails = Record<string, unknown>;

/** An error the API reports as is: a catalogue code, its status, and a message safe to show. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message?: string, details: ErrorDetails = {}) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = ERROR_CATALOGUE[code].status;
    this.details = details;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
