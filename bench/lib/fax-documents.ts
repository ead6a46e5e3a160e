/**
 * @module
 * The documents the T.38 benchmarks send: a short standard-resolution letter (a few lines of text on an A4 page,
 * so a paced call lasts about half a minute) and the eight ITU test charts at fine resolution.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { samplePage } from '../../packages/telefax/src/codec/sample-pages.ts';
import { type BilevelPage, createPage } from '../../packages/telefax/src/image/bilevel-page.ts';
import { readPbm } from '../../packages/telefax/src/image/pbm.ts';

/** A4 at standard resolution: 1728 × 1145 rows at 204 × 98 dpi (T.4 §2.2). */
const A4_STANDARD_ROWS = 1145;

/** `pages` standard-resolution A4 pages, each with `textRows` rows of typed-looking text at the top. */
export function shortLetter(pages: number, textRows = 160): BilevelPage[] {
  const out: BilevelPage[] = [];
  for (let p = 0; p < pages; p++) {
    const page = createPage(1728, A4_STANDARD_ROWS, 204, 98);
    const text = samplePage('text', 1728, textRows, p + 1);
    page.data.set(text.data.subarray(0, text.stride * textRows), page.stride * 40);
    out.push(page);
  }
  return out;
}

export const CHARTS_DIR = process.env.FAXWIRE_CHARTS ?? '/work/shared/reference/itu-charts';

/** ITU charts 1–8 at fine resolution (1728 × 2376, 204 × 196 dpi), or undefined when they are not there. */
export function ituCharts(dir = CHARTS_DIR): BilevelPage[] | undefined {
  const paths = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => join(dir, `itu${n}.pbm`));
  if (!paths.every((p) => existsSync(p))) return undefined;
  return paths.map((p) => readPbm(readFileSync(p), { xDpi: 204, yDpi: 196 }));
}
