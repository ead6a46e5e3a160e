import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lostRows } from './phase-c-non-ecm.ts';
import { copyQuality } from './phase-d-receiver.ts';

test('copy quality by bad rows: < 5 % good (MCF), ≤ 15 % poor (RTP), else bad (RTN)', () => {
  assert.equal(copyQuality(600, 0), 'good');
  assert.equal(copyQuality(600, 29), 'good');
  assert.equal(copyQuality(600, 30), 'poor');
  assert.equal(copyQuality(600, 90), 'poor');
  assert.equal(copyQuality(600, 91), 'bad');
  assert.equal(copyQuality(0, 0), 'bad');
});

test('copy quality with lost data: never good, lost rows count as bad rows of the page', () => {
  // 4 bad rows decoded and 6 rows lost: 10/606, well under 5 %, but the page did not arrive whole.
  assert.equal(copyQuality(600, 4, 6), 'poor');
  assert.equal(copyQuality(600, 0, 1), 'poor');
  // 60 bad + 46 lost = 106 of 646 rows: 16.4 % → RTN, though neither alone would be.
  assert.equal(copyQuality(600, 60, 46), 'bad');
  assert.equal(copyQuality(600, 0, 105), 'poor');
  assert.equal(copyQuality(600, 0, 106), 'bad');
});

test('rows held by lost data: mean coded row length, at least one a gap, MR spoils the 2-D rows after it', () => {
  assert.deepEqual(lostRows([], 26_247, 600, 'mr', 196), { octets: 0, rows: 0 });
  // 26,247 octets for 600 rows: 43.7 octets a row; 92 octets → 3 rows, + 3 2-D rows at fine (K = 4).
  assert.deepEqual(lostRows([{ at: 5244, octets: 92 }], 26_247, 600, 'mr', 196), { octets: 92, rows: 6 });
  assert.deepEqual(lostRows([{ at: 5244, octets: 92 }], 26_247, 600, 'mh', 196), { octets: 92, rows: 3 });
  // Standard resolution MR: K = 2, one 2-D row after each gap.
  assert.deepEqual(
    lostRows(
      [
        { at: 100, octets: 10 },
        { at: 900, octets: 500 },
      ],
      10_000,
      100,
      'mr',
      98,
    ),
    { octets: 510, rows: 1 + 1 + 5 + 1 },
  );
  // Nothing decoded (everything lost): one row a gap at least.
  assert.deepEqual(lostRows([{ at: 0, octets: 0 }], 0, 0, 'mh', 98), { octets: 0, rows: 1 });
});
