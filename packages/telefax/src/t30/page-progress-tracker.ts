/**
 * @module
 * Decodes a received page as its data arrives, so the rows so far can be shown before the page completes.
 * Runs beside the one-shot decode that judges the page (T.30 §5.3.6.1.7): it never decides anything and
 * never waits, so MCF and the page hook are not delayed.
 */

import type { BilevelPage } from '../image/bilevel-page.ts';
import type { PageCodec, PageDecodeOptions, PageStreamDecoder } from './page-codec.ts';
import type { PageProgress } from './t30-context.ts';

/** Report at most every this many rows… */
const ROWS_STEP = 64;
/** …or after this long, whichever comes first (checked as data arrives). */
const INTERVAL_MS = 250;
const INITIAL_ROWS = 256;

export class PageProgressTracker {
  /** ECM: the next frame number of the current block to feed (frames are fed in order only). */
  ecmNext = 0;

  private readonly hook: (progress: PageProgress) => void;
  private readonly pageNumber: number;
  private readonly options: PageDecodeOptions;
  private readonly stride: number;
  private decoder: PageStreamDecoder | null;
  /** The rows so far, grown by doubling; handed out as views, never copied for a report. */
  private data: Uint8Array;
  private rows = 0;
  private reportedRows = 0;
  private reportedAt = Date.now();

  constructor(
    hook: (progress: PageProgress) => void,
    pageNumber: number,
    codec: PageCodec,
    options: PageDecodeOptions,
  ) {
    this.hook = hook;
    this.pageNumber = pageNumber;
    this.options = options;
    this.stride = (options.width + 7) >> 3;
    this.data = new Uint8Array(INITIAL_ROWS * this.stride);
    this.decoder = codec.stream ? codec.stream(options, (row) => this.addRow(row)) : null;
  }

  /** More of the page's coded data, in order. */
  push(chunk: Uint8Array): void {
    if (!this.decoder) return;
    try {
      this.decoder.push(chunk);
    } catch {
      // Progress is best effort; the page is still judged by the full decode.
      this.decoder = null;
      return;
    }
    if (this.rows === this.reportedRows) return;
    const now = Date.now();
    if (this.rows - this.reportedRows >= ROWS_STEP || now - this.reportedAt >= INTERVAL_MS) {
      this.reportedAt = now;
      this.report(this.rows, this.pageView(this.rows));
    }
  }

  /** The page is decoded: the last report, with all its rows, unless they were all reported already. */
  finish(page: BilevelPage): void {
    const streamed = this.decoder !== null;
    this.decoder = null;
    if (streamed && this.reportedRows === page.height) return;
    this.report(page.height, page);
  }

  private addRow(row: Uint8Array): void {
    const at = this.rows * this.stride;
    if (at + this.stride > this.data.length) {
      const grown = new Uint8Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(row.subarray(0, this.stride), at);
    this.rows++;
  }

  private pageView(rows: number): BilevelPage {
    return {
      width: this.options.width,
      height: rows,
      stride: this.stride,
      data: this.data.subarray(0, rows * this.stride),
      xDpi: this.options.xDpi,
      yDpi: this.options.yDpi,
    };
  }

  private report(rows: number, page: BilevelPage): void {
    this.reportedRows = rows;
    try {
      const result: unknown = this.hook({ pageNumber: this.pageNumber, rows, width: page.width, page });
      if (result instanceof Promise) result.catch(() => {});
    } catch {
      // A listener's failure must not touch the call.
    }
  }
}
