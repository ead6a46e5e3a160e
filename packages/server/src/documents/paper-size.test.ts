import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nearestPaper, pageGeometry } from './paper-size.ts';

describe('pageGeometry', () => {
  it('gives 1728 pels and height × 98/196/391 lines', () => {
    const rows = (paper: 'letter' | 'a4' | 'legal') =>
      (['standard', 'fine', 'superfine'] as const).map((r) => pageGeometry(paper, r).height);
    assert.deepEqual(rows('letter'), [1078, 2156, 4301]);
    assert.deepEqual(rows('a4'), [1146, 2292, 4572]);
    assert.deepEqual(rows('legal'), [1372, 2744, 5474]);
    assert.deepEqual(pageGeometry('a4', 'fine'), {
      paper: 'a4',
      resolution: 'fine',
      width: 1728,
      height: 2292,
      xDpi: 204,
      yDpi: 196,
    });
  });

  it('picks the paper nearest a page’s proportions, either orientation', () => {
    assert.equal(nearestPaper(612, 792), 'letter');
    assert.equal(nearestPaper(595, 842), 'a4');
    assert.equal(nearestPaper(842, 595), 'a4');
    assert.equal(nearestPaper(612, 1008), 'legal');
    assert.equal(nearestPaper(100, 100), 'letter');
  });
});
