/**
 * @module
 * Size limits for reading image files. A file states its own dimensions, so every reader checks them
 * against these before it allocates anything.
 */

import type { ImageError } from './image-error.ts';

export interface ImageLimits {
  /** Pixels per row (A3 at 400 dpi is 4864; 10000 leaves room for odd scanners). */
  readonly maxWidth: number;
  /** Rows per page (a 1 m long page at 1000 dpi is ~40000). */
  readonly maxHeight: number;
  /** Pixels of one page. */
  readonly maxPagePixels: number;
  /**
   * Pixels of all pages of one file together: bounds the decoding time of a file, and the memory of
   * `readTiff`, which holds every page (2e9 ≈ 480 A4 fine pages, 250 MB).
   */
  readonly maxTotalPixels: number;
  /** Pages (IFDs) of one file. */
  readonly maxPages: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxWidth: 10000,
  maxHeight: 40000,
  maxPagePixels: 10000 * 40000,
  maxTotalPixels: 2_000_000_000,
  maxPages: 1000,
});

/** Throws `document_too_large` (via the given error class) when a page of this size exceeds the limits. */
export function checkPageSize(
  width: number,
  height: number,
  limits: ImageLimits,
  ErrorClass: new (code: 'document_too_large', message: string) => ImageError,
): void {
  if (width > limits.maxWidth || height > limits.maxHeight || width * height > limits.maxPagePixels) {
    throw new ErrorClass(
      'document_too_large',
      `page of ${width}×${height} pixels exceeds the limits (${limits.maxWidth}×${limits.maxHeight}, ${limits.maxPagePixels} pixels)`,
    );
  }
}
