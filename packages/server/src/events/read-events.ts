/**
 * @module events/read-events
 * Replays the log by position: an account's stream by `account_seq`, a fax's by `sequence`. Live
 * streams resume from here after a reconnect, after a missed publish, or when the client was too slow.
 */
import type { Database, Db } from '../store/database.ts';
import { accountPositionsSettled } from './account-sequencer.ts';
import { type BusEvent, eventFromRow } from './fax-event.ts';

export interface ReadAfter {
  /** Exclusive; 0 reads from the start. */
  readonly after: number;
  readonly limit: number;
}

export async function readAccountEvents(db: Db, accountId: string, range: ReadAfter): Promise<BusEvent[]> {
  const rows = await db
    .selectFrom('fax_events')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('account_seq', '>', range.after)
    .orderBy('account_seq')
    .limit(range.limit)
    .execute();
  return rows.map(eventFromRow);
}

export async function readFaxEvents(db: Db, faxId: string, range: ReadAfter): Promise<BusEvent[]> {
  const rows = await db
    .selectFrom('fax_events')
    .selectAll()
    .where('fax_id', '=', faxId)
    .where('sequence', '>', range.after)
    .orderBy('sequence')
    .limit(range.limit)
    .execute();
  return rows.map(eventFromRow);
}

/** The account's current end of stream: where a stream that starts "now" begins. */
export async function accountStreamEnd(db: Db, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('accounts')
    .select('event_seq')
    .where('id', '=', accountId)
    .executeTakeFirst();
  return row?.event_seq ?? 0;
}

/**
 * Where event `eventId` sits, in its account's stream and its fax's; undefined when not this account's.
 * An event just committed on PostgreSQL may not have its account position yet (a client can know its id
 * from a fax's stream or a webhook first): the numbering run is awaited then.
 */
export async function findEventPosition(
  database: Database,
  accountId: string,
  eventId: string,
): Promise<
  { readonly faxId: string; readonly sequence: number; readonly accountSequence: number } | undefined
> {
  const read = () =>
    database.db
      .selectFrom('fax_events')
      .select(['fax_id', 'sequence', 'account_seq'])
      .where('id', '=', eventId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
  let row = await read();
  if (row && row.account_seq === null) {
    await accountPositionsSettled(database);
    row = await read();
  }
  if (!row || row.account_seq === null) return undefined;
  return { faxId: row.fax_id, sequence: row.sequence, accountSequence: row.account_seq };
}
