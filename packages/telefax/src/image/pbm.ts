/**
 * @module
 * Netpbm PBM: P4 (packed binary rows, 1 = black, MSB first, exactly our row layout) and P1 (ASCII
 * digits, comments allowed). PBM carries no resolution, so the reader takes one from its options.
 */

import { type BilevelPage, createPage } from './bilevel-page.ts';
import { PbmError } from './image-error.ts';
import { checkPageSize, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-limits.ts';
import { clearPadBits } from './raster-bits.ts';

export type PbmFormat = 'P1' | 'P4';

export interface PbmReadOptions {
  /** Resolution given to the page; PBM has none. Defaults to fax fine, 204×196 dpi. */
  xDpi?: number;
  yDpi?: number;
  limits?: Partial<ImageLimits>;
}

export interface PbmWriteOptions {
  /** P4 (binary, default) or P1 (ASCII). */
  format?: PbmFormat;
  /** A comment line for the header (one line; no newlines). */
  comment?: string;
}

const MAX_HEADER_NUMBER_DIGITS = 9;

/** True when the bytes start like a PBM file (P1 or P4). */
export function isPbm(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x50 && (bytes[1] === 0x31 || bytes[1] === 0x34);
}

/** Reads the first image of a P1 or P4 file. Throws {@link PbmError}. */
export function readPbm(bytes: Uint8Array, options: PbmReadOptions = {}): BilevelPage {
  const limits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  if (bytes.length < 2 || bytes[0] !== 0x50) throw new PbmError('invalid_document', 'not a PBM file');
  const kind = bytes[1];
  if (kind >= 0x32 && kind <= 0x37 && kind !== 0x34) {
    throw new PbmError('unsupported_media_type', `Netpbm P${String.fromCharCode(kind)} is not bilevel PBM`);
  }
  if (kind !== 0x31 && kind !== 0x34) throw new PbmError('invalid_document', 'not a PBM file');
  const cursor = { pos: 2 };
  const width = readHeaderNumber(bytes, cursor, 'width');
  const height = readHeaderNumber(bytes, cursor, 'height');
  if (width < 1 || height < 1) throw new PbmError('invalid_document', `invalid PBM size ${width}×${height}`);
  checkPageSize(width, height, limits, PbmError);
  const page = createPage(width, height, options.xDpi ?? 204, options.yDpi ?? 196);
  if (kind === 0x34) readP4Raster(bytes, cursor.pos, page);
  else readP1Raster(bytes, cursor.pos, page);
  return page;
}

/** Writes a page as PBM (P4 unless `format: 'P1'`). */
export function writePbm(page: BilevelPage, options: PbmWriteOptions = {}): Uint8Array {
  const format = options.format ?? 'P4';
  const comment = options.comment === undefined ? '' : `# ${options.comment.replace(/[\r\n]/g, ' ')}\n`;
  const header = new TextEncoder().encode(`${format}\n${comment}${page.width} ${page.height}\n`);
  if (format === 'P4') {
    const out = new Uint8Array(header.length + page.data.length);
    out.set(header);
    out.set(page.data, header.length);
    clearPadBits(out.subarray(header.length), page.width, page.stride);
    return out;
  }
  // P1 lines should not exceed 70 characters (Netpbm pbm(5)).
  const perLine = 70;
  const lines: string[] = [];
  for (let y = 0; y < page.height; y++) {
    let row = '';
    const o = y * page.stride;
    for (let x = 0; x < page.width; x++) {
      row += (page.data[o + (x >> 3)] >> (7 - (x & 7))) & 1 ? '1' : '0';
      if (row.length === perLine) {
        lines.push(row);
        row = '';
      }
    }
    if (row.length > 0) lines.push(row);
  }
  const body = new TextEncoder().encode(`${lines.join('\n')}\n`);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

function skipSpaceAndComments(bytes: Uint8Array, cursor: { pos: number }): void {
  while (cursor.pos < bytes.length) {
    const c = bytes[cursor.pos];
    if (isSpace(c)) cursor.pos++;
    else if (c === 0x23) {
      while (cursor.pos < bytes.length && bytes[cursor.pos] !== 0x0a && bytes[cursor.pos] !== 0x0d)
        cursor.pos++;
    } else return;
  }
}

function readHeaderNumber(bytes: Uint8Array, cursor: { pos: number }, what: string): number {
  const start = cursor.pos;
  skipSpaceAndComments(bytes, cursor);
  if (cursor.pos === start)
    throw new PbmError('invalid_document', `PBM header: expected whitespace before ${what}`);
  let value = 0;
  let digits = 0;
  while (cursor.pos < bytes.length && bytes[cursor.pos] >= 0x30 && bytes[cursor.pos] <= 0x39) {
    if (++digits > MAX_HEADER_NUMBER_DIGITS) {
      throw new PbmError('document_too_large', `PBM header: ${what} has too many digits`);
    }
    value = value * 10 + (bytes[cursor.pos] - 0x30);
    cursor.pos++;
  }
  if (digits === 0) throw new PbmError('invalid_document', `PBM header: ${what} is not a number`);
  return value;
}

function readP4Raster(bytes: Uint8Array, pos: number, page: BilevelPage): void {
  // Exactly one whitespace character separates the header from the raster (pbm(5)).
  if (pos >= bytes.length || !isSpace(bytes[pos])) {
    throw new PbmError('invalid_document', 'PBM header: expected whitespace after height');
  }
  const start = pos + 1;
  if (bytes.length - start < page.data.length) {
    throw new PbmError(
      'invalid_document',
      `PBM raster truncated: ${bytes.length - start} of ${page.data.length} bytes present`,
    );
  }
  page.data.set(bytes.subarray(start, start + page.data.length));
  clearPadBits(page.data, page.width, page.stride);
}

function readP1Raster(bytes: Uint8Array, pos: number, page: BilevelPage): void {
  const total = page.width * page.height;
  let n = 0;
  let x = 0;
  let rowOffset = 0;
  while (n < total) {
    if (pos >= bytes.length) {
      throw new PbmError('invalid_document', `PBM raster truncated: ${n} of ${total} pixels present`);
    }
    const c = bytes[pos++];
    if (c === 0x30 || c === 0x31) {
      if (c === 0x31) page.data[rowOffset + (x >> 3)] |= 0x80 >> (x & 7);
      n++;
      if (++x === page.width) {
        x = 0;
        rowOffset += page.stride;
      }
    } else if (c === 0x23) {
      while (pos < bytes.length && bytes[pos] !== 0x0a && bytes[pos] !== 0x0d) pos++;
    } else if (!isSpace(c)) {
      throw new PbmError(
        'invalid_document',
        `PBM raster: unexpected byte 0x${c.toString(16)} at offset ${pos - 1}`,
      );
    }
  }
}
