/**
 * @module store/migrations/0008-unnumbered-events
 * Finds the events still waiting for their account position (events/account-sequencer.ts) without
 * reading the log: a partial index of only those, by age.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's row types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('fax_events_unnumbered')
    .on('fax_events')
    .column('created_at')
    .where(sql.ref('account_seq'), 'is', null)
    .execute();
}
