/**
 * @module
 * Recognises the far end's fax tones in received audio: CED (2100 Hz) or CNG (1100 Hz), once the tone has held
 * for a minimum time in consecutive blocks. A block counts when most of its energy lies at the tone's frequency
 * and it is louder than the floor, so speech, ringback and noise do not trigger it.
 */
import { CED_FREQUENCY_HZ, CNG_FREQUENCY_HZ } from './fax-tones.ts';
import { levelDbm0, toneShare } from './goertzel.ts';

export type FaxTone = 'cng' | 'ced';

export interface FaxToneDetectorOptions {
  /** Which tones to look for. Default both. */
  readonly tones?: readonly FaxTone[];
  /** How long a tone must hold. Default 400 (CNG bursts are 500 ms). */
  readonly minDurationMs?: number;
  /** Quietest block that counts. Default -43 dBm0. */
  readonly minLevelDbm0?: number;
  /** Share of the block's energy that must be at the tone. Default 0.6. */
  readonly minShare?: number;
}

const FREQUENCY: Readonly<Record<FaxTone, number>> = { cng: CNG_FREQUENCY_HZ, ced: CED_FREQUENCY_HZ };

export class FaxToneDetector {
  readonly #tones: readonly FaxTone[];
  readonly #minSamples: number;
  readonly #minLevel: number;
  readonly #minShare: number;
  #current: FaxTone | undefined;
  #heldSamples = 0;
  #detected: FaxTone | undefined;

  constructor(options: FaxToneDetectorOptions = {}) {
    this.#tones = options.tones ?? ['cng', 'ced'];
    this.#minSamples = ((options.minDurationMs ?? 400) * 8000) / 1000;
    this.#minLevel = options.minLevelDbm0 ?? -43;
    this.#minShare = options.minShare ?? 0.6;
  }

  /** The tone recognised so far, if any (it stays reported once recognised). */
  get detected(): FaxTone | undefined {
    return this.#detected;
  }

  /** Feeds a block of 8 kHz samples (one RTP packet's worth); returns the tone once it has held long enough. */
  push(samples: Int16Array): FaxTone | undefined {
    if (this.#detected) return this.#detected;
    const loud = levelDbm0(samples) >= this.#minLevel;
    const tone = loud
      ? this.#tones.find((t) => toneShare(samples, FREQUENCY[t]) >= this.#minShare)
      : undefined;
    if (tone === undefined || tone !== this.#current) {
      this.#current = tone;
      this.#heldSamples = tone === undefined ? 0 : samples.length;
    } else this.#heldSamples += samples.length;
    if (this.#current !== undefined && this.#heldSamples >= this.#minSamples) this.#detected = this.#current;
    return this.#detected;
  }
}
