/**
 * @module domain/create-outbound-fax
 * Accepting a fax: documents go to the blob store first, then one transaction writes the fax row
 * (`queued`), its documents, the `fax.send` job and the `fax.queued` event — so a fax is either fully
 * accepted and will be sent, or not there at all. An Idempotency-Key replays the first result for the
 * same body and refuses a different one.
 */
import { createReadStream } from 'node:fs';
import { ApiError } from '../api/errors.ts';
import type { Config } from '../config/config.ts';
import { writeWithEvents } from '../events/write-with-events.ts';
import { enqueueJob } from '../jobs/enqueue-job.ts';
import { carrierGroupKey } from '../lines/carrier-group.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Database, Db } from '../store/database.ts';
import { newId } from '../store/new-id.ts';
import type { FaxDocumentsTable, FaxesTable } from '../store/schema.ts';
import { isTransactional } from '../store/spooled-blob-store.ts';
import { appendFirstFaxEvent } from './append-fax-event.ts';
import { documentBlobKey } from './media-keys.ts';

export type Resolution = 'standard' | 'fine' | 'superfine';
export type FaxPriority = 'low' | 'normal' | 'high';

export interface OutboundFaxRequest {
  readonly to: string;
  readonly from: string;
  readonly resolution: Resolution;
  readonly priority: FaxPriority;
  readonly headerText: string | null;
  readonly cover: { readonly subject?: string; readonly message?: string } | null;
  readonly retries: { readonly count: number; readonly delaySeconds: number };
  /** Millisecond time; null sends now. */
  readonly sendAt: number | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface StagedDocument {
  readonly contentType: string;
  readonly byteSize: number;
  readonly sha256: string;
  readonly filename: string | null;
  readonly pageCount: number | null;
  /** The bytes, or a temporary file holding them. */
  readonly source: Uint8Array | { readonly path: string };
}

export interface FaxWithDocuments {
  readonly fax: FaxesTable;
  readonly documents: FaxDocumentsTable[];
}

export const SEND_JOB = 'fax.send';

/** Queue priority (lower runs first) for the API's words. */
export const JOB_PRIORITY: Readonly<Record<FaxPriority, number>> = { high: -10, normal: 0, low: 10 };

export function sendJobKey(faxId: string): string {
  return `${SEND_JOB}:${faxId}`;
}

export async function loadFax(db: Db, accountId: string, faxId: string): Promise<FaxWithDocuments | null> {
  const fax = await db
    .selectFrom('faxes')
    .selectAll()
    .where('id', '=', faxId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!fax) return null;
  const documents = await db
    .selectFrom('fax_documents')
    .selectAll()
    .where('fax_id', '=', faxId)
    .orderBy('position')
    .execute();
  return { fax, documents };
}

/** The fax this Idempotency-Key already created, if any; a different body is an idempotency_conflict. */
export async function replayIdempotent(
  db: Db,
  accountId: string,
  key: string,
  bodyHash: string,
): Promise<FaxWithDocuments | null> {
  const existing = await db
    .selectFrom('faxes')
    .select(['id', 'idempotency_hash'])
    .where('account_id', '=', accountId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  if (!existing) return null;
  if (existing.idempotency_hash !== bodyHash) {
    throw new ApiError('idempotency_conflict', undefined, { idempotencyKey: key, faxId: existing.id });
  }
  return loadFax(db, accountId, existing.id);
}

export interface CreateOutboundFaxDeps {
  readonly database: Database;
  readonly blobs: BlobStore;
  /** Names the job's queue group (the carrier), so a trunk's channel limit applies to its jobs. */
  readonly config: Pick<Config, 'lines' | 'loopbackRange'>;
  readonly now?: () => number;
}

/**
 * @returns the fax and whether it was created now (false: an idempotent replay).
 * @throws ApiError unknown_from_number, idempotency_conflict
 */
export async function createOutboundFax(
  deps: CreateOutboundFaxDeps,
  accountId: string,
  request: OutboundFaxRequest,
  documents: readonly StagedDocument[],
  idempotency: { readonly key: string; readonly bodyHash: string } | null = null,
): Promise<FaxWithDocuments & { created: boolean }> {
  const { database, blobs } = deps;
  const now = deps.now?.() ?? Date.now();

  if (idempotency) {
    const replay = await replayIdempotent(database.db, accountId, idempotency.key, idempotency.bodyHash);
    if (replay) return { ...replay, created: false };
  }
  const from = await database.db
    .selectFrom('numbers')
    .select('id')
    .where('account_id', '=', accountId)
    .where('e164', '=', request.from)
    .executeTakeFirst();
  if (!from) throw new ApiError('unknown_from_number', undefined, { field: 'from' });

  const faxId = newId('fax', now);
  const documentRows: FaxDocumentsTable[] = documents.map((d, position) => {
    const id = newId('doc', now);
    return {
      id,
      fax_id: faxId,
      position,
      content_type: d.contentType,
      byte_size: d.byteSize,
      sha256: d.sha256,
      filename: d.filename,
      page_count: d.pageCount,
      blob_key: documentBlobKey(faxId, id),
      created_at: now,
    };
  });
  const written: string[] = [];
  try {
    // Small documents are spooled in the fax's own transaction (one commit makes them durable);
    // the others are written first — all at once, and all settled before a failure is acted on, so
    // no put outlives the clean-up.
    const spooled = documents.map(
      (d) => isTransactional(blobs) && d.source instanceof Uint8Array && blobs.canSpool(d.source.length),
    );
    const puts = await Promise.allSettled(
      documents.map((d, i) => {
        if (spooled[i]) return null;
        const key = documentRows[i]!.blob_key!;
        written.push(key);
        const source = d.source instanceof Uint8Array ? d.source : createReadStream(d.source.path);
        return blobs.put(key, source, { fresh: true });
      }),
    );
    for (const put of puts) if (put.status === 'rejected') throw put.reason;
    const pageCount = documents.every((d) => d.pageCount !== null)
      ? documents.reduce((n, d) => n + d.pageCount!, request.cover ? 1 : 0)
      : null;
    const fax: FaxesTable = {
      id: faxId,
      account_id: accountId,
      direction: 'outbound',
      status: 'queued',
      to_number: request.to,
      from_number: request.from,
      page_count: pageCount,
      pages_transferred: 0,
      resolution: request.resolution,
      priority: request.priority,
      header_text: request.headerText,
      cover_json: request.cover ? JSON.stringify(request.cover) : null,
      retry_count: request.retries.count,
      retry_delay_s: request.retries.delaySeconds,
      attempts: 0,
      send_at: request.sendAt,
      failure_code: null,
      failure_retryable: null,
      failure_message: null,
      bit_rate: null,
      ecm: null,
      compression: null,
      line_resolution: null,
      remote_ident: null,
      metadata_json: JSON.stringify(request.metadata),
      idempotency_key: idempotency?.key ?? null,
      idempotency_hash: idempotency?.bodyHash ?? null,
      // Its first event, fax.queued, is written with it below.
      event_seq: 1,
      created_at: now,
      updated_at: now,
      completed_at: null,
      deleted_at: null,
    };
    await writeWithEvents(database, async (trx) => {
      await trx.insertInto('faxes').values(fax).execute();
      for (const [i, d] of documents.entries()) {
        if (spooled[i] && isTransactional(blobs)) {
          await blobs.putInTransaction(trx, documentRows[i]!.blob_key!, d.source as Uint8Array, now);
        }
      }
      if (documentRows.length > 0) await trx.insertInto('fax_documents').values(documentRows).execute();
      await enqueueJob(
        trx,
        {
          kind: SEND_JOB,
          payload: { faxId },
          priority: JOB_PRIORITY[request.priority],
          runAt: Math.max(now, request.sendAt ?? now),
          uniqueKey: sendJobKey(faxId),
          groupKey: carrierGroupKey(deps.config, request.to),
        },
        now,
      );
      await appendFirstFaxEvent(trx, fax, 'fax.queued', {}, now);
    });
    return { fax, documents: documentRows, created: true };
  } catch (error) {
    // The bytes go only when the fax surely is not there: a commit whose outcome is unknown (its WAL
    // fsync failed, the connection dropped) may have kept the row that points at them.
    if (written.length > 0) {
      const kept = await database.db
        .selectFrom('faxes')
        .select('id')
        .where('id', '=', faxId)
        .executeTakeFirst()
        .catch(() => 'unknown');
      if (kept === undefined) for (const key of written) await blobs.delete(key).catch(() => {});
    }
    // Two requests with one Idempotency-Key raced; the loser replays the winner's fax.
    if (idempotency && !(error instanceof ApiError)) {
      const replay = await replayIdempotent(database.db, accountId, idempotency.key, idempotency.bodyHash);
      if (replay) return { ...replay, created: false };
    }
    throw error;
  }
}
