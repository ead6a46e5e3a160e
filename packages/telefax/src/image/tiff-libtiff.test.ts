/**
 * Cross-checks with libtiff (Debian libtiff-tools): libtiff must read what we write to the same pixels,
 * and we must read what libtiff writes — G3 1-D, 2-D, with fill, G4, many strips, both fill orders.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { samePixels } from './bilevel-page.ts';
import { syntheticPage } from './synthetic-page.ts';
import { readTiff, type TiffCompression } from './tiff-reader.ts';
import { writeTiff } from './tiff-writer.ts';

const hasLibtiff = spawnSync('tiffcp', [], { stdio: 'ignore' }).error === undefined;
const skip = hasLibtiff ? false : 'libtiff-tools (tiffcp, tiffinfo, tiffcmp) not installed';

const dir = mkdtempSync(join(tmpdir(), 'tiff-libtiff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pages = [
  syntheticPage(1728, 300, 101),
  syntheticPage(1728, 180, 102, 204, 98),
  syntheticPage(1728, 257, 103, 204, 391),
  // A width that is not a whole number of bytes exercises the pad bits.
  syntheticPage(1001, 50, 104),
];

function run(tool: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tiffcp(args: string[]): void {
  const r = run('tiffcp', args);
  assert.equal(r.status, 0, `tiffcp ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr.trim(), '', `tiffcp ${args.join(' ')} complained`);
}

function assertSamePages(path: string, label: string): ReturnType<typeof readTiff> {
  const doc = readTiff(readFileSync(path));
  assert.equal(doc.pages.length, pages.length, label);
  doc.pages.forEach((p, i) => {
    assert.ok(samePixels(p.page, pages[i]), `${label}: page ${i + 1} differs`);
    assert.equal(p.badRows, 0, `${label}: page ${i + 1} bad rows`);
    assert.equal(p.page.yDpi, pages[i].yDpi, label);
  });
  return doc;
}

test('libtiff decodes what we write to the same pixels', { skip }, () => {
  const source = join(dir, 'source.tif');
  writeFileSync(source, writeTiff(pages, { compression: 'none' }));
  const reference = join(dir, 'reference.tif');
  tiffcp(['-c', 'none', '-f', 'msb2lsb', source, reference]);
  const cases: {
    compression: TiffCompression;
    fillOrder: 1 | 2;
    byteAlignEol?: boolean;
    byteOrder?: 'MM';
  }[] = [
    { compression: 'mh', fillOrder: 2 },
    { compression: 'mr', fillOrder: 2, byteOrder: 'MM' },
    { compression: 'mh', fillOrder: 1, byteAlignEol: true },
    { compression: 'mr', fillOrder: 2 },
    { compression: 'mr', fillOrder: 1, byteAlignEol: true },
    { compression: 'mmr', fillOrder: 2 },
    { compression: 'mmr', fillOrder: 1 },
  ];
  for (const c of cases) {
    const label = `${c.compression} fill ${c.fillOrder}${c.byteAlignEol ? ' aligned' : ''} ${c.byteOrder ?? 'II'}`;
    const ours = join(dir, `ours-${label.replace(/ /g, '-')}.tif`);
    writeFileSync(ours, writeTiff(pages, c));
    const info = run('tiffinfo', ['-D', ours]);
    assert.equal(info.status, 0, `${label}: tiffinfo failed: ${info.stderr}`);
    assert.equal(info.stderr.trim(), '', `${label}: tiffinfo complained`);
    assert.match(info.stdout, c.compression === 'mmr' ? /CCITT Group 4/ : /CCITT Group 3/);
    const plain = join(dir, `plain-${label.replace(/ /g, '-')}.tif`);
    tiffcp(['-c', 'none', '-f', 'msb2lsb', ours, plain]);
    // tiffcmp compares pixels only when the tags match, so both sides go through the same tiffcp.
    const cmp = run('tiffcmp', [reference, plain]);
    assert.equal(cmp.status, 0, `${label}: tiffcmp: ${cmp.stdout}${cmp.stderr}`);
    const differences = cmp.stdout
      .split('\n')
      .filter((line) => line !== '' && !/^Directory \d+:$/.test(line));
    assert.deepEqual(differences, [], `${label}: tiffcmp found differences`);
    const doc = assertSamePages(plain, label);
    assert.equal(doc.pages[0].compression, 'none');
  }
});

test('we decode what libtiff writes: G3 1-D, 2-D, fill, G4, many strips, both fill orders', { skip }, () => {
  const source = join(dir, 'source-for-libtiff.tif');
  writeFileSync(source, writeTiff(pages, { compression: 'none' }));
  const cases: { args: string[]; expect: TiffCompression; fill?: 1 | 2 }[] = [
    { args: ['-c', 'g3'], expect: 'mh' },
    { args: ['-c', 'g3:2d'], expect: 'mr' },
    { args: ['-c', 'g3:fill'], expect: 'mh' },
    { args: ['-c', 'g3:2d:fill'], expect: 'mr' },
    { args: ['-c', 'g4'], expect: 'mmr' },
    { args: ['-c', 'g3', '-f', 'lsb2msb'], expect: 'mh', fill: 2 },
    { args: ['-c', 'g3:2d', '-f', 'lsb2msb', '-r', '37'], expect: 'mr', fill: 2 },
    { args: ['-c', 'g4', '-r', '64'], expect: 'mmr' },
    { args: ['-c', 'g3', '-r', '1'], expect: 'mh' },
    { args: ['-c', 'g3:2d', '-B', '-r', '50'], expect: 'mr' },
    { args: ['-c', 'g4', '-B', '-f', 'lsb2msb'], expect: 'mmr', fill: 2 },
    { args: ['-c', 'none', '-r', '16', '-f', 'lsb2msb'], expect: 'none', fill: 2 },
  ];
  for (const c of cases) {
    const label = `tiffcp ${c.args.join(' ')}`;
    const out = join(dir, `libtiff-${c.args.join('').replace(/[^a-z0-9]/gi, '')}.tif`);
    tiffcp([...c.args, source, out]);
    const doc = assertSamePages(out, label);
    for (const p of doc.pages) {
      assert.equal(p.compression, c.expect, label);
      assert.equal(p.fillOrder, c.fill ?? 1, label);
      const rows = c.args.indexOf('-r');
      if (rows >= 0) assert.equal(p.strips, Math.ceil(p.page.height / Number(c.args[rows + 1])), label);
      assert.equal(p.byteAlignedEol, c.args[1].includes('fill'), label);
    }
  }
});
