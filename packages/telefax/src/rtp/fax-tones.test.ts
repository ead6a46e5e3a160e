import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaxToneDetector } from './fax-tone-detector.ts';
import { CED_FREQUENCY_HZ, CNG_FREQUENCY_HZ, FaxToneGenerator } from './fax-tones.ts';
import { decodeG711, encodeG711 } from './g711.ts';
import { levelDbm0, toneShare } from './goertzel.ts';

/** Which 20 ms frames (by index) carry sound. */
function soundingFrames(generator: FaxToneGenerator, frames: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < frames; i++) if (generator.next(160).some((s) => s !== 0)) out.push(i);
  return out;
}

describe('fax tones', () => {
  it('CNG: 1100 Hz for 0.5 s every 3.5 s, at -11 dBm0', () => {
    const cng = new FaxToneGenerator({ role: 'calling' });
    const on = soundingFrames(cng, 2 * 175);
    const expected = [...Array(25).keys(), ...Array.from({ length: 25 }, (_, i) => 175 + i)];
    assert.deepEqual(on, expected);
    const burst = new FaxToneGenerator({ role: 'calling' }).next(4000);
    assert.ok(toneShare(burst, CNG_FREQUENCY_HZ) > 0.99);
    assert.ok(toneShare(burst, CED_FREQUENCY_HZ) < 0.01);
    assert.ok(Math.abs(levelDbm0(burst) - -11) < 0.1, `level ${levelDbm0(burst)}`);
  });

  it('CED: silence, then 2100 Hz, then silence', () => {
    const ced = new FaxToneGenerator({ role: 'answering', cedDelayMs: 2000, cedDurationMs: 3000 });
    const on = soundingFrames(ced, 400);
    assert.equal(on[0], 100, 'CED starts after 2 s');
    assert.equal(on.length, 150, 'and lasts 3 s');
    assert.equal(on.at(-1), 249);
    const tone = new FaxToneGenerator({ role: 'answering', cedDelayMs: 0 }).next(1600);
    assert.ok(toneShare(tone, CED_FREQUENCY_HZ) > 0.99);
    assert.ok(toneShare(tone, CNG_FREQUENCY_HZ) < 0.01);
  });

  it('the tones survive G.711 and are recognised; silence and other tones are not', () => {
    const detect = (samples: Int16Array, codec: 'PCMU' | 'PCMA') => {
      const detector = new FaxToneDetector();
      for (let i = 0; i < samples.length; i += 160) {
        detector.push(decodeG711(encodeG711(samples.subarray(i, i + 160), codec), codec));
      }
      return detector.detected;
    };
    assert.equal(detect(new FaxToneGenerator({ role: 'calling' }).next(4000), 'PCMU'), 'cng');
    assert.equal(
      detect(new FaxToneGenerator({ role: 'answering', cedDelayMs: 0 }).next(8000), 'PCMA'),
      'ced',
    );
    assert.equal(detect(new Int16Array(8000), 'PCMU'), undefined);
    const dialTone = Int16Array.from({ length: 8000 }, (_, n) =>
      Math.round(
        3000 * (Math.sin((2 * Math.PI * 350 * n) / 8000) + Math.sin((2 * Math.PI * 440 * n) / 8000)),
      ),
    );
    assert.equal(detect(dialTone, 'PCMA'), undefined);
    const shortBurst = new FaxToneGenerator({ role: 'answering', cedDelayMs: 0, cedDurationMs: 200 }).next(
      8000,
    );
    assert.equal(detect(shortBurst, 'PCMU'), undefined, 'a 200 ms blip is not a fax tone');
  });
});
