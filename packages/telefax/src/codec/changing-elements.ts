/**
 * @module
 * Rows as changing elements (T.4 §4.2.1.3.1): the positions of the pixels whose colour differs from the pixel
 * before them, the imaginary pixel before the row being white. Even entries start black runs, odd ones white.
 * Both coders work on these lists, so no step of coding or decoding walks a row pixel by pixel.
 */

/** Sentinel entries written after the last change: the coders look up to three entries ahead. */
export const CHANGE_SENTINELS = 3;

/** Capacity a changes list needs for a row of `width` pixels. */
export function changesCapacity(width: number): number {
  return width + 1 + CHANGE_SENTINELS + 2;
}

/**
 * Fills `out` with the changing elements of the packed row at `row[offset…]` and returns their number;
 * `out[n…n+2]` are set to `width`. Pad bits past `width` are ignored.
 */
export function findChanges(row: Uint8Array, offset: number, width: number, out: Int32Array): number {
  let n = 0;
  let x = 0;
  let invert = 0;
  const lastByte = offset + ((width - 1) >> 3);
  while (x < width) {
    let i = offset + (x >> 3);
    let b = ((row[i] ^ invert) & (0xff >> (x & 7))) | 0;
    while (b === 0) {
      if (++i > lastByte) break;
      b = row[i] ^ invert;
    }
    if (b === 0) break;
    x = ((i - offset) << 3) + Math.clz32(b) - 24;
    if (x >= width) break;
    out[n++] = x;
    invert ^= 0xff;
  }
  out[n] = width;
  out[n + 1] = width;
  out[n + 2] = width;
  return n;
}

/** Writes the packed row described by `changes[0…count)` into `row[offset…offset+stride)`. */
export function fillRow(
  changes: Int32Array,
  count: number,
  width: number,
  row: Uint8Array,
  offset: number,
  stride: number,
): void {
  row.fill(0, offset, offset + stride);
  for (let i = 0; i < count; i += 2) {
    const start = changes[i];
    const end = i + 1 < count && changes[i + 1] < width ? changes[i + 1] : width;
    if (start >= end) continue;
    const first = offset + (start >> 3);
    const last = offset + (end >> 3);
    const headMask = 0xff >> (start & 7);
    const tailMask = (0xff00 >> (end & 7)) & 0xff;
    if (first === last) {
      row[first] |= headMask & tailMask;
      continue;
    }
    row[first] |= headMask;
    if (last - first > 16) row.fill(0xff, first + 1, last);
    else for (let k = first + 1; k < last; k++) row[k] = 0xff;
    if (tailMask !== 0) row[last] |= tailMask;
  }
}
