/**
 * @module jobs/release-jobs
 * Gives leased jobs back without counting the attempt: a worker shutting down did not fail them.
 */
import type { Database } from '../store/database.ts';

export async function releaseJobs(
  database: Database,
  jobIds: readonly string[],
  workerId: string,
  now: number = Date.now(),
): Promise<number> {
  if (jobIds.length === 0) return 0;
  return database.writeTransaction(async (trx) => {
    const result = await trx
      .updateTable('jobs')
      .set((eb) => ({
        locked_by: null,
        locked_until: null,
        attempts: eb('attempts', '-', 1),
        updated_at: now,
      }))
      .where('id', 'in', jobIds)
      .where('locked_by', '=', workerId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  });
}
