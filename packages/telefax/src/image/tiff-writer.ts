/**
 * @module
 * Writes TIFF Class F (TIFF 6.0 §11 and the Class F profile of RFC 2306): one strip per page, pages
 * chained one directory after another, G3 1-D/2-D or G4 coded, fill order 2 by default. Pages are
 * appended one at a time, so a receiver can add each page as it arrives and keep the file valid.
 * Uncompressed bilevel output is there for debugging and for feeding other tools.
 */

import { writeSync } from 'node:fs';
import { encodePage } from '../codec/index.ts';
import { type BilevelPage, resolutionOf } from './bilevel-page.ts';
import { reverseBits } from './raster-bits.ts';
import type { TiffCompression } from './tiff-reader.ts';
import { TIFF_TAG, TIFF_TYPE } from './tiff-tags.ts';

export interface TiffPageOptions {
  readonly compression: TiffCompression;
  /** 1 = most significant bit first, 2 = least significant first. Default 2 for G3/G4 (Class F), 1 for none. */
  readonly fillOrder?: 1 | 2;
  /** G3: pad with zeros so every EOL ends on a byte boundary (T4Options bit 2). */
  readonly byteAlignEol?: boolean;
  /** MR: at most K−1 2-D rows after each 1-D row; default by resolution (T.4 §4.2.1: 2, 4, 8). */
  readonly kFactor?: number;
  /** Class F reception quality, when the page was received. */
  readonly badFaxLines?: number;
  /**
   * 0 = clean, 1 = bad rows regenerated, 2 = bad rows present and not regenerated (TIFF-F). When only
   * `badFaxLines` is given it follows from it: our decoder replaces a bad row by the row above, so 0 or 1.
   */
  readonly cleanFaxData?: 0 | 1 | 2;
  readonly consecutiveBadFaxLines?: number;
}

/** Where the file's bytes go: each call writes bytes at a position; earlier positions may be rewritten. */
export interface TiffSink {
  write(bytes: Uint8Array, position: number): void;
}

export interface TiffWriterOptions {
  /** Byte order of the file: 'II' (little-endian, default) or 'MM'. */
  readonly byteOrder?: 'II' | 'MM';
  /** Text of the Software tag. */
  readonly software?: string;
  /** Write to this sink instead of memory (e.g. {@link tiffFileSink}). */
  readonly sink?: TiffSink;
}

/** Default K factor per vertical resolution (T.4 §4.2.1). */
function defaultKFactor(page: BilevelPage): number {
  const resolution = resolutionOf(page);
  return resolution === 'standard' ? 2 : resolution === 'fine' ? 4 : 8;
}

/**
 * Builds a multi-page TIFF one page at a time. Each page is written as strip data followed by its
 * directory, and the previous directory's next-offset is pointed at it, so the bytes written so far
 * always form a valid file. PageNumber totals are filled in by {@link TiffWriter.finish}.
 */
export class TiffWriter {
  private readonly little: boolean;
  private readonly software: string;
  private readonly sink: TiffSink;
  private readonly memory: MemorySink | undefined;
  private length = 0;
  /** Position of the offset word that must point at the next directory. */
  private nextPointerAt = 4;
  /** Positions of each page's PageNumber total (the second SHORT). */
  private readonly pageTotalsAt: number[] = [];
  private finished = false;

  constructor(options: TiffWriterOptions = {}) {
    this.little = (options.byteOrder ?? 'II') === 'II';
    this.software = options.software ?? 'Faxwire telefax';
    this.memory = options.sink === undefined ? new MemorySink() : undefined;
    this.sink = options.sink ?? (this.memory as MemorySink);
  }

  get pageCount(): number {
    return this.pageTotalsAt.length;
  }

  /** Codes the page as the options say and appends it. */
  addPage(page: BilevelPage, options: TiffPageOptions): void {
    const fillOrder = options.fillOrder ?? (options.compression === 'none' ? 1 : 2);
    this.checkPage(page);
    this.addCodedPage(encodeStrip(page, options, fillOrder), page, { ...options, fillOrder });
  }

  /**
   * Appends a page whose image data is already coded — e.g. MMR received in ECM, which is already in
   * line order (FillOrder 2). `strip` must be one strip of `options.compression` in `options.fillOrder`
   * (default 2 for G3/G4), coded as TIFF expects: G3 with an EOL per row; RTC, if present, is tolerated
   * by readers but not recommended (TIFF-F).
   */
  addCodedPage(
    strip: Uint8Array,
    page: Pick<BilevelPage, 'width' | 'height' | 'xDpi' | 'yDpi'>,
    options: TiffPageOptions,
  ): void {
    this.checkPage(page);
    if (this.length === 0) this.writeHeader();
    const fillOrder = options.fillOrder ?? (options.compression === 'none' ? 1 : 2);
    const stripAt = this.length;
    this.append(strip);
    if (this.length & 1) this.append(new Uint8Array(1));

    const fields: Field[] = [
      { tag: TIFF_TAG.NewSubfileType, type: TIFF_TYPE.LONG, values: [2] },
      { tag: TIFF_TAG.ImageWidth, type: TIFF_TYPE.LONG, values: [page.width] },
      { tag: TIFF_TAG.ImageLength, type: TIFF_TYPE.LONG, values: [page.height] },
      { tag: TIFF_TAG.BitsPerSample, type: TIFF_TYPE.SHORT, values: [1] },
      { tag: TIFF_TAG.Compression, type: TIFF_TYPE.SHORT, values: [COMPRESSION_TAG[options.compression]] },
      { tag: TIFF_TAG.PhotometricInterpretation, type: TIFF_TYPE.SHORT, values: [0] },
      { tag: TIFF_TAG.FillOrder, type: TIFF_TYPE.SHORT, values: [fillOrder] },
      { tag: TIFF_TAG.StripOffsets, type: TIFF_TYPE.LONG, values: [stripAt] },
      { tag: TIFF_TAG.SamplesPerPixel, type: TIFF_TYPE.SHORT, values: [1] },
      { tag: TIFF_TAG.RowsPerStrip, type: TIFF_TYPE.LONG, values: [page.height] },
      { tag: TIFF_TAG.StripByteCounts, type: TIFF_TYPE.LONG, values: [strip.length] },
      { tag: TIFF_TAG.XResolution, type: TIFF_TYPE.RATIONAL, values: rational(page.xDpi) },
      { tag: TIFF_TAG.YResolution, type: TIFF_TYPE.RATIONAL, values: rational(page.yDpi) },
      { tag: TIFF_TAG.PlanarConfiguration, type: TIFF_TYPE.SHORT, values: [1] },
      { tag: TIFF_TAG.ResolutionUnit, type: TIFF_TYPE.SHORT, values: [2] },
      { tag: TIFF_TAG.PageNumber, type: TIFF_TYPE.SHORT, values: [this.pageCount, 0] },
      { tag: TIFF_TAG.Software, type: TIFF_TYPE.ASCII, values: [], text: this.software },
    ];
    if (options.compression === 'mh' || options.compression === 'mr') {
      const t4 = (options.compression === 'mr' ? 1 : 0) | (options.byteAlignEol ? 4 : 0);
      fields.push({ tag: TIFF_TAG.T4Options, type: TIFF_TYPE.LONG, values: [t4] });
    } else if (options.compression === 'mmr') {
      fields.push({ tag: TIFF_TAG.T6Options, type: TIFF_TYPE.LONG, values: [0] });
    }
    if (options.badFaxLines !== undefined) {
      fields.push({ tag: TIFF_TAG.BadFaxLines, type: TIFF_TYPE.LONG, values: [options.badFaxLines] });
    }
    const cleanFaxData =
      options.cleanFaxData ??
      (options.badFaxLines === undefined ? undefined : options.badFaxLines > 0 ? 1 : 0);
    if (cleanFaxData !== undefined) {
      fields.push({ tag: TIFF_TAG.CleanFaxData, type: TIFF_TYPE.SHORT, values: [cleanFaxData] });
    }
    if (options.consecutiveBadFaxLines !== undefined) {
      fields.push({
        tag: TIFF_TAG.ConsecutiveBadFaxLines,
        type: TIFF_TYPE.LONG,
        values: [options.consecutiveBadFaxLines],
      });
    }
    fields.sort((a, b) => a.tag - b.tag);

    const ifdAt = this.length;
    const { bytes, pageTotalAt, nextAt } = this.directory(fields, ifdAt);
    this.append(bytes);
    this.sink.write(this.u32(ifdAt), this.nextPointerAt);
    this.nextPointerAt = nextAt;
    this.pageTotalsAt.push(pageTotalAt);
  }

  private checkPage(page: Pick<BilevelPage, 'width' | 'height'>): void {
    if (this.finished) throw new Error('TiffWriter: page added after finish');
    if (
      !Number.isInteger(page.width) ||
      !Number.isInteger(page.height) ||
      page.width < 1 ||
      page.height < 1
    ) {
      throw new RangeError(`cannot write a ${page.width}×${page.height} page`);
    }
  }

  /**
   * Fills in the page totals and ends the file. Returns the file when writing to memory; with a sink
   * the bytes are already there and an empty array is returned.
   */
  finish(): Uint8Array {
    if (this.pageCount === 0) throw new Error('TiffWriter: a TIFF file needs at least one page');
    if (!this.finished) {
      this.finished = true;
      const total = this.u16(this.pageCount);
      for (const at of this.pageTotalsAt) this.sink.write(total, at);
    }
    return this.memory?.bytes(this.length) ?? new Uint8Array(0);
  }

  private writeHeader(): void {
    const header = new Uint8Array(8);
    header[0] = header[1] = this.little ? 0x49 : 0x4d;
    header.set(this.u16(42), 2);
    this.append(header);
  }

  private append(bytes: Uint8Array): void {
    this.sink.write(bytes, this.length);
    this.length += bytes.length;
  }

  private u16(value: number): Uint8Array {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, value, this.little);
    return b;
  }

  private u32(value: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, this.little);
    return b;
  }

  /** One directory and, after it, the values that do not fit in their entries (TIFF 6.0 §2). */
  private directory(fields: Field[], at: number): { bytes: Uint8Array; pageTotalAt: number; nextAt: number } {
    const entriesSize = 2 + fields.length * 12 + 4;
    const encoded = fields.map((f) => this.fieldValue(f));
    let extra = 0;
    for (const v of encoded) if (v.length > 4) extra += v.length + (v.length & 1);
    const out = new Uint8Array(entriesSize + extra);
    const view = new DataView(out.buffer);
    view.setUint16(0, fields.length, this.little);
    let valueAt = entriesSize;
    let pageTotalAt = -1;
    fields.forEach((f, i) => {
      const e = 2 + i * 12;
      const value = encoded[i];
      view.setUint16(e, f.tag, this.little);
      view.setUint16(e + 2, f.type, this.little);
      const count =
        f.type === TIFF_TYPE.ASCII ? value.length : f.type === TIFF_TYPE.RATIONAL ? 1 : f.values.length;
      view.setUint32(e + 4, count, this.little);
      if (value.length <= 4) out.set(value, e + 8);
      else {
        view.setUint32(e + 8, at + valueAt, this.little);
        out.set(value, valueAt);
        valueAt += value.length + (value.length & 1);
      }
      if (f.tag === TIFF_TAG.PageNumber) pageTotalAt = at + e + 10;
    });
    return { bytes: out, pageTotalAt, nextAt: at + entriesSize - 4 };
  }

  private fieldValue(f: Field): Uint8Array {
    if (f.type === TIFF_TYPE.ASCII) {
      const text = new TextEncoder().encode((f.text ?? '').replace(/[^\x20-\x7e]/g, '?'));
      const out = new Uint8Array(text.length + 1);
      out.set(text);
      return out;
    }
    const size = f.type === TIFF_TYPE.SHORT ? 2 : 4;
    const out = new Uint8Array(f.values.length * size);
    const view = new DataView(out.buffer);
    f.values.forEach((v, i) => {
      if (size === 2) view.setUint16(i * 2, v, this.little);
      else view.setUint32(i * 4, v, this.little);
    });
    return out;
  }
}

/** Writes pages to one TIFF file in memory. */
export function writeTiff(
  pages: Iterable<BilevelPage>,
  options: TiffPageOptions & Omit<TiffWriterOptions, 'sink'>,
): Uint8Array {
  const writer = new TiffWriter(options);
  for (const page of pages) writer.addPage(page, options);
  return writer.finish();
}

/** A sink that writes through a file descriptor opened for writing (`fs.openSync(path, 'w')`). */
export function tiffFileSink(fd: number): TiffSink {
  return {
    write(bytes, position) {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
    },
  };
}

interface Field {
  readonly tag: number;
  readonly type: number;
  /** Integer values; a RATIONAL is [numerator, denominator]. */
  readonly values: number[];
  readonly text?: string;
}

const COMPRESSION_TAG: Readonly<Record<TiffCompression, number>> = { none: 1, mh: 3, mr: 3, mmr: 4 };

function rational(value: number): number[] {
  if (Number.isInteger(value)) return [value, 1];
  return [Math.round(value * 100), 100];
}

function encodeStrip(page: BilevelPage, options: TiffPageOptions, fillOrder: 1 | 2): Uint8Array {
  if (options.compression === 'none') {
    const out = page.data.slice(0, page.stride * page.height);
    if (fillOrder === 2) reverseBits(out);
    return out;
  }
  const bitOrder = fillOrder === 2 ? 'lsb-first' : 'msb-first';
  if (options.compression === 'mmr') return encodePage(page, { compression: 'mmr', bitOrder });
  // TIFF G3 strips: an EOL before every row, no RTC (TIFF 6.0 §11, as libtiff writes them).
  return encodePage(page, {
    compression: options.compression,
    bitOrder,
    eol: true,
    byteAlignEol: options.byteAlignEol ?? false,
    rtc: false,
    ...(options.compression === 'mr' ? { kFactor: options.kFactor ?? defaultKFactor(page) } : {}),
  });
}

/** Collects writes in memory; later writes at an earlier position overwrite. */
class MemorySink implements TiffSink {
  private readonly parts: { bytes: Uint8Array; position: number }[] = [];

  write(bytes: Uint8Array, position: number): void {
    this.parts.push({ bytes: bytes.slice(), position });
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (const p of this.parts) out.set(p.bytes, p.position);
    return out;
  }
}
