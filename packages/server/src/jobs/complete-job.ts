/**
 * @module jobs/complete-job
 * A finished job is deleted — but only by the worker that still holds its lease.
 */
import type { Database } from '../store/database.ts';

/** @returns false when the lease was lost (expired and taken over), so the result must not count. */
export async function completeJob(database: Database, jobId: string, workerId: string): Promise<boolean> {
  return database.writeTransaction(async (trx) => {
    const result = await trx
      .deleteFrom('jobs')
      .where('id', '=', jobId)
      .where('locked_by', '=', workerId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  });
}
