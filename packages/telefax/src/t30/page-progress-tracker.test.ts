import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { samplePage } from '../codec/sample-pages.ts';
import { type BilevelPage, samePixels } from '../image/bilevel-page.ts';
import { createMemoryPortPair } from './memory-port-pair.ts';
import type { PageCodec } from './page-codec.ts';
import { standardPageCodec } from './standard-page-codec.ts';
import type { PageProgress } from './t30-context.ts';
import { T30Session, type T30SessionOptions } from './t30-session.ts';

const FAST = { t1: 3000, t2: 1500, t3: 1000, t4: 400, t5: 3000 };

/** A progress report as seen when it was made: the rows are copied, the view is only valid during the call. */
interface Seen {
  readonly pageNumber: number;
  readonly rows: number;
  readonly width: number;
  readonly page: BilevelPage;
  /** Pages completed (onPage called) when the report came. */
  readonly pagesDone: number;
}

function pages(count: number, height: number): BilevelPage[] {
  return Array.from({ length: count }, (_, i) => samplePage(i % 2 ? 'random' : 'text', 1728, height, i + 7));
}

function firstRows(page: BilevelPage, rows: number): BilevelPage {
  return { ...page, height: rows, data: page.data.subarray(0, rows * page.stride) };
}

async function receiveWithProgress(sent: BilevelPage[], receiver: Partial<T30SessionOptions>) {
  const { a, b } = createMemoryPortPair();
  const received: BilevelPage[] = [];
  const seen: Seen[] = [];
  const onPageProgress = (p: PageProgress) => {
    seen.push({
      pageNumber: p.pageNumber,
      rows: p.rows,
      width: p.width,
      page: { ...p.page, data: p.page.data.slice() },
      pagesDone: received.length,
    });
  };
  const [s, r] = await Promise.all([
    new T30Session({ port: a, direction: 'send', calling: true, pages: sent, timers: FAST }).run(),
    new T30Session({
      port: b,
      direction: 'receive',
      calling: false,
      timers: FAST,
      onPage: (page) => {
        received.push(page);
      },
      onPageProgress,
      ...receiver,
    }).run(),
  ]);
  assert.ok(s.ok && r.ok, `sender ${JSON.stringify(s)} receiver ${JSON.stringify(r)}`);
  assert.equal(received.length, sent.length);
  return { received, seen };
}

function checkProgress(sent: BilevelPage[], received: BilevelPage[], seen: Seen[], partialExpected: boolean) {
  for (let n = 1; n <= sent.length; n++) {
    const reports = seen.filter((s) => s.pageNumber === n);
    assert.ok(reports.length > 0, `page ${n}: no progress`);
    for (const r of reports) {
      assert.equal(r.pagesDone, n - 1, `page ${n}: progress after the page completed`);
      assert.equal(r.width, 1728);
      assert.equal(r.page.height, r.rows);
      assert.ok(samePixels(r.page, firstRows(sent[n - 1], r.rows)), `page ${n}: rows so far differ`);
    }
    for (let i = 1; i < reports.length; i++)
      assert.ok(reports[i].rows > reports[i - 1].rows, 'rows increase');
    assert.equal(reports.at(-1)!.rows, received[n - 1].height, `page ${n}: the last report has all rows`);
    if (partialExpected) {
      assert.ok(reports.length >= 2, `page ${n}: only ${reports.length} report(s)`);
      assert.ok(reports[0].rows < sent[n - 1].height, `page ${n}: no report before the page was complete`);
    }
  }
}

describe('onPageProgress', () => {
  test('non-ECM: rows so far arrive while each page streams in, the last with all rows', async () => {
    const sent = pages(3, 600);
    const { received, seen } = await receiveWithProgress(sent, { ecm: false, compression: 'mr' });
    checkProgress(sent, received, seen, true);
  });

  test('ECM (MMR): rows so far as frames arrive in order, the last with all rows', async () => {
    const sent = pages(2, 600);
    const { received, seen } = await receiveWithProgress(sent, { ecm: true, compression: 'mmr' });
    checkProgress(sent, received, seen, true);
  });

  test('a codec that cannot decode incrementally reports each page once, when decoded', async () => {
    const { stream: _stream, ...oneShot } = standardPageCodec;
    const codec: PageCodec = oneShot;
    const sent = pages(2, 200);
    const { received, seen } = await receiveWithProgress(sent, { ecm: false, codec });
    checkProgress(sent, received, seen, false);
    assert.equal(seen.length, 2);
  });

  test('a throwing progress hook does not touch the call', async () => {
    const { a, b } = createMemoryPortPair();
    const sent = pages(2, 300);
    const received: BilevelPage[] = [];
    const [s, r] = await Promise.all([
      new T30Session({ port: a, direction: 'send', calling: true, pages: sent, timers: FAST }).run(),
      new T30Session({
        port: b,
        direction: 'receive',
        calling: false,
        timers: FAST,
        onPage: (page) => {
          received.push(page);
        },
        onPageProgress: () => {
          throw new Error('listener failed');
        },
      }).run(),
    ]);
    assert.ok(s.ok && r.ok);
    for (let i = 0; i < sent.length; i++) assert.ok(samePixels(received[i], sent[i]));
  });
});
