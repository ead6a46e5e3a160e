/**
 * @module domain/document-inspector
 * The seam between accepting a fax and rendering it: before anything is queued, each document is
 * checked (real type from its bytes, readable, not encrypted, page count within limits). The
 * implementation backed by src/documents is rendering-document-inspector.ts; tests may plug a fake.
 */
import type { ErrorCode } from '../api/errors.ts';

export interface DocumentToInspect {
  readonly bytes: Uint8Array;
  /** What the client declared; the content decides. */
  readonly contentType: string | undefined;
  readonly filename: string | null;
}

export interface InspectedDocument {
  /** The media type the content really has. */
  readonly contentType: string;
  /** Pages the document will render to, when known. */
  readonly pageCount: number | null;
}

export type DocumentRejectionCode = Extract<
  ErrorCode,
  | 'invalid_document'
  | 'password_protected'
  | 'unsupported_media_type'
  | 'document_too_large'
  | 'too_many_pages'
>;

/** A document refused before queueing; `document` is its 0-based index in the request. */
export class DocumentRejection extends Error {
  readonly code: DocumentRejectionCode;
  readonly document: number;
  constructor(code: DocumentRejectionCode, message: string, document: number) {
    super(message);
    this.name = 'DocumentRejection';
    this.code = code;
    this.document = document;
  }
}

export interface DocumentInspector {
  /**
   * Checks every document of one fax, in order, against `maxPages` for the whole fax (cover included).
   * @throws DocumentRejection
   */
  inspect(
    documents: readonly DocumentToInspect[],
    options: { readonly maxPages: number; readonly maxBytes: number; readonly cover: boolean },
  ): Promise<InspectedDocument[]>;
  close?(): Promise<void>;
}
