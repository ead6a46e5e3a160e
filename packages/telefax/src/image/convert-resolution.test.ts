import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rowOf } from './bilevel-page.ts';
import { convertResolution } from './convert-resolution.ts';
import { syntheticPage } from './synthetic-page.ts';

test('fine → standard keeps even rows, superfine → standard every 4th, standard → fine doubles', () => {
  const fine = syntheticPage(100, 41, 5);
  const standard = convertResolution(fine, 'standard');
  assert.equal(standard.height, 21);
  assert.equal(standard.yDpi, 98);
  for (let y = 0; y < standard.height; y++) assert.deepEqual(rowOf(standard, y), rowOf(fine, 2 * y));

  const superfine = syntheticPage(100, 80, 6, 204, 391);
  const fromSuper = convertResolution(superfine, 'standard');
  assert.equal(fromSuper.height, 20);
  for (let y = 0; y < 20; y++) assert.deepEqual(rowOf(fromSuper, y), rowOf(superfine, 4 * y));

  const back = convertResolution(standard, 'fine');
  assert.equal(back.height, 42);
  assert.equal(back.yDpi, 196);
  for (let y = 0; y < 42; y++) assert.deepEqual(rowOf(back, y), rowOf(standard, y >> 1));

  assert.equal(convertResolution(fine, 'fine'), fine);
});
