/**
 * @module
 * Streaming T.4 (MH, MR) and T.6 (MMR) decoder: coded octets in, in any chunking, packed rows out.
 *
 * The input sits in one buffer read by bit position. A row is decoded only when all its bits have arrived; when
 * they have not, decoding starts over from the row's first bit once an EOL has arrived or the data has grown by a
 * quarter, so one-octet chunks cost linear time overall. Octets before the current row are dropped: the buffer
 * holds about one coded row. Fill, and the search for EOL after an error, advance without holding data.
 *
 * Errors (T.4): a row with an unknown code, too many or too few pixels, or anything but fill between its end and
 * the next EOL is bad. It is counted and replaced by a copy of the last good row (white before any): the page
 * keeps its height and the damage shows least, as receivers commonly do. Decoding resumes after the next EOL.
 * In MR the 2-D rows after a bad row are bad too, until a 1-D row (tag bit 1) restores a reference.
 * T.6 has no EOL to resume at: decoding stops with end 'error'; the failed row is counted but not delivered.
 */

import { type BilevelPage, strideOf } from '../image/bilevel-page.ts';
import { copyInBitOrder } from './bit-order.ts';
import { changesCapacity, fillRow } from './changing-elements.ts';
import {
  type BitOrder,
  DEFAULT_MAX_ROWS,
  type DecodeEnd,
  type DecodeOptions,
  type DecodeResult,
  type FaxCompression,
  MAX_BAD_ROW_POSITIONS,
} from './codec-options.ts';
import { BLACK_DECODE, MAKEUP_FLAG, MODE_DECODE, RUN_LENGTH_MASK, WHITE_DECODE } from './decode-tables.ts';
import { Mode } from './t4-codes.ts';

/** Zero octets kept after the data so lookups may read past its end. */
const PAD_OCTETS = 8;
/** T.4 §4.1.2: EOL is eleven or more zeros (fill included) then a one. */
const EOL_ZEROS = 11;
/** T.4 §4.1.4: RTC is six consecutive EOLs. */
const RTC_EOLS = 6;
/** The longest code word: an undecodable code is certain once this many bits are present. */
const MAX_CODE_BITS = 13;

enum Phase {
  /** Before the first row: a leading EOL is optional. */
  Start,
  /** After an EOL (MR: tag bit still to read): another EOL, or a row. */
  RowStart,
  /** A row to decode at `pos`. */
  Row,
  /** T.4: a row decoded, waiting for fill and its EOL. */
  RowEnd,
  /** T.4: looking for the next EOL after a bad row. */
  Resync,
  /** T.6: one EOL seen, the second of EOFB expected. */
  Eofb,
  Done,
}

enum Scan {
  Eol,
  NotEol,
  NeedMore,
}

/** Result of the row decoders. */
enum RowStatus {
  Ok,
  Error,
}

/** Where `readRun` stopped; a module variable saves an allocation per run. */
let runEnd = 0;

/**
 * Reads one run (make-up codes then a terminating code) at bit `pos`. Returns its length, or −1 when the bits
 * are no code word or the run exceeds `limit`. Sets `runEnd`.
 */
function readRun(d: Uint8Array, pos: number, table: Int32Array, limit: number): number {
  let run = 0;
  for (;;) {
    const i = pos >>> 3;
    const e = table[(((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]) >>> (11 - (pos & 7))) & 0x1fff];
    if (e === 0) {
      runEnd = pos;
      return -1;
    }
    pos += e & RUN_LENGTH_MASK;
    run += e >>> 8;
    if ((e & MAKEUP_FLAG) === 0) break;
    if (run > limit) {
      runEnd = pos;
      return -1;
    }
  }
  runEnd = pos;
  return run > limit ? -1 : run;
}

export class FaxDecoder {
  /** Called for each row in order; `row` is only valid during the call. */
  onRow?: (row: Uint8Array, index: number, bad: boolean) => void;

  private readonly compression: FaxCompression;
  private readonly width: number;
  private readonly stride: number;
  private readonly bitOrder: BitOrder;
  private readonly maxRows: number;
  private readonly xDpi: number;
  private readonly yDpi: number;
  private readonly retainPage: boolean;

  /** Input octets (msb-first) from `buf[0]` to `buf[avail)`, then PAD_OCTETS zeros. */
  private buf: Uint8Array;
  private avail = 0;
  /** Octets dropped from the front of `buf`. */
  private dropped = 0;
  private pushed = 0;
  /** Bit position in `buf`. */
  private pos = 0;

  private phase: Phase;
  private endReason: DecodeEnd = 'end-of-data';
  /** Zeros already passed while looking for an EOL across chunks. */
  private zeroRun = 0;
  private eolRun = 0;
  /** MR: tag bit of the row at `pos` (1 = 1-D); −1 = not read yet. */
  private tag = -1;
  /** MR: a row failed since the last 1-D row, so 2-D rows cannot be decoded. */
  private referenceLost = false;
  /**
   * The row at `pos` does not follow an EOL: the data began without one. If it fails to decode, it is taken for
   * noise before the page (e.g. the end of a modem's training), not counted as a bad row.
   */
  private unanchored = false;
  /** Do not retry the row at `pos` until this many bits are buffered. */
  private retryAtBits = 0;
  /** Zero bits at the end of the buffered data (for `eolArrived`). */
  private tailZeros = 0;

  private cur: Int32Array;
  private ref: Int32Array;
  private curCount = 0;
  private readonly lastGood: Uint8Array;

  private pageData: Uint8Array;
  private rows = 0;
  private bad = 0;
  private badRun = 0;
  private longestBadRun = 0;
  private readonly badPositions: number[] = [];
  private result: DecodeResult | undefined;

  constructor(options: DecodeOptions) {
    const { compression, width } = options;
    if (compression !== 'mh' && compression !== 'mr' && compression !== 'mmr') {
      throw new RangeError(`unknown fax compression ${String(compression)}`);
    }
    if (!Number.isInteger(width) || width < 1 || width > 65535)
      throw new RangeError(`invalid fax width ${width}`);
    this.compression = compression;
    this.width = width;
    this.stride = strideOf(width);
    this.bitOrder = options.bitOrder ?? 'msb-first';
    this.maxRows = Math.max(0, Math.floor(options.maxRows ?? DEFAULT_MAX_ROWS));
    this.xDpi = options.xDpi ?? 204;
    this.yDpi = options.yDpi ?? 196;
    this.retainPage = options.retainPage ?? true;
    this.buf = new Uint8Array(4096 + PAD_OCTETS);
    this.phase = compression === 'mmr' ? Phase.RowStart : Phase.Start;
    this.cur = new Int32Array(changesCapacity(width));
    this.ref = new Int32Array(changesCapacity(width));
    this.ref.fill(width, 0, 3);
    this.lastGood = new Uint8Array(this.stride);
    const hint = Math.min(this.maxRows, Math.max(0, Math.floor(options.expectedRows ?? 0)));
    this.pageData = new Uint8Array(this.retainPage ? hint * this.stride : 0);
  }

  /** Rows delivered so far, bad ones included. */
  get rowsDecoded(): number {
    return this.rows;
  }

  /** Bad rows so far. */
  get badRows(): number {
    return this.bad;
  }

  /** Input octets held for decoding: about one coded row (bounded by the width), plus the last chunk. */
  get bufferedBytes(): number {
    return this.avail - (this.pos >>> 3);
  }

  /** True once the page has ended (RTC, EOFB, maxRows or a T.6 error); later input is ignored. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  push(chunk: Uint8Array): void {
    if (this.phase === Phase.Done || chunk.length === 0) return;
    this.append(chunk);
    this.run(false);
  }

  /** Decodes what is left as the end of the data and returns the page. */
  end(): DecodeResult {
    if (this.result) return this.result;
    if (this.phase !== Phase.Done) {
      this.run(true);
      this.finish('end-of-data');
    }
    const consumed =
      this.endReason === 'end-of-data'
        ? this.pushed
        : Math.min(this.pushed, this.dropped + ((this.pos + 7) >>> 3));
    const size = this.rows * this.stride;
    const data = this.retainPage
      ? this.pageData.length === size
        ? this.pageData
        : this.pageData.slice(0, size)
      : new Uint8Array(0);
    const page: BilevelPage = {
      width: this.width,
      height: this.retainPage ? this.rows : 0,
      stride: this.stride,
      data,
      xDpi: this.xDpi,
      yDpi: this.yDpi,
    };
    this.result = {
      page,
      badRows: this.bad,
      badRowPositions: this.badPositions,
      longestBadRun: this.longestBadRun,
      end: this.endReason,
      consumedBytes: consumed,
    };
    return this.result;
  }

  private append(chunk: Uint8Array): void {
    this.pushed += chunk.length;
    const need = this.avail + chunk.length + PAD_OCTETS;
    if (need > this.buf.length) {
      const drop = this.pos >>> 3;
      if (drop > 0) {
        this.buf.copyWithin(0, drop, this.avail);
        this.avail -= drop;
        this.dropped += drop;
        this.pos -= drop * 8;
        this.retryAtBits = Math.max(0, this.retryAtBits - drop * 8);
      }
      const needNow = this.avail + chunk.length + PAD_OCTETS;
      if (needNow > this.buf.length) {
        const next = new Uint8Array(Math.max(needNow, this.buf.length * 2));
        next.set(this.buf.subarray(0, this.avail));
        this.buf = next;
      }
    }
    copyInBitOrder(chunk, this.buf, this.avail, this.bitOrder);
    if (this.retryAtBits > 0 && this.eolArrived(this.avail, chunk.length)) {
      this.retryAtBits = 0;
    }
    this.avail += chunk.length;
    this.buf.fill(0, this.avail, this.avail + PAD_OCTETS);
  }

  /**
   * True when `buf[from…from+length)` completes an EOL. A row waiting for data is then worth retrying, since its
   * end has certainly arrived (T.4: its EOL; T.6: EOFB): rows follow promptly without re-decoding every chunk.
   */
  private eolArrived(from: number, length: number): boolean {
    const d = this.buf;
    let zeros = this.tailZeros;
    let found = false;
    for (let i = from; i < from + length; i++) {
      const b = d[i];
      if (b === 0) {
        zeros += 8;
        continue;
      }
      if (zeros + Math.clz32(b) - 24 >= EOL_ZEROS) found = true;
      zeros = 31 - Math.clz32(b & -b);
    }
    this.tailZeros = zeros;
    return found;
  }

  /** Zero bits at the end of the buffered data, counting back no further than bit `from`. */
  private trailingZeros(from: number): number {
    let zeros = 0;
    for (let i = this.avail - 1; i >= 0 && i * 8 >= from; i--) {
      const b = this.buf[i];
      if (b !== 0) return zeros + 31 - Math.clz32(b & -b);
      zeros += 8;
    }
    return zeros;
  }

  private finish(reason: DecodeEnd): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    this.endReason = reason;
  }

  /** Advances through the buffered data; stops when more is needed (unless `final`) or the page has ended. */
  private run(final: boolean): void {
    const availBits = this.avail * 8;
    const t6 = this.compression === 'mmr';
    for (;;) {
      switch (this.phase) {
        case Phase.Done:
          return;
        case Phase.Start: {
          const s = this.scanEol(availBits);
          if (s === Scan.NeedMore) {
            if (final) this.finish('end-of-data');
            return;
          }
          // Data may start with the row itself; MR then has no tag bit, and the first row is 1-D (T.4 §4.2.1).
          if (s === Scan.Eol) {
            this.eolRun = 1;
            this.phase = Phase.RowStart;
          } else {
            this.tag = 1;
            this.unanchored = true;
            this.phase = Phase.Row;
          }
          break;
        }
        case Phase.RowStart: {
          if (this.compression === 'mr' && this.tag < 0) {
            if (this.pos + 1 > availBits) {
              if (final) this.finish(this.eolRun >= 2 ? 'rtc' : 'end-of-data');
              return;
            }
            this.tag = (this.buf[this.pos >>> 3] >>> (7 - (this.pos & 7))) & 1;
            this.pos++;
            if (this.eolRun >= RTC_EOLS) {
              this.finish('rtc'); // MR: the tag bit of the last EOL belongs to RTC
              break;
            }
          }
          const s = this.scanEol(availBits);
          if (s === Scan.NeedMore) {
            if (final) this.finish(this.eolRun >= 2 ? 'rtc' : 'end-of-data');
            return;
          }
          if (s === Scan.Eol) {
            this.tag = -1;
            if (t6) {
              this.phase = Phase.Eofb;
            } else if (++this.eolRun >= RTC_EOLS && this.compression === 'mh') {
              this.finish('rtc');
            }
            break;
          }
          this.phase = Phase.Row;
          break;
        }
        case Phase.Eofb: {
          const s = this.scanEol(availBits);
          if (s === Scan.NeedMore && !final) return;
          this.finish(s === Scan.NotEol ? 'error' : 'eofb');
          break;
        }
        case Phase.Row: {
          if (this.rows >= this.maxRows) {
            this.finish('max-rows');
            break;
          }
          if (!final && availBits < this.retryAtBits) return;
          this.eolRun = 0;
          const rowStart = this.pos;
          if (this.compression === 'mr' && this.tag === 0 && this.referenceLost) {
            this.emitBad();
            this.phase = Phase.Resync;
            break;
          }
          const oneD = this.compression === 'mh' || (this.compression === 'mr' && this.tag !== 0);
          const status = oneD ? this.decode1D() : this.decode2D();
          const seen = status === RowStatus.Ok ? this.pos : this.pos + MAX_CODE_BITS;
          if (seen > availBits && !final) {
            this.pos = rowStart;
            // Retrying only after 25% more data keeps re-decoding linear overall, whatever the chunking.
            this.retryAtBits = availBits + Math.max(8, (availBits - rowStart) >> 2);
            this.tailZeros = this.trailingZeros(rowStart);
            return;
          }
          this.retryAtBits = 0;
          if (status === RowStatus.Ok && this.pos <= availBits) {
            if (t6) {
              this.emitGood();
              this.phase = Phase.RowStart;
            } else {
              this.phase = Phase.RowEnd;
            }
            break;
          }
          if (t6) {
            this.countBad(this.rows);
            this.finish('error');
            break;
          }
          this.rejectRow();
          // The code that failed may have swallowed the first zeros of the EOL that ends the row.
          this.pos = Math.max(rowStart, Math.min(this.pos, availBits) - MAX_CODE_BITS);
          this.phase = Phase.Resync;
          break;
        }
        case Phase.RowEnd: {
          const s = this.scanEol(availBits);
          if (s === Scan.NeedMore) {
            if (final) {
              this.emitGood();
              this.finish('end-of-data');
            }
            return;
          }
          if (s === Scan.Eol) {
            this.emitGood();
            this.eolRun = 1;
            this.phase = Phase.RowStart;
          } else {
            this.rejectRow();
            this.phase = Phase.Resync;
          }
          break;
        }
        case Phase.Resync: {
          const s = this.scanEol(availBits);
          if (s === Scan.NeedMore) {
            if (final) this.finish('end-of-data');
            return;
          }
          if (s === Scan.NotEol) {
            this.skipToOne(availBits);
            break;
          }
          this.eolRun = 1;
          this.phase = Phase.RowStart;
          break;
        }
      }
    }
  }

  /**
   * Looks for fill and an EOL at `pos`. On Eol, `pos` is past it. On NotEol (fewer than eleven zeros before a
   * one), `pos` is unchanged. On NeedMore, long zero runs are passed (counted in `zeroRun`) so fill of any length
   * needs no buffer.
   */
  private scanEol(availBits: number): Scan {
    const d = this.buf;
    let pos = this.pos;
    let zeros = 0;
    for (;;) {
      if (pos >= availBits) break;
      const i = pos >>> 3;
      const word = (((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]) << (pos & 7)) >>> 0;
      const valid = Math.min(25, availBits - pos);
      const lead = Math.clz32(word);
      if (lead < valid) {
        zeros += lead;
        if (this.zeroRun + zeros >= EOL_ZEROS) {
          this.pos = pos + lead + 1;
          this.zeroRun = 0;
          return Scan.Eol;
        }
        return Scan.NotEol;
      }
      zeros += valid;
      pos += valid;
    }
    if (this.zeroRun + zeros >= EOL_ZEROS) {
      this.zeroRun += zeros;
      this.pos = pos;
    }
    return Scan.NeedMore;
  }

  /** Moves `pos` past the next one bit (there is one: scanEol returned NotEol). */
  private skipToOne(availBits: number): void {
    const d = this.buf;
    const pos = this.pos;
    const i = pos >>> 3;
    const word = (((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]) << (pos & 7)) >>> 0;
    this.pos = Math.min(availBits, pos + Math.clz32(word) + 1);
  }

  /** T.4 §4.1: one row of alternating white and black runs into `cur`. */
  private decode1D(): RowStatus {
    const d = this.buf;
    const cur = this.cur;
    const width = this.width;
    let pos = this.pos;
    let a0 = 0;
    let n = 0;
    let runs = 0;
    let table = WHITE_DECODE;
    const maxRuns = 2 * width + 8;
    while (a0 < width) {
      let run = 0;
      for (;;) {
        const i = pos >>> 3;
        const e = table[(((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]) >>> (11 - (pos & 7))) & 0x1fff];
        if (e === 0) {
          this.pos = pos;
          return RowStatus.Error;
        }
        pos += e & RUN_LENGTH_MASK;
        run += e >>> 8;
        if ((e & MAKEUP_FLAG) === 0) break;
        if (run > width) {
          this.pos = pos;
          return RowStatus.Error;
        }
      }
      a0 += run;
      if (a0 > width || ++runs > maxRuns) {
        this.pos = pos;
        return RowStatus.Error;
      }
      if (a0 < width) {
        // Encoders code an empty run only first (a row starting black). Elsewhere the two equal changes it
        // would leave cancel out, so `cur` stays strictly increasing, as the next row's reference needs.
        if (n > 0 && cur[n - 1] === a0) n--;
        else cur[n++] = a0;
      }
      table = table === WHITE_DECODE ? BLACK_DECODE : WHITE_DECODE;
    }
    this.pos = pos;
    this.curCount = n;
    return RowStatus.Ok;
  }

  /** T.4 §4.2.1.3 / T.6 §2.2: one row coded against the reference row `ref` into `cur`. */
  private decode2D(): RowStatus {
    const d = this.buf;
    const cur = this.cur;
    const ref = this.ref;
    const width = this.width;
    let pos = this.pos;
    // a0 starts on an imaginary white pixel before the row (T.4 §4.2.1.3.1).
    let a0 = -1;
    let color = 0;
    let bi = 0;
    let n = 0;
    let modes = 0;
    const maxModes = 2 * width + 8;
    while (a0 < width) {
      if (++modes > maxModes) break;
      const i = pos >>> 3;
      const e = MODE_DECODE[(((d[i] << 8) | d[i + 1]) >>> (9 - (pos & 7))) & 0x7f];
      const mode = e >>> 4;
      if (mode === Mode.Invalid || mode === Mode.Extension) break;
      pos += e & 15;
      if (mode === Mode.Pass) {
        a0 = ref[bi + 1];
        bi += 2;
        continue;
      }
      if (mode === Mode.Horizontal) {
        const from = a0 < 0 ? 0 : a0;
        const r1 = readRun(d, pos, color === 0 ? WHITE_DECODE : BLACK_DECODE, width);
        if (r1 < 0) {
          pos = runEnd;
          break;
        }
        const r2 = readRun(d, runEnd, color === 0 ? BLACK_DECODE : WHITE_DECODE, width);
        pos = runEnd;
        if (r2 < 0) break;
        const a1 = from + r1;
        const a2 = a1 + r2;
        if (a2 > width) break;
        if (a1 < width) {
          if (n > 0 && cur[n - 1] === a1)
            n--; // empty runs cancel, as in decode1D
          else cur[n++] = a1;
          if (a2 < width) {
            if (n > 0 && cur[n - 1] === a2) n--;
            else cur[n++] = a2;
          }
        }
        a0 = a2;
      } else {
        const a1 = ref[bi] + (mode <= Mode.VR3 ? mode - Mode.V0 : Mode.VL1 - 1 - mode);
        if (a1 > width || a1 < a0 || a1 < 0) break;
        if (a1 < width) {
          if (n > 0 && cur[n - 1] === a1) n--;
          else cur[n++] = a1;
        }
        a0 = a1;
        color ^= 1;
        bi = bi > 0 ? bi - 1 : 1;
      }
      while (ref[bi] <= a0 && ref[bi] < width) bi += 2;
    }
    this.pos = pos;
    // a0 = width: the row is complete (also after a pass mode whose b2 is the end of the reference row).
    if (a0 < width) return RowStatus.Error;
    this.curCount = n;
    return RowStatus.Ok;
  }

  private emitGood(): void {
    const n = this.curCount;
    const cur = this.cur;
    cur[n] = this.width;
    cur[n + 1] = this.width;
    cur[n + 2] = this.width;
    fillRow(cur, n, this.width, this.lastGood, 0, this.stride);
    this.cur = this.ref;
    this.ref = cur;
    if (this.compression === 'mr' && this.tag !== 0) this.referenceLost = false;
    this.tag = -1;
    this.unanchored = false;
    this.deliver(false);
  }

  /** A T.4 row failed: bad, unless it was noise before the first EOL. */
  private rejectRow(): void {
    if (this.unanchored) {
      this.unanchored = false;
      this.tag = -1;
    } else {
      this.emitBad();
    }
  }

  private emitBad(): void {
    this.countBad(this.rows);
    if (this.compression === 'mr') this.referenceLost = true;
    this.tag = -1;
    this.deliver(true);
  }

  private countBad(index: number): void {
    this.bad++;
    if (this.badPositions.length < MAX_BAD_ROW_POSITIONS) this.badPositions.push(index);
    this.longestBadRun = Math.max(this.longestBadRun, ++this.badRun);
  }

  /** Appends `lastGood` as the next row. */
  private deliver(bad: boolean): void {
    if (!bad) this.badRun = 0;
    const index = this.rows++;
    let row = this.lastGood;
    if (this.retainPage) {
      const end = (index + 1) * this.stride;
      if (end > this.pageData.length) {
        const cap = Math.min(
          this.maxRows * this.stride,
          Math.max(end, this.pageData.length * 2, 64 * this.stride),
        );
        const next = new Uint8Array(cap);
        next.set(this.pageData);
        this.pageData = next;
      }
      this.pageData.set(row, end - this.stride);
      row = this.pageData.subarray(end - this.stride, end);
    }
    this.onRow?.(row, index, bad);
  }
}
