/**
 * @module domain/send-fax-job.test
 * The `fax.send` job against a scripted FaxLine and a stand-in renderer, through the real queue and
 * worker, on every engine: delivery with per-page events, a retryable failure that requeues, a final
 * failure, a cancel during sending, and a crash mid-send recovered by a second attempt.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BilevelPage, createPage, samePixels } from 'telefax/image/bilevel-page';
import { readTiff } from 'telefax/image/tiff-reader';
import { loadConfig } from '../config/config.ts';
import { headerBandRows, headerLineText, stampHeaderLine } from '../documents/header-line.ts';
import { claimJobs } from '../jobs/claim-jobs.ts';
import { enqueueJob } from '../jobs/enqueue-job.ts';
import { jobFromRow } from '../jobs/job.ts';
import { Worker } from '../jobs/worker.ts';
import { readBlob } from '../store/blob-store.ts';
import { LocalBlobStore } from '../store/local-blob-store.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { bootstrapAccount } from './accounts.ts';
import { cancelFax } from './cancel-fax.ts';
import { createOutboundFax, SEND_JOB } from './create-outbound-fax.ts';
import type { FaxLine, SendOutcome } from './fax-line.ts';
import { createSendFaxHandler, type FaxRenderer } from './send-fax-job.ts';

const page = (bits = 0): BilevelPage => ({
  width: 8,
  height: 1,
  stride: 1,
  data: new Uint8Array([bits]),
  xDpi: 204,
  yDpi: 196,
});
const renderThree: FaxRenderer = async function* () {
  for (let i = 0; i < 3; i++) yield page(0xa5 >> i);
};

type Script = (
  pages: AsyncIterable<BilevelPage>,
  progress: Parameters<FaxLine['send']>[2],
  signal: AbortSignal,
) => Promise<SendOutcome>;

class ScriptedLine implements FaxLine {
  readonly scripts: Script[] = [];
  calls = 0;
  async send(
    _call: Parameters<FaxLine['send']>[0],
    pages: AsyncIterable<BilevelPage>,
    progress: Parameters<FaxLine['send']>[2],
    signal: AbortSignal,
  ) {
    const script = this.scripts[this.calls++];
    if (!script) throw new Error('no script for this call');
    return script(pages, progress, signal);
  }
}

const deliverAll: Script = async (pages, progress) => {
  await progress.sendingStarted({ bitRate: 14400, ecm: true, compression: 'mmr', resolution: 'fine' });
  let n = 0;
  for await (const _ of pages) await progress.pageSent(++n);
  return { status: 'delivered', pagesSent: n, remoteIdent: '+1 555 0100' };
};

/** Numbers under +1212 go out on a trunk, the rest of +1415555 on the loopback carrier. */
const config = loadConfig({
  FAXWIRE_TRUNKS: JSON.stringify([
    { name: 'ny', proxy: 'sip:ny.example.net', prefixes: ['+1212'], channels: 2 },
  ]),
});

for (const engine of TEST_ENGINES) {
  describe(`fax.send job (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    let blobs: LocalBlobStore;
    let accountId: string;
    let from: string;
    const line = new ScriptedLine();

    before(async () => {
      t = await engine.open();
      dir = mkdtempSync(join(tmpdir(), 'faxwire-send-'));
      blobs = new LocalBlobStore(dir);
      const boot = await bootstrapAccount(t.database, { first: '+14155550100', last: '+14155550109' });
      accountId = boot!.accountId;
      from = boot!.numbers[0]!.e164;
    });
    after(async () => {
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    const newFax = async (
      retries = { count: 1, delaySeconds: 0 },
      to = '+14155550150',
      headerText: string | null = null,
    ) =>
      (
        await createOutboundFax(
          { database: t.database, blobs, config },
          accountId,
          {
            to,
            from,
            resolution: 'fine',
            priority: 'normal',
            headerText,
            cover: null,
            retries,
            sendAt: null,
            metadata: {},
          },
          [
            {
              contentType: 'application/pdf',
              byteSize: 3,
              sha256: 'x',
              filename: null,
              pageCount: null,
              source: Buffer.from('pdf'),
            },
          ],
        )
      ).fax.id;

    const runWorker = async (until: () => Promise<boolean>) => {
      const worker = new Worker({
        database: t.database,
        handlers: {
          [SEND_JOB]: createSendFaxHandler({
            database: t.database,
            blobs,
            line,
            config,
            render: renderThree,
          }),
        },
        pollIntervalMs: 5,
      });
      worker.start();
      try {
        for (let i = 0; i < 400 && !(await until()); i++) await sleep(10);
      } finally {
        await worker.stop({ graceMs: 2000 });
      }
    };
    const faxRow = (id: string) =>
      t.database.db.selectFrom('faxes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const events = async (id: string) =>
      (
        await t.database.db
          .selectFrom('fax_events')
          .selectAll()
          .where('fax_id', '=', id)
          .orderBy('sequence')
          .execute()
      ).map((e) => ({
        type: e.type,
        sequence: e.sequence,
        ...JSON.parse(e.data_json),
      }));
    const jobsFor = (id: string) =>
      t.database.db
        .selectFrom('jobs')
        .selectAll()
        .where('payload_json', '=', JSON.stringify({ faxId: id }))
        .execute();

    it('delivers: statuses, line fields, one fax.page.sent per page, gap-free sequence, job gone', async () => {
      const id = await newFax();
      line.scripts.push(deliverAll);
      await runWorker(
        async () => (await faxRow(id)).status === 'delivered' && (await jobsFor(id)).length === 0,
      );
      const fax = await faxRow(id);
      assert.deepEqual(
        [
          fax.status,
          fax.pages_transferred,
          fax.page_count,
          fax.bit_rate,
          fax.ecm,
          fax.compression,
          fax.remote_ident,
          fax.attempts,
        ],
        ['delivered', 3, 3, 14400, 1, 'mmr', '+1 555 0100', 1],
      );
      assert.ok(fax.completed_at);
      const log = await events(id);
      assert.deepEqual(
        log.map((e) => [e.type, e.sequence, e.page]),
        [
          ['fax.queued', 1, undefined],
          ['fax.sending.started', 2, undefined],
          ['fax.page.sent', 3, 1],
          ['fax.page.sent', 4, 2],
          ['fax.page.sent', 5, 3],
          ['fax.media.processed', 6, undefined],
          ['fax.delivered', 7, undefined],
        ],
      );
      assert.ok(log.every((e) => e.faxId === id && e.direction === 'outbound' && e.from === from));
      assert.deepEqual(
        log.filter((e) => e.type === 'fax.page.sent').map((e) => [e.page, e.width, e.rows, e.pageUrl]),
        [1, 2, 3].map((n) => [n, 8, 1, `/v1/faxes/${id}/pages/${n}`]),
      );
      assert.deepEqual(
        [log[1]!.attempt, log[5]!.pageCount, log[6]!.pageCount, log[6]!.status],
        [1, 3, 3, 'delivered'],
      );
      const pages = await t.database.db
        .selectFrom('fax_pages')
        .selectAll()
        .where('fax_id', '=', id)
        .orderBy('n')
        .execute();
      assert.deepEqual(
        pages.map((p) => [p.n, p.width, p.rows, p.resolution, p.sent_at !== null]),
        [1, 2, 3].map((n) => [n, 8, 1, 'fine', true]),
      );
      for (const [i, row] of pages.entries()) {
        const stored = readTiff(await readBlob(blobs, row.blob_key!)).pages[0]!.page;
        assert.ok(samePixels(stored, page(0xa5 >> i)), `stored page ${i + 1} is the rendered page`);
      }
    });

    it('requeues a retryable failure with a new job, then fails for good when retries run out', async () => {
      const id = await newFax({ count: 1, delaySeconds: 0 });
      const busy: Script = async () => ({ status: 'failed', failure: 'busy', pagesSent: 0 });
      line.scripts.push(busy, busy);
      await runWorker(async () => (await faxRow(id)).status === 'failed');
      const fax = await faxRow(id);
      assert.deepEqual(
        [fax.status, fax.attempts, fax.failure_code, fax.failure_retryable],
        ['failed', 2, 'busy', 1],
      );
      const log = await events(id);
      assert.deepEqual(
        log.map((e) => [e.type, e.status, e.attempt, e.failure?.code]),
        [
          ['fax.queued', 'queued', undefined, undefined],
          ['fax.queued', 'queued', 2, 'busy'],
          ['fax.failed', 'failed', undefined, 'busy'],
        ],
      );
      assert.deepEqual(log[2]!.failure, { code: 'busy', retryable: true, message: 'The line was busy.' });
      assert.equal((await jobsFor(id)).length, 0);
    });

    it('queues the first attempt and each retry in the carrier’s group', async () => {
      const trunk = await newFax({ count: 1, delaySeconds: 3600 }, '+12125550123');
      const loopback = await newFax({ count: 0, delaySeconds: 0 });
      const groups = async (id: string) => (await jobsFor(id)).map((j) => [j.unique_key, j.group_key]);
      assert.deepEqual(await groups(trunk), [[`${SEND_JOB}:${trunk}`, 'trunk:ny']]);
      assert.deepEqual(await groups(loopback), [[`${SEND_JOB}:${loopback}`, 'loopback']]);
      // The handler alone, outside a worker, so the retry's job stays in the table to look at.
      const [first] = await jobsFor(trunk);
      line.scripts.push(async () => ({ status: 'failed', failure: 'busy', pagesSent: 0 }));
      const handler = createSendFaxHandler({
        database: t.database,
        blobs,
        line,
        config,
        render: renderThree,
      });
      await handler(jobFromRow(first!), { signal: new AbortController().signal, workerId: 'test' });
      assert.equal((await faxRow(trunk)).status, 'queued');
      assert.deepEqual(
        (await groups(trunk)).sort(),
        [
          [`${SEND_JOB}:${trunk}`, 'trunk:ny'],
          [`${SEND_JOB}:${trunk}#2`, 'trunk:ny'],
        ].sort(),
      );
      await t.database.db.deleteFrom('jobs').where('kind', '=', SEND_JOB).execute();
    });

    it('prints the header line on every stored page when asked, with each attempt’s own time', async () => {
      const to = '+14155550151';
      const id = await newFax({ count: 1, delaySeconds: 0 }, to, 'ACME Corp');
      // Fine A4-wide pages with ink of their own in the header band and below it.
      const rendered = (n: number) => {
        const p = createPage(1728, 2200, 204, 196);
        p.data.fill(0xff, 8 * p.stride, 9 * p.stride);
        p.data.fill(0x0f * n, 500 * p.stride, 520 * p.stride);
        return p;
      };
      const renderTwo: FaxRenderer = async function* () {
        yield rendered(1);
        yield rendered(2);
      };
      const firstAt = Date.UTC(2026, 11, 7, 14, 3);
      const secondAt = firstAt + 3_600_000;
      let clock = firstAt;
      const handler = createSendFaxHandler({
        database: t.database,
        blobs,
        line,
        config,
        render: renderTwo,
        now: () => clock,
      });
      const context = { signal: new AbortController().signal, workerId: 'test' };
      const stored = async () => {
        const rows = await t.database.db
          .selectFrom('fax_pages')
          .selectAll()
          .where('fax_id', '=', id)
          .orderBy('n')
          .execute();
        return Promise.all(
          rows.map(async (r) => readTiff(await readBlob(blobs, r.blob_key!)).pages[0]!.page),
        );
      };
      const expected = (n: number, sentAt: number, pageCount: number | null) =>
        stampHeaderLine(
          rendered(n),
          headerLineText({ sentAt, headerText: 'ACME Corp', from, to, page: n, pageCount }),
        );

      line.scripts.push(async (pages, progress) => {
        await progress.sendingStarted({});
        let n = 0;
        for await (const _ of pages) await progress.pageSent(++n);
        return { status: 'failed', failure: 'call_dropped', pagesSent: n };
      });
      await handler(jobFromRow((await jobsFor(id))[0]!), context);
      assert.equal((await faxRow(id)).status, 'queued');
      const first = await stored();
      assert.equal(first.length, 2);
      for (const [i, p] of first.entries()) {
        const band = headerBandRows(p) * p.stride;
        const plain = rendered(i + 1);
        assert.notDeepEqual(p.data.subarray(0, band), plain.data.subarray(0, band), 'header band is empty');
        assert.deepEqual(p.data.subarray(band), plain.data.subarray(band), 'page differs below the band');
        // The total was not known before the first attempt rendered the pages.
        assert.ok(samePixels(p, expected(i + 1, firstAt, null)), `page ${i + 1}, first attempt`);
      }

      clock = secondAt;
      line.scripts.push(deliverAll);
      const retry = (await jobsFor(id)).find((j) => j.unique_key === `${SEND_JOB}:${id}#2`);
      await handler(jobFromRow(retry!), context);
      assert.deepEqual([(await faxRow(id)).status, (await faxRow(id)).page_count], ['delivered', 2]);
      const second = await stored();
      for (const [i, p] of second.entries()) {
        assert.ok(samePixels(p, expected(i + 1, secondAt, 2)), `page ${i + 1}, retry`);
        assert.ok(!samePixels(p, first[i]!), `page ${i + 1} kept the first attempt's time`);
      }
      await t.database.db.deleteFrom('jobs').where('kind', '=', SEND_JOB).execute();
    });

    it('fails at once on a non-retryable failure', async () => {
      const id = await newFax({ count: 5, delaySeconds: 0 });
      line.scripts.push(async () => ({ status: 'failed', failure: 'fax_not_detected', pagesSent: 0 }));
      await runWorker(async () => (await faxRow(id)).status === 'failed');
      const fax = await faxRow(id);
      assert.deepEqual([fax.attempts, fax.failure_code, fax.failure_retryable], [1, 'fax_not_detected', 0]);
    });

    it('stops the line when the fax is canceled while sending', async () => {
      const id = await newFax();
      let sawAbort = false;
      line.scripts.push(async (pages, progress, signal) => {
        await progress.sendingStarted({});
        let n = 0;
        for await (const _ of pages) {
          if (n === 1) await cancelFax(t.database, accountId, id);
          await progress.pageSent(++n);
          if (signal.aborted) {
            sawAbort = true;
            return { status: 'failed', failure: 'canceled', pagesSent: n };
          }
        }
        return { status: 'delivered', pagesSent: n };
      });
      await runWorker(async () => (await jobsFor(id)).length === 0);
      const fax = await faxRow(id);
      assert.equal(fax.status, 'canceled');
      assert.equal(sawAbort, true);
      assert.ok(!(await events(id)).some((e) => e.type === 'fax.delivered' || e.type === 'fax.failed'));
    });

    it('restarts an attempt whose worker crashed mid-send', async () => {
      const id = await newFax();
      // A worker claims the job, moves the fax to sending, and dies: its lease simply runs out.
      const [job] = await claimJobs(t.database, {
        workerId: 'crashed',
        kinds: [SEND_JOB],
        limit: 1,
        leaseMs: 1,
      });
      assert.ok(job);
      await t.database.db
        .updateTable('faxes')
        .set({ status: 'sending', attempts: 1 })
        .where('id', '=', id)
        .execute();
      await sleep(5);
      line.scripts.push(deliverAll);
      await runWorker(async () => (await faxRow(id)).status === 'delivered');
      const fax = await faxRow(id);
      assert.deepEqual([fax.status, fax.attempts], ['delivered', 2]);
    });

    it('leaves a deleted or finished fax alone', async () => {
      const id = await newFax();
      await cancelFax(t.database, accountId, id);
      await t.database.writeTransaction((trx) => enqueueJob(trx, { kind: SEND_JOB, payload: { faxId: id } }));
      assert.equal((await jobsFor(id)).length, 1);
      const calls = line.calls;
      await runWorker(async () => (await jobsFor(id)).length === 0);
      assert.equal(line.calls, calls);
    });
  });
}
