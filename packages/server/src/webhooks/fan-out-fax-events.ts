/**
 * @module webhooks/fan-out-fax-events
 * Turns committed fax events into deliveries: one row per event and matching endpoint, written in
 * one transaction with the fax's cursor (`webhook_fax_cursors.sequence`, the last event fanned out).
 * A fax's events are gap-free and commit in sequence order (domain/append-fax-event), so reading
 * `sequence > cursor` never skips one and never fans one out twice; concurrent fan-outs of the same
 * fax serialise on the cursor row (PostgreSQL `FOR UPDATE`, SQLite's single writer), and the
 * delivery's `dedupe_key` makes a repeat harmless anyway.
 */
import type { Database, Db, Engine } from '../store/database.ts';
import { wantsEventType } from './webhook-event-types.ts';
import { eventIdFloor, newWebhookId } from './webhook-ids.ts';
import { faxEventEnvelope, type PageFacts } from './webhook-payload.ts';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from './webhook-tables.ts';

const INSERT_CHUNK = 200;

export interface FanOutResult {
  readonly events: number;
  readonly deliveries: number;
}

/** Whether an endpoint takes events of a fax between `from` and `to` (either may be one of our numbers). */
export function wantsFax(endpoint: Pick<WebhookEndpointsTable, 'numbers_json'>, from: string, to: string) {
  const numbers = JSON.parse(endpoint.numbers_json) as string[];
  return numbers.length === 0 || numbers.includes(from) || numbers.includes(to);
}

export function newDeliveryRow(
  endpointId: string,
  event: { id: string; type: string; faxId: string | null; sequence: number | null },
  body: string,
  now: number,
  ordered: boolean,
): WebhookDeliveriesTable {
  return {
    id: newWebhookId('dlv'),
    endpoint_id: endpointId,
    event_id: event.id,
    event_type: event.type,
    fax_id: event.faxId,
    sequence: event.sequence,
    ordered: ordered ? 1 : 0,
    dedupe_key: ordered ? `${endpointId}:${event.id}` : null,
    body,
    state: 'pending',
    attempts: 0,
    next_attempt_at: now,
    locked_by: null,
    locked_until: null,
    last_status: null,
    last_error: null,
    created_at: now,
    updated_at: now,
    delivered_at: null,
  };
}

export async function insertDeliveries(trx: Db, rows: readonly WebhookDeliveriesTable[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const result = await trx
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return inserted;
}

/**
 * Fans out every not yet fanned-out event of these faxes.
 * @param now the delivery clock: new deliveries are due at `now`.
 */
export async function fanOutFaxEvents(
  database: Database,
  faxIds: readonly string[],
  now: number,
): Promise<FanOutResult> {
  if (faxIds.length === 0) return { events: 0, deliveries: 0 };
  return database.writeTransaction((trx) => fanOutFaxEventsIn(trx, database.engine, faxIds, now));
}

/** The same, inside the caller's write transaction (the dispatcher batches its writes into one). */
export async function fanOutFaxEventsIn(
  trx: Db,
  engine: Engine,
  faxIds: readonly string[],
  now: number,
): Promise<FanOutResult> {
  const ids = [...new Set(faxIds)].sort();
  if (ids.length === 0) return { events: 0, deliveries: 0 };
  await trx
    .insertInto('webhook_fax_cursors')
    .values(ids.map((fax_id) => ({ fax_id, sequence: 0, updated_at: now })))
    .onConflict((oc) => oc.column('fax_id').doNothing())
    .execute();
  let cursorQuery = trx
    .selectFrom('webhook_fax_cursors')
    .select(['fax_id', 'sequence'])
    .where('fax_id', 'in', ids)
    .orderBy('fax_id');
  if (engine === 'postgres') cursorQuery = cursorQuery.forUpdate();
  const cursors = new Map((await cursorQuery.execute()).map((c) => [c.fax_id, c.sequence]));

  const events = await trx
    .selectFrom('fax_events as e')
    .innerJoin('webhook_fax_cursors as c', 'c.fax_id', 'e.fax_id')
    .select(['e.id', 'e.fax_id', 'e.sequence', 'e.type', 'e.data_json', 'e.created_at'])
    .where('e.fax_id', 'in', ids)
    .whereRef('e.sequence', '>', 'c.sequence')
    .orderBy('e.fax_id')
    .orderBy('e.sequence')
    .execute();
  if (events.length === 0) return { events: 0, deliveries: 0 };
  const eventFaxIds = [...new Set(events.map((e) => e.fax_id))];

  const faxes = new Map(
    (
      await trx
        .selectFrom('faxes')
        .select(['id', 'account_id', 'direction', 'from_number', 'to_number', 'metadata_json'])
        .where('id', 'in', eventFaxIds)
        .execute()
    ).map((f) => [f.id, f]),
  );
  const accountIds = [...new Set([...faxes.values()].map((f) => f.account_id))];
  const endpoints = accountIds.length
    ? await trx
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('account_id', 'in', accountIds)
        .where('enabled', '=', 1)
        .execute()
    : [];

  const rows: WebhookDeliveriesTable[] = [];
  if (endpoints.length > 0) {
    const pages = new Map<string, PageFacts>();
    if (events.some((e) => e.type === 'fax.page.received')) {
      const pageRows = await trx
        .selectFrom('fax_pages')
        .select(['fax_id', 'n', 'rows', 'bad_rows'])
        .where('fax_id', 'in', eventFaxIds)
        .execute();
      for (const p of pageRows) pages.set(`${p.fax_id}:${p.n}`, { rows: p.rows, badRows: p.bad_rows });
    }
    for (const event of events) {
      const fax = faxes.get(event.fax_id);
      if (!fax) continue;
      const wanting = endpoints.filter(
        (w) =>
          w.account_id === fax.account_id &&
          w.created_at <= event.created_at &&
          wantsEventType(JSON.parse(w.event_types_json), event.type) &&
          wantsFax(w, fax.from_number, fax.to_number),
      );
      if (wanting.length === 0) continue;
      const pageNumber = (JSON.parse(event.data_json) as { page?: unknown }).page;
      const page =
        event.type === 'fax.page.received' && typeof pageNumber === 'number'
          ? pages.get(`${fax.id}:${pageNumber}`)
          : undefined;
      const body = JSON.stringify(faxEventEnvelope(event, fax, page));
      for (const endpoint of wanting) {
        rows.push(
          newDeliveryRow(
            endpoint.id,
            { id: event.id, type: event.type, faxId: fax.id, sequence: event.sequence },
            body,
            now,
            true,
          ),
        );
      }
    }
  }
  const deliveries = await insertDeliveries(trx, rows);

  const last = new Map<string, number>();
  for (const e of events) last.set(e.fax_id, Math.max(last.get(e.fax_id) ?? 0, e.sequence));
  for (const [faxId, sequence] of last) {
    if (sequence > (cursors.get(faxId) ?? 0)) {
      await trx
        .updateTable('webhook_fax_cursors')
        .set({ sequence, updated_at: now })
        .where('fax_id', '=', faxId)
        .execute();
    }
  }
  return { events: events.length, deliveries };
}

/**
 * Faxes with events not yet fanned out among the events created since `sinceMs` (read by id, which
 * starts with the creation time). At most `limit`.
 */
export async function findFaxesToFanOut(
  database: Database,
  sinceMs: number,
  limit: number,
): Promise<string[]> {
  const rows = await database.db
    .selectFrom('fax_events as e')
    .leftJoin('webhook_fax_cursors as c', 'c.fax_id', 'e.fax_id')
    .select('e.fax_id')
    .distinct()
    .where('e.id', '>=', eventIdFloor(sinceMs))
    .where((eb) => eb.or([eb('c.sequence', 'is', null), eb('e.sequence', '>', eb.ref('c.sequence'))]))
    .limit(limit)
    .execute();
  return rows.map((r) => r.fax_id);
}

/** Every event created before the watermark has been fanned out (kept durable for restarts). */
export async function readFanOutWatermark(database: Database): Promise<number> {
  const row = await database.db
    .selectFrom('webhook_fanout_state')
    .select('watermark')
    .where('id', '=', 1)
    .executeTakeFirst();
  return row?.watermark ?? 0;
}

export async function advanceFanOutWatermark(database: Database, watermark: number): Promise<void> {
  await database.writeTransaction(async (trx) => {
    const current = await trx
      .selectFrom('webhook_fanout_state')
      .select('watermark')
      .where('id', '=', 1)
      .executeTakeFirst();
    if (!current) await trx.insertInto('webhook_fanout_state').values({ id: 1, watermark }).execute();
    else if (watermark > current.watermark)
      await trx.updateTable('webhook_fanout_state').set({ watermark }).where('id', '=', 1).execute();
  });
}
