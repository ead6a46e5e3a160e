/**
 * @module
 * How the sending side's signalling rate follows the receiver's verdicts: FTT on a training check, RTP or RTN
 * (PIP/PIN in ECM) on a page, and in ECM a block still not whole after four PPRs (CTC). T.30 asks only for
 * training again (DCS + TCF) after RTP and RTN, and lets CTC name the rate to go on correcting at; the rate is the
 * transmitter's choice. On an audio line a lower rate is more robust, so every verdict steps one rate down the
 * fallback table (spandsp's rule, which TSB-85 MTGN24, MTGN27, OTGC10 and the ECM CTC procedures expect). Over
 * T.38 the rate only paces the IFP packets: a lower one loses no fewer packets, it only makes the rest of the call
 * slower.
 */

import { nextLowerModem } from './dis-dcs.ts';
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
  /**
   * ECM, CTC (four PPRs and the block is still not whole, T.30 §A.4.2.2): counted per block, not per rate. The
   * first `ctc − 1` CTCs for a block keep the rate; the `ctc`-th and every later one name the next lower rate, and
   * when none is left the block is given up (EOR). At least 1, so correcting a block always ends.
   */
  readonly ctc: number;
}

/** A policy as the session option takes it: `ctc` left out is the port medium's (see resolveRateFallback). */
export type RateFallbackCounts = Omit<RateFallbackPolicy, 'ctc'> & { readonly ctc?: number };

/** The verdicts counted per rate (CTC is counted per block: countCtc). */
export type Verdict = 'rtp' | 'rtn' | 'ftt';

/** Audio line: every verdict, and every CTC, steps down at once. */
export const AUDIO_RATE_FALLBACK: RateFallbackPolicy = Object.freeze({ rtp: 1, rtn: 1, ftt: 1, ctc: 1 });

/**
 * T.38: keep the rate after RTP (the page arrived; what spoilt it was lost packets); step down on the second RTN
 * or FTT at one rate. A single lost packet in a TCF or a page costs a retrain, not the rate of the whole call,
 * while a far end whose line really is bad at this rate (a gateway's analogue leg) still brings the rate down.
 * Likewise the first CTC for a block goes on correcting at the same rate, and later ones for it step down.
 */
export const PACKET_RATE_FALLBACK: RateFallbackPolicy = Object.freeze({ rtp: 0, rtn: 2, ftt: 2, ctc: 2 });

const PRESETS: Readonly<Record<LineMedium, RateFallbackPolicy>> = {
  audio: AUDIO_RATE_FALLBACK,
  packet: PACKET_RATE_FALLBACK,
};

/**
 * The policy for a session: the option (a preset by medium, or counts), else the port's medium's default. Counts
 * without `ctc` take the port medium's.
 */
export function resolveRateFallback(
  option: LineMedium | RateFallbackCounts | undefined,
  port: T30Port,
): RateFallbackPolicy {
  const byMedium = PRESETS[port.medium ?? 'audio'];
  if (option === undefined) return byMedium;
  if (typeof option === 'string') {
    const preset = PRESETS[option];
    if (!preset) throw new RangeError(`rateFallback must be 'audio', 'packet' or counts, not '${option}'`);
    return preset;
  }
  const policy = { rtp: option.rtp, rtn: option.rtn, ftt: option.ftt, ctc: option.ctc ?? byMedium.ctc };
  for (const count of ['rtp', 'rtn', 'ftt', 'ctc'] as const) {
    const n = policy[count];
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`rateFallback.${count} must be a whole number ≥ 0`);
    }
  }
  if (policy.ftt < 1) throw new RangeError('rateFallback.ftt must be ≥ 1, or a failing training never ends');
  if (policy.ctc < 1) throw new RangeError('rateFallback.ctc must be ≥ 1, or correcting a block never ends');
  return Object.freeze(policy);
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

/** CTCs sent for one ECM block, "page:block" (the PPS page counter and block number). */
export interface CtcCount {
  block: string | null;
  count: number;
}

/**
 * Four PPRs for the current block: counts the CTC about to go out for it and returns the rate it names, the
 * current one or the next lower (rateFallback.ctc); null when a lower rate is due and none is left (EOR).
 */
export function countCtc(ctx: T30Context): FaxModem | null {
  const counts = ctx.tx.ctc;
  const block = `${ctx.tx.ecmPageCounter}:${ctx.tx.ecmBlock}`;
  if (counts.block !== block) {
    counts.block = block;
    counts.count = 0;
  }
  counts.count++;
  const modem = ctx.dcs!.modem;
  if (counts.count < ctx.rateFallback.ctc) return modem;
  return nextLowerModem(modem, ctx.local, ctx.remoteCaps!, ctx.options.maxBitRate ?? 14400);
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
