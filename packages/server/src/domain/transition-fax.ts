/**
 * @module domain/transition-fax
 * The one way a fax changes status: checked against the lifecycle table, and conditional on the
 * status the caller saw, so a concurrent change (a cancel arriving mid-send) makes the update a
 * no-op the caller can see, instead of being overwritten.
 */
import type { Db } from '../store/database.ts';
import type { FaxesTable } from '../store/schema.ts';
import { assertTransition, type FaxDirection, type FaxStatus, isTerminal } from './fax-status.ts';

export type FaxChanges = Partial<
  Omit<FaxesTable, 'id' | 'account_id' | 'status' | 'direction' | 'created_at'>
>;

/** @returns false when the fax was no longer in `from`. */
export async function transitionFax(
  trx: Db,
  fax: { readonly id: string; readonly direction: FaxDirection },
  from: FaxStatus,
  to: FaxStatus,
  changes: FaxChanges = {},
  now: number = Date.now(),
): Promise<boolean> {
  assertTransition(fax.id, fax.direction, from, to);
  const result = await trx
    .updateTable('faxes')
    .set({ ...changes, status: to, updated_at: now, ...(isTerminal(to) ? { completed_at: now } : {}) })
    .where('id', '=', fax.id)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
