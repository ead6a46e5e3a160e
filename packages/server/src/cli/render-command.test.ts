import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readTiff } from 'telefax/image/tiff-reader';
import { closePdfWorkers } from '../documents/render-pdf-pages.ts';
import { postScriptToPdf, textPagesPostScript } from '../documents/sample-documents.ts';
import { runRender } from './render-command.ts';

const BIN = new URL('../../bin/faxwire.js', import.meta.url).pathname;

function faxwire(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('faxwire render', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'faxwire-cli-'));
    writeFileSync(join(dir, 'doc.pdf'), postScriptToPdf(textPagesPostScript(2)));
    writeFileSync(join(dir, 'note.txt'), 'Hello from the command line.\n');
  });
  after(async () => {
    await closePdfWorkers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a TIFF Class F with the cover, the PDF and the text', () => {
    const out = join(dir, 'out.tif');
    const r = faxwire(
      'render',
      join(dir, 'doc.pdf'),
      join(dir, 'note.txt'),
      '--resolution',
      'standard',
      '--out',
      out,
      '--cover-subject',
      'Test',
      '--cover-message',
      'Three pages follow.',
    );
    assert.equal(r.status, 0, r.stderr);
    const pages = readTiff(readFileSync(out)).pages;
    assert.equal(pages.length, 4);
    for (const p of pages) assert.deepEqual([p.page.width, p.page.height, p.page.yDpi], [1728, 1078, 98]);
  });

  it('writes a fax PDF', async () => {
    const out = join(dir, 'out.pdf');
    const code = await runRender([join(dir, 'doc.pdf')], { resolution: 'fine', paper: 'auto', out });
    assert.equal(code, 0);
    const pdf = readFileSync(out, 'latin1');
    assert.equal(pdf.match(/\/CCITTFaxDecode/g)?.length, 2);
  });

  it('reports a bad document by its code and exits non-zero', async () => {
    writeFileSync(join(dir, 'bad.pdf'), '%PDF-1.4 nothing here');
    const code = await runRender([join(dir, 'bad.pdf')], {
      resolution: 'fine',
      paper: 'auto',
      out: join(dir, 'bad.tif'),
    });
    assert.equal(code, 1);
    assert.equal(
      await runRender([join(dir, 'doc.pdf')], { resolution: 'fine', paper: 'auto', out: join(dir, 'x.png') }),
      2,
    );
  });
});
