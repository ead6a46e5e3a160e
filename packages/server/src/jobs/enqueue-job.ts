/**
 * @module jobs/enqueue-job
 * Adds a job inside the caller's transaction, so the job exists exactly when the state it drives does.
 */

import type { Db } from '../store/database.ts';
import { newId } from '../store/new-id.ts';
import type { EnqueueSpec } from './job.ts';

export const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * @param trx the transaction that also writes the state the job acts on.
 * @returns the job's id, and whether it was created (false: a pending job already had `uniqueKey`).
 * @example
 * await database.writeTransaction(async (trx) => {
 *   await trx.insertInto('faxes').values(fax).execute();
 *   await enqueueJob(trx, { kind: 'fax.send', payload: { faxId: fax.id }, uniqueKey: `fax.send:${fax.id}` });
 * });
 */
export async function enqueueJob(
  trx: Db,
  spec: EnqueueSpec,
  now: number = Date.now(),
): Promise<{ id: string; created: boolean }> {
  const id = newId('job', now);
  const inserted = await trx
    .insertInto('jobs')
    .values({
      id,
      kind: spec.kind,
      payload_json: JSON.stringify(spec.payload ?? null),
      state: 'pending',
      priority: spec.priority ?? 0,
      run_at: spec.runAt ?? now,
      attempts: 0,
      max_attempts: spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      group_key: spec.groupKey ?? null,
      unique_key: spec.uniqueKey ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('unique_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id, created: true };
  const existing = await trx
    .selectFrom('jobs')
    .where('unique_key', '=', spec.uniqueKey!)
    .select('id')
    .executeTakeFirstOrThrow();
  return { id: existing.id, created: false };
}
