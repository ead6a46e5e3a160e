import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { samePixels } from '../image/bilevel-page.ts';
import { readPbm, writePbm } from '../image/pbm.ts';
import { syntheticPage } from '../image/synthetic-page.ts';
import { readTiff } from '../image/tiff-reader.ts';
import { writeTiff } from '../image/tiff-writer.ts';

const bin = fileURLToPath(new URL('../../bin/telefax.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'telefax-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function telefax(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const page = syntheticPage(1728, 120, 31);
const pbm = join(dir, 'in.pbm');
writeFileSync(pbm, writePbm(page));

test('encode PBM → TIFF, info, decode back to identical PBM pages', () => {
  const tif = join(dir, 'out.tif');
  const enc = telefax('encode', pbm, tif, '--compression', 'mr');
  assert.equal(enc.status, 0, enc.stderr);
  const [p] = readTiff(readFileSync(tif)).pages;
  assert.equal(p.compression, 'mr');
  assert.equal(p.page.yDpi, 196, 'a PBM is taken as fine');
  assert.ok(samePixels(p.page, page));

  const info = telefax('info', tif, '--json');
  assert.equal(info.status, 0, info.stderr);
  const json = JSON.parse(info.stdout);
  assert.equal(json.pageCount, 1);
  assert.deepEqual(json.pages[0], {
    page: 1,
    width: 1728,
    height: 120,
    xDpi: 204,
    yDpi: 196,
    resolution: 'fine',
    compression: 'mr',
    fillOrder: 2,
    badRows: 0,
  });
  const text = telefax('info', tif);
  assert.match(
    text.stdout,
    /1 page\(s\)[\s\S]*page 1: 1728×120, 204×196 dpi \(fine\), G3 2-D \(MR\), 0 bad rows/,
  );

  const outDir = join(dir, 'pages');
  const dec = telefax('decode', tif, '--out-dir', outDir);
  assert.equal(dec.status, 0, dec.stderr);
  assert.ok(samePixels(readPbm(readFileSync(join(outDir, 'page-1.pbm'))), page));
});

test('encode at standard resolution keeps every second row of a fine page', () => {
  const tif = join(dir, 'std.tif');
  const r = telefax('encode', pbm, tif, '--compression', 'mmr', '--resolution', 'standard');
  assert.equal(r.status, 0, r.stderr);
  const [p] = readTiff(readFileSync(tif)).pages;
  assert.equal(p.compression, 'mmr');
  assert.equal(p.page.height, 60);
  assert.equal(p.page.yDpi, 98);
  for (let y = 0; y < 60; y++) {
    assert.deepEqual(
      p.page.data.subarray(y * 216, (y + 1) * 216),
      page.data.subarray(2 * y * 216, (2 * y + 1) * 216),
      `row ${y}`,
    );
  }
});

test('encode a multi-page TIFF to fine: standard pages get each row twice, fine pages stay', () => {
  const standard = syntheticPage(1728, 30, 32, 204, 98);
  const input = join(dir, 'mixed.tif');
  writeFileSync(input, writeTiff([standard, page], { compression: 'mh' }));
  const out = join(dir, 'mixed-fine.tif');
  const r = telefax('encode', input, out, '--compression', 'mh', '--resolution', 'fine', '--fill-order', '1');
  assert.equal(r.status, 0, r.stderr);
  const pages = readTiff(readFileSync(out)).pages;
  assert.deepEqual(
    pages.map((p) => [p.page.height, p.page.yDpi, p.fillOrder]),
    [
      [60, 196, 1],
      [120, 196, 1],
    ],
  );
  assert.ok(samePixels(pages[1].page, page));
  for (let y = 0; y < 60; y++) {
    assert.deepEqual(
      pages[0].page.data.subarray(y * 216, (y + 1) * 216),
      standard.data.subarray((y >> 1) * 216, ((y >> 1) + 1) * 216),
    );
  }
});

test('errors print one line on stderr and exit non-zero', () => {
  const bad = join(dir, 'bad.tif');
  writeFileSync(bad, 'II*\0garbage');
  const r = telefax('info', bad);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^telefax: invalid_document: .+\n$/);
  const missing = telefax('decode', join(dir, 'nope.tif'), '--out-dir', dir);
  assert.notEqual(missing.status, 0);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const usage = telefax('encode', pbm, join(dir, 'x.tif'), '--compression', 'lzw');
  assert.notEqual(usage.status, 0);
  assert.match(usage.stderr, /compression/);
});
