/**
 * @module events/page-progress.bench
 * What the progressive preview costs the durable page path and its event. Receives `PAGES` pages through
 * recordReceivedPage (blob fsync + commit, the step that gates MCF) with a client following the fax
 * over SSE, in three alternating modes: alone; with the page's rows reported every 32 rows while it
 * "arrives" (so `fax.page.progress` flows to the client); and additionally with a partial PNG preview
 * fetched mid-page. Prints the store latency, the commit → client latency of `fax.page.received`, and
 * the cost of one `report()` call. Run: node --import tsx packages/server/src/events/page-progress.bench.ts
 */
import { syntheticPage } from 'telefax/image/synthetic-page';
import { createTestApp } from '../api/test-app.ts';
import { openSse } from '../api/test-sse-client.ts';
import { writeFaxTiff } from '../documents/index.ts';
import { recordReceivedPage, reportPageProgress, startInboundFax } from '../domain/inbound-fax.ts';
import { TEST_ENGINES } from '../store/test-databases.ts';

const PAGES = Number(process.env.PAGES ?? 30);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const page = syntheticPage(1728, 2200, 7);
const bytes = await writeFaxTiff([page]);

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

type Mode = 'alone' | 'progress' | 'preview';

for (const engine of TEST_ENGINES) {
  if (engine.skip) continue;
  const t = await createTestApp({ engine });
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const deps = { database: t.deps.database, blobs: t.deps.blobs };
  const store: Record<Mode, number[]> = { alone: [], progress: [], preview: [] };
  const delivery: Record<Mode, number[]> = { alone: [], progress: [], preview: [] };
  let reportNs = 0;
  let reports = 0;
  let progressSeen = 0;

  const run = async (mode: Mode) => {
    const fax = await startInboundFax(t.deps.database, { to: t.numbers[0]!, from: '+14155550199' });
    const sse = await openSse(`${base}/v1/faxes/${fax.id}/events`, t.auth);
    await sse.nextMatching((m) => m.event === 'fax.receiving.started');
    for (let n = 1; n <= PAGES; n++) {
      if (mode !== 'alone') {
        for (let rows = 32; rows <= page.height; rows += 32) {
          const partial = { ...page, height: rows };
          const t0 = process.hrtime.bigint();
          reportPageProgress(t.deps.database, fax.id, n, partial);
          reportNs += Number(process.hrtime.bigint() - t0);
          reports++;
          if (mode === 'preview' && rows === 1024) {
            await fetch(`${base}/v1/faxes/${fax.id}/pages/${n}?format=png`, { headers: t.auth }).then((r) =>
              r.arrayBuffer(),
            );
          }
        }
      }
      const t0 = performance.now();
      await recordReceivedPage(deps, fax.id, { n, bytes, rows: page.height, badRows: 0, width: 1728 });
      const committed = performance.now();
      store[mode].push(committed - t0);
      await sse.nextMatching((m) => {
        if (m.event === 'fax.page.progress') progressSeen++;
        return m.event === 'fax.page.received';
      });
      delivery[mode].push(performance.now() - committed);
    }
    sse.close();
  };

  await run('alone'); // warm-up
  for (const m of Object.values(store)) m.length = 0;
  for (const m of Object.values(delivery)) m.length = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['alone', 'progress', 'preview'] as const) await run(mode);
  }
  const fmt = (l: number[]) =>
    `p50 ${percentile(l, 0.5).toFixed(2)} p95 ${percentile(l, 0.95).toFixed(2)} ms`;
  console.log(
    `${engine.name} (${ROUNDS}×${PAGES} pages per mode)   store (gates MCF)      commit → SSE client`,
  );
  for (const mode of ['alone', 'progress', 'preview'] as const) {
    console.log(`  ${mode.padEnd(9)} ${fmt(store[mode]).padEnd(26)} ${fmt(delivery[mode])}`);
  }
  console.log(
    `  report(): ${(reportNs / reports).toFixed(0)} ns/call over ${reports} calls; ` +
      `${progressSeen} progress events reached the client`,
  );
  await t.close();
}
