/**
 * @module
 * A WakeTimer that records how late each deadline fires. T38Transport and UdptlEndpoint share one WakeTimer per
 * call (passed in the endpoint's `timer` option) for pacing, receive timeouts and the reorder hold, so this sees
 * every wake of a paced call; on a paced sender nearly all of them are the 30 ms packet schedule.
 */

import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { WakeTimer } from '../../packages/telefax/src/t38/wake-timer.ts';

/** Lateness of all deadlines of a run, and per second of the run how many were late and by how much at most. */
export class LatenessLog {
  /** Microseconds (at least 1: the histogram holds positive integers; early wakes count as 1). */
  readonly histogram: RecordableHistogram = createHistogram();
  /** Per second since `start`: [deadlines later than lateMs, worst lateness in ms]. */
  readonly perSecond = new Map<number, [number, number]>();
  private start = WakeTimer.now();

  constructor(readonly lateMs = 30) {}

  reset(): void {
    this.histogram.reset();
    this.perSecond.clear();
    this.start = WakeTimer.now();
  }

  record(lateMs: number): void {
    this.histogram.record(Math.max(1, Math.round(lateMs * 1000)));
    if (lateMs <= this.lateMs) return;
    const second = Math.floor((WakeTimer.now() - this.start) / 1000);
    const entry = this.perSecond.get(second) ?? [0, 0];
    entry[0]++;
    entry[1] = Math.max(entry[1], lateMs);
    this.perSecond.set(second, entry);
  }

  /** Lateness at a percentile (0–100) or the maximum, in ms. */
  ms(p: number | 'max'): number {
    if (this.histogram.count === 0) return 0;
    return (p === 'max' ? this.histogram.max : this.histogram.percentile(p)) / 1000;
  }

  /** The seconds with the most late deadlines, e.g. "s12: 340 late, max 210 ms". */
  worstSeconds(n = 5): string {
    return [...this.perSecond.entries()]
      .sort((a, b) => b[1][0] - a[1][0])
      .slice(0, n)
      .map(([s, [count, max]]) => `s${s}: ${count} late, max ${Math.round(max)} ms`)
      .join('; ');
  }
}

export class LatenessTimer extends WakeTimer {
  constructor(private readonly log: LatenessLog) {
    super();
  }

  override set(slot: number, atMs: number, fn: () => void): void {
    super.set(slot, atMs, () => {
      this.log.record(WakeTimer.now() - atMs);
      fn();
    });
  }
}
