/**
 * @module jobs/backoff
 * Retry delays: exponential, capped, with jitter so jobs that failed together do not retry together.
 */

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Returns [0, 1); injectable so tests can pin the jitter. */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60 * 60 * 1_000 };

/**
 * Delay before the next attempt after `attempts` failed ones: base·2^(attempts−1), capped at maxMs,
 * then drawn uniformly from its upper half ("equal jitter"), so it never collapses to zero.
 */
export function retryDelayMs(attempts: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  const random = options.random ?? Math.random;
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
