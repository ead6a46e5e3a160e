/**
 * @module
 * Typed errors for bad image files. Codes are stable and match the platform's error catalogue, so a
 * bad upload maps straight to an API error without string matching.
 */

export type ImageErrorCode =
  /** The bytes are not a well-formed file of the claimed format (bad offsets, truncated, loops). */
  | 'invalid_document'
  /** Well-formed, but bigger than the configured limits (pixels, pages). */
  | 'document_too_large'
  /** Well-formed, but a variant we do not read (colour, uncompressed-mode fax coding, BigTIFF...). */
  | 'unsupported_media_type';

export class ImageError extends Error {
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A TIFF file could not be read. */
export class TiffError extends ImageError {}

/** A PBM file could not be read. */
export class PbmError extends ImageError {}
