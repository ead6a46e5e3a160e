/**
 * @module
 * The one error the T.38 decoders (IFP, UDPTL) throw on malformed input, with a stable code per failure.
 */

export type T38DecodeErrorCode =
  /** The input ends before the structure does. */
  | 'truncated'
  /** Bytes remain after a complete structure. */
  | 'trailing-bytes'
  /** An indicator, data type or field type outside the ASN.1 enumeration (or its known extensions). */
  | 'unknown-indicator'
  | 'unknown-data-type'
  | 'unknown-field-type'
  /** An indicator IFP that also carries a data field (T.38 §7.2: only data IFPs carry one). */
  | 'indicator-with-data'
  /** A PER length determinant in fragmented form (≥ 16K items); no T.38 entity sends these. */
  | 'fragmented'
  /** A value that PER forbids or T.38 bounds (e.g. an unconstrained INTEGER over 4 octets). */
  | 'bad-value';

export class T38DecodeError extends Error {
  override readonly name = 'T38DecodeError';
  readonly code: T38DecodeErrorCode;
  /** Byte offset in the input where decoding failed. */
  readonly offset: number;

  constructor(code: T38DecodeErrorCode, offset: number, detail?: string) {
    super(`T.38 decode failed (${code}) at byte ${offset}${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.offset = offset;
  }
}
