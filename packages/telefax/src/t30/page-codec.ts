/**
 * @module
 * The page coding the engine needs, behind one small interface so the session does not depend on codec details:
 * T.4/T.6 coded data in line order (LSB first, TIFF FillOrder 2).
 */

import type { BilevelPage } from '../image/bilevel-page.ts';
import type { FaxCompression } from './dis-dcs.ts';

export interface PageEncodeOptions {
  readonly compression: FaxCompression;
  /** MR: rows per 1-D row (T.4 §4.2.1.3.4: 2 standard, 4 fine, 8 superfine). */
  readonly kFactor: number;
  /** Minimum bits per coded row including its EOL (T.4 §4.1.3); 0 in ECM. */
  readonly minBitsPerRow: number;
}

export interface PageDecodeOptions {
  readonly compression: FaxCompression;
  readonly width: number;
  readonly xDpi: number;
  readonly yDpi: number;
}

export interface DecodedPage {
  readonly page: BilevelPage;
  readonly rows: number;
  readonly badRows: number;
}

/** Decodes a page as its data arrives, for progress only; the page itself still comes from `decode`. */
export interface PageStreamDecoder {
  push(chunk: Uint8Array): void;
}

export interface PageCodec {
  /** The page coded for the line, RTC (T.4) or EOFB (T.6) included. */
  encode(page: BilevelPage, options: PageEncodeOptions): Uint8Array;
  /** Decodes what arrived; never throws on bad data (bad rows are counted). */
  decode(data: Uint8Array, options: PageDecodeOptions): DecodedPage;
  /**
   * Optional: decodes incrementally, handing each row to `onRow` (valid only during the call). Without it,
   * page progress is reported only once the page is decoded.
   */
  stream?(options: PageDecodeOptions, onRow: (row: Uint8Array, index: number) => void): PageStreamDecoder;
}

/** K factor for MR by resolution (T.4 §4.2.1.3.4). */
export function kFactorFor(yDpi: number): number {
  if (yDpi >= 300) return 8;
  if (yDpi >= 150) return 4;
  return 2;
}
