/**
 * @module
 * The one error type of document rendering: every refusal of an input carries a stable code that the API
 * maps to its error envelope, so callers branch on `code`, never on the message.
 */

/** Stable codes; never renamed or reused once published. */
export type DocumentErrorCode =
  | 'invalid_document'
  | 'password_protected'
  | 'unsupported_media_type'
  | 'document_too_large'
  | 'too_many_pages'
  | 'render_timeout';

export interface DocumentErrorDetails {
  /** Index of the offending input in the list given to `renderDocuments`. */
  readonly document?: number;
  /** 0-based page of that input, when one page is at fault. */
  readonly page?: number;
  /** Which limit was hit, e.g. `bytes`, `pixels`, `memory`, `pages`. */
  readonly limit?: string;
  readonly [key: string]: unknown;
}

export class DocumentError extends Error {
  override readonly name = 'DocumentError';
  readonly code: DocumentErrorCode;
  readonly details: DocumentErrorDetails;

  constructor(code: DocumentErrorCode, message: string, details: DocumentErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }

  /** The same error, tagged with the input it came from. */
  withDocument(document: number): DocumentError {
    return new DocumentError(this.code, this.message, { ...this.details, document }, this.cause);
  }
}

export function isDocumentError(value: unknown): value is DocumentError {
  return value instanceof DocumentError;
}
