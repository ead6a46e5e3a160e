/**
 * @module store/migrations/0004-bootstrap
 * One row per one-time setup step, keyed by the step's name. The first start inserts its row in the same
 * transaction as the account it creates, so of several processes starting on one empty database exactly
 * one creates the account; the others find the row (PostgreSQL makes them wait for the winner's commit on
 * the primary key) and create nothing. A database that already has an account counts as set up.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's row types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('bootstrap_steps')
    .addColumn('step', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`
    insert into bootstrap_steps (step, account_id, created_at)
    select 'initial-account', a.id, a.created_at from accounts a
    order by a.created_at, a.id
    limit 1`.execute(db);
}
