/**
 * @module domain/append-fax-event
 * Appends to a fax's event log inside the caller's transaction. The sequence comes from the fax row
 * itself (`event_seq`, bumped by the same UPDATE that reads it), so it is gap-free and ordered per fax
 * even with concurrent writers: the row lock serialises them, and a rolled-back transaction takes
 * its number back with it. The account's stream position comes the same way from the account row,
 * whose lock is held until commit, so positions are handed out in commit order as well — except on
 * PostgreSQL inside `writeWithEvents`, where the account sequencer hands them out after the commit.
 *
 * `data` is written once, complete (fax ids, numbers, status, metadata and the type's own fields,
 * camelCase), and every channel sends it as stored. Call it inside `writeWithEvents` so the event
 * reaches the sinks in the transaction and the live bus after the commit.
 */
import type { BusEvent, StoredFaxEventType } from '../events/fax-event.ts';
import { accountPositionsDeferred, collectEvent } from '../events/write-with-events.ts';
import type { Db } from '../store/database.ts';
import { newId } from '../store/new-id.ts';
import type { FaxesTable } from '../store/schema.ts';

export type FaxEventType = StoredFaxEventType;

/** What an event takes from its fax's row. */
const EVENT_SOURCE = [
  'event_seq',
  'status',
  'account_id',
  'direction',
  'from_number',
  'to_number',
  'metadata_json',
] as const satisfies readonly (keyof FaxesTable)[];
type EventSource = Pick<FaxesTable, (typeof EVENT_SOURCE)[number]>;

export interface AppendOptions {
  /** Also counts one more page transferred on the fax (and touches `updated_at`), in the same statement. */
  readonly countPage?: boolean;
}

export async function appendFaxEvent(
  trx: Db,
  faxId: string,
  type: FaxEventType,
  fields: Record<string, unknown> = {},
  now: number = Date.now(),
  options: AppendOptions = {},
): Promise<BusEvent> {
  const fax = await trx
    .updateTable('faxes')
    .set((eb) => ({
      event_seq: eb('event_seq', '+', 1),
      ...(options.countPage ? { pages_transferred: eb('pages_transferred', '+', 1), updated_at: now } : {}),
    }))
    .where('id', '=', faxId)
    .returning(EVENT_SOURCE)
    .executeTakeFirstOrThrow();
  return writeEvent(trx, faxId, fax, type, fields, now);
}

/**
 * The first event of a fax inserted in this transaction with `event_seq` 1: the row is at hand, so
 * the fax needs no update to hand out the sequence.
 */
export function appendFirstFaxEvent(
  trx: Db,
  fax: FaxesTable,
  type: FaxEventType,
  fields: Record<string, unknown> = {},
  now: number = Date.now(),
): Promise<BusEvent> {
  if (fax.event_seq !== 1) throw new RangeError('the first event of a fax is its event 1');
  return writeEvent(trx, fax.id, fax, type, fields, now);
}

async function writeEvent(
  trx: Db,
  faxId: string,
  fax: EventSource,
  type: FaxEventType,
  fields: Record<string, unknown>,
  now: number,
): Promise<BusEvent> {
  // 0: the account sequencer hands the position out after the commit (see writeWithEvents).
  const accountSeq = accountPositionsDeferred(trx)
    ? 0
    : (
        await trx
          .updateTable('accounts')
          .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
          .where('id', '=', fax.account_id)
          .returning('event_seq')
          .executeTakeFirstOrThrow()
      ).event_seq;
  const data = {
    faxId,
    sequence: fax.event_seq,
    status: fax.status,
    direction: fax.direction,
    from: fax.from_number,
    to: fax.to_number,
    metadata: JSON.parse(fax.metadata_json) as Record<string, string>,
    ...fields,
  };
  const id = newId('evt', now);
  await trx
    .insertInto('fax_events')
    .values({
      id,
      fax_id: faxId,
      sequence: fax.event_seq,
      type,
      data_json: JSON.stringify(data),
      created_at: now,
      account_id: fax.account_id,
      account_seq: accountSeq === 0 ? null : accountSeq,
    })
    .execute();
  const event: BusEvent = {
    accountId: fax.account_id,
    faxId,
    accountSequence: accountSeq,
    envelope: { id, type, timestamp: new Date(now).toISOString(), data },
  };
  collectEvent(trx, event);
  return event;
}
