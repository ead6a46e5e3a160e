/**
 * @module domain/rendering-document-inspector
 * The DocumentInspector backed by src/documents: the content decides the type, and each document is
 * opened and its pages counted with the renderer's own limits, so a fax that would fail to render is
 * refused at the API instead of failing later in the queue.
 *
 * PDFs, nearly every fax, go straight to the PDF workers' page count, which batches the documents of
 * requests that arrive together; the other kinds go through `countPages`. All of a fax's PDFs are
 * counted at once, and the results are then read in document order, so the refusal names the first
 * bad document exactly as a one-by-one inspection would.
 *
 * A document in a file (an upload, a fetched URL) is not read into this thread: its type comes from
 * its first bytes, a PDF worker reads the file itself to count its pages, sharp reads an image's
 * header from the file, and only plain text (within the size limit) is read here.
 */

import { closePdfWorkers, countPages, DocumentError } from '../documents/index.ts';
import { readDocumentHead } from '../documents/read-document-head.ts';
import { resolveRenderLimits } from '../documents/render-limits.ts';
import { countPdfPages } from '../documents/render-pdf-pages.ts';
import { MEDIA_TYPES, sniffMediaType } from '../documents/sniff-media-type.ts';
import {
  type DocumentInspector,
  DocumentRejection,
  type DocumentToInspect,
  type InspectedDocument,
} from './document-inspector.ts';

function byteSizeOf(document: DocumentToInspect): number {
  return 'bytes' in document ? document.bytes.length : document.file.byteSize;
}

type Settled =
  | { readonly ok: true; readonly pageCount: number }
  | { readonly ok: false; readonly error: unknown };

export class RenderingDocumentInspector implements DocumentInspector {
  async inspect(
    documents: readonly DocumentToInspect[],
    options: { readonly maxPages: number; readonly maxBytes: number; readonly cover: boolean },
  ): Promise<InspectedDocument[]> {
    const kinds = await Promise.all(
      documents.map(async (d) =>
        sniffMediaType('bytes' in d ? d.bytes : await readDocumentHead(d.file.path)),
      ),
    );
    const limits = resolveRenderLimits({ maxBytes: options.maxBytes, maxPages: options.maxPages });
    // Size is refused before content, as countPages does; such a document takes the general path.
    const pdfCounts = documents.map((d, i): Promise<Settled> | null =>
      kinds[i] === 'pdf' && byteSizeOf(d) <= options.maxBytes
        ? countPdfPages('bytes' in d ? d.bytes : d.file, limits).then(
            (pageCount) => ({ ok: true, pageCount }),
            (error: unknown) => ({ ok: false, error }),
          )
        : null,
    );
    const inspected: InspectedDocument[] = [];
    let pages = options.cover ? 1 : 0;
    for (const [index, document] of documents.entries()) {
      let pageCount: number;
      try {
        const pdf = pdfCounts[index];
        if (pdf) {
          const settled = await pdf;
          if (!settled.ok) throw settled.error;
          pageCount = settled.pageCount;
        } else {
          const input =
            'bytes' in document
              ? { data: document.bytes, mediaType: document.contentType }
              : {
                  path: document.file.path,
                  byteSize: document.file.byteSize,
                  mediaType: document.contentType,
                };
          pageCount = await countPages([input], {
            limits: { maxBytes: options.maxBytes, maxPages: Math.max(1, options.maxPages - pages) },
          });
        }
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
      inspected.push({ contentType: MEDIA_TYPES[kinds[index] ?? 'text'], pageCount });
    }
    return inspected;
  }

  close(): Promise<void> {
    return closePdfWorkers();
  }
}
