/**
 * @module domain/delete-fax
 * Deleting a fax erases what it carried — document and page blobs, header, cover, metadata — and
 * keeps a tombstone row (ids, numbers, status, times) so lists, events and billing stay consistent.
 */
import { ApiError } from '../api/errors.ts';
import { scrubFaxEvents } from '../events/scrub-fax-events.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Database } from '../store/database.ts';
import { type FaxWithDocuments, loadFax } from './create-outbound-fax.ts';
import { type FaxStatus, isTerminal } from './fax-status.ts';
import { faxMediaPrefix, legacyFaxPrefix } from './media-keys.ts';

export async function deleteFax(
  deps: { readonly database: Database; readonly blobs: BlobStore },
  accountId: string,
  faxId: string,
  now: number = Date.now(),
): Promise<FaxWithDocuments> {
  const { database, blobs } = deps;
  const found = await loadFax(database.db, accountId, faxId);
  if (!found) throw new ApiError('not_found', 'No fax with this id.', { id: faxId });
  if (!isTerminal(found.fax.status as FaxStatus)) {
    throw new ApiError('fax_in_progress', undefined, { id: faxId, status: found.fax.status });
  }
  // The rows name the blobs; the fax's media prefix and the older per-fax prefix catch any a repeated
  // delete (after a crash between the row update and the blob removal) or an aborted write left.
  const keys = new Set<string>();
  for (const d of found.documents) if (d.blob_key) keys.add(d.blob_key);
  const pages = await database.db
    .selectFrom('fax_pages')
    .select('blob_key')
    .where('fax_id', '=', faxId)
    .where('blob_key', 'is not', null)
    .execute();
  for (const p of pages) keys.add(p.blob_key!);
  if (found.fax.deleted_at === null) {
    // The row first, then the bytes: a crash in between leaves orphan blobs, never a live fax without media.
    await database.writeTransaction(async (trx) => {
      await trx
        .updateTable('faxes')
        .set({ deleted_at: now, updated_at: now, metadata_json: '{}', header_text: null, cover_json: null })
        .where('id', '=', faxId)
        .execute();
      await trx
        .updateTable('fax_documents')
        .set({ blob_key: null, filename: null })
        .where('fax_id', '=', faxId)
        .execute();
      await trx.updateTable('fax_pages').set({ blob_key: null }).where('fax_id', '=', faxId).execute();
      await scrubFaxEvents(trx, faxId);
    });
  }
  for (const prefix of [faxMediaPrefix(faxId), legacyFaxPrefix(faxId)]) {
    for await (const key of blobs.list(prefix)) keys.add(key);
  }
  for (const key of keys) await blobs.delete(key);
  return (await loadFax(database.db, accountId, faxId))!;
}
