/**
 * @module webhooks/fan-out-fax-events
 * Turns committed fax events into deliveries: one row per event and matching endpoint, written in
 * one transaction with the fax's cursor (`webhook_fax_cursors.sequence`, the last event fanned out).
 * A fax's events are gap-free and commit in sequence order (domain/append-fax-event), so reading
 * `sequence > cursor` never skips one and never fans one out twice; concurrent fan-outs of the same
 * fax serialise on the cursor row (PostgreSQL `FOR UPDATE`, SQLite's single writer), and the
 * delivery's `dedupe_key` makes a repeat harmless anyway.
 */
import { sql } from 'kysely';
import type { Database, Db, Engine } from '../store/database.ts';
import type { ClaimedDelivery } from './claim-webhook-deliveries.ts';
import { wantsEventType } from './webhook-event-types.ts';
import { eventIdFloor, newWebhookId } from './webhook-ids.ts';
import {
  faxEventEnvelope,
  type PageFacts,
  type PayloadFax,
  type WebhookEnvelope,
} from './webhook-payload.ts';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from './webhook-tables.ts';

const INSERT_CHUNK = 200;

export interface FanOutResult {
  readonly events: number;
  readonly deliveries: number;
  /** With `lease`: the new deliveries leased as they were written. */
  readonly claimed?: ClaimedDelivery[];
}

/**
 * Lease new deliveries as they are written, as a claim would: each that is due at once, to an
 * enabled endpoint, with no earlier event of its fax still pending for that endpoint. Saves the claim's
 * statement when the deliveries are to be sent right away.
 */
export interface FanOutLease {
  readonly workerId: string;
  readonly leaseMs: number;
  /** At most this many. */
  readonly limit: number;
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

/** Inserts the rows, skipping repeats (same `dedupe_key`). @returns the ids of those inserted. */
export async function insertDeliveries(
  trx: Db,
  rows: readonly WebhookDeliveriesTable[],
): Promise<Set<string>> {
  const inserted = new Set<string>();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const result = await trx
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .execute();
    for (const r of result) inserted.add(r.id);
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
  lease?: FanOutLease,
): Promise<FanOutResult> {
  const ids = [...new Set(faxIds)].sort();
  if (ids.length === 0) return { events: 0, deliveries: 0 };
  // Round trips are most of a fan-out's time on PostgreSQL, so each step below is one statement.
  const lockCursors = () => {
    let query = trx
      .selectFrom('webhook_fax_cursors')
      .select(['fax_id', 'sequence'])
      .where('fax_id', 'in', ids)
      .orderBy('fax_id');
    if (engine === 'postgres') query = query.forUpdate();
    return query.execute();
  };
  let cursorRows = await lockCursors();
  if (cursorRows.length < ids.length) {
    const known = new Set(cursorRows.map((c) => c.fax_id));
    await trx
      .insertInto('webhook_fax_cursors')
      .values(ids.filter((id) => !known.has(id)).map((fax_id) => ({ fax_id, sequence: 0, updated_at: now })))
      .onConflict((oc) => oc.column('fax_id').doNothing())
      .execute();
    cursorRows = await lockCursors();
  }
  const cursors = new Map(cursorRows.map((c) => [c.fax_id, c.sequence]));

  // Each event with its fax (null when the fax row is gone: the event is skipped, the cursor moves on).
  const events = await trx
    .selectFrom('fax_events as e')
    .innerJoin('webhook_fax_cursors as c', 'c.fax_id', 'e.fax_id')
    .leftJoin('faxes as f', 'f.id', 'e.fax_id')
    .select([
      'e.id',
      'e.fax_id',
      'e.sequence',
      'e.type',
      'e.data_json',
      'e.created_at',
      'f.id as f_id',
      'f.account_id as f_account_id',
      'f.direction as f_direction',
      'f.from_number as f_from_number',
      'f.to_number as f_to_number',
      'f.metadata_json as f_metadata_json',
    ])
    .where('e.fax_id', 'in', ids)
    .whereRef('e.sequence', '>', 'c.sequence')
    .orderBy('e.fax_id')
    .orderBy('e.sequence')
    .execute();
  if (events.length === 0) return { events: 0, deliveries: 0 };
  const faxes = new Map<string, PayloadFax & { account_id: string }>();
  for (const e of events) {
    if (e.f_id === null || faxes.has(e.f_id)) continue;
    faxes.set(e.f_id, {
      id: e.f_id,
      account_id: e.f_account_id!,
      direction: e.f_direction!,
      from_number: e.f_from_number!,
      to_number: e.f_to_number!,
      metadata_json: e.f_metadata_json!,
    });
  }
  const accountIds = [...new Set([...faxes.values()].map((f) => f.account_id))];
  const eventFaxIds = [...faxes.keys()];
  // With a lease, each endpoint comes with the faxes it still has an ordered delivery pending for
  // (one row per such fax): those wait for their turn, as the claim's head-of-line rule says.
  const endpointQuery = trx
    .selectFrom('webhook_endpoints as w')
    .selectAll('w')
    .where('w.account_id', 'in', accountIds)
    .where('w.enabled', '=', 1);
  const endpointRows =
    accountIds.length === 0
      ? []
      : lease === undefined || eventFaxIds.length === 0
        ? (await endpointQuery.execute()).map((w) => ({ ...w, blocked_fax_id: null as string | null }))
        : await endpointQuery
            .leftJoin('webhook_deliveries as p', (join) =>
              join
                .onRef('p.endpoint_id', '=', 'w.id')
                .on('p.fax_id', 'in', eventFaxIds)
                .on('p.state', '=', 'pending')
                .on('p.ordered', '=', 1),
            )
            .select('p.fax_id as blocked_fax_id')
            .distinct()
            .execute();
  const endpoints = [...new Map(endpointRows.map((w) => [w.id, w])).values()];
  const waiting = new Set(
    endpointRows.filter((w) => w.blocked_fax_id !== null).map((w) => `${w.id}:${w.blocked_fax_id}`),
  );

  const rows: WebhookDeliveriesTable[] = [];
  if (endpoints.length > 0) {
    const envelopes = new Map<string, WebhookEnvelope>();
    for (const e of events) {
      const fax = e.f_id === null ? undefined : faxes.get(e.f_id);
      if (fax) envelopes.set(e.id, faxEventEnvelope(e, fax));
    }
    // Page events written today carry their page's facts; only older ones need the page rows.
    const lacking = events.filter((e) => {
      const data = envelopes.get(e.id)?.data;
      return (
        e.type === 'fax.page.received' && data !== undefined && (data.rows == null || data.badRows == null)
      );
    });
    const pages = new Map<string, PageFacts>();
    if (lacking.length > 0) {
      const pageRows = await trx
        .selectFrom('fax_pages')
        .select(['fax_id', 'n', 'rows', 'bad_rows'])
        .where('fax_id', 'in', [...new Set(lacking.map((e) => e.fax_id))])
        .execute();
      for (const p of pageRows) pages.set(`${p.fax_id}:${p.n}`, { rows: p.rows, badRows: p.bad_rows });
    }
    for (const event of events) {
      const fax = event.f_id === null ? undefined : faxes.get(event.f_id);
      const envelope = envelopes.get(event.id);
      if (!fax || !envelope) continue;
      const wanting = endpoints.filter(
        (w) =>
          w.account_id === fax.account_id &&
          w.created_at <= event.created_at &&
          wantsEventType(JSON.parse(w.event_types_json), event.type) &&
          wantsFax(w, fax.from_number, fax.to_number),
      );
      if (wanting.length === 0) continue;
      const pageNumber = envelope.data.page;
      const page =
        event.type === 'fax.page.received' && typeof pageNumber === 'number'
          ? pages.get(`${fax.id}:${pageNumber}`)
          : undefined;
      const body = JSON.stringify(page ? faxEventEnvelope(event, fax, page) : envelope);
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
  const claimed: ClaimedDelivery[] = [];
  if (lease !== undefined) {
    const lockedUntil = now + lease.leaseMs;
    for (const row of rows) {
      const line = `${row.endpoint_id}:${row.fax_id}`;
      if (waiting.has(line)) continue;
      // Later events of the same fax wait behind this one, leased or not.
      waiting.add(line);
      if (claimed.length >= lease.limit) continue;
      row.locked_by = lease.workerId;
      row.locked_until = lockedUntil;
      row.attempts = 1;
      const w = endpoints.find((e) => e.id === row.endpoint_id)!;
      claimed.push({
        delivery: row,
        endpoint: {
          id: w.id,
          account_id: w.account_id,
          url: w.url,
          secret: w.secret,
          previous_secret: w.previous_secret,
          previous_secret_until: w.previous_secret_until,
        },
      });
    }
  }
  const inserted = await insertDeliveries(trx, rows);

  const last = new Map<string, number>();
  for (const e of events) last.set(e.fax_id, Math.max(last.get(e.fax_id) ?? 0, e.sequence));
  const moved = [...last].filter(([faxId, sequence]) => sequence > (cursors.get(faxId) ?? 0));
  if (moved.length > 0) {
    // One statement for every fax of the batch.
    const sequence =
      moved.length === 1
        ? sql<number>`${moved[0]![1]}`
        : sql<number>`case fax_id ${sql.join(
            moved.map(([faxId, seq]) => sql`when ${faxId} then ${seq}`),
            sql` `,
          )} else sequence end`;
    await trx
      .updateTable('webhook_fax_cursors')
      .set({ sequence, updated_at: now })
      .where(
        'fax_id',
        'in',
        moved.map(([faxId]) => faxId),
      )
      .execute();
  }
  if (lease === undefined) return { events: events.length, deliveries: inserted.size };
  // A repeat of a delivery already written leases nothing: the first one's state stands.
  const leased = claimed.filter((c) => inserted.has(c.delivery.id));
  return { events: events.length, deliveries: inserted.size, claimed: leased };
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
