import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { samePixels } from 'telefax/image/bilevel-page';
import { syntheticPage } from 'telefax/image/synthetic-page';
import { readTiff } from 'telefax/image/tiff-reader';
import { tiffFileSink } from 'telefax/image/tiff-writer';
import { writeFaxTiff } from './write-fax-tiff.ts';

const pages = [syntheticPage(1728, 2156, 5, 204, 196), syntheticPage(1728, 1078, 6, 204, 98)];

describe('writeFaxTiff', () => {
  for (const compression of ['mmr', 'mh', 'mr'] as const) {
    it(`reads back pixel-identical (${compression})`, async () => {
      const back = readTiff(await writeFaxTiff(pages, { compression })).pages;
      assert.equal(back.length, 2);
      for (const [i, p] of back.entries()) assert.ok(samePixels(p.page, pages[i]), `page ${i + 1}`);
      assert.deepEqual(
        back.map((p) => p.page.yDpi),
        [196, 98],
      );
    });
  }

  it('streams to a file that libtiff accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faxwire-tiff-'));
    try {
      const path = join(dir, 'out.tif');
      const fd = openSync(path, 'w');
      async function* source() {
        yield* pages;
      }
      try {
        await writeFaxTiff(source(), { sink: tiffFileSink(fd) });
      } finally {
        closeSync(fd);
      }
      const back = readTiff(readFileSync(path)).pages;
      assert.ok(samePixels(back[1].page, pages[1]));
      const info = spawnSync('tiffinfo', [path], { encoding: 'utf8' });
      assert.equal(info.status, 0, info.stderr);
      assert.equal(info.stdout.match(/CCITT Group 4/g)?.length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
