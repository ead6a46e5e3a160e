/**
 * @module domain/resend-fax
 * Resending makes a new fax from a finished outbound one: same numbers, options and documents
 * (copied, so deleting either fax never takes the other's media), sent now.
 */
import { ApiError } from '../api/errors.ts';
import { readBlob } from '../store/blob-store.ts';
import {
  type CreateOutboundFaxDeps,
  createOutboundFax,
  type FaxPriority,
  type FaxWithDocuments,
  loadFax,
  type Resolution,
  type StagedDocument,
} from './create-outbound-fax.ts';
import { type FaxStatus, isTerminal } from './fax-status.ts';

export async function resendFax(
  deps: CreateOutboundFaxDeps,
  accountId: string,
  faxId: string,
): Promise<FaxWithDocuments> {
  const found = await loadFax(deps.database.db, accountId, faxId);
  if (!found || found.fax.deleted_at !== null)
    throw new ApiError('not_found', 'No fax with this id.', { id: faxId });
  const { fax, documents } = found;
  if (
    fax.direction !== 'outbound' ||
    !isTerminal(fax.status as FaxStatus) ||
    documents.some((d) => !d.blob_key)
  ) {
    throw new ApiError('fax_not_resendable', undefined, { id: faxId, status: fax.status });
  }
  const staged: StagedDocument[] = [];
  for (const d of documents) {
    staged.push({
      contentType: d.content_type,
      byteSize: d.byte_size,
      sha256: d.sha256,
      filename: d.filename,
      pageCount: d.page_count,
      source: await readBlob(deps.blobs, d.blob_key!),
    });
  }
  const { fax: created, documents: createdDocuments } = await createOutboundFax(
    deps,
    accountId,
    {
      to: fax.to_number,
      from: fax.from_number,
      resolution: fax.resolution as Resolution,
      priority: fax.priority as FaxPriority,
      headerText: fax.header_text,
      cover: fax.cover_json ? JSON.parse(fax.cover_json) : null,
      retries: { count: fax.retry_count, delaySeconds: fax.retry_delay_s },
      sendAt: null,
      metadata: JSON.parse(fax.metadata_json),
    },
    staged,
  );
  return { fax: created, documents: createdDocuments };
}
