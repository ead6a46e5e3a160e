/**
 * @module
 * How the sending side's signalling rate follows the receiver's verdicts: FTT on a training check, RTP or RTN
 * (PIP/PIN in ECM) on a page. T.30 asks only for training again (DCS + TCF) after RTP and RTN; the rate is the
 * transmitter's choice in that DCS. On an audio line a lower rate is more robust, so every verdict steps one rate
 * down the fallback table (spandsp's rule, which TSB-85 MTGN24, MTGN27 and OTGC10 expect). Over T.38 the rate
 * only paces the IFP packets: a lower one loses no fewer packets, it only makes the rest of the call slower.
 */

import type { T30Context } from './t30-context.ts';
import type { FaxModem, LineMedium, T30Port } from './t30-port.ts';

/**
 * How many verdicts of each kind at one rate make the transmitter step one rate down the fallback table; until
 * then it trains again at the same rate. A count starts again when the rate changes; CFR clears the FTT count,
 * MCF (a page that arrived clean) clears the RTP and RTN counts.
 */
export interface RateFallbackPolicy {
  /** RTP/PIP: the page was kept but was poor. 0: never step down for it. */
  readonly rtp: number;
  /** RTN/PIN: the page was rejected (it comes again, at most 3 times: see phase-d-transmitter). 0: never. */
  readonly rtn: number;
  /** FTT: the training check failed. At least 1, so training down the table always ends. */
  readonly ftt: number;
}

export type Verdict = keyof RateFallbackPolicy;

/** Audio line: every verdict steps down at once. */
export const AUDIO_RATE_FALLBACK: RateFallbackPolicy = Object.freeze({ rtp: 1, rtn: 1, ftt: 1 });

/**
 * T.38: keep the rate after RTP (the page arrived; what spoilt it was lost packets); step down on the second RTN
 * or FTT at one rate. A single lost packet in a TCF or a page costs a retrain, not the rate of the whole call,
 * while a far end whose line really is bad at this rate (a gateway's analogue leg) still brings the rate down.
 */
export const PACKET_RATE_FALLBACK: RateFallbackPolicy = Object.freeze({ rtp: 0, rtn: 2, ftt: 2 });

const PRESETS: Readonly<Record<LineMedium, RateFallbackPolicy>> = {
  audio: AUDIO_RATE_FALLBACK,
  packet: PACKET_RATE_FALLBACK,
};

/** The policy for a session: the option (a preset by medium, or counts), else the port's medium's default. */
export function resolveRateFallback(
  option: LineMedium | RateFallbackPolicy | undefined,
  port: T30Port,
): RateFallbackPolicy {
  if (option === undefined) return PRESETS[port.medium ?? 'audio'];
  if (typeof option === 'string') {
    const preset = PRESETS[option];
    if (!preset) throw new RangeError(`rateFallback must be 'audio', 'packet' or counts, not '${option}'`);
    return preset;
  }
  for (const verdict of ['rtp', 'rtn', 'ftt'] as const) {
    const n = option[verdict];
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`rateFallback.${verdict} must be a whole number ≥ 0`);
    }
  }
  if (option.ftt < 1) throw new RangeError('rateFallback.ftt must be ≥ 1, or a failing training never ends');
  return Object.freeze({ rtp: option.rtp, rtn: option.rtn, ftt: option.ftt });
}

/** Verdicts counted at the rate they were given for. */
export interface VerdictCounts {
  modem: FaxModem | null;
  rtp: number;
  rtn: number;
  ftt: number;
}

/**
 * Counts a verdict on the current rate and says whether the next training steps one rate down (true) or is at
 * the same rate (false).
 */
export function countVerdict(ctx: T30Context, verdict: Verdict): boolean {
  const counts = ctx.tx.verdicts;
  const modem = ctx.dcs!.modem;
  if (counts.modem !== modem) {
    counts.modem = modem;
    counts.rtp = 0;
    counts.rtn = 0;
    counts.ftt = 0;
  }
  counts[verdict]++;
  const limit = ctx.rateFallback[verdict];
  return limit > 0 && counts[verdict] >= limit;
}

/** A positive answer: CFR clears the FTT count, MCF the RTP and RTN counts. */
export function clearVerdicts(ctx: T30Context, answer: 'CFR' | 'MCF'): void {
  const counts = ctx.tx.verdicts;
  if (answer === 'CFR') counts.ftt = 0;
  else {
    counts.rtp = 0;
    counts.rtn = 0;
  }
}
