/**
 * @module
 * Bit order of coded fax data inside octets. T.4 data is a bit stream; TIFF FillOrder 1 puts its first bit in
 * the most significant bit of each octet, FillOrder 2 (and T.30/T.38 on the line) in the least significant one.
 */

import type { BitOrder } from './codec-options.ts';

/** REVERSED_BITS[b] is b with its bit order mirrored. */
export const REVERSED_BITS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    let r = 0;
    for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
    t[b] = r;
  }
  return t;
})();

/** Copies `src` into `dst` at `offset`, mirroring each octet when the order is 'lsb-first'. */
export function copyInBitOrder(src: Uint8Array, dst: Uint8Array, offset: number, order: BitOrder): void {
  if (order === 'msb-first') {
    dst.set(src, offset);
    return;
  }
  for (let i = 0; i < src.length; i++) dst[offset + i] = REVERSED_BITS[src[i]];
}
