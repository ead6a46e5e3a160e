/**
 * @module
 * Page-event webhook latency: from the moment a line hands a received page over
 * (domain/inbound-fax.ts `recordReceivedPage`, which stores it durably: spooled with its row, one commit) to the `fax.page.received`
 * webhook request arriving at a receiver on loopback, with 1, 100 and 500 inbound faxes in progress at
 * once. The faxes are simulated by calling the domain functions concurrently with real pages (a short
 * letter, MMR-coded TIFF Class F, a few kB); each fax hands over a page every `intervalMs` ±50 %.
 * The store is SQLite (WAL, synchronous=FULL) as `faxwire start` runs it; PostgreSQL too when
 * FAXWIRE_TEST_PG_URL is set. The dispatcher is woken by the event bus after each commit.
 *
 * Usage: npx tsx bench/webhook-latency.ts [levels=1,100,500] [intervalMs=1000] [engines=sqlite[,postgres]]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../packages/server/src/config/config.ts';
import { writeFaxTiff } from '../packages/server/src/documents/write-fax-tiff.ts';
import { bootstrapAccount } from '../packages/server/src/domain/accounts.ts';
import {
  finishInboundFax,
  recordReceivedPage,
  startInboundFax,
} from '../packages/server/src/domain/inbound-fax.ts';
import { OutboundAddressPolicy } from '../packages/server/src/net/outbound-address-policy.ts';
import { type Database, openDatabase } from '../packages/server/src/store/database.ts';
import { LocalBlobStore } from '../packages/server/src/store/local-blob-store.ts';
import { SpooledBlobStore } from '../packages/server/src/store/spooled-blob-store.ts';
import { startTestReceiver } from '../packages/server/src/webhooks/test-receiver.ts';
import { WebhookDispatcher } from '../packages/server/src/webhooks/webhook-dispatcher.ts';
import { createWebhookEndpoint } from '../packages/server/src/webhooks/webhook-endpoints.ts';
import { shortLetter } from './lib/fax-documents.ts';
import { markdownTable, quantile, round, sleep } from './lib/report.ts';

const levels = (process.argv[2] ?? '1,100,500').split(',').map(Number);
const intervalMs = Number(process.argv[3] ?? 1000);

/** Enough pages per level for a p99, at a pace a fax line could plausibly keep. */
function plan(concurrent: number): { pagesPerFax: number; intervalMs: number } {
  if (concurrent === 1) return { pagesPerFax: 200, intervalMs: Math.min(intervalMs, 50) };
  return { pagesPerFax: Math.max(2, Math.ceil(600 / concurrent)), intervalMs };
}

interface LevelResult {
  engine: string;
  concurrent: number;
  pages: number;
  pagesPerSecond: number;
  storeP50: number;
  storeP99: number;
  p50: number;
  p99: number;
  max: number;
  afterStoreP50: number;
  afterStoreP99: number;
  lost: number;
}

async function openEngine(engine: 'sqlite' | 'postgres', dir: string) {
  if (engine === 'sqlite') {
    const config = loadConfig({ FAXWIRE_DATA_DIR: dir });
    const database = await openDatabase(config.database);
    return { database, store: database, drop: async () => {} };
  }
  const admin = new pg.Client({ connectionString: process.env.FAXWIRE_TEST_PG_URL });
  await admin.connect();
  const name = `faxwire_bench_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.FAXWIRE_TEST_PG_URL!);
  url.pathname = `/${name}`;
  const database = await openDatabase({ engine: 'postgres', url: url.toString() });
  // As faxwire start does: the dispatcher's own pool, so it does not queue behind the fax writes.
  const store = await openDatabase({ engine: 'postgres', url: url.toString() });
  return {
    database,
    store,
    drop: async () => {
      await store.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

async function runLevel(
  engine: 'sqlite' | 'postgres',
  concurrent: number,
  pageBytes: Uint8Array[],
): Promise<LevelResult> {
  const dir = mkdtempSync(join(tmpdir(), 'faxwire-whbench-'));
  const { database, store, drop } = await openEngine(engine, dir);
  // As faxwire start has it: pages spooled with their rows, moved on to the files right after.
  const blobs = new SpooledBlobStore(database, new LocalBlobStore(join(dir, 'blobs')));
  blobs.start();
  const receiver = await startTestReceiver();
  const dispatcher = new WebhookDispatcher({
    database: database as Database,
    store,
    policy: new OutboundAddressPolicy(['127.0.0.0/8']),
  });
  try {
    const boot = await bootstrapAccount(database, { first: '+14155550100', last: '+14155550199' });
    await createWebhookEndpoint(
      database,
      boot!.accountId,
      { url: receiver.url, eventTypes: ['fax.page.received'] },
      Date.now() - 1,
    );
    dispatcher.start();
    const { pagesPerFax, intervalMs: gap } = plan(concurrent);
    const handedOver = new Map<string, number>();
    const stored = new Map<string, number>();
    const storeMs: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrent }, async (_, i) => {
        await sleep(Math.random() * gap);
        const fax = await startInboundFax(database, {
          to: boot!.numbers[i % boot!.numbers.length]!.e164,
          from: '+14155550142',
        });
        for (let n = 1; n <= pagesPerFax; n++) {
          await sleep(gap * (0.5 + Math.random()));
          const t0 = performance.now();
          handedOver.set(`${fax.id}:${n}`, t0);
          await recordReceivedPage({ database, blobs }, fax.id, {
            n,
            bytes: pageBytes[(n - 1) % pageBytes.length]!,
            rows: 1145,
            badRows: 0,
          });
          const t1 = performance.now();
          stored.set(`${fax.id}:${n}`, t1);
          storeMs.push(t1 - t0);
        }
        await finishInboundFax(database, fax.id, { status: 'received' });
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const total = concurrent * pagesPerFax;
    const firstArrival = new Map<string, number>();
    for (let waited = 0; waited < 60_000; waited += 50) {
      for (const r of receiver.received.splice(0)) {
        const body = JSON.parse(r.body) as { data: { faxId: string; page: number } };
        const key = `${body.data.faxId}:${body.data.page}`;
        if (!firstArrival.has(key)) firstArrival.set(key, r.arrivedAt);
      }
      if (firstArrival.size >= total) break;
      await sleep(50);
    }
    const latencies = [...firstArrival].map(([key, at]) => at - handedOver.get(key)!);
    const afterStore = [...firstArrival].map(([key, at]) => at - stored.get(key)!);
    return {
      engine,
      concurrent,
      pages: total,
      pagesPerSecond: round(total / elapsedS, 0),
      storeP50: round(quantile(storeMs, 0.5), 1),
      storeP99: round(quantile(storeMs, 0.99), 1),
      p50: round(quantile(latencies, 0.5), 1),
      p99: round(quantile(latencies, 0.99), 1),
      max: round(Math.max(...latencies), 1),
      afterStoreP50: round(quantile(afterStore, 0.5), 1),
      afterStoreP99: round(quantile(afterStore, 0.99), 1),
      lost: total - firstArrival.size,
    };
  } finally {
    await dispatcher.stop();
    await blobs.stop();
    await receiver.close();
    await database.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pageBytes = await Promise.all(shortLetter(3).map((page) => writeFaxTiff([page])));
const engines = (process.argv[4] ?? (process.env.FAXWIRE_TEST_PG_URL ? 'sqlite,postgres' : 'sqlite')).split(
  ',',
) as ('sqlite' | 'postgres')[];
const results: LevelResult[] = [];
for (const engine of engines) {
  for (const concurrent of levels) results.push(await runLevel(engine, concurrent, pageBytes));
}
console.log(
  `page hand-over → fax.page.received webhook at a loopback receiver (page ${pageBytes[0]!.length} B, ` +
    `interval ${intervalMs} ms ±50 %; 1 fax: 50 ms)\n`,
);
console.log(
  markdownTable(
    [
      'engine',
      'faxes',
      'pages',
      'pages/s',
      'store p50 ms',
      'store p99 ms',
      'webhook p50 ms',
      'webhook p99 ms',
      'max ms',
      'after store p50',
      'after store p99',
      'lost',
    ],
    results.map((r) => [
      r.engine,
      r.concurrent,
      r.pages,
      r.pagesPerSecond,
      r.storeP50,
      r.storeP99,
      r.p50,
      r.p99,
      r.max,
      r.afterStoreP50,
      r.afterStoreP99,
      r.lost,
    ]),
  ),
);
console.log(JSON.stringify({ bench: 'webhook-latency', results }));
