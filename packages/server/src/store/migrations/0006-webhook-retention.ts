/**
 * @module store/migrations/0006-webhook-retention
 * The index the delivery-log retention walks (webhooks/prune-webhook-history): finished deliveries by
 * the time they last changed, so each pruning batch reads only rows that are due instead of the table.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's row types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_finished')
    .on('webhook_deliveries')
    .columns(['state', 'updated_at'])
    .execute();
}
