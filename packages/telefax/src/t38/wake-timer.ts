/**
 * @module
 * One Node timer shared by several deadlines (reorder hold, pacing, receive timeouts) of one T.38 call, so a
 * process running a thousand calls holds at most a thousand timers.
 */

import { performance } from 'node:perf_hooks';

export class WakeTimer {
  private readonly deadlines: number[] = [];
  private readonly callbacks: ((() => void) | null)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  /** Milliseconds on a monotonic clock. */
  static now(): number {
    return performance.now();
  }

  /** Reserves a deadline slot; each slot holds at most one pending deadline. */
  slot(): number {
    this.deadlines.push(Number.POSITIVE_INFINITY);
    this.callbacks.push(null);
    return this.deadlines.length - 1;
  }

  /** Calls `fn` once at `atMs` (monotonic ms), replacing the slot's previous deadline. */
  set(slot: number, atMs: number, fn: () => void): void {
    if (this.closed) return;
    this.deadlines[slot] = atMs;
    this.callbacks[slot] = fn;
    this.arm();
  }

  clear(slot: number): void {
    if (this.deadlines[slot] === Number.POSITIVE_INFINITY) return;
    this.deadlines[slot] = Number.POSITIVE_INFINITY;
    this.callbacks[slot] = null;
    if (this.timer !== null && this.timerAt < Number.POSITIVE_INFINITY) this.arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.deadlines.fill(Number.POSITIVE_INFINITY);
    this.callbacks.fill(null);
  }

  private arm(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const at of this.deadlines) if (at < earliest) earliest = at;
    if (earliest === this.timerAt && this.timer !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = earliest;
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, earliest - WakeTimer.now()));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    // Timers may fire up to a millisecond early relative to performance.now(); treat that as due.
    const now = WakeTimer.now() + 1;
    for (let i = 0; i < this.deadlines.length; i++) {
      if (this.deadlines[i] <= now) {
        const fn = this.callbacks[i];
        this.deadlines[i] = Number.POSITIVE_INFINITY;
        this.callbacks[i] = null;
        fn?.();
      }
    }
    if (!this.closed) this.arm();
  }
}
