/**
 * @module jobs/heartbeat-jobs
 * Extends the leases a worker still holds. A job missing from the result lost its lease (the worker
 * stalled past `lockedUntil` and another took it over), and its handler must stop.
 */
import type { Database } from '../store/database.ts';

export async function heartbeatJobs(
  database: Database,
  jobIds: readonly string[],
  workerId: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  return database.writeTransaction(async (trx) => {
    // A lease that has already run out is not renewed: someone may have taken the job over.
    const rows = await trx
      .updateTable('jobs')
      .set({ locked_until: now + leaseMs, updated_at: now })
      .where('id', 'in', jobIds)
      .where('locked_by', '=', workerId)
      .where('locked_until', '>=', now)
      .returning('id')
      .execute();
    return new Set(rows.map((r) => r.id));
  });
}
