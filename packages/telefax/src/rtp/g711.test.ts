import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeALaw, decodeG711, decodeMuLaw, encodeALaw, encodeG711, encodeMuLaw } from './g711.ts';

describe('G.711', () => {
  it('encodes the known codes: silence, full scale and the smallest steps', () => {
    assert.equal(encodeMuLaw(0), 0xff);
    assert.equal(encodeALaw(0), 0xd5);
    assert.equal(encodeMuLaw(32767), 0x80);
    assert.equal(encodeMuLaw(-32768), 0x00);
    assert.equal(encodeALaw(32767), 0xaa);
    assert.equal(encodeALaw(-32768), 0x2a);
    assert.equal(encodeMuLaw(-1), 0x7f, 'µ-law keeps the sign of the smallest negative value');
    assert.equal(encodeALaw(-1), 0x55);
    assert.equal(encodeMuLaw(1000), 0xce);
    assert.equal(encodeALaw(1000), 0xfa);
  });

  it('decodes to the segment mid-points of G.711', () => {
    assert.equal(decodeMuLaw(0xff), 0);
    assert.equal(decodeMuLaw(0x80), 32124);
    assert.equal(decodeMuLaw(0x00), -32124);
    assert.equal(decodeALaw(0xd5), 8);
    assert.equal(decodeALaw(0xaa), 32256);
    assert.equal(decodeALaw(0x2a), -32256);
    assert.equal(decodeMuLaw(0xce), 988);
    assert.equal(decodeALaw(0xfa), 1008);
  });

  it('every code decodes to a value that encodes back to it (µ-law -0 becomes +0)', () => {
    for (let code = 0; code < 256; code++) {
      assert.equal(encodeALaw(decodeALaw(code)), code, `A-law ${code.toString(16)}`);
      const mu = encodeMuLaw(decodeMuLaw(code));
      assert.equal(mu, code === 0x7f ? 0xff : code, `µ-law ${code.toString(16)}`);
    }
  });

  it('is monotonic, and the quantisation error stays within half a step of the segment', () => {
    let previousMu = Number.NEGATIVE_INFINITY;
    let previousA = Number.NEGATIVE_INFINITY;
    for (let x = -32768; x <= 32767; x += 7) {
      const mu = decodeMuLaw(encodeMuLaw(x));
      const a = decodeALaw(encodeALaw(x));
      assert.ok(mu >= previousMu && a >= previousA, `monotonic at ${x}`);
      previousMu = mu;
      previousA = a;
      const clipped = Math.max(-32124, Math.min(32124, x));
      assert.ok(Math.abs(mu - clipped) <= Math.max(4, Math.abs(x) / 16 + 4), `µ-law error at ${x}: ${mu}`);
      assert.ok(Math.abs(a - x) <= Math.max(8, Math.abs(x) / 16 + 8), `A-law error at ${x}: ${a}`);
    }
  });

  it('encodes and decodes blocks', () => {
    const samples = Int16Array.from([0, 1000, -1000, 32767]);
    assert.deepEqual([...encodeG711(samples, 'PCMU')], [0xff, 0xce, 0x4e, 0x80]);
    assert.deepEqual([...decodeG711(encodeG711(samples, 'PCMA'), 'PCMA')], [8, 1008, -1008, 32256]);
  });
});
