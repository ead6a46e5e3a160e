import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPage, getPixel, inkRatio, samePixels, setPixel } from './bilevel-page.ts';

test('pixels set and read back, pad bits ignored by samePixels', () => {
  const a = createPage(13, 2);
  setPixel(a, 0, 0, true);
  setPixel(a, 12, 1, true);
  assert.equal(getPixel(a, 0, 0), 1);
  assert.equal(getPixel(a, 12, 1), 1);
  assert.equal(getPixel(a, 1, 0), 0);
  const b = createPage(13, 2);
  b.data.set(a.data);
  b.data[1] |= 0x01; // a pad bit of row 0
  assert.ok(samePixels(a, b));
  setPixel(b, 5, 0, true);
  assert.ok(!samePixels(a, b));
  assert.equal(inkRatio(a), 2 / 26);
});
