/**
 * @module domain/append-fax-event
 * Appends to a fax's event log inside the caller's transaction. The sequence comes from the fax row
 * itself (`event_seq`, bumped by the same UPDATE that reads it), so it is gap-free and ordered per fax
 * even with concurrent writers: the row lock serialises them, and a rolled-back transaction takes
 * its number back with it.
 */
import type { Db } from '../store/database.ts';
import { newId } from '../store/new-id.ts';

export type FaxEventType =
  | 'fax.queued'
  | 'fax.media.processed'
  | 'fax.sending.started'
  | 'fax.page.sent'
  | 'fax.delivered'
  | 'fax.failed'
  | 'fax.canceled'
  | 'fax.receiving.started'
  | 'fax.page.received'
  | 'fax.received';

export interface FaxEvent {
  readonly id: string;
  readonly type: FaxEventType;
  readonly sequence: number;
  readonly createdAt: number;
  /** `fax_id`, `sequence`, `status` and the type's own fields; never page content or personal data. */
  readonly data: Record<string, unknown>;
}

export async function appendFaxEvent(
  trx: Db,
  faxId: string,
  type: FaxEventType,
  fields: Record<string, unknown> = {},
  now: number = Date.now(),
): Promise<FaxEvent> {
  const fax = await trx
    .updateTable('faxes')
    .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
    .where('id', '=', faxId)
    .returning(['event_seq', 'status'])
    .executeTakeFirstOrThrow();
  const data = { fax_id: faxId, sequence: fax.event_seq, status: fax.status, ...fields };
  const event: FaxEvent = { id: newId('evt', now), type, sequence: fax.event_seq, createdAt: now, data };
  await trx
    .insertInto('fax_events')
    .values({
      id: event.id,
      fax_id: faxId,
      sequence: event.sequence,
      type,
      data_json: JSON.stringify(data),
      created_at: now,
    })
    .execute();
  return event;
}
