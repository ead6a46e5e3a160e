/**
 * @module
 * Every bound that keeps a hostile document from exhausting the server, in one place with defaults.
 */

export interface RenderLimits {
  /** Largest accepted input, in bytes. */
  readonly maxBytes: number;
  /** Most pages a fax may have, counting all inputs and the cover page. */
  readonly maxPages: number;
  /** Largest raster image (width × height) decoded from PNG, JPEG or TIFF; checked on the header first. */
  readonly maxImagePixels: number;
  /** Time one page may take on a worker; past it the worker is terminated. */
  readonly pageTimeoutMs: number;
  /** Worker time for a whole input document (summed over its pages; waiting for the consumer is free). */
  readonly documentTimeoutMs: number;
  /** PDFium's WebAssembly heap ceiling in a worker, in MiB. */
  readonly pdfMemoryMb: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = Object.freeze({
  maxBytes: 100 * 1024 * 1024,
  maxPages: 500,
  maxImagePixels: 100_000_000,
  pageTimeoutMs: 30_000,
  documentTimeoutMs: 600_000,
  pdfMemoryMb: 512,
});

export function resolveRenderLimits(limits: Partial<RenderLimits> | undefined): RenderLimits {
  return Object.freeze({ ...DEFAULT_RENDER_LIMITS, ...limits });
}
