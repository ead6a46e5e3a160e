/**
 * @module
 * Documents → fax pages, one page at a time, so a send can start while later pages are still rendering.
 *
 * Every input is sniffed and its pages counted before the first page is produced, so a corrupt, encrypted
 * or oversized document anywhere in the list fails the fax before anything is sent, and the cover page
 * can state the total.
 */
import type { Logger } from 'pino';
import type { BilevelPage, FaxResolution } from 'telefax/image/bilevel-page';
import { type CoverPage, coverPageToPdf } from './cover-page.ts';
import { DocumentError } from './document-error.ts';
import type { PaperChoice } from './paper-size.ts';
import { decodeText, layoutPlainText, plainTextToPdf } from './plain-text-to-pdf.ts';
import { readDocumentHead } from './read-document-head.ts';
import { type RenderLimits, resolveRenderLimits } from './render-limits.ts';
import { countPdfPages, openPdf, type PdfSource, renderPdfPages } from './render-pdf-pages.ts';
import { type RasterKind, rasterPageCount, renderRasterPages } from './render-raster-pages.ts';
import { type DocumentKind, kindOfMediaType, MEDIA_TYPES, sniffMediaType } from './sniff-media-type.ts';

export interface DocumentInput {
  readonly data: Uint8Array;
  /** What the client said it is; checked against the content, which wins. */
  readonly mediaType?: string;
  /** For messages only. */
  readonly name?: string;
}

/**
 * A document kept in a file, for counting: it is never read whole on this thread (PDFs are read by a
 * PDF worker, images by sharp as far as their headers; plain text, within the size limit, is).
 */
export interface DocumentFileInput {
  readonly path: string;
  readonly byteSize: number;
  readonly mediaType?: string;
  readonly name?: string;
}

export interface RenderDocumentsOptions {
  readonly resolution: FaxResolution;
  /** Default 'auto': each page goes on the paper nearest its proportions. */
  readonly paper?: PaperChoice;
  readonly cover?: CoverPage;
  readonly limits?: Partial<RenderLimits>;
  /** Receives one debug line per document (kind, pages, time) and refusals at warn; never content. */
  readonly logger?: Logger;
}

export interface RenderedPage {
  readonly page: BilevelPage;
  /** 1-based position in the fax, cover included. */
  readonly pageNumber: number;
  /** Index of the input it came from, or -1 for the cover page. */
  readonly document: number;
  /** 0-based page within that input. */
  readonly sourcePage: number;
}

type Prepared =
  | { readonly kind: 'pdf'; readonly pdf: PdfSource }
  | { readonly kind: RasterKind; readonly bytes: Uint8Array; readonly pageCount: number }
  /** Counted only: plain text is laid out without being rasterized. */
  | { readonly kind: 'counted'; readonly pageCount: number };

/**
 * Refuses what can be refused from size and magic bytes alone. `head` is the document, or at least
 * its first SNIFF_HEAD_BYTES; `byteSize` is the whole document's size.
 */
function classify(
  input: { readonly head: Uint8Array; readonly byteSize: number; readonly mediaType?: string },
  limits: RenderLimits,
): DocumentKind {
  if (input.byteSize === 0) throw new DocumentError('invalid_document', 'the document is empty');
  if (input.byteSize > limits.maxBytes) {
    throw new DocumentError('document_too_large', `the document is larger than ${limits.maxBytes} bytes`, {
      limit: 'bytes',
    });
  }
  const sniffed = sniffMediaType(input.head);
  if (sniffed && sniffed !== 'text') return sniffed;
  const declared = kindOfMediaType(input.mediaType);
  if (declared && declared !== 'text') {
    throw new DocumentError('invalid_document', `the content is not a valid ${MEDIA_TYPES[declared]} file`);
  }
  if (sniffed === 'text' && (declared === 'text' || isGeneric(input.mediaType))) return 'text';
  throw new DocumentError(
    'unsupported_media_type',
    'the document is not PDF, TIFF, PNG, JPEG or plain text',
    {
      ...(input.mediaType ? { mediaType: input.mediaType } : {}),
    },
  );
}

/** Types that say nothing about the content, so sniffing decides. */
function isGeneric(mediaType: string | undefined): boolean {
  const base = (mediaType ?? '').split(';')[0].trim().toLowerCase();
  return base === 'application/octet-stream' || base === 'binary/octet-stream' || base === '';
}

async function prepare(
  input: DocumentInput | DocumentFileInput,
  limits: RenderLimits,
  countOnly: boolean,
): Promise<Prepared> {
  if ('path' in input) return countFile(input, limits);
  const kind = classify(
    { head: input.data, byteSize: input.data.length, mediaType: input.mediaType },
    limits,
  );
  switch (kind) {
    case 'pdf':
      return { kind, pdf: await openPdf(input.data, limits) };
    case 'text': {
      const text = plainTextToPdf(decodeText(input.data));
      if (countOnly) return { kind: 'counted', pageCount: text.pageCount };
      return { kind: 'pdf', pdf: await openPdf(text.pdf, limits) };
    }
    default:
      return { kind, bytes: input.data, pageCount: await rasterPageCount(input.data, kind, limits) };
  }
}

/** A document in a file is only ever counted; see {@link DocumentFileInput} for what reads it. */
async function countFile(input: DocumentFileInput, limits: RenderLimits): Promise<Prepared> {
  const head = await readDocumentHead(input.path);
  const kind = classify({ head, byteSize: input.byteSize, mediaType: input.mediaType }, limits);
  switch (kind) {
    case 'pdf':
      return { kind: 'counted', pageCount: await countPdfPages(input, limits) };
    case 'text': {
      // Within the size limit, checked above; the layout needs the whole text.
      const text = await readDocumentHead(input.path, input.byteSize);
      return { kind: 'counted', pageCount: layoutPlainText(decodeText(text)).length };
    }
    default:
      return { kind: 'counted', pageCount: await rasterPageCount(input, kind, limits) };
  }
}

function pagesOf(p: Prepared): number {
  return p.kind === 'pdf' ? p.pdf.pageCount : p.pageCount;
}

async function prepareAll(
  inputs: readonly (DocumentInput | DocumentFileInput)[],
  limits: RenderLimits,
  cover: boolean,
  countOnly = false,
) {
  if (inputs.length === 0 && !cover) throw new DocumentError('invalid_document', 'no documents to render');
  const prepared: Prepared[] = [];
  let total = cover ? 1 : 0;
  for (let i = 0; i < inputs.length; i++) {
    try {
      prepared.push(await prepare(inputs[i], limits, countOnly));
    } catch (err) {
      throw err instanceof DocumentError ? err.withDocument(i) : err;
    }
    total += pagesOf(prepared[i]);
    if (total > limits.maxPages) {
      throw new DocumentError('too_many_pages', `the fax has more than ${limits.maxPages} pages`, {
        document: i,
        limit: 'pages',
        maxPages: limits.maxPages,
      });
    }
  }
  return { prepared, total };
}

/**
 * Total pages the fax will have (cover included when given), validating every input on the way.
 * Inputs may be files, which are counted without being read whole on this thread.
 */
export async function countPages(
  inputs: readonly (DocumentInput | DocumentFileInput)[],
  options: { readonly cover?: CoverPage; readonly limits?: Partial<RenderLimits> } = {},
): Promise<number> {
  const limits = resolveRenderLimits(options.limits);
  return (await prepareAll(inputs, limits, options.cover !== undefined, true)).total;
}

/** The fax's pages in order: the cover (when given), then each input's pages. */
export async function* renderDocuments(
  inputs: readonly DocumentInput[],
  options: RenderDocumentsOptions,
): AsyncGenerator<RenderedPage> {
  const limits = resolveRenderLimits(options.limits);
  const paper = options.paper ?? 'auto';
  const { resolution, logger } = options;
  try {
    const { prepared, total } = await prepareAll(inputs, limits, options.cover !== undefined);
    let pageNumber = 0;
    if (options.cover) {
      const pdf = await openPdf(coverPageToPdf(options.cover, total), limits);
      for await (const page of renderPdfPages(pdf, { resolution, paper: 'letter', limits })) {
        yield { page, pageNumber: ++pageNumber, document: -1, sourcePage: 0 };
      }
    }
    for (let document = 0; document < prepared.length; document++) {
      const p = prepared[document];
      if (p.kind === 'counted') throw new Error('a counted-only document cannot be rendered');
      const started = performance.now();
      const pages =
        p.kind === 'pdf'
          ? renderPdfPages(p.pdf, { resolution, paper, limits })
          : renderRasterPages(p.bytes, p.kind, { resolution, paper, limits });
      let sourcePage = 0;
      try {
        for await (const page of pages) {
          yield { page, pageNumber: ++pageNumber, document, sourcePage: sourcePage++ };
        }
      } catch (err) {
        throw err instanceof DocumentError ? err.withDocument(document) : err;
      }
      logger?.debug(
        {
          document,
          kind: p.kind,
          pages: sourcePage,
          resolution,
          ms: Math.round(performance.now() - started),
        },
        'document rendered',
      );
    }
  } catch (err) {
    if (err instanceof DocumentError)
      logger?.warn({ code: err.code, details: err.details }, 'document refused');
    throw err;
  }
}
