/**
 * @module
 * One-shot decoding of a whole page. Never throws on bad data: errors are reported in the result.
 */

import type { DecodeOptions, DecodeResult } from './codec-options.ts';
import { FaxDecoder } from './fax-decoder.ts';

export function decodePage(data: Uint8Array, options: DecodeOptions): DecodeResult {
  const decoder = new FaxDecoder(options);
  decoder.push(data);
  return decoder.end();
}
