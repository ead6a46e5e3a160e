/**
 * @module lines/lines-platform.test
 * The lines inside the platform as `faxwire start` assembles it (FAXWIRE_LOOPBACK_PACING=none): a 12-page mixed PDF
 * sent through `POST /v1/faxes` from one loopback number to the other arrives as an inbound fax whose pages are
 * pixel-identical to the rendered ones, both faxes end with their events in order, and each test number gives
 * the outcome its name promises through the API, retries included.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { samePixels } from 'telefax/image/bilevel-page';
import { readTiff } from 'telefax/image/tiff-reader';
import { type Platform, startPlatform } from '../cli/start-command.ts';
import { firstAccountOf, type TestPlatformAccount } from '../cli/test-platform-account.ts';
import { loadConfig } from '../config/config.ts';
import { mixedPostScript, postScriptToPdf, textPagesPostScript } from '../documents/sample-documents.ts';
import { readBlob } from '../store/blob-store.ts';

const FINAL = new Set(['delivered', 'failed', 'received', 'canceled']);

describe('lines in the platform (loopback, unpaced)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-lines-platform-'));
  let platform: Platform;
  let account: TestPlatformAccount;
  let numbers: readonly string[];
  const pdf = Buffer.from(postScriptToPdf(textPagesPostScript(3))).toString('base64');
  /** 12 pages of mixed content: text with rules and a grey ramp, a photo-like tone, a landscape page, 9 text pages. */
  const MIXED_PAGES = 12;
  const mixedPdf = Buffer.from(postScriptToPdf(`${mixedPostScript()}\n${textPagesPostScript(9)}`)).toString(
    'base64',
  );

  before(async () => {
    const config = loadConfig({
      FAXWIRE_DATA_DIR: dataDir,
      FAXWIRE_LOOPBACK_PACING: 'none',
      FAXWIRE_LOOPBACK_TEST_TIMEOUT_MS: '1000',
    });
    platform = await startPlatform(config, { listen: false, logger: pino({ level: 'silent' }) });
    account = await firstAccountOf(platform);
    numbers = account.numbers;
  });

  after(async () => {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function send(to: string, retries = { count: 0, delaySeconds: 0 }, content: string = pdf): Promise<string> {
    return account.sendFax({ to, documents: [{ content }], retries });
  }

  async function fax(id: string) {
    return (await account.get(`/v1/faxes/${id}`)).json();
  }

  async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    let value = await probe();
    for (let i = 0; i < 600 && !done(value); i++) {
      await sleep(25);
      value = await probe();
    }
    return value;
  }

  async function eventsOf(id: string): Promise<string[]> {
    const rows = await platform.database.db
      .selectFrom('fax_events')
      .select('type')
      .where('fax_id', '=', id)
      .orderBy('sequence')
      .execute();
    return rows.map((r) => r.type);
  }

  async function pagesOf(id: string) {
    const rows = await platform.database.db
      .selectFrom('fax_pages')
      .select(['n', 'blob_key'])
      .where('fax_id', '=', id)
      .orderBy('n')
      .execute();
    return Promise.all(
      rows.map(async (r) => readTiff(await readBlob(platform.blobs, r.blob_key!)).pages[0]!.page),
    );
  }

  it('a 12-page mixed PDF sent from one loopback number to the other arrives page for page', async () => {
    const id = await send(numbers[1]!, undefined, mixedPdf);
    const out = await until(
      () => fax(id),
      (f) => FINAL.has(f.status),
    );
    assert.equal(out.status, 'delivered', JSON.stringify(out));
    assert.equal(out.pagesTransferred, MIXED_PAGES);
    const inbound = await until(
      async () =>
        platform.database.db
          .selectFrom('faxes')
          .selectAll()
          .where('direction', '=', 'inbound')
          .where('to_number', '=', numbers[1]!)
          .execute(),
      (rows) => rows.length === 1 && FINAL.has(rows[0]!.status),
    );
    assert.equal(inbound.length, 1);
    const received = await fax(inbound[0]!.id);
    assert.equal(received.status, 'received');
    assert.equal(received.from, numbers[0]);
    assert.equal(received.pageCount, MIXED_PAGES);

    const rendered = await pagesOf(id);
    const arrived = await pagesOf(inbound[0]!.id);
    assert.equal(rendered.length, MIXED_PAGES);
    assert.equal(arrived.length, MIXED_PAGES);
    for (let i = 0; i < MIXED_PAGES; i++)
      assert.ok(samePixels(arrived[i]!, rendered[i]!), `page ${i + 1} differs`);

    const outEvents = (await eventsOf(id)).filter((t) => t !== 'fax.media.processed');
    assert.deepEqual(outEvents, [
      'fax.queued',
      'fax.sending.started',
      ...Array(MIXED_PAGES).fill('fax.page.sent'),
      'fax.delivered',
    ]);
    assert.deepEqual(await eventsOf(inbound[0]!.id), [
      'fax.receiving.started',
      ...Array(MIXED_PAGES).fill('fax.page.received'),
      'fax.received',
    ]);
  });

  it('busy (+14155550191) schedules a retry', async () => {
    const id = await send('+14155550191', { count: 2, delaySeconds: 3600 });
    const f = await until(
      () => fax(id),
      (f) => f.failure !== null,
    );
    assert.equal(f.status, 'queued');
    assert.equal(f.failure.code, 'busy');
    assert.equal(f.failure.retryable, true);
    const job = await platform.database.db
      .selectFrom('jobs')
      .select(['unique_key', 'run_at'])
      .where('unique_key', 'like', `%${id}#2`)
      .executeTakeFirst();
    assert.ok(job, 'a second attempt is queued');
  });

  const failing: Array<[string, string, string, number, boolean]> = [
    ['+14155550193', 'a voice line', 'fax_not_detected', 0, false],
    ['+14155550194', 'T.38 refused', 't38_not_supported', 0, false],
    ['+14155550195', 'hangs up after page 2', 'call_dropped', 2, true],
    ['+14155550196', 'rejects every page', 'page_rejected', 0, true],
  ];
  for (const [to, name, code, pages, retryable] of failing) {
    it(`${name} (${to}) fails with ${code}, ${pages} page(s) transferred`, async () => {
      const id = await send(to);
      const f = await until(
        () => fax(id),
        (f) => FINAL.has(f.status),
      );
      assert.equal(f.status, 'failed', JSON.stringify(f));
      assert.equal(f.failure.code, code);
      assert.equal(f.failure.retryable, retryable);
      assert.equal(f.pagesTransferred, pages);
      const events = await eventsOf(id);
      assert.equal(events.at(-1), 'fax.failed');
      assert.equal(events.filter((e) => e === 'fax.page.sent').length, pages);
    });
  }

  it('a voice line is not retried even when retries are left', async () => {
    const id = await send('+14155550193', { count: 3, delaySeconds: 0 });
    const f = await until(
      () => fax(id),
      (f) => FINAL.has(f.status),
    );
    assert.equal(f.status, 'failed');
    assert.equal(f.failure.code, 'fax_not_detected');
    assert.equal((await eventsOf(id)).filter((e) => e === 'fax.queued').length, 1);
  });

  it('the slow line (+14155550197) delivers at 4800 bit/s', async () => {
    const id = await send('+14155550197');
    const f = await until(
      () => fax(id),
      (f) => FINAL.has(f.status),
    );
    assert.equal(f.status, 'delivered', JSON.stringify(f));
    const row = await platform.database.db
      .selectFrom('faxes')
      .select('bit_rate')
      .where('id', '=', id)
      .executeTakeFirst();
    assert.equal(row?.bit_rate, 4800);
  });

  it('a fax canceled while its call rings stays canceled: the call ends and nothing is retried', async () => {
    const id = await send('+14155550192', { count: 3, delaySeconds: 0 });
    await until(
      () => fax(id),
      (f) => f.status === 'processing',
    );
    const res = await platform.app.inject({
      method: 'POST',
      url: `/v1/faxes/${id}/cancel`,
      headers: account.headers,
    });
    assert.equal(res.statusCode, 200, res.body);
    // The ringing call gives up (no answer); the job finds the fax canceled and leaves it so.
    await until(
      () =>
        platform.database.db.selectFrom('jobs').select('id').where('unique_key', 'like', `%${id}%`).execute(),
      (jobs) => jobs.length === 0,
    );
    await sleep(200);
    const f = await fax(id);
    assert.equal(f.status, 'canceled');
    assert.deepEqual(
      (await eventsOf(id)).filter((e) => e !== 'fax.media.processed'),
      ['fax.queued', 'fax.canceled'],
    );
  });
});
