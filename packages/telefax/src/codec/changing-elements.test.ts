import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changesCapacity, fillRow, findChanges } from './changing-elements.ts';

function rowFromString(pixels: string): Uint8Array {
  const row = new Uint8Array((pixels.length + 7) >> 3);
  for (let x = 0; x < pixels.length; x++) if (pixels[x] === '1') row[x >> 3] |= 0x80 >> (x & 7);
  return row;
}

function changesOf(pixels: string, row = rowFromString(pixels)): number[] {
  const out = new Int32Array(changesCapacity(pixels.length));
  const n = findChanges(row, 0, pixels.length, out);
  assert.deepEqual([...out.subarray(n, n + 3)], [pixels.length, pixels.length, pixels.length], 'sentinels');
  return [...out.subarray(0, n)];
}

test('changing elements of small rows (T.4 §4.2.1.3.1)', () => {
  assert.deepEqual(changesOf('0'), []);
  assert.deepEqual(changesOf('1'), [0]);
  assert.deepEqual(changesOf('0001111000001'), [3, 7, 12]);
  assert.deepEqual(changesOf('1111111111111'), [0]);
  assert.deepEqual(changesOf('1010101010101'), [...Array(13).keys()]);
  assert.deepEqual(changesOf(`${'0'.repeat(40)}${'1'.repeat(30)}${'0'.repeat(3)}`), [40, 70]);
});

test('pad bits past the width are ignored', () => {
  const row = rowFromString('0001111000001');
  row[1] |= 0x07; // pad bits 13–15 of a 13-pixel row
  assert.deepEqual(changesOf('0001111000001', row), [3, 7, 12]);
  const black = new Uint8Array([0xff, 0xff]);
  assert.deepEqual(changesOf('1111111111111', black), [0]);
});

test('fillRow writes the pixels back, pad bits 0', () => {
  for (const pixels of ['1', '0001111000001', '1010101010101', `${'1'.repeat(37)}0${'1'.repeat(50)}`]) {
    const row = rowFromString(pixels);
    const out = new Int32Array(changesCapacity(pixels.length));
    const n = findChanges(row, 0, pixels.length, out);
    const back = new Uint8Array(row.length + 2).fill(0xaa);
    fillRow(out, n, pixels.length, back, 1, row.length);
    assert.deepEqual(back.subarray(1, 1 + row.length), row, pixels);
    assert.equal(back[0], 0xaa);
    assert.equal(back[row.length + 1], 0xaa);
  }
});
