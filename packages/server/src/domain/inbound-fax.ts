/**
 * @module domain/inbound-fax
 * The store side of receiving a fax, for the lines that answer calls: a fax row in `receiving` when
 * the call is answered, each page made durable — blob fsynced, then row and event committed —
 * before the line confirms it to the sender (MCF, T.30 §5.3.6.1.7), and the final status.
 * `fax.page.received` therefore never announces a page that a crash could still lose.
 * While a page is still arriving, `reportPageProgress` keeps its rows so far in memory (preview and
 * `fax.page.progress`), off the durable path: nothing on it waits for the store.
 */

import type { BilevelPage } from 'telefax/image/bilevel-page';
import { ApiError } from '../api/errors.ts';
import { pageFactsOf } from '../events/page-facts.ts';
import { pageProgressOf } from '../events/page-progress.ts';
import { writeWithEvents } from '../events/write-with-events.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Database } from '../store/database.ts';
import { newId } from '../store/new-id.ts';
import type { FaxesTable } from '../store/schema.ts';
import { isTransactional } from '../store/spooled-blob-store.ts';
import { appendFaxEvent, appendFirstFaxEvent } from './append-fax-event.ts';
import { type FailureCode, faxFailure } from './failure-taxonomy.ts';
import type { NegotiatedLine } from './fax-line.ts';
import { pageBlobKey } from './media-keys.ts';
import { transitionFax } from './transition-fax.ts';

export interface InboundCall {
  /** The number called, E.164. */
  readonly to: string;
  /** The caller, E.164, or the best the network gave. */
  readonly from: string;
  readonly resolution?: 'standard' | 'fine' | 'superfine';
}

/**
 * Opens an inbound fax for a call to one of our numbers.
 * @throws ApiError not_found when no account has the number, or it does not take inbound faxes.
 */
export async function startInboundFax(
  database: Database,
  call: InboundCall,
  now: number = Date.now(),
): Promise<FaxesTable> {
  const number = await database.db
    .selectFrom('numbers')
    .select(['account_id', 'inbound_enabled'])
    .where('e164', '=', call.to)
    .executeTakeFirst();
  if (number?.inbound_enabled !== 1) {
    throw new ApiError('not_found', 'The number does not take inbound faxes.', { number: call.to });
  }
  const fax: FaxesTable = {
    id: newId('fax', now),
    account_id: number.account_id,
    direction: 'inbound',
    status: 'receiving',
    to_number: call.to,
    from_number: call.from,
    page_count: null,
    pages_transferred: 0,
    resolution: call.resolution ?? 'fine',
    priority: 'normal',
    header_text: null,
    cover_json: null,
    retry_count: 0,
    retry_delay_s: 0,
    attempts: 1,
    send_at: null,
    failure_code: null,
    failure_retryable: null,
    failure_message: null,
    bit_rate: null,
    ecm: null,
    compression: null,
    line_resolution: null,
    remote_ident: null,
    metadata_json: '{}',
    idempotency_key: null,
    idempotency_hash: null,
    event_seq: 1,
    created_at: now,
    updated_at: now,
    completed_at: null,
    deleted_at: null,
  };
  await writeWithEvents(database, async (trx) => {
    await trx.insertInto('faxes').values(fax).execute();
    await appendFirstFaxEvent(trx, fax, 'fax.receiving.started', {}, now);
  });
  return fax;
}

export interface ReceivedPage {
  /** 1-based page number. */
  readonly n: number;
  /** The page as stored (e.g. a one-page TIFF Class F). */
  readonly bytes: Uint8Array;
  readonly rows: number;
  /** Rows that failed to decode (T.4 §4.1.4 error recovery); 0 on an ECM page. */
  readonly badRows: number;
  /** Pixels per row; the page list and page events report it. */
  readonly width?: number;
  readonly resolution?: 'standard' | 'fine' | 'superfine';
}

/**
 * While page `pageNumber` is still arriving: `rowsSoFar` holds the rows decoded so far (`height` of
 * them). Synchronous and in memory only — it never delays the line; the preview and the rate-limited
 * `fax.page.progress` event read from it. The line may keep filling the same buffer.
 */
export function reportPageProgress(
  database: Database,
  faxId: string,
  pageNumber: number,
  rowsSoFar: BilevelPage,
): void {
  pageProgressOf(database).report(faxId, pageNumber, rowsSoFar);
}

/** Stores a page durably; resolve before confirming the page to the sender. Idempotent per page. */
export async function recordReceivedPage(
  deps: { readonly database: Database; readonly blobs: BlobStore },
  faxId: string,
  page: ReceivedPage,
  now: number = Date.now(),
): Promise<void> {
  const { blobs } = deps;
  const key = pageBlobKey(faxId, page.n);
  // A page small enough is spooled with its row: one commit, one fsync, before the MCF.
  const spool = isTransactional(blobs) && blobs.canSpool(page.bytes.length);
  const size = spool ? page.bytes.length : (await blobs.put(key, page.bytes, { fresh: true })).size;
  const event = await writeWithEvents(
    deps.database,
    async (trx) => {
      const row = {
        fax_id: faxId,
        n: page.n,
        blob_key: key,
        rows: page.rows,
        bad_rows: page.badRows,
        received_at: now,
        width: page.width ?? null,
        resolution: page.resolution ?? null,
        byte_size: size,
        sent_at: null,
      };
      // A page recorded before (a repeated hand-over) inserts nothing, and nothing else is written.
      const inserted = await trx
        .insertInto('fax_pages')
        .values(row)
        .onConflict((oc) => oc.columns(['fax_id', 'n']).doNothing())
        .returning('n')
        .executeTakeFirst();
      if (!inserted) return null;
      if (spool && isTransactional(blobs)) await blobs.putInTransaction(trx, key, page.bytes, now);
      return appendFaxEvent(trx, faxId, 'fax.page.received', pageFactsOf(row), now, { countPage: true });
    },
    // The page's place in the account stream is handed out right after; the MCF need not wait for it.
    { awaitAccountPositions: false },
  );
  pageProgressOf(deps.database).pageDone(faxId, page.n, event?.envelope.data.sequence);
}

export type InboundOutcome =
  | ({ readonly status: 'received' } & NegotiatedLine)
  | ({
      readonly status: 'failed';
      readonly failure: FailureCode;
      readonly message?: string;
    } & NegotiatedLine);

/** Closes the fax: `received` with its page count, or `failed` with a reason; pages already stored stay. */
export async function finishInboundFax(
  database: Database,
  faxId: string,
  outcome: InboundOutcome,
  now: number = Date.now(),
): Promise<void> {
  await writeWithEvents(database, async (trx) => {
    const fax = await trx
      .selectFrom('faxes')
      .select(['id', 'direction', 'pages_transferred'])
      .where('id', '=', faxId)
      .executeTakeFirstOrThrow();
    const line = {
      ...(outcome.bitRate === undefined ? {} : { bit_rate: outcome.bitRate }),
      ...(outcome.ecm === undefined ? {} : { ecm: outcome.ecm ? 1 : 0 }),
      ...(outcome.compression === undefined ? {} : { compression: outcome.compression }),
      ...(outcome.resolution === undefined ? {} : { line_resolution: outcome.resolution }),
      ...(outcome.remoteIdent === undefined ? {} : { remote_ident: outcome.remoteIdent }),
    };
    const target = { id: fax.id, direction: 'inbound' as const };
    if (outcome.status === 'received') {
      if (
        await transitionFax(
          trx,
          target,
          'receiving',
          'received',
          { ...line, page_count: fax.pages_transferred },
          now,
        )
      ) {
        await appendFaxEvent(trx, faxId, 'fax.received', { pageCount: fax.pages_transferred }, now);
      }
      return;
    }
    const failure = faxFailure(outcome.failure, outcome.message);
    const changes = {
      ...line,
      page_count: fax.pages_transferred,
      failure_code: failure.code,
      failure_retryable: failure.retryable ? 1 : 0,
      failure_message: failure.message,
    };
    if (await transitionFax(trx, target, 'receiving', 'failed', changes, now)) {
      await appendFaxEvent(trx, faxId, 'fax.failed', { failure, pageCount: fax.pages_transferred }, now);
    }
  });
  pageProgressOf(database).faxDone(faxId);
}
