import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as telefax from './index.ts';

test('the package entry exposes every layer, and a page goes through them', () => {
  const page = telefax.bilevelPage.createPage(1728, 4);
  telefax.bilevelPage.setPixel(page, 100, 2, true);
  const coded = telefax.codec.encodePage(page, { compression: 'mmr' });
  const tiff = telefax.tiffWriter.writeTiff([page], { compression: 'mmr' });
  const back = telefax.tiffReader.readTiff(tiff).pages[0].page;
  assert.ok(telefax.bilevelPage.samePixels(back, page));
  assert.ok(
    telefax.bilevelPage.samePixels(
      telefax.codec.decodePage(coded, { compression: 'mmr', width: 1728 }).page,
      page,
    ),
  );
  assert.equal(typeof telefax.t30.T30Session, 'function');
  assert.equal(typeof telefax.t38.T38Transport, 'function');
  assert.equal(typeof telefax.sip.placeFaxCall, 'function');
});
