/**
 * @module domain/rendering-document-inspector
 * The DocumentInspector backed by src/documents: the content decides the type, and each document is
 * opened and its pages counted with the renderer's own limits, so a fax that would fail to render is
 * refused at the API instead of failing later in the queue.
 */

import { closePdfWorkers, countPages, DocumentError } from '../documents/index.ts';
import { MEDIA_TYPES, sniffMediaType } from '../documents/sniff-media-type.ts';
import {
  type DocumentInspector,
  DocumentRejection,
  type DocumentToInspect,
  type InspectedDocument,
} from './document-inspector.ts';

export class RenderingDocumentInspector implements DocumentInspector {
  async inspect(
    documents: readonly DocumentToInspect[],
    options: { readonly maxPages: number; readonly maxBytes: number; readonly cover: boolean },
  ): Promise<InspectedDocument[]> {
    const inspected: InspectedDocument[] = [];
    let pages = options.cover ? 1 : 0;
    for (const [index, document] of documents.entries()) {
      let pageCount: number;
      try {
        pageCount = await countPages([{ data: document.bytes, mediaType: document.contentType }], {
          limits: { maxBytes: options.maxBytes, maxPages: Math.max(1, options.maxPages - pages) },
        });
      } catch (error) {
        if (error instanceof DocumentError) {
          const code = error.code === 'render_timeout' ? 'invalid_document' : error.code;
          throw new DocumentRejection(code, error.message, index);
        }
        throw error;
      }
      pages += pageCount;
      if (pages > options.maxPages) {
        throw new DocumentRejection(
          'too_many_pages',
          `the fax has more than ${options.maxPages} pages`,
          index,
        );
      }
      const kind = sniffMediaType(document.bytes) ?? 'text';
      inspected.push({ contentType: MEDIA_TYPES[kind], pageCount });
    }
    return inspected;
  }

  close(): Promise<void> {
    return closePdfWorkers();
  }
}
