/**
 * @module store/migrations/0007-blob-spool
 * Small blobs written in the same transaction as the rows that name them (store/spooled-blob-store.ts):
 * one commit makes both durable, and a background flusher moves the bytes on to the blob store.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's row types.
export async function up(db: Kysely<any>): Promise<void> {
  const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? sql`bytea` : sql`blob`;
  await db.schema
    .createTable('blob_spool')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('bytes', bytes, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
