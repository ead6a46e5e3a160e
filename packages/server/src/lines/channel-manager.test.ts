/**
 * @module lines/channel-manager.test
 * The channel manager on the loopback carrier, unpaced, with a real store: a fax between two of our numbers
 * arrives page for page (pixel-identical, each page stored before its MCF), every test number ends the way its
 * name says, and aborting a send mid-document ends the call with its pages so far kept on the receiving side.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { samplePage } from 'telefax/codec/sample-pages';
import { type BilevelPage, samePixels } from 'telefax/image/bilevel-page';
import { readTiff } from 'telefax/image/tiff-reader';
import { bootstrapAccount } from '../domain/accounts.ts';
import { faxFailure } from '../domain/failure-taxonomy.ts';
import type { FaxLineProgress, OutboundFaxCall, SendOutcome } from '../domain/fax-line.ts';
import { readBlob } from '../store/blob-store.ts';
import { LocalBlobStore } from '../store/local-blob-store.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { ChannelManager } from './channel-manager.ts';
import { LoopbackCarrier } from './loopback-carrier.ts';
import { testNumbersFrom } from './test-numbers.ts';

const RANGE = { first: '+14155550100', last: '+14155550199' };
const TEST_FIRST = 190;
const testNumber = (offset: number) => `+14155550${TEST_FIRST + offset}`;

const PAGES: BilevelPage[] = [
  samplePage('text', 1728, 300, 1),
  samplePage('random', 1728, 120, 2),
  samplePage('stripes', 1728, 200, 3),
];

function outboundCall(to: string, from: string): OutboundFaxCall {
  return {
    faxId: 'fax_test',
    accountId: 'acc_test',
    to,
    from,
    resolution: 'fine',
    headerText: null,
    pageCount: null,
    attempt: 1,
  };
}

function recordingProgress(): FaxLineProgress & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    sendingStarted: (line) => void log.push(`started ${line.bitRate}`),
    pageSent: (n) => void log.push(`page ${n}`),
  };
}

async function* pagesOf(pages: readonly BilevelPage[]): AsyncIterable<BilevelPage> {
  for (const p of pages) yield p;
}

const sqlite = TEST_ENGINES.find((e) => e.name === 'sqlite')!;

describe('ChannelManager on the loopback carrier', () => {
  let t: TestDatabase;
  let dir: string;
  let manager: ChannelManager;
  let numbers: string[];
  let blobs: LocalBlobStore;

  before(async () => {
    t = await sqlite.open();
    dir = mkdtempSync(join(tmpdir(), 'faxwire-lines-'));
    blobs = new LocalBlobStore(dir);
    numbers = (await bootstrapAccount(t.database, RANGE))!.numbers.map((n) => n.e164);
    manager = new ChannelManager({
      database: t.database,
      blobs,
      carriers: [
        new LoopbackCarrier({
          range: RANGE,
          testNumbers: testNumbersFrom(testNumber(0)),
          pacing: 'none',
          testNumberTimeoutMs: 1500,
        }),
      ],
    });
    await manager.listen();
  });

  after(async () => {
    await manager.close();
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function inboundFaxes() {
    return t.database.db
      .selectFrom('faxes')
      .selectAll()
      .where('direction', '=', 'inbound')
      .orderBy('created_at')
      .execute();
  }

  async function settledInbound(count: number) {
    for (let i = 0; i < 200; i++) {
      const rows = await inboundFaxes();
      if (rows.length >= count && rows.every((r) => r.status !== 'receiving')) return rows;
      await sleep(25);
    }
    return inboundFaxes();
  }

  it('sends a fax between two of our numbers; the pages arrive stored and pixel-identical', async () => {
    const progress = recordingProgress();
    const outcome = await manager.send(
      outboundCall(numbers[1]!, numbers[0]!),
      pagesOf(PAGES),
      progress,
      new AbortController().signal,
    );
    assert.equal(outcome.status, 'delivered', JSON.stringify(outcome));
    assert.equal(outcome.pagesSent, 3);
    assert.deepEqual(progress.log, ['started 14400', 'page 1', 'page 2', 'page 3']);
    const [fax] = await settledInbound(1);
    assert.equal(fax!.status, 'received');
    assert.equal(fax!.to_number, numbers[1]);
    assert.equal(fax!.from_number, numbers[0]);
    assert.equal(fax!.page_count, 3);
    const pages = await t.database.db
      .selectFrom('fax_pages')
      .selectAll()
      .where('fax_id', '=', fax!.id)
      .orderBy('n')
      .execute();
    assert.equal(pages.length, 3);
    for (const [i, row] of pages.entries()) {
      const page = readTiff(await readBlob(blobs, row.blob_key!)).pages[0]!.page;
      assert.ok(samePixels(page, PAGES[i]!), `page ${i + 1} differs`);
    }
    const events = await t.database.db
      .selectFrom('fax_events')
      .select('type')
      .where('fax_id', '=', fax!.id)
      .orderBy('sequence')
      .execute();
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'fax.receiving.started',
        'fax.page.received',
        'fax.page.received',
        'fax.page.received',
        'fax.received',
      ],
    );
  });

  const cases: Array<{ offset: number; name: string; check: (o: SendOutcome) => void }> = [
    { offset: 0, name: 'accept', check: (o) => assert.equal(o.status, 'delivered') },
    { offset: 1, name: 'busy', check: (o) => assert.equal(o.status === 'failed' && o.failure, 'busy') },
    {
      offset: 2,
      name: 'no answer',
      check: (o) => assert.equal(o.status === 'failed' && o.failure, 'no_answer'),
    },
    {
      offset: 3,
      name: 'voice line',
      check: (o) => assert.equal(o.status === 'failed' && o.failure, 'fax_not_detected'),
    },
    {
      offset: 4,
      name: 'T.38 refused',
      check: (o) => assert.equal(o.status === 'failed' && o.failure, 't38_not_supported'),
    },
    {
      offset: 5,
      name: 'hangs up after page 2',
      check: (o) => {
        assert.equal(o.status === 'failed' && o.failure, 'call_dropped');
        assert.equal(o.pagesSent, 2);
      },
    },
    {
      offset: 6,
      name: 'rejects every page (RTN)',
      check: (o) => {
        assert.equal(o.status === 'failed' && o.failure, 'page_rejected');
        assert.equal(o.pagesSent, 0);
        assert.equal(o.ecm, false);
      },
    },
    {
      offset: 7,
      name: 'slow line',
      check: (o) => {
        assert.equal(o.status, 'delivered');
        assert.equal(o.bitRate, 4800);
      },
    },
  ];
  for (const c of cases) {
    it(`test number ${testNumber(c.offset)} (${c.name})`, async () => {
      const outcome = await manager.send(
        outboundCall(testNumber(c.offset), numbers[0]!),
        pagesOf(PAGES),
        recordingProgress(),
        new AbortController().signal,
      );
      c.check(outcome);
    });
  }

  it('a number of the range that nobody holds is invalid_number (SIP 404)', async () => {
    const outcome = await manager.send(
      outboundCall('+14155550150', numbers[0]!),
      pagesOf(PAGES),
      recordingProgress(),
      new AbortController().signal,
    );
    assert.equal(outcome.status === 'failed' && outcome.failure, 'invalid_number');
  });

  it('aborting mid-document (the next page still rendering) ends the call; the receiver keeps its confirmed page', async () => {
    const before = (await inboundFaxes()).length;
    const abort = new AbortController();
    const progress = recordingProgress();
    // T.30 asks for the next page before the post-page command of the current one, so page 1 is confirmed
    // once page 2 is known, and page 2 waits for page 3, which never comes.
    async function* stalled(): AsyncIterable<BilevelPage> {
      yield PAGES[0]!;
      yield PAGES[1]!;
      abort.abort(new Error('fax canceled'));
      await new Promise(() => {});
    }
    const outcome = await manager.send(
      outboundCall(numbers[1]!, numbers[0]!),
      stalled(),
      progress,
      abort.signal,
    );
    // Stopped (by a cancel or a shutdown): retryable, so a shutdown never loses the fax.
    assert.equal(outcome.status === 'failed' && outcome.failure, 'call_dropped');
    assert.equal(faxFailure('call_dropped').retryable, true);
    assert.equal(outcome.pagesSent, 1);
    const rows = await settledInbound(before + 1);
    const fax = rows[rows.length - 1]!;
    assert.equal(fax.status, 'failed');
    assert.equal(fax.failure_code, 'call_dropped');
    assert.equal(fax.page_count, 1);
    for (let i = 0; i < 100 && manager.channelsInUse('loopback') > 0; i++) await sleep(20);
    assert.equal(manager.channelsInUse('loopback'), 0);
  });

  it("keeps to the carrier's channels: a call waits for a free one, or fails as line_unavailable", async () => {
    const carrier = new LoopbackCarrier({
      range: RANGE,
      testNumbers: testNumbersFrom(testNumber(0)),
      pacing: 'none',
      testNumberTimeoutMs: 800,
      channels: 1,
    });
    const single = new ChannelManager({
      database: t.database,
      blobs,
      carriers: [carrier],
      channelWaitMs: 100,
    });
    await single.listen();
    try {
      assert.equal(single.groupKeyFor(testNumber(2)), 'loopback');
      assert.equal(single.groupConcurrency('loopback'), 1);
      // The ringing no-answer call holds the only channel; a second call finds none within channelWaitMs.
      const ringing = single.send(
        outboundCall(testNumber(2), numbers[0]!),
        pagesOf(PAGES),
        recordingProgress(),
        new AbortController().signal,
      );
      await sleep(50);
      assert.equal(single.channelsInUse('loopback'), 1);
      const second = await single.send(
        outboundCall(testNumber(0), numbers[0]!),
        pagesOf(PAGES),
        recordingProgress(),
        new AbortController().signal,
      );
      assert.equal(second.status === 'failed' && second.failure, 'line_unavailable');
      const rang = await ringing;
      assert.equal(rang.status === 'failed' && rang.failure, 'no_answer');
      assert.equal(single.channelsInUse('loopback'), 0);
    } finally {
      await single.close();
    }
  });

  it('closing ends the receptions in progress: the fax fails as dropped and keeps its pages', async () => {
    const before = (await inboundFaxes()).length;
    const own = new ChannelManager({
      database: t.database,
      blobs,
      carriers: [new LoopbackCarrier({ range: RANGE, testNumbers: new Map(), pacing: 'none' })],
    });
    await own.listen();
    let stalled: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      stalled = resolve;
    });
    async function* twoThenStall(): AsyncIterable<BilevelPage> {
      yield PAGES[0]!;
      yield PAGES[1]!;
      stalled();
      await new Promise(() => {});
    }
    const sending = own.send(
      outboundCall(numbers[1]!, numbers[0]!),
      twoThenStall(),
      recordingProgress(),
      new AbortController().signal,
    );
    await reached;
    await until(
      async () =>
        (await inboundFaxes()).length > before && (await inboundFaxes()).at(-1)!.pages_transferred >= 1,
    );
    await own.close();
    const outcome = await sending;
    assert.equal(outcome.status, 'failed');
    const fax = (await inboundFaxes()).at(-1)!;
    assert.equal(fax.status, 'failed');
    assert.equal(fax.failure_code, 'call_dropped');
    assert.equal(fax.page_count, 1);
  });
});

async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await probe()); i++) await sleep(20);
}
