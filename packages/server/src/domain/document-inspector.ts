/**
 * @module domain/document-inspector
 * The seam between accepting a fax and rendering it: before anything is queued, each document is
 * checked (real type from its content, readable, not encrypted, page count within limits). The
 * implementation backed by src/documents is rendering-document-inspector.ts; tests may plug a fake.
 */
import type { ErrorCode } from '../api/errors.ts';

/** A document waiting in a file (an upload, a fetched URL), which stays on disk while it is inspected. */
export interface DocumentFile {
  /** A temporary file; whoever made it removes it once the fax is stored or refused. */
  readonly path: string;
  readonly byteSize: number;
  /** Hex SHA-256 of the content, computed while it was written. */
  readonly sha256: string;
}

interface DocumentSource {
  /** What the client declared; the content decides. */
  readonly contentType: string | undefined;
  readonly filename: string | null;
}

/**
 * A document in memory (small, decoded from a JSON body) or in a file. A file is never read whole on
 * the request path: its type comes from its first bytes and its pages are counted off this thread.
 */
export type DocumentToInspect =
  | (DocumentSource & { readonly bytes: Uint8Array })
  | (DocumentSource & { readonly file: DocumentFile });

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
