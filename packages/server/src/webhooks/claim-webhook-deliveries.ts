/**
 * @module webhooks/claim-webhook-deliveries
 * Takes up to `limit` due deliveries under a lease. Due: pending, its time has come, not leased (or
 * the lease ran out — a crashed dispatcher's work is taken over that way), its endpoint enabled, and —
 * for fax events — no earlier event of the same fax still pending for the same endpoint. That last
 * rule is the per-(endpoint, fax) order: a later event waits while an earlier one is being retried,
 * and faxes never wait for each other. On PostgreSQL candidate rows are taken `FOR UPDATE SKIP
 * LOCKED`, so any number of dispatchers share the table; the head-of-line rule still holds between
 * them because an event leaves `pending` only when its delivery is recorded.
 */
import { sql } from 'kysely';
import type { Database, Db, Engine } from '../store/database.ts';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from './webhook-tables.ts';

export interface ClaimedDelivery {
  readonly delivery: WebhookDeliveriesTable;
  readonly endpoint: Pick<
    WebhookEndpointsTable,
    'id' | 'account_id' | 'url' | 'secret' | 'previous_secret' | 'previous_secret_until'
  >;
}

export interface ClaimDeliveriesOptions {
  readonly workerId: string;
  readonly limit: number;
  readonly leaseMs: number;
  readonly now: number;
  /** Deliveries this dispatcher is already sending; never claimed twice by the same process. */
  readonly exclude?: ReadonlySet<string>;
  /** Only this fax's deliveries. */
  readonly faxId?: string;
}

export async function claimWebhookDeliveries(
  database: Database,
  options: ClaimDeliveriesOptions,
): Promise<ClaimedDelivery[]> {
  if (options.limit <= 0) return [];
  return database.writeTransaction((trx) => claimWebhookDeliveriesIn(trx, database.engine, options));
}

/** The same, inside the caller's write transaction. */
export async function claimWebhookDeliveriesIn(
  trx: Db,
  engine: Engine,
  options: ClaimDeliveriesOptions,
): Promise<ClaimedDelivery[]> {
  if (options.limit <= 0) return [];
  const { now } = options;
  const exclude = [...(options.exclude ?? [])];
  let query = trx
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .selectAll('d')
    .select([
      'w.account_id as w_account_id',
      'w.url as w_url',
      'w.secret as w_secret',
      'w.previous_secret as w_previous_secret',
      'w.previous_secret_until as w_previous_secret_until',
    ])
    .where('d.state', '=', 'pending')
    .where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.locked_until', 'is', null), eb('d.locked_until', '<', now)]))
    .where('w.enabled', '=', 1)
    .where((eb) =>
      eb.or([
        eb('d.ordered', '=', 0),
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as p')
              .select(sql<number>`1`.as('one'))
              .whereRef('p.endpoint_id', '=', 'd.endpoint_id')
              .whereRef('p.fax_id', '=', 'd.fax_id')
              .where('p.state', '=', 'pending')
              .where('p.ordered', '=', 1)
              .whereRef('p.sequence', '<', 'd.sequence'),
          ),
        ),
      ]),
    )
    .orderBy('d.next_attempt_at')
    .orderBy('d.id')
    .limit(options.limit + exclude.length);
  if (exclude.length > 0 && exclude.length <= 500) query = query.where('d.id', 'not in', exclude);
  if (options.faxId !== undefined) query = query.where('d.fax_id', '=', options.faxId);
  const lockedUntil = now + options.leaseMs;
  if (engine === 'postgres' && exclude.length <= 500) {
    // Pick and lease in one statement: one round trip instead of two.
    const picked = query.clearSelect().select('d.id').limit(options.limit).forUpdate(['d']).skipLocked();
    const leased = await trx
      .with('picked', () => picked)
      .updateTable('webhook_deliveries as d')
      .from(['picked', 'webhook_endpoints as w'])
      .set((eb) => ({
        locked_by: options.workerId,
        locked_until: lockedUntil,
        attempts: eb('d.attempts', '+', 1),
        updated_at: now,
      }))
      .whereRef('d.id', '=', 'picked.id')
      .whereRef('w.id', '=', 'd.endpoint_id')
      .returningAll('d')
      .returning([
        'w.account_id as w_account_id',
        'w.url as w_url',
        'w.secret as w_secret',
        'w.previous_secret as w_previous_secret',
        'w.previous_secret_until as w_previous_secret_until',
      ])
      .execute();
    leased.sort((a, b) => a.next_attempt_at - b.next_attempt_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return leased.map((row) => claimedFrom(row));
  }
  if (engine === 'postgres') query = query.forUpdate(['d']).skipLocked();
  const rows = (await query.execute()).filter((r) => !options.exclude?.has(r.id)).slice(0, options.limit);
  if (rows.length === 0) return [];

  await trx
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      locked_by: options.workerId,
      locked_until: lockedUntil,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where(
      'id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  return rows.map((r) =>
    claimedFrom(r, { attempts: r.attempts + 1, locked_by: options.workerId, locked_until: lockedUntil }),
  );
}

/** A claimed row (the delivery's columns and its endpoint's as `w_…`) split in two; `leased` as written. */
function claimedFrom(
  row: WebhookDeliveriesTable & {
    w_account_id: string;
    w_url: string;
    w_secret: string;
    w_previous_secret: string | null;
    w_previous_secret_until: number | null;
  },
  leased: Partial<WebhookDeliveriesTable> = {},
): ClaimedDelivery {
  const { w_account_id, w_url, w_secret, w_previous_secret, w_previous_secret_until, ...delivery } = row;
  return {
    delivery: { ...delivery, ...leased },
    endpoint: {
      id: delivery.endpoint_id,
      account_id: w_account_id,
      url: w_url,
      secret: w_secret,
      previous_secret: w_previous_secret,
      previous_secret_until: w_previous_secret_until,
    },
  };
}
