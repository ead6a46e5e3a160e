import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitWriter } from './bit-writer.ts';

test('bits are packed most significant first; take() drains whole octets only', () => {
  const w = new BitWriter(16);
  w.put(0b101, 3);
  w.put(0b00001, 5);
  w.put(0b1, 1);
  assert.equal(w.bitPosition, 9);
  assert.deepEqual([...w.take('msb-first')], [0b10100001]);
  assert.deepEqual([...w.take('msb-first')], []);
  w.padToOctet();
  assert.deepEqual([...w.take('lsb-first')], [0b00000001]);
  assert.equal(w.bitPosition, 16);
});

test('long zero runs and growth past the initial buffer', () => {
  const w = new BitWriter(16);
  w.zeros(1000);
  w.put(0xfff, 12);
  w.padToOctet();
  const out = w.take('msb-first');
  assert.equal(out.length, Math.ceil(1012 / 8));
  assert.ok(out.subarray(0, 125).every((b) => b === 0));
  assert.deepEqual([...out.subarray(125)], [0xff, 0xf0]);
  assert.equal(w.bitPosition, 1016);
});
