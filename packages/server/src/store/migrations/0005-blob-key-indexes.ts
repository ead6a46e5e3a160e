/**
 * @module store/migrations/0005-blob-key-indexes
 * Indexes from a blob's key to the row that holds it, for the orphan sweep (store/sweep-orphan-blobs.ts),
 * which asks of every stored blob whether a document or page still refers to it. Partial: rows of deleted
 * faxes hold no key.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's row types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('fax_documents_blob_key')
    .on('fax_documents')
    .column('blob_key')
    .where(sql.ref('blob_key'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('fax_pages_blob_key')
    .on('fax_pages')
    .column('blob_key')
    .where(sql.ref('blob_key'), 'is not', null)
    .execute();
}
