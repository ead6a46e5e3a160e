/**
 * @module
 * Changes a page's vertical resolution between the fax resolutions by dropping or repeating rows, as
 * a fax machine does when a fine page must go out at standard resolution (T.30 DCS picks the
 * resolution; the horizontal 8 pels/mm of T.4 §2.2 stays).
 */

import { type BilevelPage, createPage, type FaxResolution, RESOLUTION_DPI } from './bilevel-page.ts';

/** The page at the target resolution; the same page when it is already there. */
export function convertResolution(page: BilevelPage, target: FaxResolution): BilevelPage {
  const targetDpi = RESOLUTION_DPI[target].y;
  const exact = page.yDpi / targetDpi;
  // The fax resolutions are 3.85, 7.7 and 15.4 lines/mm (T.4 §2.2): exact factors of 2, though their
  // dpi values (98, 196, 391) are rounded. Snap to the power of two so rows are taken evenly.
  const powerOfTwo = 2 ** Math.round(Math.log2(exact));
  const ratio = Math.abs(exact / powerOfTwo - 1) < 0.05 ? powerOfTwo : exact;
  if (ratio === 1) return page.yDpi === targetDpi ? page : { ...page, yDpi: targetDpi };
  const height = Math.max(1, Math.round(page.height / ratio));
  const out = createPage(page.width, height, page.xDpi, targetDpi);
  const stride = page.stride;
  // Nearest row: fine → standard keeps rows 0, 2, 4…; standard → fine repeats each row.
  for (let y = 0; y < height; y++) {
    const from = Math.min(page.height - 1, Math.floor(y * ratio + 1e-9));
    out.data.set(page.data.subarray(from * stride, (from + 1) * stride), y * stride);
  }
  return out;
}
