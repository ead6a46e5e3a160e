import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type BilevelPage, inkRatio, samePixels } from 'telefax/image/bilevel-page';
import { readPbm } from 'telefax/image/pbm';
import { syntheticPage } from 'telefax/image/synthetic-page';
import { resolveRenderLimits } from './render-limits.ts';
import { closePdfWorkers, openPdf, renderPdfPages } from './render-pdf-pages.ts';
import { collectBytes, pageSizePt, writeFaxPdf } from './write-fax-pdf.ts';

const fine = syntheticPage(1728, 2156, 3, 204, 196);
const standard = syntheticPage(1728, 1078, 4, 204, 98);

async function rerender(pdf: Uint8Array, resolution: 'standard' | 'fine'): Promise<BilevelPage[]> {
  const limits = resolveRenderLimits({});
  const out: BilevelPage[] = [];
  for await (const p of renderPdfPages(await openPdf(pdf, limits), { resolution, paper: 'letter', limits }))
    out.push(p);
  return out;
}

describe('writeFaxPdf', () => {
  after(closePdfWorkers);

  it('writes a well-formed PDF: header, objects where the xref says, trailer', async () => {
    const pdf = Buffer.from(await collectBytes(writeFaxPdf([fine, standard])));
    const text = pdf.toString('latin1');
    assert.ok(text.startsWith('%PDF-1.4\n'));
    assert.ok(text.endsWith('%%EOF\n'));
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
    assert.ok(text.startsWith('xref\n', startxref));
    const entries = text
      .slice(startxref)
      .split('\n')
      .slice(3, 3 + 8);
    entries.forEach((e, i) => {
      const offset = Number(e.slice(0, 10));
      assert.ok(text.startsWith(`${i + 1} 0 obj\n`, offset), `object ${i + 1} at ${offset}`);
    });
    assert.match(text, /\/K -1 \/Columns 1728 \/Rows 2156 \/BlackIs1 true/);
    assert.match(text, /\/MediaBox \[0 0 609\.882 792\]/);
    assert.deepEqual(pageSizePt(standard), { width: (1728 / 204) * 72, height: (1078 / 98) * 72 });
  });

  it('re-renders in PDFium to the same pixels', async () => {
    const pdf = await collectBytes(writeFaxPdf([fine, standard]));
    const [a] = await rerender(pdf, 'fine');
    assert.ok(samePixels(a, fine));
    const [, b] = await rerender(pdf, 'standard');
    assert.ok(samePixels(b, standard));
  });

  it('re-renders in Ghostscript to the same pixels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faxwire-pdf-'));
    try {
      writeFileSync(join(dir, 'f.pdf'), await collectBytes(writeFaxPdf([fine])));
      const gs = spawnSync('gs', [
        '-q',
        '-dNOPAUSE',
        '-dBATCH',
        '-dSAFER',
        '-sDEVICE=pbmraw',
        '-r204x196',
        `-sOutputFile=${join(dir, 'f.pbm')}`,
        join(dir, 'f.pdf'),
      ]);
      assert.equal(gs.status, 0, String(gs.stderr));
      const page = readPbm(readFileSync(join(dir, 'f.pbm')));
      assert.equal(inkRatio(page), inkRatio(fine));
      assert.ok(samePixels(page, fine));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams: a page is written before the next one is asked for', async () => {
    let pulled = 0;
    async function* pages() {
      for (const p of [fine, standard]) {
        pulled++;
        yield p;
      }
    }
    const chunks = writeFaxPdf(pages());
    await chunks.next(); // header
    await chunks.next(); // catalog
    const first = await chunks.next();
    assert.equal(pulled, 1);
    assert.match(Buffer.from(first.value as Uint8Array).toString('latin1'), /\/Rows 2156/);
  });

  it('refuses an empty page list', async () => {
    await assert.rejects(collectBytes(writeFaxPdf([])), RangeError);
  });
});
