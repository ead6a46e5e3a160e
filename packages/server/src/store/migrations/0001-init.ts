/**
 * @module store/migrations/0001-init
 * The first schema. Forward-only: later changes go in new numbered files, never edits here.
 * Column types are chosen to mean the same on SQLite and PostgreSQL (see store/schema).
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's row types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_keys_account').on('api_keys').column('account_id').execute();

  await db.schema
    .createTable('numbers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('e164', 'text', (c) => c.notNull().unique())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('inbound_enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('csi', 'text')
    .addColumn('label', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('numbers_account').on('numbers').column('account_id').execute();

  await db.schema
    .createTable('faxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('from_number', 'text', (c) => c.notNull())
    .addColumn('page_count', 'integer')
    .addColumn('pages_transferred', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resolution', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('header_text', 'text')
    .addColumn('cover_json', 'text')
    .addColumn('retry_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retry_delay_s', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('send_at', 'bigint')
    .addColumn('failure_code', 'text')
    .addColumn('failure_retryable', 'integer')
    .addColumn('failure_message', 'text')
    .addColumn('bit_rate', 'integer')
    .addColumn('ecm', 'integer')
    .addColumn('compression', 'text')
    .addColumn('line_resolution', 'text')
    .addColumn('remote_ident', 'text')
    .addColumn('metadata_json', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('idempotency_key', 'text')
    .addColumn('idempotency_hash', 'text')
    .addColumn('event_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('faxes_account_id').on('faxes').columns(['account_id', 'id']).execute();
  await db.schema
    .createIndex('faxes_idempotency')
    .on('faxes')
    .columns(['account_id', 'idempotency_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('fax_documents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('fax_id', 'text', (c) => c.notNull().references('faxes.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('byte_size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('filename', 'text')
    .addColumn('page_count', 'integer')
    .addColumn('blob_key', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('fax_documents_position', ['fax_id', 'position'])
    .execute();

  await db.schema
    .createTable('fax_pages')
    .addColumn('fax_id', 'text', (c) => c.notNull().references('faxes.id').onDelete('cascade'))
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('blob_key', 'text')
    .addColumn('rows', 'integer', (c) => c.notNull())
    .addColumn('bad_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('fax_pages_pk', ['fax_id', 'n'])
    .execute();

  await db.schema
    .createTable('fax_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('fax_id', 'text', (c) => c.notNull().references('faxes.id').onDelete('cascade'))
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('fax_events_sequence', ['fax_id', 'sequence'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload_json', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('group_key', 'text')
    .addColumn('unique_key', 'text', (c) => c.unique())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The claim scans ready jobs in this order (priority, run_at); the group index serves the per-group count.
  await db.schema.createIndex('jobs_ready').on('jobs').columns(['state', 'priority', 'run_at']).execute();
  await db.schema.createIndex('jobs_group').on('jobs').columns(['group_key', 'locked_until']).execute();
}
