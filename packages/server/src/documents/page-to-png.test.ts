import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { createPage, setPixel } from 'telefax/image/bilevel-page';
import { pageToPng } from './page-to-png.ts';

describe('pageToPng', () => {
  it('keeps every pixel at full size', async () => {
    const page = createPage(1728, 2156, 204, 196);
    setPixel(page, 0, 0, true);
    setPixel(page, 1727, 2155, true);
    const { data, info } = await sharp(await pageToPng(page))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [1728, 2156]);
    assert.equal(data[0], 0);
    assert.equal(data[1], 255);
    assert.equal(data[data.length - 1], 0);
  });

  it('makes thumbnails with the page’s physical proportions', async () => {
    const standard = createPage(1728, 1078, 204, 98);
    const meta = await sharp(await pageToPng(standard, { width: 200 })).metadata();
    assert.equal(meta.width, 200);
    assert.equal(meta.height, Math.round((200 * 11) / (1728 / 204)));
  });
});
