/**
 * @module jobs/job
 * The queue's public types. A job is one row in `jobs`: it waits until `runAt`, is claimed under a
 * lease (`lockedBy`, `lockedUntil`) that its worker renews, and is deleted when it completes.
 * Lower `priority` runs first. Jobs sharing a `groupKey` (a trunk, say) run at most N at a time.
 */
import type { JobsTable } from '../store/schema.ts';

export interface Job<Payload = unknown> {
  readonly id: string;
  readonly kind: string;
  readonly payload: Payload;
  readonly priority: number;
  readonly runAt: number;
  /** Attempts so far, counting the one in progress. */
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly groupKey: string | null;
  readonly uniqueKey: string | null;
  readonly lastError: string | null;
  readonly lockedBy: string | null;
  readonly lockedUntil: number | null;
  readonly createdAt: number;
}

export interface EnqueueSpec<Payload = unknown> {
  readonly kind: string;
  readonly payload: Payload;
  /** Lower runs first; default 0. */
  readonly priority?: number;
  /** Millisecond time before which the job is not run; default now. */
  readonly runAt?: number;
  /** Default 10. */
  readonly maxAttempts?: number;
  readonly groupKey?: string | null;
  /** While a job with this key is pending, enqueueing another with it is a no-op. */
  readonly uniqueKey?: string | null;
}

/** Thrown by a handler when retrying cannot help; the job goes straight to `dead`. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export function jobFromRow(row: JobsTable): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: JSON.parse(row.payload_json),
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    groupKey: row.group_key,
    uniqueKey: row.unique_key,
    lastError: row.last_error,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
  };
}
