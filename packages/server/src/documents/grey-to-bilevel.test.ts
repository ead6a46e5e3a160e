import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getPixel, inkRatio, strideOf } from 'telefax/image/bilevel-page';
import { classifyTiles, type GreyRaster, greyToBilevel, halveRows } from './grey-to-bilevel.ts';

function raster(width: number, height: number, value: (x: number, y: number) => number): GreyRaster {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  return { width, height, stride: width, data };
}

function asPage(grey: GreyRaster) {
  const bits = greyToBilevel(grey);
  return {
    ...bits,
    page: {
      width: grey.width,
      height: grey.height,
      stride: strideOf(grey.width),
      data: bits.data,
      xDpi: 204,
      yDpi: 196,
    },
  };
}

describe('greyToBilevel', () => {
  it('thresholds line art at 176, so partly covered stroke pixels stay black', () => {
    const { page, photoTiles } = asPage(
      raster(64, 64, (x) => (x === 10 ? 0 : x === 20 ? 170 : x === 30 ? 180 : 255)),
    );
    assert.equal(photoTiles, 0);
    assert.equal(getPixel(page, 10, 5), 1);
    assert.equal(getPixel(page, 20, 5), 1);
    assert.equal(getPixel(page, 30, 5), 0);
    assert.equal(getPixel(page, 40, 5), 0);
  });

  it('error-diffuses grey areas, keeping their mean', () => {
    for (const level of [64, 128, 192]) {
      const { page, photoTiles } = asPage(raster(256, 256, () => level));
      assert.equal(photoTiles, 64);
      assert.ok(Math.abs(inkRatio(page) - (1 - level / 255)) < 0.01, `level ${level}: ${inkRatio(page)}`);
    }
  });

  it('dithers only where the page is photographic', () => {
    // Left half text-like (pure black/white stripes), right half a grey ramp.
    const grey = raster(256, 128, (x, y) => (x < 128 ? (y % 8 === 0 ? 0 : 255) : x));
    const tiles = classifyTiles(grey);
    assert.deepEqual([...tiles.subarray(0, 8)], [0, 0, 0, 0, 1, 1, 1, 1]);
    const { page } = asPage(grey);
    for (let x = 0; x < 128; x++) assert.equal(getPixel(page, x, 1), 0);
  });

  it('only thresholds when dithering is off (bilevel sources)', () => {
    const bits = greyToBilevel(
      raster(64, 64, () => 128),
      { dither: false },
    );
    assert.equal(bits.photoTiles, 0);
    assert.ok(bits.data.every((b) => b === 0xff));
  });

  it('gives the same bits on the four-pixels-at-a-time path as pixel by pixel', () => {
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 24;
    };
    const data = new Uint8Array(256 * 96).map(random);
    const unaligned = new Uint8Array(data.length + 1);
    unaligned.set(data, 1);
    const fast = { width: 256, height: 96, stride: 256, data };
    const slow = { ...fast, data: unaligned.subarray(1) };
    assert.deepEqual(
      greyToBilevel(fast, { dither: false }).data,
      greyToBilevel(slow, { dither: false }).data,
    );
    assert.deepEqual(classifyTiles(fast), classifyTiles(slow));
    // Every byte value against the threshold.
    const ramp = { width: 256, height: 1, stride: 256, data: Uint8Array.from({ length: 256 }, (_, i) => i) };
    const bits = greyToBilevel(ramp, { dither: false }).data;
    for (let v = 0; v < 256; v++)
      assert.equal((bits[v >> 3] >> (7 - (v & 7))) & 1, v < 176 ? 1 : 0, `value ${v}`);
  });

  it('halves rows by averaging, so a one-row line survives thresholding', () => {
    const grey = raster(16, 8, (_x, y) => (y === 3 ? 0 : 255));
    const half = halveRows(grey);
    assert.equal(half.height, 4);
    const { page } = asPage(half);
    assert.equal(getPixel(page, 5, 1), 1);
    assert.equal(getPixel(page, 5, 0), 0);
    assert.equal(getPixel(page, 5, 2), 0);
  });
});
