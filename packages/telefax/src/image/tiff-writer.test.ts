import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodePage } from '../codec/index.ts';
import { samePixels } from './bilevel-page.ts';
import { syntheticPage } from './synthetic-page.ts';
import { readTiff, type TiffCompression } from './tiff-reader.ts';
import { TiffWriter, tiffFileSink, writeTiff } from './tiff-writer.ts';

const COMPRESSIONS: TiffCompression[] = ['none', 'mh', 'mr', 'mmr'];

test('every compression, fill order and byte order round-trips through writer and reader', () => {
  const pages = [syntheticPage(1728, 160, 1), syntheticPage(1728, 90, 2, 204, 98), syntheticPage(203, 41, 3)];
  for (const compression of COMPRESSIONS) {
    for (const fillOrder of [1, 2] as const) {
      for (const byteOrder of ['II', 'MM'] as const) {
        const label = `${compression} fill ${fillOrder} ${byteOrder}`;
        const bytes = writeTiff(pages, { compression, fillOrder, byteOrder });
        const doc = readTiff(bytes);
        assert.equal(doc.pages.length, pages.length, label);
        doc.pages.forEach((p, i) => {
          assert.ok(samePixels(p.page, pages[i]), `${label} page ${i + 1}`);
          assert.equal(p.compression, compression, label);
          assert.equal(p.fillOrder, fillOrder, label);
          assert.equal(p.badRows, 0, label);
          assert.equal(p.page.xDpi, pages[i].xDpi);
          assert.equal(p.page.yDpi, pages[i].yDpi);
          assert.deepEqual(p.pageNumber, { number: i, total: pages.length });
        });
        assert.equal(doc.pages[1].resolution, 'standard');
      }
    }
  }
});

test('byte-aligned EOLs set T4Options bit 2 and round-trip', () => {
  const page = syntheticPage(1728, 120, 9);
  for (const compression of ['mh', 'mr'] as const) {
    const [p] = readTiff(writeTiff([page], { compression, byteAlignEol: true })).pages;
    assert.ok(p.byteAlignedEol);
    assert.ok(samePixels(p.page, page), compression);
  }
});

test('Class F fields: defaults, quality tags, page numbers patched when the file is finished', () => {
  const writer = new TiffWriter({ software: 'unit test' });
  writer.addPage(syntheticPage(1728, 50, 1), { compression: 'mr', badFaxLines: 3, cleanFaxData: 2 });
  writer.addPage(syntheticPage(1728, 50, 2), { compression: 'mmr' });
  writer.addPage(syntheticPage(1728, 50, 3), {
    compression: 'mh',
    badFaxLines: 1,
    consecutiveBadFaxLines: 1,
  });
  const doc = readTiff(writer.finish());
  assert.equal(doc.pages.length, 3);
  assert.equal(doc.pages[0].fillOrder, 2);
  assert.equal(doc.pages[0].badFaxLines, 3);
  assert.equal(doc.pages[0].cleanFaxData, 2);
  assert.equal(doc.pages[1].badFaxLines, undefined);
  assert.equal(doc.pages[1].cleanFaxData, undefined);
  assert.equal(doc.pages[2].cleanFaxData, 1, 'derived from BadFaxLines');
  assert.equal(doc.pages[2].consecutiveBadFaxLines, 1);
  assert.deepEqual(
    doc.pages.map((p) => p.pageNumber),
    [0, 1, 2].map((n) => ({ number: n, total: 3 })),
  );
  assert.throws(() => writer.addPage(syntheticPage(8, 8), { compression: 'mh' }));
  assert.throws(() => new TiffWriter().finish());
});

test('a file sink receives the same bytes as memory, valid after every page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiff-writer-'));
  try {
    const path = join(dir, 'fax.tif');
    const fd = openSync(path, 'w');
    const onDisk = new TiffWriter({ sink: tiffFileSink(fd) });
    const inMemory = new TiffWriter();
    const pages = [syntheticPage(1728, 80, 4), syntheticPage(1728, 60, 5)];
    for (const [i, page] of pages.entries()) {
      onDisk.addPage(page, { compression: 'mmr' });
      inMemory.addPage(page, { compression: 'mmr' });
      // Before finish the page totals are 0 (unknown, TIFF 6.0 PageNumber) but the file reads.
      const partial = readTiff(readFileSync(path));
      assert.equal(partial.pages.length, i + 1);
      assert.equal(partial.pages[i].pageNumber?.total, 0);
    }
    assert.equal(onDisk.finish().length, 0);
    closeSync(fd);
    assert.deepEqual(new Uint8Array(readFileSync(path)), inMemory.finish());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pages already coded (as received in ECM) are stored without re-coding', () => {
  const page = syntheticPage(1728, 70, 12);
  const coded = encodePage(page, { compression: 'mmr', bitOrder: 'lsb-first' });
  const writer = new TiffWriter();
  writer.addCodedPage(coded, page, { compression: 'mmr', badFaxLines: 0, cleanFaxData: 0 });
  const bytes = writer.finish();
  const [p] = readTiff(bytes).pages;
  assert.ok(samePixels(p.page, page));
  assert.equal(p.fillOrder, 2);
  assert.equal(p.cleanFaxData, 0);
  assert.equal(bytes.length < coded.length + 400, true);
});
