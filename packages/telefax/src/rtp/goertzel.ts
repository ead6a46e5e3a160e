/**
 * @module
 * Single-frequency energy by the Goertzel recurrence, and the share of a block's energy that lies at one
 * frequency: near 1 for a pure tone there, near 0 for other tones, silence or noise. Used to recognise fax tones
 * (CNG, CED) in received audio and to check generated ones.
 */

/** |X(f)|² of `samples` at `frequencyHz` (the DFT term, for any frequency, not only bin centres). */
export function goertzelPower(samples: ArrayLike<number>, frequencyHz: number, sampleRate = 8000): number {
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  const coefficient = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coefficient * s1 * s2;
}

/**
 * The fraction (0–1) of the block's energy at `frequencyHz`: 2|X(f)|² / (N · Σx²), which is 1 for a sine at a
 * bin centre filling the block (Parseval). 0 for a silent block.
 */
export function toneShare(samples: ArrayLike<number>, frequencyHz: number, sampleRate = 8000): number {
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += samples[i]! * samples[i]!;
  if (energy === 0 || samples.length === 0) return 0;
  const share = (2 * goertzelPower(samples, frequencyHz, sampleRate)) / (samples.length * energy);
  return Math.min(1, share);
}

/** Mean power of a block in dBm0 (0 dBm0 ≙ a sine of peak 32767 at -3.14 dB); -Infinity for silence. */
export function levelDbm0(samples: ArrayLike<number>): number {
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += samples[i]! * samples[i]!;
  const zeroDbm0Power = (32767 * 10 ** (-3.14 / 20)) ** 2 / 2;
  return 10 * Math.log10(energy / Math.max(1, samples.length) / zeroDbm0Power);
}
