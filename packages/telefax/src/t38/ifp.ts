/**
 * @module
 * T.38 IFP packets (T.38 §7.2–7.4, Annex A ASN.1) in ASN.1 PER, aligned variant (X.691; clause numbers of its 2015
 * edition).
 *
 * Two wire variants exist. Version 0 follows the 1998 module, whose field-type ENUMERATED has no extension marker
 * (the "pre-corrigendum" coding: 1 presence bit + 3 type bits, so a field without data takes half an octet and the
 * next field starts mid-octet). Version ≥ 1 follows the 2002 module: extensible field-type (1 + 1 + 3 bits, or
 * 1 + 1 + 7 bits for cm/jm/ci-message and v34rate) and the V.8/V.34/V.33 extension indicators and data types.
 * Both are coded bit-exactly per X.691 with a bit cursor. Checked against libspandsp's t38_core (see ifp.test.ts):
 * identical bytes, except that spandsp gives every version ≥ 1 field its own octet and codes cm/jm/ci/v34rate one
 * bit off — which differs from PER only for a field without data followed by another field, something neither side
 * sends (terminals end an IFP with the data-less FCS or signal-end field), and for V.34 messages a G3 terminal ignores.
 *
 * Decoded field data are views into the input bytes (no copy). Octets inside field data are in T.38 wire order
 * (first bit on the line = most significant bit, T.38 §7.1.1); converting to the T30Port order is the terminal's job.
 */

import { T38DecodeError } from './t38-decode-error.ts';
import { T38EncodeError } from './t38-encode-error.ts';

export { T38DecodeError } from './t38-decode-error.ts';
export { T38EncodeError } from './t38-encode-error.ts';

/** Type-of-msg t30-indicator: 16 root values, then the 2002 extension additions. */
export const T38_INDICATORS = Object.freeze([
  'no-signal',
  'cng',
  'ced',
  'v21-preamble',
  'v27-2400-training',
  'v27-4800-training',
  'v29-7200-training',
  'v29-9600-training',
  'v17-7200-short-training',
  'v17-7200-long-training',
  'v17-9600-short-training',
  'v17-9600-long-training',
  'v17-12000-short-training',
  'v17-12000-long-training',
  'v17-14400-short-training',
  'v17-14400-long-training',
  'v8-ansam',
  'v8-signal',
  'v34-cntl-channel-1200',
  'v34-pri-channel',
  'v34-cc-retrain',
  'v33-12000-training',
  'v33-14400-training',
] as const);
export type T38Indicator = (typeof T38_INDICATORS)[number];

/** Type-of-msg t30-data: 9 root values, then the 2002 extension additions. */
export const T38_DATA_TYPES = Object.freeze([
  'v21',
  'v27-2400',
  'v27-4800',
  'v29-7200',
  'v29-9600',
  'v17-7200',
  'v17-9600',
  'v17-12000',
  'v17-14400',
  'v8',
  'v34-pri-rate',
  'v34-cc-1200',
  'v34-pri-ch',
  'v33-12000',
  'v33-14400',
] as const);
export type T38DataType = (typeof T38_DATA_TYPES)[number];

/** Data-Field field-type: 8 root values, then the 2002 extension additions. */
export const T38_FIELD_TYPES = Object.freeze([
  'hdlc-data',
  'hdlc-sig-end',
  'hdlc-fcs-ok',
  'hdlc-fcs-bad',
  'hdlc-fcs-ok-sig-end',
  'hdlc-fcs-bad-sig-end',
  't4-non-ecm-data',
  't4-non-ecm-sig-end',
  'cm-message',
  'jm-message',
  'ci-message',
  'v34rate',
] as const);
export type T38FieldType = (typeof T38_FIELD_TYPES)[number];

export interface IfpField {
  readonly type: T38FieldType;
  /** 1..65,535 octets; absent (or empty) when the field carries none. */
  readonly data?: Uint8Array;
}

export type IfpPacket =
  | { readonly kind: 'indicator'; readonly indicator: T38Indicator }
  | { readonly kind: 'data'; readonly dataType: T38DataType; readonly fields: readonly IfpField[] };

export interface DecodeIfpOptions {
  /**
   * Accept bytes after a complete packet. UDPTL FEC recovers a lost IFP only up to the longest IFP of its group, so
   * a recovered packet may carry XOR residue after its end; IFPs are self-delimiting, so it is safe to ignore.
   */
  readonly allowTrailing?: boolean;
}

const ROOT_INDICATORS = 16;
const ROOT_DATA_TYPES = 9;
const ROOT_FIELD_TYPES = 8;
const MAX_FIELD_DATA = 65_535;

const INDICATOR_INDEX = indexOf(T38_INDICATORS);
const DATA_TYPE_INDEX = indexOf(T38_DATA_TYPES);
const FIELD_TYPE_INDEX = indexOf(T38_FIELD_TYPES);

function indexOf(names: readonly string[]): ReadonlyMap<string, number> {
  return new Map(names.map((name, i) => [name, i]));
}

/** Upper bound of the encoded size, for sizing buffers passed to {@link encodeIfpInto}. */
export function maxEncodedIfpLength(packet: IfpPacket): number {
  if (packet.kind === 'indicator') return 2;
  let n = 2 + 2;
  for (const field of packet.fields) n += 2 + 2 + (field.data?.length ?? 0);
  return n;
}

let scratch = new Uint8Array(512);

/** Encodes an IFP packet for the given T.38 version (0 = 1998 module, ≥ 1 = 2002 module). */
export function encodeIfp(packet: IfpPacket, version: number): Uint8Array {
  const need = maxEncodedIfpLength(packet);
  if (scratch.length < need) scratch = new Uint8Array(Math.max(need, scratch.length * 2));
  const n = encodeIfpInto(packet, version, scratch, 0);
  return scratch.slice(0, n);
}

/**
 * Encodes into `out` at `offset` (which must hold {@link maxEncodedIfpLength} bytes) and returns the encoded length.
 * Lets a sender reuse one buffer for every packet.
 */
export function encodeIfpInto(packet: IfpPacket, version: number, out: Uint8Array, offset: number): number {
  if (out.length - offset < maxEncodedIfpLength(packet)) {
    throw new T38EncodeError('out-of-range', 'output buffer too small');
  }
  const w = new BitWriter(out, offset);
  if (packet.kind === 'indicator') {
    const index = INDICATOR_INDEX.get(packet.indicator);
    if (index === undefined)
      throw new T38EncodeError('unknown-value', `indicator ${String(packet.indicator)}`);
    if (index >= ROOT_INDICATORS && version < 1) {
      throw new T38EncodeError(
        'not-in-version',
        `indicator ${packet.indicator} needs T.38 version 1 or later`,
      );
    }
    w.bits(0, 1); // data-field absent
    w.bits(0, 1); // CHOICE t30-indicator
    w.extensibleEnum(index, ROOT_INDICATORS, 4);
    return w.end() - offset;
  }
  const index = DATA_TYPE_INDEX.get(packet.dataType);
  if (index === undefined) throw new T38EncodeError('unknown-value', `data type ${String(packet.dataType)}`);
  if (index >= ROOT_DATA_TYPES && version < 1) {
    throw new T38EncodeError('not-in-version', `data type ${packet.dataType} needs T.38 version 1 or later`);
  }
  const fields = packet.fields;
  w.bits(fields.length > 0 ? 1 : 0, 1);
  w.bits(1, 1); // CHOICE t30-data
  w.extensibleEnum(index, ROOT_DATA_TYPES, 4);
  if (fields.length > 0) {
    if (fields.length >= 0x4000) throw new T38EncodeError('out-of-range', 'more than 16,383 fields');
    w.lengthDeterminant(fields.length);
    for (const field of fields) {
      const type = FIELD_TYPE_INDEX.get(field.type);
      if (type === undefined) throw new T38EncodeError('unknown-value', `field type ${String(field.type)}`);
      const data = field.data;
      const present = data !== undefined && data.length > 0;
      w.bits(present ? 1 : 0, 1);
      if (version < 1) {
        if (type >= ROOT_FIELD_TYPES) {
          throw new T38EncodeError(
            'not-in-version',
            `field type ${field.type} needs T.38 version 1 or later`,
          );
        }
        w.bits(type, 3);
      } else {
        w.extensibleEnum(type, ROOT_FIELD_TYPES, 3);
      }
      if (present) {
        if (data.length > MAX_FIELD_DATA)
          throw new T38EncodeError('out-of-range', 'field data over 65,535 octets');
        // OCTET STRING (SIZE (1..65535)): length − 1 as a two-octet aligned constrained whole number (X.691 §11.5).
        w.align();
        w.byte((data.length - 1) >> 8);
        w.byte((data.length - 1) & 0xff);
        w.octets(data);
      }
    }
  }
  return w.end() - offset;
}

/**
 * Decodes one IFP packet; throws {@link T38DecodeError} (and nothing else) on malformed input.
 *
 * The V.8/V.34/V.33 indicators and data types are accepted whatever the version: their PER coding (extension bit
 * set) is unambiguous, and the 1998 module's enumerations are extensible too. Field types follow the version, since
 * the two modules code them with different bit counts.
 */
export function decodeIfp(bytes: Uint8Array, version: number, options?: DecodeIfpOptions): IfpPacket {
  const r = new BitReader(bytes);
  if (bytes.length === 0) throw new T38DecodeError('truncated', 0, 'empty IFP');
  const dataFieldPresent = r.bits(1) === 1;
  const choice = r.bits(1);
  let packet: IfpPacket;
  if (choice === 0) {
    if (dataFieldPresent) throw new T38DecodeError('indicator-with-data', 0);
    const index = r.extensibleEnum(ROOT_INDICATORS, 4);
    if (index < 0 || index >= T38_INDICATORS.length)
      throw new T38DecodeError('unknown-indicator', 0, `index ${index}`);
    packet = { kind: 'indicator', indicator: T38_INDICATORS[index] };
  } else {
    const index = r.extensibleEnum(ROOT_DATA_TYPES, 4);
    if (index < 0 || index >= T38_DATA_TYPES.length) {
      throw new T38DecodeError('unknown-data-type', 0, `index ${index}`);
    }
    const dataType = T38_DATA_TYPES[index];
    const fields: IfpField[] = [];
    if (dataFieldPresent) {
      const count = r.lengthDeterminant();
      for (let i = 0; i < count; i++) {
        const present = r.bits(1) === 1;
        let type: number;
        if (version < 1) {
          type = r.bits(3);
        } else {
          type = r.extensibleEnum(ROOT_FIELD_TYPES, 3);
          if (type < 0 || type >= T38_FIELD_TYPES.length) {
            throw new T38DecodeError('unknown-field-type', r.byteOffset(), `index ${type}`);
          }
        }
        if (present) {
          r.align();
          const length = ((r.byte() << 8) | r.byte()) + 1;
          fields.push({ type: T38_FIELD_TYPES[type], data: r.octets(length) });
        } else {
          fields.push({ type: T38_FIELD_TYPES[type] });
        }
      }
    }
    packet = { kind: 'data', dataType, fields };
  }
  const end = r.end();
  if (end !== bytes.length && !options?.allowTrailing) {
    throw new T38DecodeError('trailing-bytes', end, `${bytes.length - end} byte(s) after the packet`);
  }
  return packet;
}

class BitWriter {
  private readonly buf: Uint8Array;
  private pos: number;

  constructor(buf: Uint8Array, byteOffset: number) {
    this.buf = buf;
    this.pos = byteOffset * 8;
  }

  bits(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      const at = this.pos >> 3;
      const shift = 7 - (this.pos & 7);
      if (shift === 7) this.buf[at] = 0;
      if ((value >> i) & 1) this.buf[at] |= 1 << shift;
      this.pos++;
    }
  }

  /** ENUMERATED with an extension marker (X.691 §14): extension bit, then root index or normally small number. */
  extensibleEnum(index: number, rootCount: number, rootBits: number): void {
    if (index < rootCount) {
      this.bits(0, 1);
      this.bits(index, rootBits);
    } else {
      this.bits(1, 1);
      // Normally small non-negative whole number (X.691 §11.6): 0 then six bits, for values below 64.
      this.bits(0, 1);
      this.bits(index - rootCount, 6);
    }
  }

  align(): void {
    this.pos = (this.pos + 7) & ~7;
  }

  byte(value: number): void {
    this.buf[this.pos >> 3] = value;
    this.pos += 8;
  }

  /** Unconstrained length determinant (X.691 §11.9), octet-aligned, below 16K. */
  lengthDeterminant(n: number): void {
    this.align();
    if (n < 0x80) {
      this.byte(n);
    } else {
      this.byte(0x80 | (n >> 8));
      this.byte(n & 0xff);
    }
  }

  octets(data: Uint8Array): void {
    this.buf.set(data, this.pos >> 3);
    this.pos += data.length * 8;
  }

  /** Pads to a whole octet and returns the end offset in bytes. */
  end(): number {
    this.align();
    return this.pos >> 3;
  }
}

class BitReader {
  private readonly buf: Uint8Array;
  private pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  byteOffset(): number {
    return this.pos >> 3;
  }

  bits(n: number): number {
    if (this.pos + n > this.buf.length * 8) throw new T38DecodeError('truncated', this.pos >> 3);
    let value = 0;
    for (let i = 0; i < n; i++) {
      value = (value << 1) | ((this.buf[this.pos >> 3] >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return value;
  }

  /** The enumeration index: root values first, extension additions after; −1 for a root index beyond the root. */
  extensibleEnum(rootCount: number, rootBits: number): number {
    if (this.bits(1) === 0) {
      const index = this.bits(rootBits);
      return index < rootCount ? index : -1;
    }
    if (this.bits(1) === 1) {
      // A normally small number ≥ 64: no T.38 enumeration has that many extension additions.
      throw new T38DecodeError('bad-value', this.pos >> 3, 'extension index ≥ 64');
    }
    return rootCount + this.bits(6);
  }

  align(): void {
    this.pos = (this.pos + 7) & ~7;
  }

  byte(): number {
    if (this.pos >> 3 >= this.buf.length) throw new T38DecodeError('truncated', this.pos >> 3);
    const value = this.buf[this.pos >> 3];
    this.pos += 8;
    return value;
  }

  lengthDeterminant(): number {
    this.align();
    const first = this.byte();
    if (first < 0x80) return first;
    if (first < 0xc0) return ((first & 0x3f) << 8) | this.byte();
    throw new T38DecodeError('fragmented', (this.pos >> 3) - 1);
  }

  octets(n: number): Uint8Array {
    const start = this.pos >> 3;
    if (start + n > this.buf.length) throw new T38DecodeError('truncated', this.buf.length);
    this.pos += n * 8;
    return this.buf.subarray(start, start + n);
  }

  end(): number {
    this.align();
    return this.pos >> 3;
  }
}
