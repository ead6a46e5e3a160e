/**
 * @module
 * Byte-level helpers for packed bilevel rows: bit reversal for TIFF FillOrder 2 and clearing the pad
 * bits our page type requires to be 0.
 */

import { REVERSED_BITS } from '../codec/index.ts';

/** Reverses the bit order of every byte in place (TIFF FillOrder 2 ↔ 1). */
export function reverseBits(data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = REVERSED_BITS[data[i]];
}

/** Sets the unused bits at the end of each row to 0. */
export function clearPadBits(data: Uint8Array, width: number, stride: number): void {
  if ((width & 7) === 0) return;
  const mask = (0xff00 >> (width & 7)) & 0xff;
  for (let i = stride - 1; i < data.length; i += stride) data[i] &= mask;
}
