/**
 * @module
 * The TIFF tags a bilevel fax file uses: TIFF 6.0 baseline and §11 (CCITT), plus the Class F
 * extensions BadFaxLines, CleanFaxData and ConsecutiveBadFaxLines (TIFF-F, RFC 2306).
 */

export const TIFF_TAG = Object.freeze({
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  PhotometricInterpretation: 262,
  FillOrder: 266,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  T4Options: 292,
  T6Options: 293,
  ResolutionUnit: 296,
  PageNumber: 297,
  Software: 305,
  DateTime: 306,
  BadFaxLines: 326,
  CleanFaxData: 327,
  ConsecutiveBadFaxLines: 328,
} as const);

/** TIFF field types (TIFF 6.0 §2). */
export const TIFF_TYPE = Object.freeze({ BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5 } as const);
