/**
 * @module
 * The sending half of UDPTL: numbers IFPs and wraps each in a UDPTL packet with the configured error recovery
 * (T.38 §9.3, §9.4.1, Annex C) — the previous IFPs as secondaries (redundancy), or XOR parity over earlier packets (FEC). Keeps the
 * last IFPs in a fixed ring so steady-state sending allocates only the outgoing datagram.
 */

import { T38EncodeError } from './t38-encode-error.ts';

export type UdptlErrorCorrection =
  /** `depth` previous IFPs in each packet (default 3), fewer when the far end's max datagram can't hold them. */
  | { readonly mode: 'redundancy'; readonly depth?: number }
  /** XOR parity: `entries` parity strings (default 3), each over `span` packets (default 3). */
  | { readonly mode: 'fec'; readonly span?: number; readonly entries?: number }
  | { readonly mode: 'none' };

const RING = 32;

export class UdptlSender {
  readonly errorCorrection: UdptlErrorCorrection;
  /** The far end's T38FaxMaxDatagram (whole UDPTL packet, T.38 Annex D.2.3). */
  readonly farMaxDatagram: number;
  private readonly depth: number;
  private readonly span: number;
  private readonly entries: number;
  private seq: number;
  private count = 0;
  private readonly ring: Uint8Array[] = [];
  private readonly ringLength = new Int32Array(RING);
  private parity = new Uint8Array(256);

  constructor(
    errorCorrection: UdptlErrorCorrection = { mode: 'redundancy' },
    farMaxDatagram = 400,
    firstSeq = 0,
  ) {
    this.errorCorrection = errorCorrection;
    this.farMaxDatagram = farMaxDatagram;
    this.depth = errorCorrection.mode === 'redundancy' ? (errorCorrection.depth ?? 3) : 0;
    this.span = errorCorrection.mode === 'fec' ? (errorCorrection.span ?? 3) : 0;
    this.entries = errorCorrection.mode === 'fec' ? (errorCorrection.entries ?? 3) : 0;
    if (!Number.isInteger(this.depth) || this.depth < 0 || this.depth >= RING) {
      throw new T38EncodeError('out-of-range', `redundancy depth ${this.depth}`);
    }
    if (
      !Number.isInteger(this.span) ||
      !Number.isInteger(this.entries) ||
      this.span < 0 ||
      this.entries < 0 ||
      this.span * this.entries >= RING ||
      (errorCorrection.mode === 'fec' && (this.span < 1 || this.entries < 1))
    ) {
      throw new T38EncodeError('out-of-range', `FEC span ${this.span} × entries ${this.entries}`);
    }
    if (!Number.isInteger(farMaxDatagram) || farMaxDatagram < 16) {
      throw new T38EncodeError('out-of-range', `max datagram ${farMaxDatagram}`);
    }
    this.seq = firstSeq & 0xffff;
    for (let i = 0; i < RING; i++) this.ring.push(new Uint8Array(0));
  }

  /** The sequence number the next packet gets. */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * The largest IFP that still leaves room for the full error recovery in one datagram (the sizing Asterisk uses;
   * T.38 Annex D.2.3 T38FaxMaxDatagram). Senders should keep IFPs this small; larger ones still go out with
   * less redundancy.
   */
  get maxIfpBytes(): number {
    const d = this.farMaxDatagram;
    const mode = this.errorCorrection.mode;
    if (mode === 'none') return d - 5;
    if (mode === 'fec') return Math.floor((d - 10) / 2);
    return Math.max(Math.floor((d - 8) / (this.depth + 1)), Math.min(d - 5, 40));
  }

  /** Builds the next UDPTL packet carrying `ifp` and advances the sequence number. */
  build(ifp: Uint8Array): Buffer {
    if (ifp.length === 0 || ifp.length >= 0x4000) {
      throw new T38EncodeError('out-of-range', `IFP of ${ifp.length} bytes`);
    }
    const seq = this.seq;
    const headerLength = 2 + lengthSize(ifp.length) + ifp.length;
    let out: Buffer;
    if (this.errorCorrection.mode === 'fec') {
      out = this.buildFec(ifp, headerLength);
    } else {
      // Redundancy: as many previous IFPs (newest first) as fit in the far end's datagram.
      const available = Math.min(this.depth, this.count);
      let total = headerLength + 2;
      let n = 0;
      for (; n < available; n++) {
        const len = this.ringLength[(this.count - 1 - n) & (RING - 1)];
        if (total + lengthSize(len) + len > this.farMaxDatagram) break;
        total += lengthSize(len) + len;
      }
      out = Buffer.allocUnsafe(total);
      let p = putHeader(out, seq, ifp);
      out[p++] = 0x00;
      out[p++] = n;
      for (let i = 0; i < n; i++) {
        const slot = (this.count - 1 - i) & (RING - 1);
        p = putOpen(out, p, this.ring[slot], this.ringLength[slot]);
      }
    }
    this.remember(ifp);
    this.seq = (seq + 1) & 0xffff;
    return out;
  }

  private buildFec(ifp: Uint8Array, headerLength: number): Buffer {
    let span = this.span;
    let entries = this.entries;
    // Wind the FEC up over the first packets, so parity only covers packets that were sent.
    if (this.count < span * entries) {
      entries = Math.floor(this.count / span);
      if (entries === 0) span = 0;
    }
    const lengths: number[] = [];
    let total = headerLength + 1 + 2 + 1;
    for (let k = 0; k < entries; k++) {
      let max = 0;
      for (let j = 0; j < span; j++) {
        const len = this.ringLength[(this.count + k - span * entries + j * entries) & (RING - 1)];
        if (len > max) max = len;
      }
      lengths.push(max);
      total += lengthSize(max) + max;
    }
    const out = Buffer.allocUnsafe(total);
    let p = putHeader(out, this.seq, ifp);
    out[p++] = 0x80;
    out[p++] = 1;
    out[p++] = span;
    out[p++] = entries;
    for (let k = 0; k < entries; k++) {
      const len = lengths[k];
      if (this.parity.length < len) this.parity = new Uint8Array(len * 2);
      const parity = this.parity;
      parity.fill(0, 0, len);
      for (let j = 0; j < span; j++) {
        const slot = (this.count + k - span * entries + j * entries) & (RING - 1);
        const data = this.ring[slot];
        const n = this.ringLength[slot];
        for (let i = 0; i < n; i++) parity[i] ^= data[i];
      }
      p = putOpen(out, p, parity, len);
    }
    return out;
  }

  private remember(ifp: Uint8Array): void {
    const slot = this.count & (RING - 1);
    if (this.ring[slot].length < ifp.length) this.ring[slot] = new Uint8Array(Math.max(ifp.length, 64));
    this.ring[slot].set(ifp);
    this.ringLength[slot] = ifp.length;
    this.count++;
  }
}

function lengthSize(n: number): number {
  return n < 0x80 ? 1 : 2;
}

function putHeader(out: Uint8Array, seq: number, ifp: Uint8Array): number {
  out[0] = seq >> 8;
  out[1] = seq & 0xff;
  return putOpen(out, 2, ifp, ifp.length);
}

function putOpen(out: Uint8Array, p: number, data: Uint8Array, n: number): number {
  if (n < 0x80) {
    out[p++] = n;
  } else {
    out[p++] = 0x80 | (n >> 8);
    out[p++] = n & 0xff;
  }
  for (let i = 0; i < n; i++) out[p + i] = data[i];
  return p + n;
}
