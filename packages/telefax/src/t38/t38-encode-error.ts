/**
 * @module
 * The error the T.38 encoders throw when asked to encode something the wire format cannot carry.
 */

export type T38EncodeErrorCode =
  /** An extension value (V.8/V.34/V.33) asked of T.38 version 0, whose 1998 module has none. */
  | 'not-in-version'
  /** A name outside the enumeration. */
  | 'unknown-value'
  /** Field data over 65,535 octets, a sequence number outside 0..65535, a span outside 0..255… */
  | 'out-of-range';

export class T38EncodeError extends Error {
  override readonly name = 'T38EncodeError';
  readonly code: T38EncodeErrorCode;

  constructor(code: T38EncodeErrorCode, detail: string) {
    super(`T.38 encode failed (${code}): ${detail}`);
    this.code = code;
  }
}
