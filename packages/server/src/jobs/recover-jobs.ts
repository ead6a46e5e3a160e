/**
 * @module jobs/recover-jobs
 * Sweeps leases that ran out (their worker crashed or hung). Jobs with attempts left become
 * claimable at once — claimJobs would take them anyway — and jobs that used their last attempt
 * while leased are declared dead, since no worker will ever fail them.
 */
import type { Database } from '../store/database.ts';

export async function recoverJobs(
  database: Database,
  now: number = Date.now(),
): Promise<{ requeued: number; dead: number }> {
  return database.writeTransaction(async (trx) => {
    const dead = await trx
      .updateTable('jobs')
      .set({
        state: 'dead',
        locked_by: null,
        locked_until: null,
        unique_key: null,
        last_error: 'lease expired on the last attempt',
        updated_at: now,
      })
      .where('state', '=', 'pending')
      .where('locked_until', '<', now)
      .whereRef('attempts', '>=', 'max_attempts')
      .executeTakeFirst();
    const requeued = await trx
      .updateTable('jobs')
      .set({ locked_by: null, locked_until: null, last_error: 'lease expired', updated_at: now })
      .where('state', '=', 'pending')
      .where('locked_until', '<', now)
      .executeTakeFirst();
    return { requeued: Number(requeued.numUpdatedRows), dead: Number(dead.numUpdatedRows) };
  });
}
