/**
 * @module
 * API throughput over real HTTP on loopback, against the platform as `faxwire start` runs it (no line,
 * so faxes stay queued): faxes accepted per second for a 1-page PDF and a 1-page PNG sent as base64
 * JSON (document inspection with the real renderer included), then GET /v1/faxes/{id} and
 * GET /v1/faxes?limit=25 latency. SQLite always; PostgreSQL too when FAXWIRE_TEST_PG_URL is set.
 * The sends come from a client on its own thread (bench/lib/http-load-worker.mjs), as they would from
 * another process; the reads from the main thread. Besides sends per second it reports the CPU each
 * accepted send cost (the whole process, client included, and the server's main thread alone) and the
 * load average, since on a shared machine throughput follows the neighbours while CPU per send mostly
 * does not.
 *
 * Usage: npx tsx bench/api-accept.ts [sends] [concurrency]   (prints a table and one JSON line)
 * Each kind is preceded by 200 untimed sends, so the figures are for a warmed-up process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { pino } from 'pino';
import sharp from 'sharp';
import { tinyPdf } from '../packages/server/src/api/test-app.ts';
import { startPlatform } from '../packages/server/src/cli/start-command.ts';
import { loadConfig } from '../packages/server/src/config/config.ts';

const sends = Math.max(10, Number(process.argv[2] ?? 400));
const concurrency = Math.max(1, Number(process.argv[3] ?? 16));
const reads = 400;
const warmUp = 200;

const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

function call(
  port: number,
  method: string,
  path: string,
  key: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU time of the main thread in ms (Linux), or NaN where /proc is not there. */
function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Sends `count` POST /v1/faxes from the load thread; resolves with its timing and the responses. */
function sendFrom(
  port: number,
  key: string,
  body: string,
  count: number,
): Promise<{ ms: number; responses: { status: number; body: string }[] }> {
  const worker = new Worker(new URL('./lib/http-load-worker.mjs', import.meta.url), {
    workerData: {
      port,
      method: 'POST',
      path: '/v1/faxes',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
      count,
      concurrency,
    },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function benchEngine(databaseUrl?: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-bench-'));
  const config = loadConfig({
    FAXWIRE_DATA_DIR: dataDir,
    FAXWIRE_PORT: '0',
    FAXWIRE_RATE_LIMIT_PER_SECOND: '0',
    // API only: the faxes stay queued instead of being sent by the loopback line meanwhile.
    FAXWIRE_LINES: 'off',
    ...(databaseUrl ? { FAXWIRE_DATABASE_URL: databaseUrl } : {}),
  });
  const platform = await startPlatform(config, { logger: pino({ level: 'silent' }) });
  const port = Number(new URL(platform.address!).port);
  const key = readFileSync(platform.initialKeyPath!, 'utf8').trim();
  const from = '+14155550100';
  const png = await sharp({ create: { width: 1700, height: 2200, channels: 3, background: '#fff' } })
    .composite([
      {
        input: Buffer.from(
          '<svg width="1700" height="2200"><text x="100" y="200" font-size="80">Invoice 42</text></svg>',
        ),
      },
    ])
    .greyscale()
    .png()
    .toBuffer();
  const payloads = {
    pdf: JSON.stringify({
      to: '+14155550150',
      from,
      documents: [{ content: tinyPdf(1).toString('base64') }],
    }),
    png: JSON.stringify({ to: '+14155550150', from, documents: [{ content: png.toString('base64') }] }),
  };
  const result: Record<string, number> = {};
  const ids: string[] = [];
  for (const [kind, body] of Object.entries(payloads)) {
    // Warm-up, not timed: the JIT compiles the request path during the first few hundred sends.
    await sendFrom(port, key, body, warmUp);
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const { ms, responses } = await sendFrom(port, key, body, sends);
    const seconds = ms / 1000;
    const cpu = process.cpuUsage(cpu0);
    const accepted = responses.filter((r) => r.status === 202);
    if (accepted.length !== sends)
      throw new Error(
        `${kind}: ${sends - accepted.length} sends not accepted: ${responses.find((r) => r.status !== 202)?.body}`,
      );
    for (const r of accepted) ids.push(JSON.parse(r.body).id);
    result[`${kind}AcceptedPerSecond`] = Math.round(sends / seconds);
    result[`${kind}CpuMsPerSend`] = Number(((cpu.user + cpu.system) / 1000 / sends).toFixed(2));
    result[`${kind}MainThreadCpuMsPerSend`] = Number(((mainThreadCpuMs() - main0) / sends).toFixed(2));
    result[`${kind}BytesPerRequest`] = body.length;
  }
  const queued = await platform.database.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', 'fax.send')
    .executeTakeFirstOrThrow();
  result.sendJobsQueued = Number(queued.n);
  // Documents were spooled with their faxes; the reads below are timed once the flusher has moved
  // them all to the blob store (how long that took after the last send is reported too).
  const drainStart = performance.now();
  for (;;) {
    const spooled = await platform.database.db
      .selectFrom('blob_spool')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(spooled.n) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  result.spoolDrainedMs = Math.round(performance.now() - drainStart);

  for (const [name, path] of [
    ['get', (i: number) => `/v1/faxes/${ids[i % ids.length]}`],
    ['list25', () => '/v1/faxes?limit=25'],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < reads; i++) {
      const t0 = performance.now();
      const res = await call(port, 'GET', path(i), key);
      times.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`${name}: ${res.status}`);
    }
    times.sort((a, b) => a - b);
    result[`${name}P50Ms`] = Number(percentile(times, 50).toFixed(2));
    result[`${name}P99Ms`] = Number(percentile(times, 99).toFixed(2));
  }
  await platform.close();
  rmSync(dataDir, { recursive: true, force: true });
  return result;
}

const engines: [string, string | undefined][] = [['sqlite', undefined]];
const pgUrl = process.env.FAXWIRE_TEST_PG_URL;
let dropDb: (() => Promise<void>) | null = null;
if (pgUrl) {
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  const name = `faxwire_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  engines.push(['postgres', url.toString()]);
  dropDb = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  };
}

const loadBefore = loadavg()[0]!;
const report: Record<string, Record<string, number>> = {};
for (const [engine, url] of engines) report[engine] = await benchEngine(url);
await dropDb?.();
agent.destroy();

const load = { before: loadBefore, after: loadavg()[0]! };
console.log(
  `sends=${sends} concurrency=${concurrency} reads=${reads} (1-page documents, base64 JSON; ` +
    `load average ${load.before.toFixed(1)} → ${load.after.toFixed(1)} on ${availableParallelism()} CPUs)`,
);
console.log(
  'engine    pdf/s  cpu ms/send (main)  png/s  cpu ms/send (main)  get p50/p99 ms   list25 p50/p99 ms  spool drained',
);
for (const [engine, r] of Object.entries(report)) {
  console.log(
    `${engine.padEnd(9)} ${String(r.pdfAcceptedPerSecond).padStart(5)}  ` +
      `${r.pdfCpuMsPerSend} (${r.pdfMainThreadCpuMsPerSend})`.padEnd(18) +
      `  ${String(r.pngAcceptedPerSecond).padStart(5)}  ` +
      `${r.pngCpuMsPerSend} (${r.pngMainThreadCpuMsPerSend})`.padEnd(18) +
      `  ${`${r.getP50Ms}/${r.getP99Ms}`.padEnd(16)} ${`${r.list25P50Ms}/${r.list25P99Ms}`.padEnd(18)} ${r.spoolDrainedMs} ms`,
  );
}
console.log(JSON.stringify({ bench: 'api-accept', sends, concurrency, load, report }));
