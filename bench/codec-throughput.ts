/**
 * @module
 * Codec throughput on the ITU test charts at fine resolution (1728×2376): ms per page to encode and to decode,
 * for MH (K irrelevant), MR (K=4, fine) and MMR. Charts are read from FAXWIRE_CHARTS (default
 * /work/shared/reference/itu-charts), P4 PBM files named itu1.pbm … itu8.pbm.
 *
 * Usage: npx tsx bench/codec-throughput.ts [rounds]   (prints a table and one JSON line)
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePage, encodePage, type FaxCompression } from '../packages/telefax/src/codec/index.ts';
import { type BilevelPage, samePixels } from '../packages/telefax/src/image/bilevel-page.ts';
import { readPbm } from '../packages/telefax/src/image/pbm.ts';

const chartDir = process.env.FAXWIRE_CHARTS ?? '/work/shared/reference/itu-charts';
const rounds = Math.max(1, Number(process.argv[2] ?? 5));

const pages: BilevelPage[] = [];
for (let n = 1; n <= 8; n++) {
  const path = join(chartDir, `itu${n}.pbm`);
  if (existsSync(path)) pages.push({ ...readPbm(readFileSync(path)), xDpi: 204, yDpi: 196 });
}
if (pages.length === 0) {
  console.error(`no charts in ${chartDir}`);
  process.exit(1);
}

const codecs: { compression: FaxCompression; kFactor: number }[] = [
  { compression: 'mh', kFactor: 1 },
  { compression: 'mr', kFactor: 4 },
  { compression: 'mmr', kFactor: 1 },
];

const results: Record<string, { encodeMs: number; decodeMs: number; bytes: number }> = {};
for (const { compression, kFactor } of codecs) {
  const coded = pages.map((page) => encodePage(page, { compression, kFactor }));
  coded.forEach((data, k) => {
    const back = decodePage(data, { compression, width: pages[k].width });
    if (!samePixels(back.page, pages[k]) || back.badRows !== 0)
      throw new Error(`${compression}: chart ${k + 1} differs`);
  });
  // One warm-up round lets the JIT settle before timing.
  let encodeMs = 0;
  let decodeMs = 0;
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    for (const page of pages) encodePage(page, { compression, kFactor });
    const t1 = performance.now();
    for (let k = 0; k < pages.length; k++) decodePage(coded[k], { compression, width: pages[k].width });
    const t2 = performance.now();
    if (r > 0) {
      encodeMs += t1 - t0;
      decodeMs += t2 - t1;
    }
  }
  const perPage = rounds * pages.length;
  results[compression] = {
    encodeMs: encodeMs / perPage,
    decodeMs: decodeMs / perPage,
    bytes: Math.round(coded.reduce((s, c) => s + c.length, 0) / pages.length),
  };
}

console.log(`ITU charts 1–${pages.length}, fine 1728×2376, ${rounds} rounds, ms/page`);
console.log('codec  encode  decode  mean bytes');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(5)} ${r.encodeMs.toFixed(2).padStart(7)} ${r.decodeMs.toFixed(2).padStart(7)}  ${r.bytes}`,
  );
}
console.log(JSON.stringify({ bench: 'codec-throughput', unit: 'ms/page', results }));
