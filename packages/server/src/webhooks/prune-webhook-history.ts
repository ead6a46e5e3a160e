/**
 * @module webhooks/prune-webhook-history
 * Keeps the webhook tables from growing with the platform's age. Two things pile up otherwise:
 *  - finished deliveries (delivered or given up) and their attempts — the delivery log — kept for the
 *    retention only;
 *  - fan-out cursors, one per fax ever written (faxes of accounts without endpoints too: the sweeps
 *    move their cursors up). A cursor matters while its fax may get events or a sweep may look at
 *    them, so it goes once the fax is final (no status leaves a final one), every event is fanned out,
 *    and the newest event is older than the fan-out watermark by a margin. Should a cursor be made
 *    again anyway, the fan-out starts over and the deliveries' dedupe keys — kept far longer than
 *    that margin — turn the repeats into nothing.
 * Deliveries of a deleted endpoint go with it (ON DELETE CASCADE). Each batch is a short write
 * transaction of its own, so neither engine's writers wait long behind the pruning.
 */
import { TERMINAL_STATUSES } from '../domain/fax-status.ts';
import type { Database, Db } from '../store/database.ts';
import { eventIdFloor } from './webhook-ids.ts';

export interface PruneWebhookHistoryOptions {
  /** Finished deliveries last changed before this go, with their attempts (delivery clock, ms). */
  readonly deliveriesBefore: number;
  /**
   * Cursors of final, fully fanned-out faxes whose every event was created before this go (wall clock,
   * ms; keep it below the fan-out watermark and the recent sweep's window).
   */
  readonly cursorsBefore: number;
  /** Rows per batch; default 500. */
  readonly batchSize?: number;
  /** Batches per kind in one call, so one call stays short; what is left waits for the next. Default 20. */
  readonly maxBatches?: number;
}

export interface PruneWebhookHistoryResult {
  readonly deliveries: number;
  readonly attempts: number;
  readonly cursors: number;
  /** False when `maxBatches` ran out before everything due was gone. */
  readonly complete: boolean;
}

const FINISHED = ['delivered', 'failed'] as const;

/**
 * Runs `batch`, each time in a write transaction of its own, until it reports that nothing due is left;
 * at most `maxBatches` times. False when the batches ran out first.
 */
async function inBatches(
  database: Database,
  maxBatches: number,
  batch: (trx: Db) => Promise<boolean>,
): Promise<boolean> {
  for (let n = 0; n < maxBatches; n++) {
    if (await database.writeTransaction(batch)) return true;
  }
  return false;
}

export async function pruneWebhookHistory(
  database: Database,
  options: PruneWebhookHistoryOptions,
): Promise<PruneWebhookHistoryResult> {
  const batchSize = options.batchSize ?? 500;
  const maxBatches = options.maxBatches ?? 20;
  let deliveries = 0;
  let attempts = 0;
  let cursors = 0;

  const deliveriesComplete = await inBatches(database, maxBatches, async (trx) => {
    const due = await trx
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('state', 'in', FINISHED)
      .where('updated_at', '<', options.deliveriesBefore)
      .limit(batchSize)
      .execute();
    if (due.length === 0) return true;
    const ids = due.map((d) => d.id);
    // Attempts explicitly rather than by cascade: SQLite cascades only with foreign_keys on.
    const a = await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).executeTakeFirst();
    const d = await trx
      .deleteFrom('webhook_deliveries')
      .where('id', 'in', ids)
      .where('state', 'in', FINISHED)
      .executeTakeFirst();
    attempts += Number(a.numDeletedRows);
    deliveries += Number(d.numDeletedRows);
    return due.length < batchSize;
  });

  const eventFloor = eventIdFloor(options.cursorsBefore);
  const cursorsComplete = await inBatches(database, maxBatches, async (trx) => {
    const due = await trx
      .selectFrom('webhook_fax_cursors as c')
      .leftJoin('faxes as f', 'f.id', 'c.fax_id')
      .select('c.fax_id')
      .where((eb) => eb.or([eb('f.id', 'is', null), eb('f.status', 'in', [...TERMINAL_STATUSES])]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('fax_events as e')
              .select('e.id')
              .whereRef('e.fax_id', '=', 'c.fax_id')
              .where((e) => e.or([e('e.sequence', '>', e.ref('c.sequence')), e('e.id', '>=', eventFloor)])),
          ),
        ),
      )
      .limit(batchSize)
      .execute();
    if (due.length === 0) return true;
    const result = await trx
      .deleteFrom('webhook_fax_cursors')
      .where(
        'fax_id',
        'in',
        due.map((c) => c.fax_id),
      )
      .executeTakeFirst();
    cursors += Number(result.numDeletedRows);
    return due.length < batchSize;
  });
  return { deliveries, attempts, cursors, complete: deliveriesComplete && cursorsComplete };
}
