/**
 * @module
 * When a failed webhook delivery is tried again: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
 * (the schedule Svix runs), each with ±20 % jitter so that endpoints coming back are not hit in lockstep.
 */

/** Delay before attempt n+1 after n failed attempts (index n−1); attempt 1 is immediate. */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
]);

/** Total attempts: the first one and one per scheduled retry. */
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_MS.length;

/** The most a Retry-After header can push a retry out. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
/** A receiver that timed out or said 429 is slow or overloaded: give it at least a minute. */
const SLOW_DOWN_MIN_MS = 60_000;

export interface RetryDecisionInput {
  /** Attempts made so far, all failed (≥ 1). */
  readonly failedAttempts: number;
  /** From a Retry-After header, if any. */
  readonly retryAfterMs?: number;
  /** The attempt timed out or got 429. */
  readonly slowDown?: boolean;
  /** 0..1; Math.random by default. */
  readonly random?: () => number;
}

/** Milliseconds until the next attempt, or null when the schedule is exhausted. */
export function nextRetryDelayMs(input: RetryDecisionInput): number | null {
  const { failedAttempts } = input;
  if (failedAttempts < 1) throw new RangeError('failedAttempts starts at 1');
  if (failedAttempts >= WEBHOOK_MAX_ATTEMPTS) return null;
  const scheduled = WEBHOOK_RETRY_DELAYS_MS[failedAttempts];
  const random = input.random ?? Math.random;
  let delay = Math.round(scheduled * (0.8 + 0.4 * random()));
  if (input.slowDown) delay = Math.max(delay, SLOW_DOWN_MIN_MS);
  if (input.retryAfterMs !== undefined && input.retryAfterMs > delay) {
    delay = Math.min(input.retryAfterMs, MAX_RETRY_AFTER_MS);
  }
  return delay;
}

/** Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
