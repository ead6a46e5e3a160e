/**
 * @module store/migrations/0003-event-streams
 * The account-wide event stream and page facts. Each event gets a gap-free, commit-ordered position in
 * its account's stream (`account_seq`, handed out from `accounts.event_seq` under the account row's
 * lock), so a live stream resumes from `Last-Event-ID` without skipping an event that committed late.
 * Pages gain what the page list and page events report: width, resolution, stored size, sent time.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's row types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('event_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('fax_events').addColumn('account_id', 'text').execute();
  await db.schema.alterTable('fax_events').addColumn('account_seq', 'integer').execute();

  // Events written before this migration take positions in the order they were created.
  await sql`update fax_events set account_id = (select f.account_id from faxes f where f.id = fax_events.fax_id)`.execute(
    db,
  );
  await sql`
    update fax_events set account_seq = (
      select r.position from (
        select id, row_number() over (partition by account_id order by created_at, id) as position
        from fax_events
      ) r where r.id = fax_events.id
    )`.execute(db);
  await sql`
    update accounts set event_seq = coalesce(
      (select max(e.account_seq) from fax_events e where e.account_id = accounts.id), 0)`.execute(db);

  await db.schema
    .createIndex('fax_events_account_seq')
    .on('fax_events')
    .columns(['account_id', 'account_seq'])
    .unique()
    .execute();

  await db.schema.alterTable('fax_pages').addColumn('width', 'integer').execute();
  await db.schema.alterTable('fax_pages').addColumn('resolution', 'text').execute();
  await db.schema.alterTable('fax_pages').addColumn('byte_size', 'bigint').execute();
  await db.schema.alterTable('fax_pages').addColumn('sent_at', 'bigint').execute();
}
