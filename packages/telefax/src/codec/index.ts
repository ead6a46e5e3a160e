/**
 * @module
 * T.4 (MH, MR) and T.6 (MMR) fax image coding: one-shot and streaming encoders and decoders.
 */

export { REVERSED_BITS } from './bit-order.ts';
export type {
  BitOrder,
  DecodeEnd,
  DecodeOptions,
  DecodeResult,
  EncodeOptions,
  FaxCompression,
} from './codec-options.ts';
export { DEFAULT_K_FACTOR, DEFAULT_MAX_ROWS, MAX_BAD_ROW_POSITIONS } from './codec-options.ts';
export { decodePage } from './decode-page.ts';
export { encodePage } from './encode-page.ts';
export { FaxDecoder } from './fax-decoder.ts';
export { FaxEncoder } from './fax-encoder.ts';
