/**
 * @module
 * Time on the wire of one fixed fax, paced in real time over T.38/UDPTL on 127.0.0.1: the 8 ITU charts at fine
 * resolution (1728 × 2376), ECM, MMR, 14,400 bit/s. Four calls: Faxwire → Faxwire, spandsp → spandsp (the test
 * peer, spandsp's t38_terminal), Faxwire → spandsp and spandsp → Faxwire. The figure is the sender's own call time
 * (start of the call to phase E), which both engines report; the receiver's is shown too. Every call must deliver
 * all 8 pages pixel-identical, or its time does not count.
 *
 * The calls are paced, so they load the CPU very little and run at the same time by default (--sequential runs
 * them one after another: 4 × ~3 minutes). The data time of the document (its MMR octets at 14,400 bit/s, plus
 * ~4.4 % ECM framing, fax-engines.md §4.2) is printed as the floor both engines add their T.30 overhead to.
 *
 * Usage: npx tsx bench/t38-wire-time.ts [--sequential] [--pages N]   (prints a table and one JSON line)
 * Charts from FAXWIRE_CHARTS (default /work/shared/reference/itu-charts); skips (exit 0) without them or without
 * the spandsp peer's build dependencies.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePage } from '../packages/telefax/src/codec/index.ts';
import type { BilevelPage } from '../packages/telefax/src/image/bilevel-page.ts';
import { readTiff } from '../packages/telefax/src/image/tiff-reader.ts';
import { writeTiff } from '../packages/telefax/src/image/tiff-writer.ts';
import { buildSpandspPeer, freeUdpPorts } from '../packages/telefax/test/spandsp-peer/spandsp-peer.ts';
import { ituCharts } from './lib/fax-documents.ts';
import {
  countMismatches,
  openPair,
  openTerminal,
  PageCheck,
  runPair,
  runTerminal,
} from './lib/faxwire-pair.ts';
import { LatenessLog } from './lib/lateness-timer.ts';
import { loadAverage } from './lib/proc-stat.ts';
import { markdownTable, round } from './lib/report.ts';
import { type SpandspPeerResult, startPeer, startSpandspPair } from './lib/spandsp-pair.ts';

const argv = process.argv.slice(2);
const sequential = argv.includes('--sequential');
const pagesArg = argv.indexOf('--pages');
const pageLimit = pagesArg >= 0 ? Number(argv[pagesArg + 1]) : 8;
/** Backstop for a whole call; T.30's own timers end a failing call long before. */
const CALL_LIMIT_S = 600;
const PEER_OPTIONS = ['--pace', 'realtime', '--timeout-s', String(CALL_LIMIT_S), '--max-rate', '14400'];

interface End {
  ok: boolean;
  reason: string | null;
  pages: number;
  durationMs: number;
  bitRate: number | null;
  ecm: boolean | null;
  compression: string | null;
}

interface CallRow {
  call: string;
  sender: End;
  receiver: End;
  /** Received pages that differ from the charts, or are missing. */
  pixelMismatches: number;
  /** Faxwire sender only: ms from call start to each page's confirmation. */
  pageDoneMs: number[] | null;
}

function ourEnd(o: import('../packages/telefax/src/t30/fax-outcome.ts').FaxOutcome): End {
  return {
    ok: o.ok,
    reason: o.ok ? null : `${o.reason}@${o.phase}: ${o.message}`,
    pages: o.pages,
    durationMs: o.durationMs,
    bitRate: o.line?.bitRate ?? null,
    ecm: o.line?.ecm ?? null,
    compression: o.line?.compression ?? null,
  };
}

function peerEnd(j: SpandspPeerResult | null, stderr: string): End {
  if (!j) {
    return {
      ok: false,
      reason: `no result: ${stderr.trim().split('\n').pop() ?? ''}`,
      pages: 0,
      durationMs: Number.NaN,
      bitRate: null,
      ecm: null,
      compression: null,
    };
  }
  return {
    ok: j.ok,
    reason: j.ok ? null : j.reason,
    pages: j.pages,
    durationMs: j.durationMs,
    bitRate: j.bitRate,
    ecm: j.ecm,
    compression: j.compression,
  };
}

function receivedFile(path: string): BilevelPage[] {
  try {
    return readTiff(readFileSync(path)).pages.map((p) => p.page);
  } catch {
    return [];
  }
}

const lateness = new LatenessLog();

async function faxwireToFaxwire(pages: BilevelPage[]): Promise<CallRow> {
  const r = await runPair(await openPair('realtime', lateness), pages);
  return {
    call: 'Faxwire → Faxwire',
    sender: ourEnd(r.sender.outcome),
    receiver: ourEnd(r.receiver.outcome),
    pixelMismatches: r.pixelMismatches,
    pageDoneMs: [...r.sender.outcome.pageDoneMs],
  };
}

async function spandspToSpandsp(pages: BilevelPage[], document: string, dir: string): Promise<CallRow> {
  const [senderPort, receiverPort] = await freeUdpPorts(2);
  const out = join(dir, 'sp-sp.tif');
  const [tx, rx] = await startSpandspPair({ document, out, senderPort, receiverPort, common: PEER_OPTIONS });
  const [t, r] = await Promise.all([tx.done, rx.done]);
  return {
    call: 'spandsp → spandsp',
    sender: peerEnd(t.json, t.stderr),
    receiver: peerEnd(r.json, r.stderr),
    pixelMismatches: countMismatches(pages, receivedFile(out)),
    pageDoneMs: null,
  };
}

async function faxwireToSpandsp(pages: BilevelPage[], dir: string): Promise<CallRow> {
  const [ourPort, peerPort] = await freeUdpPorts(2);
  const out = join(dir, 'fw-sp.tif');
  const port = await openTerminal('realtime', lateness, ourPort, peerPort);
  // Our terminal calls: it is bound before the answering peer starts and sends DIS.
  const sending = runTerminal(port, { direction: 'send', pages });
  const rx = await startPeer([
    'receive',
    '--out',
    out,
    '--local-port',
    String(peerPort),
    '--remote',
    `127.0.0.1:${ourPort}`,
    '--ident',
    'spandsp-rx',
    ...PEER_OPTIONS,
  ]);
  const [s, r] = await Promise.all([sending, rx.done]);
  return {
    call: 'Faxwire → spandsp',
    sender: ourEnd(s.outcome),
    receiver: peerEnd(r.json, r.stderr),
    pixelMismatches: countMismatches(pages, receivedFile(out)),
    pageDoneMs: [...s.outcome.pageDoneMs],
  };
}

async function spandspToFaxwire(pages: BilevelPage[], document: string): Promise<CallRow> {
  const [peerPort, ourPort] = await freeUdpPorts(2);
  const port = await openTerminal('realtime', lateness, ourPort, peerPort);
  const tx = await startPeer([
    'send',
    document,
    '--local-port',
    String(peerPort),
    '--remote',
    `127.0.0.1:${ourPort}`,
    '--ident',
    'spandsp-tx',
    ...PEER_OPTIONS,
  ]);
  await tx.ready;
  const check = new PageCheck(pages);
  const [t, r] = await Promise.all([tx.done, runTerminal(port, { direction: 'receive', check })]);
  return {
    call: 'spandsp → Faxwire',
    sender: peerEnd(t.json, t.stderr),
    receiver: ourEnd(r.outcome),
    pixelMismatches: check.total,
    pageDoneMs: null,
  };
}

function good(row: CallRow, pages: number): boolean {
  return row.sender.ok && row.receiver.ok && row.receiver.pages === pages && row.pixelMismatches === 0;
}

async function main(): Promise<void> {
  const charts = ituCharts();
  if (!charts) {
    console.log('t38-wire-time: skipped (ITU charts not found; set FAXWIRE_CHARTS)');
    return;
  }
  try {
    await buildSpandspPeer();
  } catch (err) {
    console.log(`t38-wire-time: skipped (${(err as Error).message.split('\n')[0]})`);
    return;
  }
  const pages = charts.slice(0, Math.max(1, Math.min(8, pageLimit)));
  const mmrOctets = pages.reduce((sum, p) => sum + encodePage(p, { compression: 'mmr' }).length, 0);
  const dataS = ((mmrOctets * 8) / 14_400) * 1.044;
  const dir = mkdtempSync(join(tmpdir(), 'bench-t38-wire-'));
  const document = join(dir, 'charts.tif');
  writeFileSync(document, writeTiff(pages, { compression: 'mh' }));
  const loadBefore = loadAverage();
  process.stderr.write(
    `t38-wire-time: ${pages.length} fine ITU charts, ${mmrOctets} MMR octets (data ≈ ${round(dataS, 1)} s at 14,400 + ECM); ` +
      `${sequential ? 'sequential' : 'concurrent'}; load ${loadBefore}\n`,
  );
  const calls: (() => Promise<CallRow>)[] = [
    () => faxwireToFaxwire(pages),
    () => spandspToSpandsp(pages, document, dir),
    () => faxwireToSpandsp(pages, dir),
    () => spandspToFaxwire(pages, document),
  ];
  let rows: CallRow[];
  try {
    if (sequential) {
      rows = [];
      for (const call of calls) rows.push(await call());
    } else {
      rows = await Promise.all(calls.map((call) => call()));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const s = (ms: number) => (Number.isFinite(ms) ? round(ms / 1000, 1) : '–');
  console.log(
    markdownTable(
      [
        'call',
        'ok',
        'pages',
        'rate / ECM / coding',
        'sender s',
        'receiver s',
        'overhead s (sender − data)',
        'page confirmed at s (Faxwire sender)',
      ],
      rows.map((r) => [
        r.call,
        good(r, pages.length)
          ? 'yes'
          : `NO (${r.sender.reason ?? r.receiver.reason ?? `${r.pixelMismatches} pages differ`})`,
        `${r.sender.pages}/${r.receiver.pages}`,
        `${r.sender.bitRate ?? r.receiver.bitRate} / ${r.sender.ecm ?? r.receiver.ecm} / ${r.sender.compression ?? r.receiver.compression}`,
        s(r.sender.durationMs),
        s(r.receiver.durationMs),
        s(r.sender.durationMs - dataS * 1000),
        r.pageDoneMs ? r.pageDoneMs.map((ms) => round(ms / 1000, 1)).join(', ') : '–',
      ]),
    ),
  );
  const ours = rows[0];
  const theirs = rows[1];
  const ratio =
    good(ours, pages.length) && good(theirs, pages.length)
      ? round(ours.sender.durationMs / theirs.sender.durationMs, 3)
      : null;
  console.log('');
  console.log(
    `Faxwire→Faxwire / spandsp→spandsp sender time: ${ratio ?? 'n/a (a call failed)'} (goal ≤ 1). ` +
      `Data time ${round(dataS, 1)} s. Load before ${loadBefore}, after ${loadAverage()}. ` +
      `Faxwire transport deadline lateness p99 ${round(lateness.ms(99), 1)} ms, max ${round(lateness.ms('max'), 1)} ms.`,
  );
  console.log(
    JSON.stringify({
      bench: 't38-wire-time',
      pages: pages.length,
      mmrOctets,
      dataS: round(dataS, 2),
      concurrent: !sequential,
      ratioOursToSpandsp: ratio,
      calls: rows.map((r) => ({ ...r, ok: good(r, pages.length) })),
    }),
  );
  if (!rows.every((r) => good(r, pages.length))) process.exitCode = 1;
}

await main();
