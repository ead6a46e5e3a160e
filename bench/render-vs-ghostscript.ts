/**
 * @module
 * Pages per second rasterizing PDFs to fax pages: our pipeline (PDFium WebAssembly in worker threads, to
 * BilevelPage at 204 × 196) against Ghostscript's `tiffg4` device at the same resolution, in the same run.
 *
 * Run: node --import tsx bench/render-vs-ghostscript.ts [--runs N] [--threads N]
 * (--threads: PDF worker threads; default the CPU count, at most 4. Ghostscript is single-threaded.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDocuments } from '../packages/server/src/documents/render-documents.ts';
import { closePdfWorkers, configurePdfWorkers } from '../packages/server/src/documents/render-pdf-pages.ts';
import {
  mixedPostScript,
  postScriptToPdf,
  textPagesPostScript,
} from '../packages/server/src/documents/sample-documents.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const threadsArg = process.argv.indexOf('--threads');
if (threadsArg > 0) configurePdfWorkers({ threads: Number(process.argv[threadsArg + 1]) });
const LETTER = { width: 612, height: 792 };

function mixedDocument(copies: number): string {
  const body = mixedPostScript(LETTER).replace(/^%!PS\n/, '');
  const text = textPagesPostScript(1, LETTER).replace(/^%!PS\n/, '');
  return `%!PS\n${Array.from({ length: copies }, () => body + text).join('\n')}`;
}

async function ours(pdf: Uint8Array): Promise<{ ms: number; pages: number }> {
  const started = performance.now();
  let pages = 0;
  for await (const _ of renderDocuments([{ data: pdf }], {
    resolution: 'fine',
    limits: { maxPages: 10_000 },
  }))
    pages++;
  return { ms: performance.now() - started, pages };
}

function ghostscript(pdf: Uint8Array, dir: string): { ms: number } {
  const input = join(dir, 'in.pdf');
  writeFileSync(input, pdf);
  const started = performance.now();
  const r = spawnSync('gs', [
    '-q',
    '-dNOPAUSE',
    '-dBATCH',
    '-dSAFER',
    '-sDEVICE=tiffg4',
    '-r204x196',
    `-sOutputFile=${join(dir, 'out.tif')}`,
    input,
  ]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  return { ms: performance.now() - started };
}

function best<T extends { ms: number }>(results: T[]): T {
  return results.reduce((a, b) => (b.ms < a.ms ? b : a));
}

const dir = mkdtempSync(join(tmpdir(), 'faxwire-bench-'));
try {
  const documents = [
    { name: 'text (36 pages, Letter)', pdf: postScriptToPdf(textPagesPostScript(36, LETTER)), pages: 36 },
    {
      name: 'mixed (12 pages: text, rules, ramp, photo, landscape)',
      pdf: postScriptToPdf(mixedDocument(3)),
      pages: 12,
    },
  ];
  const cold = await ours(documents[1].pdf);
  console.log(`cold start (pool + WebAssembly init, first document): ${cold.ms.toFixed(0)} ms`);
  console.log(`best of ${RUNS} runs each, 204 × 196, fine\n`);
  console.log('document'.padEnd(56), 'ours p/s'.padStart(9), 'gs p/s'.padStart(9), 'ours/gs'.padStart(8));
  for (const doc of documents) {
    const o: { ms: number; pages: number }[] = [];
    const g: { ms: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      o.push(await ours(doc.pdf));
      g.push(ghostscript(doc.pdf, dir));
    }
    const ob = best(o);
    if (ob.pages !== doc.pages) throw new Error(`${doc.name}: rendered ${ob.pages} pages`);
    const oursRate = (doc.pages / ob.ms) * 1000;
    const gsRate = (doc.pages / best(g).ms) * 1000;
    console.log(
      doc.name.padEnd(56),
      oursRate.toFixed(1).padStart(9),
      gsRate.toFixed(1).padStart(9),
      `${(oursRate / gsRate).toFixed(2)}×`.padStart(8),
    );
  }
} finally {
  await closePdfWorkers();
  rmSync(dir, { recursive: true, force: true });
}
