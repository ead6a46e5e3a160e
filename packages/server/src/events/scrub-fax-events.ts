/**
 * @module events/scrub-fax-events
 * Deleting a fax erases its metadata; the events keep their place in the log (sequence, type, time,
 * numbers, status) but lose the metadata they carried, so a replay after deletion shows none.
 */
import type { Db } from '../store/database.ts';

export async function scrubFaxEvents(trx: Db, faxId: string): Promise<void> {
  const rows = await trx
    .selectFrom('fax_events')
    .select(['id', 'data_json'])
    .where('fax_id', '=', faxId)
    .execute();
  for (const row of rows) {
    const data = JSON.parse(row.data_json) as Record<string, unknown>;
    if (data.metadata && Object.keys(data.metadata).length === 0) continue;
    data.metadata = {};
    await trx
      .updateTable('fax_events')
      .set({ data_json: JSON.stringify(data) })
      .where('id', '=', row.id)
      .execute();
  }
}
