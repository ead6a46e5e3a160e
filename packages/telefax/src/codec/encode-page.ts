/**
 * @module
 * One-shot encoding of a whole page.
 */

import type { BilevelPage } from '../image/bilevel-page.ts';
import type { EncodeOptions } from './codec-options.ts';
import { FaxEncoder } from './fax-encoder.ts';

/** Codes every row of `page`, then RTC/EOFB unless `rtc: false`. */
export function encodePage(page: BilevelPage, options: EncodeOptions): Uint8Array {
  const encoder = new FaxEncoder(page.width, options);
  const { stride, data } = page;
  for (let y = 0; y < page.height; y++) encoder.encodeRow(data.subarray(y * stride, (y + 1) * stride));
  return encoder.finish();
}
