/**
 * @module
 * Appends code words to a growing octet buffer, first bit in the most significant bit of each octet.
 */

import { REVERSED_BITS } from './bit-order.ts';
import type { BitOrder } from './codec-options.ts';

export class BitWriter {
  private buf: Uint8Array;
  /** Complete octets in `buf`. */
  private len = 0;
  /** Octets already handed out by `take`. */
  private taken = 0;
  /** Pending bits (fewer than 8), right-aligned. */
  private acc = 0;
  private pending = 0;

  constructor(initialBytes = 4096) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
  }

  /** Bits written since construction. */
  get bitPosition(): number {
    return (this.taken + this.len) * 8 + this.pending;
  }

  /** Appends the `n` low bits of `code` (n ≤ 24), most significant first. */
  put(code: number, n: number): void {
    if (this.len + 4 > this.buf.length) this.grow(4);
    let acc = (this.acc << n) | code;
    let bits = this.pending + n;
    const buf = this.buf;
    let len = this.len;
    while (bits >= 8) {
      bits -= 8;
      buf[len++] = acc >>> bits;
    }
    this.len = len;
    acc &= (1 << bits) - 1;
    this.acc = acc;
    this.pending = bits;
  }

  /** Appends `n` zero bits. */
  zeros(n: number): void {
    while (n > 0) {
      const k = n > 24 ? 24 : n;
      this.put(0, k);
      n -= k;
    }
  }

  /** Zero bits up to the next octet boundary. */
  padToOctet(): void {
    if (this.pending > 0) this.put(0, 8 - this.pending);
  }

  /** Drains the complete octets written so far, in the given bit order. */
  take(order: BitOrder): Uint8Array {
    const out = this.buf.slice(0, this.len);
    if (order === 'lsb-first') for (let i = 0; i < out.length; i++) out[i] = REVERSED_BITS[out[i]];
    this.taken += this.len;
    this.len = 0;
    return out;
  }

  private grow(extra: number): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}
