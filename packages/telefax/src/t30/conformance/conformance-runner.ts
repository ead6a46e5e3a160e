/**
 * @module
 * Runs conformance cases: the engine on one side of a memory line, the case's script on the other; a case passes
 * when the script's expectations hold and the engine's outcome is the expected one.
 */

import type { FaxOutcome } from '../fax-outcome.ts';
import { createMemoryPortPair } from '../memory-port-pair.ts';
import { T30Session } from '../t30-session.ts';
import { resolveTimers, type T30Timers } from '../timers.ts';
import type { ConformanceCase } from './conformance-case.ts';
import { ScriptKit } from './script-kit.ts';
import { ScriptedPeer } from './scripted-peer.ts';

/** Timers short enough for tests, in the standard's proportions (T4 < T2 < T1). */
export const CONFORMANCE_TIMERS: T30Timers = Object.freeze({
  t1: 2500,
  t2: 1200,
  t3: 800,
  t4: 300,
  t5: 2500,
});

export interface ConformanceResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly message: string;
  readonly outcome: FaxOutcome | null;
}

function check(c: ConformanceCase, outcome: FaxOutcome): string | null {
  if (c.expect.ok === undefined) return null;
  if (outcome.ok !== c.expect.ok) {
    return `expected ${c.expect.ok ? 'success' : 'failure'}, got ${
      outcome.ok ? 'success' : `${outcome.reason}: ${outcome.message}`
    }`;
  }
  if (!outcome.ok && c.expect.reason && outcome.reason !== c.expect.reason) {
    return `expected reason ${c.expect.reason}, got ${outcome.reason}: ${outcome.message}`;
  }
  if (c.expect.pages !== undefined && outcome.pages !== c.expect.pages) {
    return `expected ${c.expect.pages} page(s), got ${outcome.pages}`;
  }
  return null;
}

export async function runConformanceCase(c: ConformanceCase): Promise<ConformanceResult> {
  if (c.skip) return { name: c.name, status: 'skip', message: c.skip, outcome: null };
  const timers = resolveTimers({ ...CONFORMANCE_TIMERS, ...c.timers });
  const pages =
    c.pages ?? (c.engine.direction === 'send' ? [ScriptKit.testPage(0), ScriptKit.testPage(1)] : []);
  const kit = new ScriptKit(timers, pages);
  const { a, b } = createMemoryPortPair();
  const peer = new ScriptedPeer(b);
  const session = new T30Session({
    ...c.engine,
    port: a,
    timers,
    pages: c.engine.direction === 'send' ? pages : undefined,
    onPage: (page) => {
      kit.received.push(page);
    },
  });
  const running = session.run();
  let scriptError: string | null = null;
  try {
    await c.script(peer, kit);
  } catch (err) {
    scriptError = (err as Error).message;
  }
  // The engine must end by itself within its own timers once the script is done.
  const limit = timers.t1 + timers.t5 + 2000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    running,
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), limit);
    }),
  ]);
  clearTimeout(timer);
  await a.close();
  await b.close();
  if (scriptError) {
    return {
      name: c.name,
      status: 'fail',
      message: `${scriptError} [engine: ${peer.log.slice(-6).join(', ')}]`,
      outcome,
    };
  }
  if (!outcome)
    return { name: c.name, status: 'fail', message: `the engine did not end within ${limit} ms`, outcome };
  const problem = check(c, outcome);
  return { name: c.name, status: problem ? 'fail' : 'pass', message: problem ?? 'ok', outcome };
}

export async function runConformanceCases(cases: readonly ConformanceCase[]): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  for (const c of cases) results.push(await runConformanceCase(c));
  return results;
}
