/**
 * @module
 * Grey raster → fax bits. Line art and text are thresholded; photographic areas are error-diffused.
 *
 * Which is which is decided per 32×32 tile by a cheap measure: the share of grey pixels (16..239), sampled
 * on every fourth row. Text and rules rasterized without anti-aliasing are almost pure black and white, so
 * their tiles score near 0; photos, grey fills and ramps score high. A tile is photographic from 30 % grey up,
 * and a tile with at least 5 % joins a photographic neighbour, so a picture's soft edges dither with it
 * instead of turning into a hard black frame. Coloured text (red ≈ 76 grey) stays in threshold tiles unless
 * it fills a third of one.
 *
 * The threshold is 176, not 128: strokes that cover a pixel only partly (thin serifs, the cross-bar of "e"
 * at 8 pt) still come out black.
 */
import { strideOf } from 'telefax/image/bilevel-page';

export const THRESHOLD = 176;
const MID_LOW = 16;
const MID_HIGH = 239;
/** Tile side; a power of two (the code divides by shifting 5). */
const TILE = 32;
/** Rows sampled for the tile measure: one in SAMPLE_STEP, a divisor of TILE. */
const SAMPLE_STEP = 4;
const PHOTO_SHARE = 0.3;
const EDGE_SHARE = 0.05;

export interface GreyRaster {
  readonly width: number;
  readonly height: number;
  /** Bytes per row of `data` (may exceed width). */
  readonly stride: number;
  /** 0 = black, 255 = white. */
  readonly data: Uint8Array;
}

export interface BilevelBits {
  readonly data: Uint8Array;
  /** Number of 32×32 tiles that were error-diffused. */
  readonly photoTiles: number;
}

export interface GreyToBilevelOptions {
  /**
   * Error-diffuse photographic tiles (default true). Off for sources that were bilevel to begin with, whose
   * only greys are resampled edges.
   */
  readonly dither?: boolean;
}

/** Packs a grey raster into BilevelPage bits (1 = black, MSB leftmost). */
export function greyToBilevel(grey: GreyRaster, options: GreyToBilevelOptions = {}): BilevelBits {
  const { width, height } = grey;
  const photo = options.dither === false ? new Uint8Array(0) : classifyTiles(grey);
  const outStride = strideOf(width);
  const out = new Uint8Array(outStride * height);
  const tilesX = Math.ceil(width / TILE);
  let photoTiles = 0;
  for (const p of photo) photoTiles += p;
  if (photoTiles === 0) {
    thresholdAll(grey, out, outStride);
    return { data: out, photoTiles };
  }
  // Floyd–Steinberg, serpentine, restricted to photographic tiles: error never leaks into line art.
  const words = wordsOf(grey);
  // Line-art pixels never read the error buffers, so error pushed towards them is simply never used.
  let cur = new Float32Array(width + 2);
  let next = new Float32Array(width + 2);
  for (let y = 0; y < height; y++) {
    const src = y * grey.stride;
    const dst = y * outStride;
    const tileRow = (y >> 5) * tilesX;
    let rowHasPhoto = false;
    for (let tx = 0; tx < tilesX; tx++) {
      const x0 = tx * TILE;
      const x1 = Math.min(width, x0 + TILE);
      if (photo[tileRow + tx]) {
        rowHasPhoto = true;
        continue;
      }
      thresholdSpan(grey.data, src, words, out, dst, x0, x1);
    }
    if (rowHasPhoto) {
      const ltr = (y & 1) === 0;
      for (let t = 0; t < tilesX; t++) {
        const tx = ltr ? t : tilesX - 1 - t;
        if (!photo[tileRow + tx]) continue;
        const x0 = tx * TILE;
        const x1 = Math.min(width, x0 + TILE);
        for (let i = x0; i < x1; i++) {
          const x = ltr ? i : x1 - 1 - (i - x0);
          const want = grey.data[src + x] + cur[x + 1];
          const black = want < 128;
          if (black) out[dst + (x >> 3)] |= 0x80 >> (x & 7);
          const err = want - (black ? 0 : 255);
          const ahead = ltr ? x + 2 : x;
          const behind = ltr ? x : x + 2;
          cur[ahead] += err * (7 / 16);
          next[behind] += err * (3 / 16);
          next[x + 1] += err * (5 / 16);
          next[ahead] += err * (1 / 16);
        }
      }
    }
    const t = cur;
    cur = next;
    next = t;
    next.fill(0);
  }
  return { data: out, photoTiles };
}

function thresholdAll(grey: GreyRaster, out: Uint8Array, outStride: number): void {
  const words = wordsOf(grey);
  for (let y = 0; y < grey.height; y++) {
    thresholdSpan(grey.data, y * grey.stride, words, out, y * outStride, 0, grey.width);
  }
}

/** Thresholds pixels x0..x1 of one row; x0 is a multiple of 8. */
function thresholdSpan(
  data: Uint8Array,
  src: number,
  words: Uint32Array | null,
  out: Uint8Array,
  dst: number,
  x0: number,
  x1: number,
): void {
  let x = x0;
  if (words) {
    for (; x + 8 <= x1; x += 8) {
      const a = words[(src + x) >> 2];
      const b = words[(src + x + 4) >> 2];
      // Most of a page is paper.
      if ((a & b) === WHITE4) continue;
      out[dst + (x >> 3)] = (darkNibble(a) << 4) | darkNibble(b);
    }
  }
  for (; x < x1; x += 8) {
    let byte = 0;
    const end = Math.min(8, x1 - x);
    for (let i = 0; i < end; i++) if (data[src + x + i] < THRESHOLD) byte |= 0x80 >> i;
    out[dst + (x >> 3)] = byte;
  }
}

/**
 * Four pixels (a little-endian word, first pixel in the low byte) → 4 bits, first pixel in bit 3, set where
 * the pixel is below THRESHOLD (176 = 128 + 48): a byte is ≥ 176 when its top bit is set and its low seven
 * bits plus 80 carry into the top bit.
 */
function darkNibble(word: number): number {
  const light = word & ((word & 0x7f7f7f7f) + 0x50505050) & 0x80808080;
  const dark = (~light & 0x80808080) >>> 7;
  // Gathers bits 0, 8, 16, 24 into bits 31, 30, 29, 28; the other partial products land on distinct lower bits.
  return Math.imul(dark, 0x80402010) >>> 28;
}

/** Number of bytes of a word whose value lies in MID_LOW..MID_HIGH (16..239: high nibble 1..14). */
function midCount(word: number): number {
  const high = (word >>> 4) & 0x0f0f0f0f;
  const atLeast1 = (high + 0x0f0f0f0f) & 0x10101010;
  const is15 = (high + 0x01010101) & 0x10101010;
  return Math.imul((atLeast1 & ~is15) >>> 4, 0x01010101) >>> 24;
}

const WHITE4 = 0xffffffff;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A 32-bit view of the raster when its rows are word-aligned, for working four pixels at a time. */
function wordsOf(grey: GreyRaster): Uint32Array | null {
  const { data, stride } = grey;
  if (!LITTLE_ENDIAN || (data.byteOffset & 3) !== 0 || (stride & 3) !== 0) return null;
  return new Uint32Array(data.buffer, data.byteOffset, data.length >> 2);
}

/** 1 for each photographic tile, row-major. */
export function classifyTiles(grey: GreyRaster): Uint8Array {
  const { width, height, data, stride } = grey;
  const tilesX = Math.ceil(width / TILE);
  const tilesY = Math.ceil(height / TILE);
  const mid = new Uint32Array(tilesX * tilesY);
  const words = wordsOf(grey);
  // Every fourth row is a large enough sample for a share, and a quarter of the work.
  for (let y = 0; y < height; y += SAMPLE_STEP) {
    const row = y * stride;
    const tileRow = (y >> 5) * tilesX;
    for (let x0 = 0; x0 < width; x0 += TILE) {
      const x1 = Math.min(width, x0 + TILE);
      if (words && x1 - x0 === TILE) {
        const w = (row + x0) >> 2;
        let n = 0;
        for (let i = 0; i < TILE / 4; i++) {
          const word = words[w + i];
          if (word !== WHITE4) n += midCount(word);
        }
        mid[tileRow + (x0 >> 5)] += n;
        continue;
      }
      let n = 0;
      for (let x = x0; x < x1; x++) if ((data[row + x] - MID_LOW) >>> 0 <= MID_HIGH - MID_LOW) n++;
      mid[tileRow + (x0 >> 5)] += n;
    }
  }
  const share = new Float32Array(mid.length);
  for (let ty = 0; ty < tilesY; ty++) {
    const h = Math.ceil(Math.min(TILE, height - ty * TILE) / SAMPLE_STEP);
    for (let tx = 0; tx < tilesX; tx++) {
      const w = Math.min(TILE, width - tx * TILE);
      share[ty * tilesX + tx] = mid[ty * tilesX + tx] / (w * h);
    }
  }
  const photo = new Uint8Array(mid.length);
  for (let i = 0; i < share.length; i++) if (share[i] >= PHOTO_SHARE) photo[i] = 1;
  for (let pass = 0; pass < 2; pass++) {
    for (let ty = 0; ty < tilesY; ty++) {
      for (let tx = 0; tx < tilesX; tx++) {
        const i = ty * tilesX + tx;
        if (photo[i] || share[i] < EDGE_SHARE) continue;
        if (
          (tx > 0 && photo[i - 1]) ||
          (tx < tilesX - 1 && photo[i + 1]) ||
          (ty > 0 && photo[i - tilesX]) ||
          (ty < tilesY - 1 && photo[i + tilesX])
        ) {
          photo[i] = 1;
        }
      }
    }
  }
  return photo;
}

/**
 * Averages each pair of rows: standard resolution is rasterized at 196 lines per inch and halved, because
 * rasterizing at 98 drops horizontal strokes thinner than a line (§A.2 of the stack notes).
 */
export function halveRows(grey: GreyRaster): GreyRaster {
  const height = grey.height >> 1;
  const out = new Uint8Array(grey.width * height);
  for (let y = 0; y < height; y++) {
    const a = 2 * y * grey.stride;
    const b = a + grey.stride;
    const o = y * grey.width;
    for (let x = 0; x < grey.width; x++) out[o + x] = (grey.data[a + x] + grey.data[b + x]) >> 1;
  }
  return { width: grey.width, height, stride: grey.width, data: out };
}
