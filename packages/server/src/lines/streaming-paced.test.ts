/**
 * @module lines/streaming-paced.test
 * Pages stream while the call is in progress, on a line paced like a real modem line (the loopback carrier's
 * default): a 12-page fax (short pages, so the call lasts tens of seconds) sent from one loopback number to the
 * other. The first `fax.page.received` arrives while the inbound fax is still `receiving` and before the sender
 * has page 2 confirmed; page 1 can be fetched right then and has the pixels the sender rendered; page 2 can be
 * watched arriving as a partial PNG; in the end all 12 pages are received and delivered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { samplePage } from 'telefax/codec/sample-pages';
import { samePixels } from 'telefax/image/bilevel-page';
import { readTiff } from 'telefax/image/tiff-reader';
import { type Platform, startPlatform } from '../cli/start-command.ts';
import { firstAccountOf, type TestPlatformAccount } from '../cli/test-platform-account.ts';
import { loadConfig } from '../config/config.ts';
import { writeFaxTiff } from '../documents/write-fax-tiff.ts';

const PAGES = 12;
const FINAL = new Set(['delivered', 'failed', 'received', 'canceled']);

interface EventEnvelope {
  readonly type: string;
  readonly data: { readonly sequence: number; readonly page?: number };
}

describe('pages stream during a paced call (loopback, realtime)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-streaming-paced-'));
  let platform: Platform;
  let account: TestPlatformAccount;
  let numbers: readonly string[];

  before(async () => {
    const config = loadConfig({ FAXWIRE_DATA_DIR: dataDir, FAXWIRE_LOOPBACK_PACING: 'realtime' });
    assert.equal(config.lines.loopback.pacing, 'realtime');
    platform = await startPlatform(config, { listen: false, logger: pino({ level: 'silent' }) });
    account = await firstAccountOf(platform);
    numbers = account.numbers;
  });

  after(async () => {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = (url: string) => account.get(url);
  const fax = async (id: string) => (await get(`/v1/faxes/${id}`)).json();
  const events = async (id: string): Promise<EventEnvelope[]> =>
    (await get(`/v1/faxes/${id}/events?limit=1000`)).json().data;

  async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, pollMs = 20): Promise<T> {
    const deadline = Date.now() + 120_000;
    let value = await probe();
    while (!done(value) && Date.now() < deadline) {
      await sleep(pollMs);
      value = await probe();
    }
    return value;
  }

  it('the first page can be fetched while the call goes on, and matches what was sent', async () => {
    // Short pages of text (padded to the paper by rendering: white rows cost little on the line).
    const source = Array.from({ length: PAGES }, (_, i) => ({
      ...samplePage('text', 1728, 32, i + 1),
      yDpi: 98,
    }));
    const tiff = Buffer.from(await writeFaxTiff(source)).toString('base64');
    const started = Date.now();
    const outId = await account.sendFax({
      to: numbers[1]!,
      resolution: 'standard',
      documents: [{ content: tiff }],
      retries: { count: 0, delaySeconds: 0 },
    });

    const inbound = await until(
      async () => (await get(`/v1/faxes?direction=inbound&number=${encodeURIComponent(numbers[1]!)}`)).json(),
      (list) => list.data.length > 0,
    );
    assert.equal(inbound.data.length, 1, 'one inbound fax');
    const inId: string = inbound.data[0].id;

    // The moment page 1 is announced: what the caller would do on the event.
    const inEvents = await until(
      () => events(inId),
      (list) => list.some((e) => e.type === 'fax.page.received'),
    );
    const firstPageAt = Date.now() - started;
    const first = inEvents.find((e) => e.type === 'fax.page.received')!;
    assert.equal(first.data.page, 1);
    const [inNow, outNow, outEvents, page1] = await Promise.all([
      fax(inId),
      fax(outId),
      events(outId),
      get(`/v1/faxes/${inId}/pages/1?format=tiff`),
    ]);
    assert.equal(inNow.status, 'receiving', 'the call is still in progress');
    assert.ok(
      !outEvents.some((e) => e.type === 'fax.page.sent' && e.data.page === 2),
      'the sender has not got page 2 confirmed yet',
    );
    assert.ok((outNow.pagesTransferred ?? 0) < 2, JSON.stringify(outNow));
    assert.equal(page1.statusCode, 200);
    assert.equal(page1.headers['content-type'], 'image/tiff');
    const rendered = await get(`/v1/faxes/${outId}/pages/1?format=tiff`);
    assert.equal(rendered.statusCode, 200);
    const arrived = readTiff(new Uint8Array(page1.rawPayload)).pages[0]!.page;
    const original = readTiff(new Uint8Array(rendered.rawPayload)).pages[0]!.page;
    assert.ok(original.height > 32, 'the rendered page is padded to the paper');
    assert.ok(samePixels(arrived, original), 'page 1 as received = page 1 as rendered for sending');

    // Page 2 while it arrives: its rows so far, marked partial.
    const watch = await until(
      () => get(`/v1/faxes/${inId}/pages/2?format=png`),
      (res) => res.statusCode === 200,
      10,
    );
    assert.equal(watch.statusCode, 200);
    assert.equal(watch.headers['content-type'], 'image/png');
    const partialSeen = watch.headers['faxwire-page-partial'] === 'true';
    assert.ok(partialSeen, 'page 2 was seen while arriving');
    assert.ok(Number(watch.headers['faxwire-page-rows']) > 0);

    const out = await until(
      () => fax(outId),
      (f) => FINAL.has(f.status),
      100,
    );
    const callEndAt = Date.now() - started;
    const inEnd = await until(
      () => fax(inId),
      (f) => FINAL.has(f.status),
      100,
    );
    assert.equal(out.status, 'delivered', JSON.stringify(out));
    assert.equal(out.pagesTransferred, PAGES);
    assert.equal(inEnd.status, 'received', JSON.stringify(inEnd));
    assert.equal(inEnd.pageCount, PAGES);
    const received = (await events(inId)).filter((e) => e.type === 'fax.page.received');
    assert.deepEqual(
      received.map((e) => e.data.page),
      Array.from({ length: PAGES }, (_, i) => i + 1),
    );
    console.log(
      `# first fax.page.received after ${firstPageAt} ms; call ended (delivered) after ${callEndAt} ms`,
    );
  });
});
