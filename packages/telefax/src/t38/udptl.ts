/**
 * @module
 * UDPTL packets (T.38 §9.2–9.3, Annex A `UDPTLPacket`) in ASN.1 PER, aligned variant:
 *
 * `seq-number` INTEGER (0..65535) as two octets; the primary IFP as an open type (length determinant, then the IFP);
 * then the error-recovery CHOICE in one octet — `00` secondary IFPs (a count, then the previous IFPs newest first as
 * open types) or `80` FEC (fec-npackets as an unconstrained INTEGER, then a count of XOR parity octet strings).
 *
 * Length determinants come in 1-octet (< 128) and 2-octet (< 16,384) forms; the fragmented form (≥ 16K) is rejected,
 * no T.38 entity sends it. Decoded IFPs are views into the input bytes.
 */

import { T38DecodeError } from './t38-decode-error.ts';
import { T38EncodeError } from './t38-encode-error.ts';

export type UdptlErrorRecovery =
  /** The IFPs of the previous packets, newest (seq − 1) first. An empty one carries nothing for its slot. */
  | { readonly kind: 'redundancy'; readonly secondary: readonly Uint8Array[] }
  /**
   * Parity over earlier packets (T.38 §9.3.1, Annex C): with span n and k entries, entry i is the XOR of the IFPs of packets
   * seq + i − n·k, seq + i − n·k + k, … (n packets, stride k), each zero-padded to the longest.
   */
  | { readonly kind: 'fec'; readonly span: number; readonly entries: readonly Uint8Array[] };

export interface UdptlPacket {
  readonly seq: number;
  readonly primary: Uint8Array;
  readonly errorRecovery: UdptlErrorRecovery;
}

/** A packet with no error recovery data (an empty list of secondary IFPs). */
export const NO_RECOVERY: UdptlErrorRecovery = Object.freeze({
  kind: 'redundancy',
  secondary: Object.freeze([]),
});

function lengthDeterminantSize(n: number): number {
  return n < 0x80 ? 1 : 2;
}

/** The exact encoded size of a packet. */
export function encodedUdptlLength(packet: UdptlPacket): number {
  let n = 2 + lengthDeterminantSize(packet.primary.length) + packet.primary.length + 1;
  const ec = packet.errorRecovery;
  const list = ec.kind === 'redundancy' ? ec.secondary : ec.entries;
  if (ec.kind === 'fec') n += 2;
  n += lengthDeterminantSize(list.length);
  for (const item of list) n += lengthDeterminantSize(item.length) + item.length;
  return n;
}

export function encodeUdptl(packet: UdptlPacket): Uint8Array {
  const out = new Uint8Array(encodedUdptlLength(packet));
  encodeUdptlInto(packet, out, 0);
  return out;
}

/** Encodes into `out` at `offset` ({@link encodedUdptlLength} bytes) and returns the number of bytes written. */
export function encodeUdptlInto(packet: UdptlPacket, out: Uint8Array, offset: number): number {
  const { seq, primary, errorRecovery: ec } = packet;
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff)
    throw new T38EncodeError('out-of-range', `seq ${seq}`);
  if (primary.length === 0) throw new T38EncodeError('out-of-range', 'empty primary IFP');
  if (out.length - offset < encodedUdptlLength(packet)) {
    throw new T38EncodeError('out-of-range', 'output buffer too small');
  }
  let p = offset;
  out[p++] = seq >> 8;
  out[p++] = seq & 0xff;
  p = putOpenType(out, p, primary);
  if (ec.kind === 'redundancy') {
    out[p++] = 0x00;
    p = putLength(out, p, ec.secondary.length);
    for (const ifp of ec.secondary) p = putOpenType(out, p, ifp);
  } else {
    if (!Number.isInteger(ec.span) || ec.span < 0 || ec.span > 127) {
      throw new T38EncodeError('out-of-range', `FEC span ${ec.span}`);
    }
    out[p++] = 0x80;
    // fec-npackets is an unconstrained INTEGER: a length octet, then the value in two's complement (X.691 §13).
    out[p++] = 1;
    out[p++] = ec.span;
    p = putLength(out, p, ec.entries.length);
    for (const parity of ec.entries) p = putOpenType(out, p, parity);
  }
  return p - offset;
}

function putLength(out: Uint8Array, p: number, n: number): number {
  if (n < 0x80) {
    out[p] = n;
    return p + 1;
  }
  if (n < 0x4000) {
    out[p] = 0x80 | (n >> 8);
    out[p + 1] = n & 0xff;
    return p + 2;
  }
  throw new T38EncodeError('out-of-range', `length ${n} needs PER fragmentation`);
}

function putOpenType(out: Uint8Array, p: number, data: Uint8Array): number {
  const q = putLength(out, p, data.length);
  out.set(data, q);
  return q + data.length;
}

/** Decodes one UDPTL datagram; throws {@link T38DecodeError} (and nothing else) on malformed input. */
export function decodeUdptl(bytes: Uint8Array): UdptlPacket {
  const r = new ByteReader(bytes);
  const seq = (r.byte() << 8) | r.byte();
  const primary = r.openType();
  if (primary.length === 0) throw new T38DecodeError('bad-value', 2, 'empty primary IFP');
  const choice = r.byte();
  let errorRecovery: UdptlErrorRecovery;
  if ((choice & 0x80) === 0) {
    const count = r.length();
    const secondary: Uint8Array[] = [];
    for (let i = 0; i < count; i++) secondary.push(r.openType());
    errorRecovery = { kind: 'redundancy', secondary };
  } else {
    const spanOctets = r.length();
    if (spanOctets < 1 || spanOctets > 4)
      throw new T38DecodeError('bad-value', r.offset, 'fec-npackets size');
    let span = 0;
    const first = r.offset;
    for (let i = 0; i < spanOctets; i++) span = span * 256 + r.byte();
    if (bytes[first] & 0x80) throw new T38DecodeError('bad-value', first, 'negative fec-npackets');
    const count = r.length();
    const entries: Uint8Array[] = [];
    for (let i = 0; i < count; i++) entries.push(r.openType());
    errorRecovery = { kind: 'fec', span, entries };
  }
  if (r.offset !== bytes.length) {
    throw new T38DecodeError(
      'trailing-bytes',
      r.offset,
      `${bytes.length - r.offset} byte(s) after the packet`,
    );
  }
  return { seq, primary, errorRecovery };
}

class ByteReader {
  offset = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  byte(): number {
    if (this.offset >= this.buf.length) throw new T38DecodeError('truncated', this.offset);
    return this.buf[this.offset++];
  }

  length(): number {
    const first = this.byte();
    if (first < 0x80) return first;
    if (first < 0xc0) return ((first & 0x3f) << 8) | this.byte();
    throw new T38DecodeError('fragmented', this.offset - 1);
  }

  openType(): Uint8Array {
    const n = this.length();
    const start = this.offset;
    if (start + n > this.buf.length) throw new T38DecodeError('truncated', this.buf.length);
    this.offset += n;
    return this.buf.subarray(start, start + n);
  }
}
