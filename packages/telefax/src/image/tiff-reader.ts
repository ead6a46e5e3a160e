/**
 * @module
 * Reads bilevel multi-page TIFF: the Class F fax profile (TIFF 6.0 §11, RFC 2306) and the bilevel
 * files other tools write — uncompressed, G3 1-D/2-D (Compression 3) and G4 (Compression 4), any
 * number of strips, both byte orders and both fill orders. Every offset, count and size is checked
 * against the file and the limits before it is used, so bad input ends in a {@link TiffError}.
 */

import { decodePage } from '../codec/index.ts';
import { type BilevelPage, createPage, type FaxResolution, resolutionOf } from './bilevel-page.ts';
import { TiffError } from './image-error.ts';
import { checkPageSize, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-limits.ts';
import { clearPadBits, reverseBits } from './raster-bits.ts';
import { TIFF_TAG } from './tiff-tags.ts';

/** How a page's image data is coded in the file. */
export type TiffCompression = 'none' | 'mh' | 'mr' | 'mmr';

export interface TiffPage {
  /** Position among the file's pages, from 0. */
  readonly index: number;
  /** The decoded page (1 = black whatever the file's photometric interpretation). */
  readonly page: BilevelPage;
  readonly compression: TiffCompression;
  readonly resolution: FaxResolution;
  /** FillOrder: 1 = most significant bit first, 2 = least significant bit first (Class F's usual). */
  readonly fillOrder: 1 | 2;
  /** PhotometricInterpretation: 0 = WhiteIsZero (fax), 1 = BlackIsZero. */
  readonly photometric: 0 | 1;
  /** G3 with EOLs padded to end on a byte boundary (T4Options bit 2). */
  readonly byteAlignedEol: boolean;
  readonly strips: number;
  /** Rows the decoder could not decode, plus rows missing at the end of a strip. */
  readonly badRows: number;
  /** Row numbers (from 0) of those rows. */
  readonly badRowPositions: readonly number[];
  /** PageNumber tag: page number from 0 and the total (0 = unknown). */
  readonly pageNumber?: { readonly number: number; readonly total: number };
  /** BadFaxLines, CleanFaxData and ConsecutiveBadFaxLines tags, as the file states them. */
  readonly badFaxLines?: number;
  readonly cleanFaxData?: number;
  readonly consecutiveBadFaxLines?: number;
}

export interface TiffDocument {
  readonly pages: TiffPage[];
}

const TYPE_SIZE: Readonly<Record<number, number>> = {
  1: 1, // BYTE
  2: 1, // ASCII
  3: 2, // SHORT
  4: 4, // LONG
  5: 8, // RATIONAL
  6: 1, // SBYTE
  7: 1, // UNDEFINED
  8: 2, // SSHORT
  9: 4, // SLONG
  10: 8, // SRATIONAL
  11: 4, // FLOAT
  12: 8, // DOUBLE
  13: 4, // IFD
};

const MAX_IFD_ENTRIES = 4096;

interface IfdEntry {
  readonly type: number;
  readonly count: number;
  /** Where the value bytes are: inside the entry when they fit in 4 bytes, else at the stated offset. */
  readonly valueOffset: number;
}

/** Reads every page of a TIFF file. Throws {@link TiffError}. */
export function readTiff(bytes: Uint8Array, limits?: Partial<ImageLimits>): TiffDocument {
  return { pages: [...tiffPages(bytes, limits)] };
}

/**
 * Decodes a TIFF file one page at a time, so a long fax needs memory for one page only. A problem in a
 * later directory is thrown when the iteration reaches it.
 */
export function* tiffPages(
  bytes: Uint8Array,
  limits?: Partial<ImageLimits>,
): Generator<TiffPage, void, undefined> {
  const lim: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...limits };
  const file = new TiffFile(bytes);
  let offset = file.firstIfdOffset;
  const seen = new Set<number>();
  let directories = 0;
  let index = 0;
  let totalPixels = 0;
  while (offset !== 0) {
    if (seen.has(offset))
      throw new TiffError('invalid_document', `TIFF directory chain loops at offset ${offset}`);
    seen.add(offset);
    if (++directories > lim.maxPages) {
      throw new TiffError('document_too_large', `TIFF has more than ${lim.maxPages} pages`);
    }
    const { entries, next } = file.readIfd(offset);
    offset = next;
    // Reduced-resolution copies (thumbnails) are not pages (TIFF 6.0 NewSubfileType bit 0).
    const subfileType = file.scalar(entries, TIFF_TAG.NewSubfileType, 0);
    if ((subfileType & 1) !== 0) continue;
    const width = file.scalar(entries, TIFF_TAG.ImageWidth, -1);
    const height = file.scalar(entries, TIFF_TAG.ImageLength, -1);
    if (width < 1 || height < 1) {
      throw new TiffError(
        'invalid_document',
        `TIFF page ${index + 1}: missing or zero ImageWidth/ImageLength`,
      );
    }
    checkPageSize(width, height, lim, TiffError);
    totalPixels += width * height;
    if (totalPixels > lim.maxTotalPixels) {
      throw new TiffError('document_too_large', `TIFF pages exceed ${lim.maxTotalPixels} pixels in total`);
    }
    yield decodeDirectory(file, entries, index, width, height);
    index++;
  }
  if (index === 0) throw new TiffError('invalid_document', 'TIFF has no pages');
}

function decodeDirectory(
  file: TiffFile,
  entries: Map<number, IfdEntry>,
  index: number,
  width: number,
  height: number,
): TiffPage {
  const where = `TIFF page ${index + 1}`;
  const bitsPerSample = file.numbers(entries, TIFF_TAG.BitsPerSample, [1]);
  const samplesPerPixel = file.scalar(entries, TIFF_TAG.SamplesPerPixel, 1);
  if (samplesPerPixel !== 1 || bitsPerSample.some((b) => b !== 1)) {
    throw new TiffError(
      'unsupported_media_type',
      `${where}: not bilevel (SamplesPerPixel ${samplesPerPixel}, BitsPerSample ${bitsPerSample.join(',')})`,
    );
  }
  const photometric = file.scalar(entries, TIFF_TAG.PhotometricInterpretation, 0);
  if (photometric !== 0 && photometric !== 1) {
    throw new TiffError(
      'unsupported_media_type',
      `${where}: PhotometricInterpretation ${photometric} is not bilevel`,
    );
  }
  const fillOrder = file.scalar(entries, TIFF_TAG.FillOrder, 1);
  if (fillOrder !== 1 && fillOrder !== 2)
    throw new TiffError('invalid_document', `${where}: FillOrder ${fillOrder}`);

  const compressionTag = file.scalar(entries, TIFF_TAG.Compression, 1);
  let compression: TiffCompression;
  let byteAlignedEol = false;
  if (compressionTag === 1) compression = 'none';
  else if (compressionTag === 3) {
    const t4 = file.scalar(entries, TIFF_TAG.T4Options, 0);
    // T4Options bit 1: uncompressed mode (T.4 Annex A) — a rare extension we do not decode.
    if ((t4 & 2) !== 0) {
      throw new TiffError(
        'unsupported_media_type',
        `${where}: G3 uncompressed mode (T4Options bit 1) is not supported`,
      );
    }
    compression = (t4 & 1) !== 0 ? 'mr' : 'mh';
    byteAlignedEol = (t4 & 4) !== 0;
  } else if (compressionTag === 4) {
    const t6 = file.scalar(entries, TIFF_TAG.T6Options, 0);
    if ((t6 & 2) !== 0) {
      throw new TiffError(
        'unsupported_media_type',
        `${where}: G4 uncompressed mode (T6Options bit 1) is not supported`,
      );
    }
    compression = 'mmr';
  } else {
    throw new TiffError('unsupported_media_type', `${where}: Compression ${compressionTag} is not supported`);
  }

  const xDpi = file.dpi(entries, TIFF_TAG.XResolution, 204);
  const yDpi = file.dpi(entries, TIFF_TAG.YResolution, 196);
  const rowsPerStripTag = file.scalar(entries, TIFF_TAG.RowsPerStrip, 0xffffffff);
  if (rowsPerStripTag < 1) throw new TiffError('invalid_document', `${where}: RowsPerStrip is 0`);
  const rowsPerStrip = Math.min(rowsPerStripTag, height);
  const strips = Math.ceil(height / rowsPerStrip);
  const offsets = file.numbersCounted(entries, TIFF_TAG.StripOffsets, strips, where);
  if (offsets === undefined) throw new TiffError('invalid_document', `${where}: no StripOffsets`);
  // Without StripByteCounts a strip is taken to run to the end of the file; fax decoding stops at its end.
  const byteCounts =
    file.numbersCounted(entries, TIFF_TAG.StripByteCounts, strips, where) ??
    offsets.map((o) => Math.max(0, file.bytes.length - o));

  const stride = (width + 7) >> 3;
  // Allocated on first use: a single-strip fax page takes the decoder's page as it is.
  let page: BilevelPage | undefined;
  const target = (): BilevelPage => {
    page ??= createPage(width, height, xDpi, yDpi);
    return page;
  };
  let badRows = 0;
  const badRowPositions: number[] = [];
  for (let s = 0; s < strips; s++) {
    const firstRow = s * rowsPerStrip;
    const rows = Math.min(rowsPerStrip, height - firstRow);
    const start = offsets[s];
    const end = start + byteCounts[s];
    if (end > file.bytes.length) {
      throw new TiffError(
        'invalid_document',
        `${where}: strip ${s} (${byteCounts[s]} bytes at ${start}) runs past the end of the file`,
      );
    }
    const data = file.bytes.subarray(start, end);
    if (compression === 'none') {
      if (data.length < rows * stride) {
        throw new TiffError(
          'invalid_document',
          `${where}: strip ${s} holds ${data.length} of ${rows * stride} bytes`,
        );
      }
      target().data.set(data.subarray(0, rows * stride), firstRow * stride);
      continue;
    }
    // Each strip is coded on its own: it starts with a fresh all-white reference line (libtiff practice).
    let result: ReturnType<typeof decodePage>;
    try {
      result = decodePage(data, {
        compression,
        width,
        bitOrder: fillOrder === 2 ? 'lsb-first' : 'msb-first',
        maxRows: rows,
        expectedRows: rows,
        xDpi,
        yDpi,
      });
    } catch (err) {
      throw new TiffError(
        'invalid_document',
        `${where}: strip ${s} cannot be decoded: ${(err as Error).message}`,
      );
    }
    const got = Math.min(result.page.height, rows);
    if (strips === 1 && got === height && result.page.width === width) {
      page = { ...result.page, xDpi, yDpi };
    } else {
      target().data.set(result.page.data.subarray(0, got * stride), firstRow * stride);
    }
    for (const r of result.badRowPositions) if (r < got) badRowPositions.push(firstRow + r);
    for (let r = got; r < rows; r++) badRowPositions.push(firstRow + r);
    badRows += Math.max(result.badRows, result.badRowPositions.length) + (rows - got);
  }
  const pixels = target();
  if (compression === 'none' && fillOrder === 2) reverseBits(pixels.data);
  if (photometric === 1) invert(pixels.data);
  if (compression === 'none' || photometric === 1) clearPadBits(pixels.data, width, stride);

  const pageNumberValues = file.numbers(entries, TIFF_TAG.PageNumber, []);
  const badFaxLines = file.optionalScalar(entries, TIFF_TAG.BadFaxLines);
  const cleanFaxData = file.optionalScalar(entries, TIFF_TAG.CleanFaxData);
  const consecutiveBadFaxLines = file.optionalScalar(entries, TIFF_TAG.ConsecutiveBadFaxLines);
  return {
    index,
    page: pixels,
    compression,
    resolution: resolutionOf(pixels),
    fillOrder,
    photometric,
    byteAlignedEol,
    strips,
    badRows,
    badRowPositions,
    ...(pageNumberValues.length >= 2
      ? { pageNumber: { number: pageNumberValues[0], total: pageNumberValues[1] } }
      : {}),
    ...(badFaxLines !== undefined ? { badFaxLines } : {}),
    ...(cleanFaxData !== undefined ? { cleanFaxData } : {}),
    ...(consecutiveBadFaxLines !== undefined ? { consecutiveBadFaxLines } : {}),
  };
}

/** Byte-level access to a TIFF file with every read bounds-checked. */
class TiffFile {
  readonly bytes: Uint8Array;
  readonly firstIfdOffset: number;
  private readonly view: DataView;
  private readonly little: boolean;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 8) throw new TiffError('invalid_document', 'not a TIFF file (too short)');
    const b0 = bytes[0];
    const b1 = bytes[1];
    if (b0 === 0x49 && b1 === 0x49) this.little = true;
    else if (b0 === 0x4d && b1 === 0x4d) this.little = false;
    else throw new TiffError('invalid_document', 'not a TIFF file (no II/MM byte order mark)');
    const magic = this.u16(2);
    if (magic === 43) throw new TiffError('unsupported_media_type', 'BigTIFF is not supported');
    if (magic !== 42) throw new TiffError('invalid_document', `not a TIFF file (version ${magic})`);
    this.firstIfdOffset = this.u32(4);
    if (this.firstIfdOffset === 0) throw new TiffError('invalid_document', 'TIFF has no image directory');
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, this.little);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, this.little);
  }

  readIfd(offset: number): { entries: Map<number, IfdEntry>; next: number } {
    const bytes = this.bytes;
    if (offset < 8 || offset + 2 > bytes.length) {
      throw new TiffError('invalid_document', `TIFF directory offset ${offset} is outside the file`);
    }
    const count = this.u16(offset);
    if (count === 0 || count > MAX_IFD_ENTRIES) {
      throw new TiffError('invalid_document', `TIFF directory at ${offset} has ${count} entries`);
    }
    const entriesEnd = offset + 2 + count * 12;
    if (entriesEnd > bytes.length) {
      throw new TiffError('invalid_document', `TIFF directory at ${offset} runs past the end of the file`);
    }
    const entries = new Map<number, IfdEntry>();
    for (let i = 0; i < count; i++) {
      const e = offset + 2 + i * 12;
      const tag = this.u16(e);
      const type = this.u16(e + 2);
      const n = this.u32(e + 4);
      const size = TYPE_SIZE[type];
      // Unknown field types are skipped, as TIFF 6.0 §2 asks readers to do.
      if (size === undefined) continue;
      const length = size * n;
      const valueOffset = length <= 4 ? e + 8 : this.u32(e + 8);
      if (valueOffset + length > bytes.length) {
        throw new TiffError('invalid_document', `TIFF tag ${tag} points outside the file`);
      }
      if (!entries.has(tag)) entries.set(tag, { type, count: n, valueOffset });
    }
    // A directory that ends the file without its next-offset word is read as the last one.
    const next = entriesEnd + 4 <= bytes.length ? this.u32(entriesEnd) : 0;
    return { entries, next };
  }

  /** Unsigned integer values of a BYTE/SHORT/LONG field, or the fallback when the tag is absent. */
  numbers(entries: Map<number, IfdEntry>, tag: number, fallback: number[]): number[] {
    const entry = entries.get(tag);
    if (entry === undefined) return fallback;
    return this.readIntegers(entry, tag, Math.min(entry.count, 64));
  }

  /** Integer values of a per-strip field, which must have at least `count` values. */
  numbersCounted(
    entries: Map<number, IfdEntry>,
    tag: number,
    count: number,
    where: string,
  ): number[] | undefined {
    const entry = entries.get(tag);
    if (entry === undefined) return undefined;
    if (entry.count < count) {
      throw new TiffError(
        'invalid_document',
        `${where}: tag ${tag} has ${entry.count} values for ${count} strips`,
      );
    }
    return this.readIntegers(entry, tag, count);
  }

  scalar(entries: Map<number, IfdEntry>, tag: number, fallback: number): number {
    return this.optionalScalar(entries, tag) ?? fallback;
  }

  optionalScalar(entries: Map<number, IfdEntry>, tag: number): number | undefined {
    const entry = entries.get(tag);
    if (entry === undefined || entry.count === 0) return undefined;
    return this.readIntegers(entry, tag, 1)[0];
  }

  /** A resolution in dots per inch from a RATIONAL tag and ResolutionUnit (2 = inch, 3 = cm). */
  dpi(entries: Map<number, IfdEntry>, tag: number, fallback: number): number {
    const entry = entries.get(tag);
    if (
      entry === undefined ||
      entry.count === 0 ||
      (entry.type !== 5 && entry.type !== 3 && entry.type !== 4)
    ) {
      return fallback;
    }
    let value: number;
    if (entry.type === 5) {
      const num = this.u32(entry.valueOffset);
      const den = this.u32(entry.valueOffset + 4);
      value = den === 0 ? Number.NaN : num / den;
    } else {
      value = this.readIntegers(entry, tag, 1)[0];
    }
    if (!Number.isFinite(value) || value <= 0) return fallback;
    if (this.scalar(entries, TIFF_TAG.ResolutionUnit, 2) === 3) value *= 2.54;
    return Math.round(value * 100) / 100;
  }

  private readIntegers(entry: IfdEntry, tag: number, count: number): number[] {
    const out = new Array<number>(count);
    const o = entry.valueOffset;
    switch (entry.type) {
      case 1:
      case 7:
        for (let i = 0; i < count; i++) out[i] = this.bytes[o + i];
        return out;
      case 3:
        for (let i = 0; i < count; i++) out[i] = this.u16(o + 2 * i);
        return out;
      case 4:
      case 13:
        for (let i = 0; i < count; i++) out[i] = this.u32(o + 4 * i);
        return out;
      default:
        throw new TiffError(
          'invalid_document',
          `TIFF tag ${tag} has field type ${entry.type}, expected an integer`,
        );
    }
  }
}

function invert(data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] ^= 0xff;
}
