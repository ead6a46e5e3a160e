/**
 * @module domain/send-fax-job
 * The `fax.send` job: render the fax's documents into pages and hand them to a FaxLine, moving the fax
 * through processing → sending → delivered | failed, or back to queued with a new job when the
 * failure is retryable and retries are left. Each step re-checks the status, so a cancel wins.
 * A job taken over after a crash finds the fax mid-flight and starts the attempt again.
 * Each rendered page is stored (one-page TIFF) before the line gets it, so `fax.page.sent` points at a
 * page the API can serve; a retryable failure that requeues announces itself as `fax.queued` with the
 * next attempt's number and the failure.
 */

import type { Logger } from 'pino';
import { type BilevelPage, type FaxResolution, resolutionOf } from 'telefax/image/bilevel-page';
import type { Config } from '../config/config.ts';
import {
  DocumentError,
  headerLineText,
  renderDocuments,
  stampHeaderLine,
  writeFaxTiff,
} from '../documents/index.ts';
import { pageFactsOf } from '../events/page-facts.ts';
import { writeWithEvents } from '../events/write-with-events.ts';
import { enqueueJob } from '../jobs/enqueue-job.ts';
import type { Job } from '../jobs/job.ts';
import type { JobContext, JobHandler } from '../jobs/worker.ts';
import { carrierGroupKey } from '../lines/carrier-group.ts';
import { type BlobStore, readBlob } from '../store/blob-store.ts';
import type { Database } from '../store/database.ts';
import type { FaxDocumentsTable, FaxesTable } from '../store/schema.ts';
import { appendFaxEvent } from './append-fax-event.ts';
import { type FaxPriority, JOB_PRIORITY, SEND_JOB, sendJobKey } from './create-outbound-fax.ts';
import { type FailureCode, faxFailure } from './failure-taxonomy.ts';
import type { FaxLine, NegotiatedLine, SendOutcome } from './fax-line.ts';
import type { FaxStatus } from './fax-status.ts';
import { pageBlobKey } from './media-keys.ts';
import { transitionFax } from './transition-fax.ts';

/** Turns a fax's stored documents into pages; the default renders with src/documents. */
export type FaxRenderer = (
  fax: FaxesTable,
  documents: readonly FaxDocumentsTable[],
  blobs: BlobStore,
  signal: AbortSignal,
) => AsyncIterable<BilevelPage>;

export const renderStoredDocuments: FaxRenderer = async function* (fax, documents, blobs, signal) {
  const inputs = [];
  for (const d of documents) {
    if (!d.blob_key) throw new DocumentError('invalid_document', 'the document was deleted');
    inputs.push({ data: await readBlob(blobs, d.blob_key), mediaType: d.content_type });
  }
  const cover = fax.cover_json ? JSON.parse(fax.cover_json) : undefined;
  for await (const rendered of renderDocuments(inputs, {
    resolution: fax.resolution as FaxResolution,
    cover,
  })) {
    signal.throwIfAborted();
    yield rendered.page;
  }
};

export interface SendFaxJobDeps {
  readonly database: Database;
  readonly blobs: BlobStore;
  readonly line: FaxLine;
  /** Names a retry's queue group (the carrier), as createOutboundFax does for the first attempt. */
  readonly config: Pick<Config, 'lines' | 'loopbackRange'>;
  readonly render?: FaxRenderer;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export interface SendFaxPayload {
  readonly faxId: string;
}

function lineFields(line: NegotiatedLine) {
  return {
    ...(line.bitRate === undefined ? {} : { bit_rate: line.bitRate }),
    ...(line.ecm === undefined ? {} : { ecm: line.ecm ? 1 : 0 }),
    ...(line.compression === undefined ? {} : { compression: line.compression }),
    ...(line.resolution === undefined ? {} : { line_resolution: line.resolution }),
    ...(line.remoteIdent === undefined ? {} : { remote_ident: line.remoteIdent }),
  };
}

export function createSendFaxHandler(deps: SendFaxJobDeps): JobHandler {
  const { database, blobs, line } = deps;
  const render = deps.render ?? renderStoredDocuments;
  const now = deps.now ?? Date.now;

  /** A rendered page, kept as the page the API serves; a later attempt's rendering replaces it. */
  const storeRenderedPage = async (faxId: string, n: number, page: BilevelPage) => {
    const key = pageBlobKey(faxId, n);
    const { size } = await blobs.put(key, await writeFaxTiff([page]));
    const t = now();
    const facts = {
      blob_key: key,
      rows: page.height,
      bad_rows: 0,
      received_at: t,
      width: page.width,
      resolution: resolutionOf(page),
      byte_size: size,
      sent_at: null,
    };
    await database.db
      .insertInto('fax_pages')
      .values({ fax_id: faxId, n, ...facts })
      .onConflict((oc) => oc.columns(['fax_id', 'n']).doUpdateSet(facts))
      .execute();
  };

  const load = (faxId: string) =>
    database.db.selectFrom('faxes').selectAll().where('id', '=', faxId).executeTakeFirst();

  const finishFailed = async (
    fax: FaxesTable,
    from: FaxStatus,
    code: FailureCode,
    message?: string,
    pagesSent = 0,
  ) => {
    const failure = faxFailure(code, message);
    const t = now();
    return writeWithEvents(database, async (trx) => {
      const retry = failure.retryable && fax.attempts <= fax.retry_count;
      const changes = {
        failure_code: failure.code,
        failure_retryable: failure.retryable ? 1 : 0,
        failure_message: failure.message,
        pages_transferred: pagesSent,
      };
      if (retry) {
        if (!(await transitionFax(trx, fax, from, 'queued', changes, t))) return;
        await enqueueJob(
          trx,
          {
            kind: SEND_JOB,
            payload: { faxId: fax.id },
            priority: JOB_PRIORITY[fax.priority as FaxPriority] ?? 0,
            runAt: t + fax.retry_delay_s * 1000,
            uniqueKey: `${sendJobKey(fax.id)}#${fax.attempts + 1}`,
            groupKey: carrierGroupKey(deps.config, fax.to_number),
          },
          t,
        );
        await appendFaxEvent(trx, fax.id, 'fax.queued', { attempt: fax.attempts + 1, failure }, t);
        return;
      }
      if (!(await transitionFax(trx, fax, from, 'failed', changes, t))) return;
      await appendFaxEvent(trx, fax.id, 'fax.failed', { failure, pageCount: pagesSent }, t);
    });
  };

  return async (job: Job, context: JobContext) => {
    const { faxId } = job.payload as SendFaxPayload;
    const log = deps.logger?.child({ fax_id: faxId, job_id: job.id });
    let fax = await load(faxId);
    if (!fax || fax.deleted_at !== null || fax.direction !== 'outbound') return;
    const status = fax.status as FaxStatus;
    if (status !== 'queued' && status !== 'processing' && status !== 'sending') return;

    // Start (or, after a crash, restart) the attempt: whatever state the last one reached, it is over.
    const started = await database.writeTransaction(async (trx) => {
      const t = now();
      if (status !== 'queued' && !(await transitionFax(trx, fax!, status, 'queued', {}, t))) return false;
      return transitionFax(trx, fax!, 'queued', 'processing', { attempts: fax!.attempts + 1 }, t);
    });
    if (!started) return;
    fax = (await load(faxId))!;
    const documents = await database.db
      .selectFrom('fax_documents')
      .selectAll()
      .where('fax_id', '=', faxId)
      .orderBy('position')
      .execute();

    // Aborts the line when the worker stops, the lease is lost, or the fax is canceled meanwhile.
    const abort = new AbortController();
    const onAbort = () => abort.abort(context.signal.reason);
    context.signal.addEventListener('abort', onAbort, { once: true });
    let current: FaxStatus = 'processing';
    let rendered = 0;
    let sent = 0;
    const stillOurs = async () => {
      const row = await database.db
        .selectFrom('faxes')
        .select('status')
        .where('id', '=', faxId)
        .executeTakeFirst();
      if (row?.status !== current) abort.abort(new Error('fax canceled'));
      return !abort.signal.aborted;
    };
    const toSending = async (negotiated: NegotiatedLine) => {
      if (current !== 'processing') return;
      const ok = await writeWithEvents(database, async (trx) => {
        const t = now();
        if (!(await transitionFax(trx, fax!, 'processing', 'sending', lineFields(negotiated), t)))
          return false;
        await appendFaxEvent(trx, faxId, 'fax.sending.started', { attempt: fax!.attempts }, t);
        return true;
      });
      if (ok) current = 'sending';
      else abort.abort(new Error('fax canceled'));
    };
    async function* pages(): AsyncIterable<BilevelPage> {
      // The header line is printed only when asked for; it carries this attempt's time, so a retry shows its own.
      const sentAt = now();
      for await (const renderedPage of render(fax!, documents, blobs, abort.signal)) {
        rendered++;
        const page =
          fax!.header_text === null
            ? renderedPage
            : stampHeaderLine(
                renderedPage,
                headerLineText({
                  sentAt,
                  headerText: fax!.header_text,
                  from: fax!.from_number,
                  to: fax!.to_number,
                  page: rendered,
                  pageCount: fax!.page_count,
                }),
              );
        await storeRenderedPage(faxId, rendered, page);
        yield page;
      }
      await writeWithEvents(database, (trx) =>
        appendFaxEvent(trx, faxId, 'fax.media.processed', { pageCount: rendered }, now()),
      );
      if (fax!.page_count === null) {
        await database.db
          .updateTable('faxes')
          .set({ page_count: rendered })
          .where('id', '=', faxId)
          .execute();
      }
    }

    let outcome: SendOutcome;
    try {
      outcome = await line.send(
        {
          faxId,
          accountId: fax.account_id,
          to: fax.to_number,
          from: fax.from_number,
          resolution: fax.resolution as FaxResolution,
          headerText: fax.header_text,
          pageCount: fax.page_count,
          attempt: fax.attempts,
        },
        pages(),
        {
          sendingStarted: toSending,
          pageSent: async (pageNumber) => {
            if (!(await stillOurs())) return;
            sent = Math.max(sent, pageNumber);
            await writeWithEvents(database, async (trx) => {
              const t = now();
              await trx
                .updateTable('faxes')
                .set({ pages_transferred: sent, updated_at: t })
                .where('id', '=', faxId)
                .execute();
              const stored = await trx
                .updateTable('fax_pages')
                .set({ sent_at: t })
                .where('fax_id', '=', faxId)
                .where('n', '=', pageNumber)
                .returningAll()
                .executeTakeFirst();
              const facts = stored ? pageFactsOf(stored) : { page: pageNumber };
              await appendFaxEvent(trx, faxId, 'fax.page.sent', facts, t);
            });
          },
        },
        abort.signal,
      );
    } catch (error) {
      if (context.signal.aborted) throw error;
      if (abort.signal.aborted) return;
      if (error instanceof DocumentError) {
        log?.info({ code: error.code }, 'fax documents could not be rendered');
        await finishFailed(fax, current, 'invalid_document', error.message, sent);
        return;
      }
      log?.error({ err: error }, 'fax line failed');
      if (job.attempts >= job.maxAttempts)
        await finishFailed(fax, current, 'internal_error', undefined, sent);
      throw error;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
    if (context.signal.aborted) throw context.signal.reason;
    if (abort.signal.aborted) return;

    if (outcome.status === 'delivered') {
      await toSending(outcome);
      await writeWithEvents(database, async (trx) => {
        const t = now();
        const done = await transitionFax(
          trx,
          fax!,
          'sending',
          'delivered',
          {
            ...lineFields(outcome),
            pages_transferred: outcome.pagesSent,
            failure_code: null,
            failure_retryable: null,
            failure_message: null,
          },
          t,
        );
        if (done) await appendFaxEvent(trx, faxId, 'fax.delivered', { pageCount: outcome.pagesSent }, t);
      });
      return;
    }
    if (Object.keys(lineFields(outcome)).length > 0) {
      await database.db.updateTable('faxes').set(lineFields(outcome)).where('id', '=', faxId).execute();
    }
    await finishFailed(fax, current, outcome.failure, outcome.message, outcome.pagesSent);
  };
}
