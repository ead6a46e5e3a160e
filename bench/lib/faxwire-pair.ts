/**
 * @module
 * Faxwire's T.30 engine over T38Transport on 127.0.0.1: one terminal (for a call against another engine) or a
 * sender/receiver pair in this process, each on its own UDPTL socket with a LatenessTimer.
 */

import type { BilevelPage } from '../../packages/telefax/src/image/bilevel-page.ts';
import { samePixels } from '../../packages/telefax/src/image/bilevel-page.ts';
import type { FaxOutcome } from '../../packages/telefax/src/t30/fax-outcome.ts';
import type { T30TraceEntry } from '../../packages/telefax/src/t30/t30-context.ts';
import { T30Session } from '../../packages/telefax/src/t30/t30-session.ts';
import { T38Transport, type T38TransportStats } from '../../packages/telefax/src/t38/t38-transport.ts';
import { UdptlEndpoint } from '../../packages/telefax/src/t38/udptl-endpoint.ts';
import { type LatenessLog, LatenessTimer } from './lateness-timer.ts';

export type Pace = 'realtime' | 'none';

/** A bound, paced (or unpaced) T.38 terminal on 127.0.0.1; the far end's port may be set later. */
export async function openTerminal(
  pace: Pace,
  lateness: LatenessLog,
  localPort = 0,
  remotePort?: number,
): Promise<T38Transport> {
  const endpoint = await UdptlEndpoint.open({
    localPort,
    localAddress: '127.0.0.1',
    remoteHost: '127.0.0.1',
    remotePort,
    timer: new LatenessTimer(lateness),
  });
  return new T38Transport(endpoint, { pace });
}

/** A T.30 trace line: ms since the call started, direction, what. */
export type TraceLine = readonly [number, 'tx' | 'rx', string];

export interface CallEnd {
  readonly outcome: FaxOutcome;
  /** The T.30 trace, when asked for. */
  readonly trace: TraceLine[] | null;
  /** Wall time from run() to the outcome, measured here. */
  readonly wallMs: number;
  readonly stats: T38TransportStats;
}

export interface PairResult {
  readonly sender: CallEnd;
  readonly receiver: CallEnd;
  /** Received pages that differ from the sent ones (or are missing). */
  readonly pixelMismatches: number;
  /** Main-thread ms spent checking pixels (not the engine's work). */
  readonly checkMs: number;
}

/** Received pages checked against the sent ones as they arrive, so a wave of calls holds no page for long. */
export class PageCheck {
  /** Pages received that differ from the page sent at that position (or have no counterpart). */
  mismatches = 0;
  received = 0;
  /** Main-thread time spent comparing, to subtract from a CPU measurement. */
  checkMs = 0;
  constructor(readonly sent: readonly BilevelPage[]) {}

  add(page: BilevelPage, pageNumber: number): void {
    const start = performance.now();
    this.received++;
    const expected = this.sent[pageNumber - 1];
    if (!expected || !samePixels(expected, page)) this.mismatches++;
    this.checkMs += performance.now() - start;
  }

  /** Mismatches, counting pages sent but never received. */
  get total(): number {
    return this.mismatches + Math.max(0, this.sent.length - this.received);
  }
}

/** Runs one call on an open terminal and closes it. */
export async function runTerminal(
  port: T38Transport,
  role: { direction: 'send'; pages: readonly BilevelPage[] } | { direction: 'receive'; check: PageCheck },
  signal?: AbortSignal,
  traced = false,
): Promise<CallEnd> {
  const trace: TraceLine[] | null = traced ? [] : null;
  const onTrace = trace ? (e: T30TraceEntry) => trace.push([Math.round(e.atMs), e.dir, e.what]) : undefined;
  const session = new T30Session(
    role.direction === 'send'
      ? { port, direction: 'send', calling: true, pages: role.pages, ident: 'faxwire-tx', signal, onTrace }
      : {
          port,
          direction: 'receive',
          calling: false,
          ident: 'faxwire-rx',
          signal,
          onTrace,
          onPage: (page, info) => role.check.add(page, info.pageNumber),
        },
  );
  const start = performance.now();
  try {
    const outcome = await session.run();
    return { outcome, trace, wallMs: performance.now() - start, stats: { ...port.stats } };
  } finally {
    await port.close();
  }
}

/** Opens a sender/receiver pair of terminals pointed at each other. */
export async function openPair(pace: Pace, lateness: LatenessLog): Promise<[T38Transport, T38Transport]> {
  const tx = await openTerminal(pace, lateness);
  const rx = await openTerminal(pace, lateness, 0, tx.endpoint.localPort);
  tx.endpoint.setRemote('127.0.0.1', rx.endpoint.localPort);
  return [tx, rx];
}

/** Runs a call over an opened pair (receiver answers, sender calls), checking the received pixels on arrival. */
export async function runPair(
  [tx, rx]: [T38Transport, T38Transport],
  pages: readonly BilevelPage[],
  signal?: AbortSignal,
  traced = false,
): Promise<PairResult> {
  const check = new PageCheck(pages);
  const [receiver, sender] = await Promise.all([
    runTerminal(rx, { direction: 'receive', check }, signal, traced),
    runTerminal(tx, { direction: 'send', pages }, signal, traced),
  ]);
  return { sender, receiver, pixelMismatches: check.total, checkMs: check.checkMs };
}

/** Pages that differ between two documents, counting missing ones. */
export function countMismatches(sent: readonly BilevelPage[], received: readonly BilevelPage[]): number {
  let bad = Math.abs(sent.length - received.length);
  for (let i = 0; i < Math.min(sent.length, received.length); i++)
    if (!samePixels(sent[i], received[i])) bad++;
  return bad;
}
