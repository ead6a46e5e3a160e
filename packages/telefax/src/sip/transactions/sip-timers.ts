/**
 * @module
 * The timer values of RFC 3261 §17 / Table 4 and a small owner of running timers so that a transaction can cancel
 * all of its timers at once when it terminates. T1, T2 and T4 are configurable so tests can run the state machines
 * quickly; every other timer derives from them as the RFC defines.
 */

export interface SipTimerConfig {
  /** RTT estimate, 500 ms by default (RFC 3261 §17.1.1.1). */
  readonly t1Ms: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s. */
  readonly t2Ms: number;
  /** Maximum time a message stays in the network, 5 s. */
  readonly t4Ms: number;
}

export const DEFAULT_SIP_TIMERS: SipTimerConfig = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

/** 64×T1: timers B, F, H, J, L and M (RFC 3261 Table 4; RFC 6026 for L and M). */
export function transactionTimeoutMs(timers: SipTimerConfig): number {
  return 64 * timers.t1Ms;
}

/** Timer D: at least 32 s for unreliable transports (RFC 3261 §17.1.1.2); 64×T1 equals that at the default T1. */
export function timerDMs(timers: SipTimerConfig, reliable: boolean): number {
  return reliable ? 0 : 64 * timers.t1Ms;
}

/** Owns named timers; starting a name again replaces it, clearAll() stops all of them. */
export class TimerSet {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  start(name: string, delayMs: number, fire: () => void): void {
    this.stop(name);
    const handle = setTimeout(() => {
      this.#timers.delete(name);
      fire();
    }, delayMs);
    handle.unref?.();
    this.#timers.set(name, handle);
  }

  stop(name: string): void {
    const handle = this.#timers.get(name);
    if (handle !== undefined) clearTimeout(handle);
    this.#timers.delete(name);
  }

  clearAll(): void {
    for (const handle of this.#timers.values()) clearTimeout(handle);
    this.#timers.clear();
  }
}
