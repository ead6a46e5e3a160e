/**
 * @module
 * Documents → fax pages and fax pages → files: the public surface of this folder.
 */
export type { CoverPage } from './cover-page.ts';
export { DocumentError, type DocumentErrorCode, isDocumentError } from './document-error.ts';
export { type HeaderLineFields, headerLineText, stampHeaderLine } from './header-line.ts';
export { type PageToPngOptions, pageToPng } from './page-to-png.ts';
export type { PaperChoice, PaperSize } from './paper-size.ts';
export {
  countPages,
  type DocumentFileInput,
  type DocumentInput,
  type RenderDocumentsOptions,
  type RenderedPage,
  renderDocuments,
} from './render-documents.ts';
export { DEFAULT_RENDER_LIMITS, type RenderLimits } from './render-limits.ts';
export { closePdfWorkers, configurePdfWorkers } from './render-pdf-pages.ts';
export { collectBytes, writeFaxPdf } from './write-fax-pdf.ts';
export { type FaxTiffOptions, writeFaxTiff } from './write-fax-tiff.ts';
