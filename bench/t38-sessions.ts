/**
 * @module
 * Concurrent paced T.38 fax calls in one Node process: N sender/receiver pairs of Faxwire's T.30 engine over
 * T38Transport (pace 'realtime') on 127.0.0.1, ramped until a call fails or pacing slips, against K pairs of
 * spandsp test peers (one process per terminal) in the same run. Each call sends a short standard-resolution
 * letter (2 pages of a few text lines, ECM/MMR at 14,400 bit/s, ~30 s of line time).
 *
 * Per wave: call outcomes and pixel checks; CPU (process.cpuUsage for ours, the reaped children's cutime+cstime
 * for spandsp's processes) as CPU-ms per call and CPU-s per call-minute of line time; memory per call (peak RSS
 * growth for ours, summed PSS/RSS of the peer processes for spandsp); event-loop delay and utilisation; pacing:
 * each transport deadline's lateness (LatenessTimer) and each call's duration against a lone call's ("slip").
 * A wave is "clean" when every call succeeds with identical pixels, and "paced" when deadline lateness p99 ≤
 * LATE_P99_MS and call slip p99 ≤ SLIP_P99_PCT of the lone call. ELU well above the CPU share means the process
 * wanted the CPU and did not get it (other load on the machine): note the load average printed with each wave.
 *
 * Usage: npx tsx bench/t38-sessions.ts [--quick | --full] [--steps 100,250,…] [--spandsp-pairs K]
 *        [--spread-ms MS] [--rounds R] [--pages P] [--no-spandsp] [--trace-slowest]
 *   --quick (default): N = 100, 250; K = 20.   --full: N = 100, 250, 500, 1000, 1500, 2000; K = 40.
 *   --spread-ms (5000): the N calls of a wave start evenly over this time, so their T.30 phases nearly coincide
 *   (the hard case). --rounds R: each of the N slots makes R calls back to back; with a spread of about one call
 *   time (e.g. --spread-ms 30000 --rounds 2) N calls stay in flight with their phases spread evenly, as in
 *   steady service. --trace-slowest prints the T.30 trace of each wave's slowest and fastest call (stderr).
 * The ramp goes on past a wave whose pacing slips and stops at the first wave with a failed call.
 * Prints a Markdown table and one JSON line. Needs Linux /proc; the spandsp part needs libspandsp-dev (skipped
 * with a note when the peer cannot be built).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BilevelPage } from '../packages/telefax/src/image/bilevel-page.ts';
import { writeTiff } from '../packages/telefax/src/image/tiff-writer.ts';
import { buildSpandspPeer, freeUdpPorts } from '../packages/telefax/test/spandsp-peer/spandsp-peer.ts';
import { shortLetter } from './lib/fax-documents.ts';
import { openPair, type PairResult, runPair } from './lib/faxwire-pair.ts';
import { LatenessLog } from './lib/lateness-timer.ts';
import { childrenCpuSeconds, loadAverage, processMemoryKb } from './lib/proc-stat.ts';
import { markdownTable, quantile, round, sleep } from './lib/report.ts';
import { type PeerHandle, type SpandspPeerResult, startSpandspPair } from './lib/spandsp-pair.ts';

/** Pacing holds while 99 % of transport deadlines fire within one 30 ms IFP chunk of their time. */
const LATE_P99_MS = 30;
/** … and 99 % of calls take at most this much longer than a lone call (percent). */
const SLIP_P99_PCT = 5;
/** monitorEventLoopDelay's sampling period; its samples include the period, which is subtracted. */
const ELD_RESOLUTION_MS = 10;

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const full = flag('--full');
const steps = (value('--steps') ?? (full ? '100,250,500,1000,1500,2000' : '100,250'))
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const spandspPairs = Number(value('--spandsp-pairs') ?? (full ? 40 : 20));
const spreadMs = Number(value('--spread-ms') ?? 5000);
const pageCount = Number(value('--pages') ?? 2);
const withSpandsp = !flag('--no-spandsp') && spandspPairs > 0;
/** Calls each slot makes back to back: with a spread of about one call time, rounds ≥ 2 holds N calls in flight
 * with their phases spread evenly (a steady state) instead of N calls started together. */
const rounds = Math.max(1, Number(value('--rounds') ?? 1));
/** Keep every call's T.30 trace and print the slowest call's next to the lone call's (stderr). */
const traceSlowest = flag('--trace-slowest');

const gc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m?.[1] ?? 1024);
}

interface WaveRow {
  engine: 'faxwire' | 'spandsp';
  /** Calls in flight at once (N, or K spandsp pairs). */
  concurrent: number;
  /** Calls made in the wave (N × rounds). */
  calls: number;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  pixelMismatches: number;
  callS: number;
  slipP50Ms: number;
  slipP99Ms: number;
  slipMaxMs: number;
  lateP50Ms: number;
  lateP99Ms: number;
  lateP999Ms: number;
  lateMaxMs: number;
  /** The seconds of the wave with the most deadlines later than LATE_P99_MS. */
  lateSeconds: string;
  eldP99Ms: number;
  eldMaxMs: number;
  elu: number;
  /** Highest event-loop utilisation over one second. */
  eluPeak: number;
  /** Highest CPU use over one second, in % of one core. */
  corePeakPct: number;
  waveS: number;
  cpuS: number;
  cpuMsPerCall: number;
  cpuSPerCallMin: number;
  corePct: number;
  memKbPerCall: number;
  heapKbPerCall: number;
  datagramsPerS: number;
  lostIfps: number;
  /** Calls per negotiated bit rate (sender's view), e.g. "14400:998 12000:2". */
  rates: string;
  /** No failure and identical pixels. */
  clean: boolean;
  /** Pacing held: deadline lateness and call slip within bounds. */
  paced: boolean;
  load: string;
}

/** Event-loop delay beyond the sampling period, in ms (the histogram holds ns). */
function eldMs(h: ReturnType<typeof monitorEventLoopDelay>, p: number | 'max'): number {
  return Math.max(0, (p === 'max' ? h.max : h.percentile(p)) / 1e6 - ELD_RESOLUTION_MS);
}

async function faxwireWave(
  n: number,
  pages: readonly BilevelPage[],
  baselineMs: number | null,
  callsPerSlot: number,
): Promise<{ row: WaveRow; results: PairResult[] }> {
  gc();
  await sleep(200);
  const lateness = new LatenessLog(LATE_P99_MS);
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  let rssPeak = rss0;
  let heapPeak = heap0;
  // Per second: the process's CPU share and the event loop's utilisation, to see the peaks behind the average.
  let lastCpu = process.cpuUsage();
  let lastElu = performance.eventLoopUtilization();
  let lastAt = performance.now();
  let tick = 0;
  let cpuPeak = 0;
  let eluPeak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
    if (++tick % 2 === 0) {
      const now = performance.now();
      const c = process.cpuUsage(lastCpu);
      const e = performance.eventLoopUtilization(lastElu);
      cpuPeak = Math.max(cpuPeak, (c.user + c.system) / 1000 / (now - lastAt));
      eluPeak = Math.max(eluPeak, e.utilization);
      lastCpu = process.cpuUsage();
      lastElu = performance.eventLoopUtilization();
      lastAt = now;
    }
  }, 500);
  const load = loadAverage();
  const cpu0 = process.cpuUsage();
  const elu0: EventLoopUtilization = performance.eventLoopUtilization();
  const t0 = performance.now();
  eld.enable();

  // Backstop: T.30's own timers end every call within a few minutes; this only guards against a hang.
  const abort = new AbortController();
  const backstop = setTimeout(
    () => abort.abort(),
    (baselineMs ?? 60_000) * 3 * callsPerSlot + spreadMs + 120_000,
  );
  // Each of the n slots runs `rounds` calls back to back, each on new sockets (a new call).
  const perSlot = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await sleep((i * spreadMs) / n);
      const done: PairResult[] = [];
      for (let r = 0; r < callsPerSlot && !abort.signal.aborted; r++) {
        done.push(await runPair(await openPair('realtime', lateness), pages, abort.signal, traceSlowest));
      }
      return done;
    }),
  );
  clearTimeout(backstop);
  const results = perSlot.flat();
  const checkS = results.reduce((sum, r) => sum + r.checkMs, 0) / 1000;

  const waveMs = performance.now() - t0;
  eld.disable();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  clearInterval(sampler);
  // The pixel check is the benchmark's own work, not the engine's.
  const cpuS = (cpu.user + cpu.system) / 1e6 - checkS;
  const row = summarise('faxwire', n, results, baselineMs, {
    lateness,
    rounds: callsPerSlot,
    cpuPeak,
    eluPeak,
    eld,
    elu: elu.utilization,
    waveMs,
    cpuS,
    memKb: (rssPeak - rss0) / 1024,
    heapKb: (heapPeak - heap0) / 1024,
    load,
  });
  return { row, results };
}

function summarise(
  engine: 'faxwire',
  n: number,
  results: PairResult[],
  baselineMs: number | null,
  m: {
    lateness: LatenessLog;
    rounds: number;
    cpuPeak: number;
    eluPeak: number;
    eld: ReturnType<typeof monitorEventLoopDelay>;
    elu: number;
    waveMs: number;
    cpuS: number;
    memKb: number;
    heapKb: number;
    load: string;
  },
): WaveRow {
  const failures: Record<string, number> = {};
  let ok = 0;
  let mismatches = 0;
  let datagrams = 0;
  let lost = 0;
  const durations: number[] = [];
  for (const r of results) {
    const good = r.sender.outcome.ok && r.receiver.outcome.ok && r.pixelMismatches === 0;
    if (good) ok++;
    for (const end of [r.sender, r.receiver]) {
      if (!end.outcome.ok) {
        const key = `${end === r.sender ? 'tx' : 'rx'}:${end.outcome.reason}@${end.outcome.phase}`;
        failures[key] = (failures[key] ?? 0) + 1;
      }
      datagrams += end.stats.datagramsOut;
      lost += end.stats.lost;
    }
    mismatches += r.pixelMismatches;
    durations.push(r.sender.outcome.durationMs);
  }
  const base = baselineMs ?? quantile(durations, 0.5);
  const slips = durations.map((d) => d - base);
  const callMinutes = durations.reduce((a, b) => a + b, 0) / 60_000;
  const row: WaveRow = {
    engine,
    concurrent: n,
    calls: results.length,
    ok,
    failed: n * m.rounds - ok,
    failures,
    pixelMismatches: mismatches,
    callS: round(quantile(durations, 0.5) / 1000, 1),
    slipP50Ms: round(quantile(slips, 0.5), 0),
    slipP99Ms: round(quantile(slips, 0.99), 0),
    slipMaxMs: round(Math.max(...slips), 0),
    lateP50Ms: round(m.lateness.ms(50), 1),
    lateP99Ms: round(m.lateness.ms(99), 1),
    lateP999Ms: round(m.lateness.ms(99.9), 1),
    lateMaxMs: round(m.lateness.ms('max'), 1),
    lateSeconds: m.lateness.worstSeconds(),
    eldP99Ms: round(eldMs(m.eld, 99), 1),
    eldMaxMs: round(eldMs(m.eld, 'max'), 1),
    elu: round(m.elu, 3),
    eluPeak: round(m.eluPeak, 2),
    corePeakPct: round(m.cpuPeak * 100, 0),
    waveS: round(m.waveMs / 1000, 1),
    cpuS: round(m.cpuS, 2),
    cpuMsPerCall: round((m.cpuS * 1000) / results.length, 1),
    cpuSPerCallMin: round(m.cpuS / callMinutes, 4),
    corePct: round((m.cpuS / (m.waveMs / 1000)) * 100, 1),
    memKbPerCall: round(m.memKb / n, 1),
    heapKbPerCall: round(m.heapKb / n, 1),
    datagramsPerS: round(datagrams / (m.waveMs / 1000), 0),
    lostIfps: lost,
    rates: rateCounts(results),
    clean: ok === n * m.rounds,
    paced: false,
    load: m.load,
  };
  row.paced = row.lateP99Ms <= LATE_P99_MS && row.slipP99Ms <= (base * SLIP_P99_PCT) / 100;
  return row;
}

async function spandspWave(k: number, document: string, dir: string): Promise<WaveRow> {
  const ports = await freeUdpPorts(2 * k);
  const load = loadAverage();
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  const running = new Set<PeerHandle>();
  let pssPeak = 0;
  let rssPeak = 0;
  let processesAtPeak = 0;
  const sampler = setInterval(() => {
    let pss = 0;
    let rss = 0;
    let count = 0;
    for (const peer of running) {
      const m = processMemoryKb(peer.pid);
      if (m === null) continue;
      pss += m.pssKb;
      rss += m.rssKb;
      count++;
    }
    if (pss > pssPeak) {
      pssPeak = pss;
      rssPeak = rss;
      processesAtPeak = count;
    }
  }, 1000);
  const common = ['--pace', 'realtime', '--timeout-s', '300'];
  const calls = await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      await sleep((i * spreadMs) / k);
      const pair = await startSpandspPair({
        document,
        out: join(dir, `rx-${i}.tif`),
        senderPort: ports[2 * i],
        receiverPort: ports[2 * i + 1],
        common,
      });
      for (const peer of pair) {
        running.add(peer);
        peer.done.then(() => running.delete(peer));
      }
      const [tx, rx] = await Promise.all(pair.map((p) => p.done));
      return { tx: tx.json, rx: rx.json };
    }),
  );
  const waveMs = performance.now() - t0;
  clearInterval(sampler);
  const cpuS = childrenCpuSeconds() - cpu0;
  const failures: Record<string, number> = {};
  const durations: number[] = [];
  let ok = 0;
  let datagrams = 0;
  let lost = 0;
  for (const c of calls) {
    const ends: [string, SpandspPeerResult | null][] = [
      ['tx', c.tx],
      ['rx', c.rx],
    ];
    for (const [side, j] of ends) {
      if (!j?.ok) {
        const key = `${side}:${j?.reason ?? 'no result'}`;
        failures[key] = (failures[key] ?? 0) + 1;
      }
      datagrams += j?.txDatagrams ?? 0;
      lost += j?.rxLost ?? 0;
    }
    if (c.tx?.ok && c.rx?.ok && c.rx.pages === pageCount) ok++;
    if (c.tx) durations.push(c.tx.durationMs);
  }
  const callMinutes = durations.reduce((a, b) => a + b, 0) / 60_000;
  const base = quantile(durations, 0.5);
  const slips = durations.map((d) => d - base);
  const kbPerCall = processesAtPeak > 0 ? (pssPeak / processesAtPeak) * 2 : 0;
  return {
    engine: 'spandsp',
    concurrent: k,
    calls: k,
    ok,
    failed: k - ok,
    failures,
    pixelMismatches: 0,
    callS: round(base / 1000, 1),
    slipP50Ms: 0,
    slipP99Ms: round(quantile(slips, 0.99), 0),
    slipMaxMs: round(Math.max(...slips), 0),
    lateP50Ms: Number.NaN,
    lateP99Ms: Number.NaN,
    lateP999Ms: Number.NaN,
    lateMaxMs: Number.NaN,
    lateSeconds: '',
    eldP99Ms: Number.NaN,
    eldMaxMs: Number.NaN,
    elu: Number.NaN,
    eluPeak: Number.NaN,
    corePeakPct: Number.NaN,
    waveS: round(waveMs / 1000, 1),
    cpuS: round(cpuS, 2),
    cpuMsPerCall: round((cpuS * 1000) / k, 1),
    cpuSPerCallMin: round(cpuS / callMinutes, 4),
    corePct: round((cpuS / (waveMs / 1000)) * 100, 1),
    memKbPerCall: round(kbPerCall, 0),
    heapKbPerCall: Number.NaN,
    datagramsPerS: round(datagrams / (waveMs / 1000), 0),
    lostIfps: lost,
    rates: '',
    clean: ok === k,
    paced: true,
    load: `${load}; peer RSS ${round(rssPeak / Math.max(1, processesAtPeak), 0)} kB, PSS ${round(pssPeak / Math.max(1, processesAtPeak), 0)} kB per process`,
  };
}

function rateCounts(results: PairResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = String(r.sender.outcome.line?.bitRate ?? 'none');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([rate, c]) => `${rate}:${c}`).join(' ');
}

function printTrace(label: string, r: PairResult): void {
  process.stderr.write(`--- ${label}: sender ${r.sender.outcome.durationMs} ms\n`);
  const lines = [
    ...(r.sender.trace ?? []).map((t) => `${String(t[0]).padStart(6)} TX-side ${t[1]} ${t[2]}`),
    ...(r.receiver.trace ?? []).map((t) => `${String(t[0]).padStart(6)} RX-side ${t[1]} ${t[2]}`),
  ];
  lines.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  process.stderr.write(`${lines.join('\n')}\n`);
}

function formatFailures(f: Record<string, number>): string {
  const entries = Object.entries(f);
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${v}× ${k}`).join(', ');
}

async function main(): Promise<void> {
  const fdLimit = openFileLimit();
  const pages = shortLetter(pageCount);
  const dir = mkdtempSync(join(tmpdir(), 'bench-t38-sessions-'));
  const document = join(dir, 'letter.tif');
  writeFileSync(document, writeTiff(pages, { compression: 'mh' }));
  const rows: WaveRow[] = [];
  let spandspRow: WaveRow | null = null;
  let spandspNote = '';
  process.stderr.write(
    `t38-sessions: ${full ? 'full' : 'quick'}; steps ${steps.join(',')}; spandsp pairs ${withSpandsp ? spandspPairs : 0}; ` +
      `spread ${spreadMs} ms; ${rounds} round(s); ${pageCount} page(s); load ${loadAverage()}; ${cpus().length} CPUs; open files ${fdLimit}\n`,
  );
  try {
    let spandspBuilt = false;
    if (withSpandsp) {
      try {
        await buildSpandspPeer();
        spandspBuilt = true;
      } catch (err) {
        spandspNote = `spandsp peer skipped: ${(err as Error).message.split('\n')[0]}`;
      }
    }
    // Wave 0: one lone Faxwire call (the ideal call time) while K spandsp pairs run in their own processes.
    process.stderr.write(
      `wave 0: 1 Faxwire call (baseline)${spandspBuilt ? ` + ${spandspPairs} spandsp pairs` : ''}\n`,
    );
    const [lone, sp] = await Promise.all([
      faxwireWave(1, pages, null, 1),
      spandspBuilt ? spandspWave(spandspPairs, document, dir) : Promise.resolve(null),
    ]);
    spandspRow = sp;
    const baselineMs = lone.results[0].sender.outcome.durationMs;
    if (!lone.row.clean) {
      throw new Error(`the lone call failed: ${formatFailures(lone.row.failures)}`);
    }
    rows.push(lone.row);
    for (const n of steps) {
      if (4 * n + 64 > fdLimit) {
        process.stderr.write(`N = ${n} needs ${2 * n} sockets; open-file limit ${fdLimit}: stop\n`);
        break;
      }
      await sleep(2000);
      process.stderr.write(`wave N = ${n} (load ${loadAverage()})\n`);
      const { row, results } = await faxwireWave(n, pages, baselineMs, rounds);
      if (traceSlowest) {
        const slowest = results.reduce((a, b) =>
          b.sender.outcome.durationMs > a.sender.outcome.durationMs ? b : a,
        );
        const fastest = results.reduce((a, b) =>
          b.sender.outcome.durationMs < a.sender.outcome.durationMs ? b : a,
        );
        printTrace(`N = ${n}: slowest call`, slowest);
        printTrace(`N = ${n}: fastest call`, fastest);
      }
      rows.push(row);
      process.stderr.write(`  ${JSON.stringify(row)}\n`);
      // A slipping wave is reported and the ramp goes on; the first wave with a failed call ends it.
      if (!row.clean) break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const all = spandspRow ? [spandspRow, ...rows] : rows;
  console.log(
    markdownTable(
      [
        'engine',
        'N',
        'calls',
        'ok',
        'failed',
        'call s (p50)',
        'slip p99/max ms',
        'late p50/p99/p99.9/max ms',
        'ELD p99/max ms',
        'ELU avg/peak',
        'CPU s',
        'CPU ms/call',
        'CPU s per call-min',
        '% core avg/peak',
        'mem kB/call',
        'datagrams/s',
        'lost IFPs',
        'bit rates',
        'clean',
        'paced',
      ],
      all.map((r) => [
        r.engine,
        r.concurrent,
        r.calls,
        r.ok,
        r.failed + (Object.keys(r.failures).length ? ` (${formatFailures(r.failures)})` : ''),
        r.callS,
        `${r.slipP99Ms}/${r.slipMaxMs}`,
        r.engine === 'spandsp' ? '–' : `${r.lateP50Ms}/${r.lateP99Ms}/${r.lateP999Ms}/${r.lateMaxMs}`,
        r.engine === 'spandsp' ? '–' : `${r.eldP99Ms}/${r.eldMaxMs}`,
        r.engine === 'spandsp' ? '–' : `${r.elu}/${r.eluPeak}`,
        r.cpuS,
        r.cpuMsPerCall,
        r.cpuSPerCallMin,
        r.engine === 'spandsp' ? r.corePct : `${r.corePct}/${r.corePeakPct}`,
        r.memKbPerCall,
        r.datagramsPerS,
        r.lostIfps,
        r.rates || '–',
        r.clean ? 'yes' : 'NO',
        r.engine === 'spandsp' ? '–' : r.paced ? 'yes' : 'NO',
      ]),
    ),
  );
  console.log('');
  const held = rows.filter((r) => r.concurrent > 1 && r.clean && r.paced).map((r) => r.concurrent);
  const maxHeld = held.length ? Math.max(...held) : 0;
  const firstSlip = rows.find((r) => !r.paced);
  const firstFail = rows.find((r) => !r.clean);
  const ratios = spandspRow
    ? rows
        .filter((r) => r.concurrent > 1)
        .map((r) => ({ n: r.concurrent, ratio: round(r.cpuSPerCallMin / spandspRow.cpuSPerCallMin, 3) }))
    : [];
  console.log(
    `A call: ${pageCount} standard-resolution page(s), ECM/MMR 14,400, paced; N slots start over ${spreadMs} ms, ` +
      `each making ${rounds} call(s) back to back. ` +
      `Clean = every call succeeded with identical pixels; paced = deadline lateness p99 ≤ ${LATE_P99_MS} ms and call ` +
      `slip p99 ≤ ${SLIP_P99_PCT} % of a lone call. Largest N clean and paced: ${maxHeld}; first N that slipped: ` +
      `${firstSlip?.concurrent ?? 'none'}; first N with a failed call: ${firstFail?.concurrent ?? 'none'}.`,
  );
  // Fixed costs of the process (timers, GC of the harness) weigh on small waves; the slope between waves is the
  // cost one more call adds.
  const ramp = rows.filter((r) => r.concurrent > 1 && r.clean);
  if (ramp.length >= 2) {
    const first = ramp[0];
    const slopes = ramp
      .slice(1)
      .map(
        (r) =>
          `N=${first.calls}→${r.calls}: ${round(((r.cpuS - first.cpuS) * 1000) / (r.calls - first.calls), 1)}`,
      );
    console.log(`Marginal Faxwire CPU ms per call (slope of CPU s between waves): ${slopes.join(', ')}.`);
  }
  for (const r of rows) {
    if (r.lateSeconds)
      console.log(
        `N = ${r.concurrent}: seconds with most deadlines > ${LATE_P99_MS} ms late: ${r.lateSeconds}`,
      );
  }
  if (spandspRow) {
    console.log(
      `spandsp: ${spandspRow.calls} pairs of peer processes; ${spandspRow.load}. ` +
        `Faxwire/spandsp CPU per call-minute: ${ratios.map((r) => `N=${r.n}: ${r.ratio}`).join(', ')}.`,
    );
  } else if (spandspNote) {
    console.log(spandspNote);
  }
  console.log(
    JSON.stringify({
      bench: 't38-sessions',
      mode: full ? 'full' : 'quick',
      pages: pageCount,
      spreadMs,
      rounds,
      cpus: cpus().length,
      maxHeld,
      firstSlipN: firstSlip?.concurrent ?? null,
      firstFailN: firstFail?.concurrent ?? null,
      spandsp: spandspRow,
      faxwire: rows,
      cpuPerCallMinuteRatio: ratios,
    }),
  );
}

await main();
