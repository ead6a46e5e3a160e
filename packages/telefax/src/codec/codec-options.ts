/**
 * @module
 * Options and results shared by the T.4/T.6 encoder and decoder.
 */

import type { BilevelPage } from '../image/bilevel-page.ts';

/** T.4 one-dimensional (Modified Huffman), T.4 two-dimensional (Modified READ) or T.6 (Modified Modified READ). */
export type FaxCompression = 'mh' | 'mr' | 'mmr';

/**
 * Where the first bit of the coded stream sits in each octet. 'lsb-first' is TIFF FillOrder 2 and the order on
 * the line in T.30 and T.38; 'msb-first' is TIFF FillOrder 1.
 */
export type BitOrder = 'msb-first' | 'lsb-first';

export interface EncodeOptions {
  compression: FaxCompression;
  /** MR only: a 1-D row is followed by at most K−1 2-D rows (T.4 §4.2.1). Default 2; 4 for fine, 8 superfine. */
  kFactor?: number;
  /** Default 'msb-first'. */
  bitOrder?: BitOrder;
  /** T.4: an EOL before every row. Only `true` (the default) is supported: T.4 §4.1.2 requires it. */
  eol?: boolean;
  /** T.4: zero fill so that every EOL ends on an octet boundary (TIFF T4Options bit 2). Default false. */
  byteAlignEol?: boolean;
  /** Append RTC (T.4 §4.1.4: 6 EOLs, MR: 6 × EOL+1) or EOFB (T.6 §2.4.1.1). Default true. */
  rtc?: boolean;
  /**
   * T.4: zero fill after a row's data so each coded row, its EOL included, has at least this many bits
   * (the minimum transmission time of a coded scan line, T.4 §4.1.3 and T.30 DCS bits 21–23).
   */
  minBitsPerRow?: number;
}

export interface DecodeOptions {
  compression: FaxCompression;
  /** Pixels per row. */
  width: number;
  /** Default 'msb-first'. */
  bitOrder?: BitOrder;
  /** Stop after this many rows (default 16384). Bounds the memory a page can take. */
  maxRows?: number;
  /** Rows the page is expected to have (e.g. TIFF ImageLength): only a size hint. */
  expectedRows?: number;
  /** Resolution recorded in the decoded page. Default 204 × 196. */
  xDpi?: number;
  yDpi?: number;
  /**
   * Keep the decoded rows for `end().page` (default true). A streaming consumer that takes rows from `onRow`
   * can turn this off; the page then has height 0.
   */
  retainPage?: boolean;
}

/** How decoding ended. */
export type DecodeEnd = 'rtc' | 'eofb' | 'end-of-data' | 'max-rows' | 'error';

export interface DecodeResult {
  /**
   * The rows decoded. A T.4 row that failed to decode is present as a copy of the last good row (white if none);
   * a T.6 row that failed ends the page and is not present.
   */
  page: BilevelPage;
  /** Rows that failed to decode. */
  badRows: number;
  /** Indices of the failed rows, at most MAX_BAD_ROW_POSITIONS of them (T.6: the failed row's index = height). */
  badRowPositions: number[];
  /** Most consecutive bad rows: with the bad-row count, what a T.30 receiver judges copy quality by. */
  longestBadRun: number;
  end: DecodeEnd;
  /** Octets of the input up to the end of the page (after RTC/EOFB), or all of it. */
  consumedBytes: number;
}

export const DEFAULT_K_FACTOR = 2;
export const DEFAULT_MAX_ROWS = 16384;
export const MAX_BAD_ROW_POSITIONS = 10000;
