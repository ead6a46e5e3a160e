/**
 * @module
 * Streaming T.4 (MH, MR) and T.6 (MMR) encoder: packed rows in, coded octets out.
 */

import { strideOf } from '../image/bilevel-page.ts';
import { BitWriter } from './bit-writer.ts';
import { changesCapacity, findChanges } from './changing-elements.ts';
import { type BitOrder, DEFAULT_K_FACTOR, type EncodeOptions, type FaxCompression } from './codec-options.ts';
import {
  BLACK_ENCODE,
  HORIZONTAL_CODE,
  PASS_CODE,
  type RunEncodeTable,
  VERTICAL_CODE,
  VERTICAL_LEN,
  WHITE_ENCODE,
} from './encode-tables.ts';
import { EOL_BITS, EOL_CODE, MAX_MAKEUP_RUN } from './t4-codes.ts';

/** T.4 §4.1.4: six consecutive EOLs signal the end of the page. */
const RTC_EOLS = 6;

export class FaxEncoder {
  readonly width: number;
  readonly stride: number;
  private readonly compression: FaxCompression;
  private readonly kFactor: number;
  private readonly bitOrder: BitOrder;
  private readonly byteAlignEol: boolean;
  private readonly rtc: boolean;
  private readonly minBitsPerRow: number;
  private readonly writer: BitWriter;
  private cur: Int32Array;
  private ref: Int32Array;
  private rows = 0;
  private finished = false;

  constructor(width: number, options: EncodeOptions) {
    if (!Number.isInteger(width) || width < 1 || width > 65535)
      throw new RangeError(`invalid fax width ${width}`);
    const { compression } = options;
    if (compression !== 'mh' && compression !== 'mr' && compression !== 'mmr') {
      throw new RangeError(`unknown fax compression ${String(compression)}`);
    }
    const kFactor = options.kFactor ?? DEFAULT_K_FACTOR;
    if (compression === 'mr' && (!Number.isInteger(kFactor) || kFactor < 1))
      throw new RangeError(`invalid K factor ${kFactor}`);
    if (options.eol === false && compression !== 'mmr') {
      throw new RangeError('T.4 coding without EOLs is not supported');
    }
    this.width = width;
    this.stride = strideOf(width);
    this.compression = compression;
    this.kFactor = kFactor;
    this.bitOrder = options.bitOrder ?? 'msb-first';
    this.byteAlignEol = options.byteAlignEol ?? false;
    this.rtc = options.rtc ?? true;
    this.minBitsPerRow = Math.max(0, Math.floor(options.minBitsPerRow ?? 0));
    this.writer = new BitWriter(this.stride * 8);
    this.cur = new Int32Array(changesCapacity(width));
    this.ref = new Int32Array(changesCapacity(width));
    this.ref.fill(width, 0, 3);
  }

  /** Rows encoded so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** Encodes one packed row (at least `stride` octets; pad bits are ignored). */
  encodeRow(row: Uint8Array): void {
    if (this.finished) throw new Error('FaxEncoder: encodeRow after finish');
    if (row.length < this.stride) throw new RangeError(`row has ${row.length} octets, needs ${this.stride}`);
    const w = this.writer;
    const n = findChanges(row, 0, this.width, this.cur);
    if (this.compression === 'mmr') {
      this.encode2D();
    } else {
      const start = this.putEol();
      if (this.compression === 'mh') {
        this.encode1D(n);
      } else {
        const oneD = this.rows % this.kFactor === 0;
        w.put(oneD ? 1 : 0, 1); // T.4 §4.2: tag bit after EOL, 1 = next row 1-D
        if (oneD) this.encode1D(n);
        else this.encode2D();
      }
      const short = this.minBitsPerRow - (w.bitPosition - start);
      if (short > 0) w.zeros(short); // T.4 §4.1.3: fill goes between a row's data and the next EOL
    }
    const t = this.ref;
    this.ref = this.cur;
    this.cur = t;
    this.rows++;
  }

  /** The complete octets produced so far; they are not returned again. */
  take(): Uint8Array {
    return this.writer.take(this.bitOrder);
  }

  /** Ends the page with RTC or EOFB (when enabled) and returns the remaining octets, the last one zero-padded. */
  finish(): Uint8Array {
    if (!this.finished) {
      this.finished = true;
      const w = this.writer;
      if (this.rtc) {
        if (this.compression === 'mmr') {
          w.put(EOL_CODE, EOL_BITS); // T.6 §2.4.1.1: EOFB is two EOLs
          w.put(EOL_CODE, EOL_BITS);
        } else {
          for (let i = 0; i < RTC_EOLS; i++) {
            this.putEol();
            if (this.compression === 'mr') w.put(1, 1);
          }
        }
      }
      w.padToOctet();
    }
    return this.writer.take(this.bitOrder);
  }

  /** Writes an EOL (aligned if asked) and returns the bit position where it starts. */
  private putEol(): number {
    const w = this.writer;
    if (this.byteAlignEol) {
      const fill = (8 - ((w.bitPosition + EOL_BITS) & 7)) & 7;
      if (fill > 0) w.put(0, fill);
    }
    const start = w.bitPosition;
    w.put(EOL_CODE, EOL_BITS);
    return start;
  }

  private putRun(table: RunEncodeTable, run: number): void {
    const w = this.writer;
    while (run > MAX_MAKEUP_RUN) {
      w.put(table.makeupCode[MAX_MAKEUP_RUN >> 6], table.makeupLen[MAX_MAKEUP_RUN >> 6]);
      run -= MAX_MAKEUP_RUN;
    }
    if (run >= 64) {
      w.put(table.makeupCode[run >> 6], table.makeupLen[run >> 6]);
      run &= 63;
    }
    w.put(table.termCode[run], table.termLen[run]);
  }

  /** T.4 §4.1: alternating white and black runs, starting with a (possibly empty) white run. */
  private encode1D(n: number): void {
    const cur = this.cur;
    let a0 = 0;
    for (let i = 0; i < n; i++) {
      const a1 = cur[i];
      this.putRun((i & 1) === 0 ? WHITE_ENCODE : BLACK_ENCODE, a1 - a0);
      a0 = a1;
    }
    this.putRun((n & 1) === 0 ? WHITE_ENCODE : BLACK_ENCODE, this.width - a0);
  }

  /** T.4 §4.2.1.3.3 (Figure 7): pass, vertical or horizontal mode for each changing element. */
  private encode2D(): void {
    const w = this.writer;
    const cur = this.cur;
    const ref = this.ref;
    const width = this.width;
    // a0 starts on an imaginary white pixel before the row (T.4 §4.2.1.3.1), so b1 may be pixel 0.
    let a0 = -1;
    let color = 0;
    let ai = 0;
    let bi = 0;
    while (a0 < width) {
      const a1 = cur[ai];
      const b1 = ref[bi];
      const b2 = ref[bi + 1];
      if (b2 < a1) {
        w.put(PASS_CODE.code, PASS_CODE.len);
        a0 = b2;
        bi += 2;
        continue;
      }
      const d = a1 - b1;
      if (d >= -3 && d <= 3) {
        w.put(VERTICAL_CODE[d + 3], VERTICAL_LEN[d + 3]);
        a0 = a1;
        color ^= 1;
        ai++;
        bi = bi > 0 ? bi - 1 : bi + 1;
      } else {
        const a2 = cur[ai + 1];
        w.put(HORIZONTAL_CODE.code, HORIZONTAL_CODE.len);
        const from = a0 < 0 ? 0 : a0;
        this.putRun(color === 0 ? WHITE_ENCODE : BLACK_ENCODE, a1 - from);
        this.putRun(color === 0 ? BLACK_ENCODE : WHITE_ENCODE, a2 - a1);
        a0 = a2;
        ai += 2;
      }
      while (ref[bi] <= a0 && ref[bi] < width) bi += 2;
    }
  }
}
