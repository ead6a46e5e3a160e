/**
 * @module jobs/fail-job
 * A failed attempt: the job is rescheduled after a back-off, or, out of attempts (or failed
 * permanently), kept as `dead` with its last error and its unique key freed.
 */
import type { Database } from '../store/database.ts';
import { type BackoffOptions, DEFAULT_BACKOFF, retryDelayMs } from './backoff.ts';
import type { Job } from './job.ts';

export interface FailOptions {
  readonly permanent?: boolean;
  /** Overrides the back-off for this retry. */
  readonly retryDelayMs?: number;
  readonly backoff?: BackoffOptions;
  readonly now?: number;
}

export type FailOutcome = 'retrying' | 'dead' | 'lease_lost';

/** Stored errors are bounded: a stack trace is for a log, not for the jobs table. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}

export async function failJob(
  database: Database,
  job: Job,
  workerId: string,
  error: unknown,
  options: FailOptions = {},
): Promise<FailOutcome> {
  const now = options.now ?? Date.now();
  const dead = options.permanent === true || job.attempts >= job.maxAttempts;
  const lastError = describeError(error);
  return database.writeTransaction(async (trx) => {
    const update = trx.updateTable('jobs').where('id', '=', job.id).where('locked_by', '=', workerId);
    const result = dead
      ? await update
          .set({
            state: 'dead',
            locked_by: null,
            locked_until: null,
            unique_key: null,
            last_error: lastError,
            updated_at: now,
          })
          .executeTakeFirst()
      : await update
          .set({
            run_at:
              now + (options.retryDelayMs ?? retryDelayMs(job.attempts, options.backoff ?? DEFAULT_BACKOFF)),
            locked_by: null,
            locked_until: null,
            last_error: lastError,
            updated_at: now,
          })
          .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return 'lease_lost';
    return dead ? 'dead' : 'retrying';
  });
}
