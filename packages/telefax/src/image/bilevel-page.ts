/**
 * @module
 * The bilevel page every part of the fax stack passes around: packed rows, 1 = black,
 * most significant bit = leftmost pixel, each row padded to a whole byte.
 */

/** Vertical resolution of a fax page, as T.30 negotiates it (horizontal is R8, 204 dpi at 1728 px). */
export type FaxResolution = 'standard' | 'fine' | 'superfine';

/** Dots per inch of each fax resolution (T.4 §2: 3.85, 7.7 and 15.4 lines/mm; 8 pels/mm). */
export const RESOLUTION_DPI: Readonly<Record<FaxResolution, { x: number; y: number }>> = Object.freeze({
  standard: { x: 204, y: 98 },
  fine: { x: 204, y: 196 },
  superfine: { x: 204, y: 391 },
});

/** Standard fax page widths in pixels at R8 (T.4 §2.2): A4, B4, A3. */
export const FAX_WIDTHS = Object.freeze([1728, 2048, 2432] as const);

export interface BilevelPage {
  /** Pixels per row. */
  readonly width: number;
  /** Number of rows. */
  readonly height: number;
  /** Bytes per row: ceil(width / 8). */
  readonly stride: number;
  /** height × stride bytes; bit 7 of byte 0 is the top-left pixel; 1 = black. Pad bits are 0. */
  readonly data: Uint8Array;
  /** Horizontal and vertical resolution in dots per inch. */
  readonly xDpi: number;
  readonly yDpi: number;
}

export function strideOf(width: number): number {
  return (width + 7) >> 3;
}

/** A new all-white page. */
export function createPage(width: number, height: number, xDpi = 204, yDpi = 196): BilevelPage {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height < 0) {
    throw new RangeError(`invalid page size ${width}×${height}`);
  }
  const stride = strideOf(width);
  return { width, height, stride, data: new Uint8Array(stride * height), xDpi, yDpi };
}

export function getPixel(page: BilevelPage, x: number, y: number): 0 | 1 {
  return ((page.data[y * page.stride + (x >> 3)] >> (7 - (x & 7))) & 1) as 0 | 1;
}

export function setPixel(page: BilevelPage, x: number, y: number, black: boolean): void {
  const i = y * page.stride + (x >> 3);
  const mask = 0x80 >> (x & 7);
  if (black) page.data[i] |= mask;
  else page.data[i] &= ~mask;
}

/** The bytes of one row (a view, not a copy). */
export function rowOf(page: BilevelPage, y: number): Uint8Array {
  return page.data.subarray(y * page.stride, (y + 1) * page.stride);
}

/** The fax resolution nearest to a page's vertical dpi. */
export function resolutionOf(page: Pick<BilevelPage, 'yDpi'>): FaxResolution {
  if (page.yDpi >= 300) return 'superfine';
  if (page.yDpi >= 150) return 'fine';
  return 'standard';
}

/** True when both pages have the same size and the same pixels. */
export function samePixels(a: BilevelPage, b: BilevelPage): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  const stride = a.stride;
  const lastMask = (0xff00 >> (((a.width - 1) & 7) + 1)) & 0xff;
  for (let y = 0; y < a.height; y++) {
    const o = y * stride;
    for (let i = 0; i < stride - 1; i++) if (a.data[o + i] !== b.data[o + i]) return false;
    if (((a.data[o + stride - 1] ^ b.data[o + stride - 1]) & lastMask) !== 0) return false;
  }
  return true;
}

/** Fraction of black pixels, 0..1. */
export function inkRatio(page: BilevelPage): number {
  let black = 0;
  for (let i = 0; i < page.data.length; i++) {
    let v = page.data[i];
    while (v) {
      v &= v - 1;
      black++;
    }
  }
  return page.width * page.height === 0 ? 0 : black / (page.width * page.height);
}
