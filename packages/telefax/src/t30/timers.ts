/**
 * @module
 * The T.30 timers (T.30 §5.4.3), in milliseconds. Values are the standard's nominal ones; tests shorten them.
 */

export interface T30Timers {
  /** T1: 35 ± 5 s to identify a compatible station (phase B entry, both sides). */
  readonly t1: number;
  /** T2: 6 ± 1 s, receiver waiting for a command (after CFR, MCF, PPR...). */
  readonly t2: number;
  /** T3: 10 ± 5 s, operator alert after PIP/PIN (no operator here: bounds the wait). */
  readonly t3: number;
  /** T4: 3 s ± 15 %, transmitter waiting for a response before repeating its command. */
  readonly t4: number;
  /** T5: 60 ± 5 s, the RR/RNR flow-control loop in ECM. */
  readonly t5: number;
}

export const DEFAULT_TIMERS: T30Timers = Object.freeze({
  t1: 35_000,
  t2: 6_000,
  t3: 10_000,
  t4: 3_000,
  t5: 60_000,
});

/** A command is sent at most this many times before the call is given up (T.30 §5.4.3.1 "3 times"). */
export const MAX_COMMAND_TRIES = 3;

/** PPRs for one block before CTC or EOR (T.30 Annex A §A.4.2.2 and Figure A.8). */
export const PPR_LIMIT = 4;

/**
 * RTN/PIN for one page: the sender gives the call up at this many (the page went this many times); the receiver
 * answers DCN to the next bad copy of a page it rejected this many times. T.30 sets no number (§5.3.6.1.7 leaves
 * the retries to the transmitter).
 */
export const MAX_PAGE_REJECTIONS = 3;

export function resolveTimers(overrides: Partial<T30Timers> = {}): T30Timers {
  const t = { ...DEFAULT_TIMERS, ...overrides };
  for (const [name, value] of Object.entries(t)) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`timer ${name} must be a positive number`);
  }
  return t;
}

/** A point in time a wait must not pass; `remaining()` is what is left of it. */
export class Deadline {
  readonly at: number;
  constructor(ms: number) {
    this.at = Date.now() + ms;
  }
  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }
  expired(): boolean {
    return Date.now() >= this.at;
  }
}
