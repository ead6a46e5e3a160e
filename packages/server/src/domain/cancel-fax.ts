/**
 * @module domain/cancel-fax
 * Canceling an outbound fax: the status, the removal of its waiting send job and the `fax.canceled`
 * event commit together. A send job already running notices at its next step (send-fax-job.ts).
 */
import { ApiError } from '../api/errors.ts';
import { writeWithEvents } from '../events/write-with-events.ts';
import type { Database } from '../store/database.ts';
import { appendFaxEvent } from './append-fax-event.ts';
import { type FaxWithDocuments, loadFax, sendJobKey } from './create-outbound-fax.ts';
import { assertTransition, CANCELABLE_STATUSES, type FaxStatus } from './fax-status.ts';

export async function cancelFax(
  database: Database,
  accountId: string,
  faxId: string,
  now: number = Date.now(),
): Promise<FaxWithDocuments> {
  return writeWithEvents(database, async (trx) => {
    let query = trx
      .selectFrom('faxes')
      .selectAll()
      .where('id', '=', faxId)
      .where('account_id', '=', accountId);
    if (database.engine === 'postgres') query = query.forUpdate();
    const fax = await query.executeTakeFirst();
    if (!fax || fax.deleted_at !== null)
      throw new ApiError('not_found', 'No fax with this id.', { id: faxId });
    const status = fax.status as FaxStatus;
    if (fax.direction !== 'outbound' || !CANCELABLE_STATUSES.has(status)) {
      throw new ApiError('fax_not_cancelable', undefined, { id: faxId, status });
    }
    assertTransition(faxId, 'outbound', status, 'canceled');
    await trx
      .updateTable('faxes')
      .set({ status: 'canceled', completed_at: now, updated_at: now })
      .where('id', '=', faxId)
      .execute();
    const key = sendJobKey(faxId);
    await trx
      .deleteFrom('jobs')
      .where((eb) => eb.or([eb('unique_key', '=', key), eb('unique_key', 'like', `${key}#%`)]))
      .where('locked_by', 'is', null)
      .execute();
    await appendFaxEvent(trx, faxId, 'fax.canceled', {}, now);
    return (await loadFax(trx, accountId, faxId))!;
  });
}
