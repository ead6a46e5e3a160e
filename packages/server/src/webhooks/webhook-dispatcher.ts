/**
 * @module webhooks/webhook-dispatcher
 * Runs webhook delivery in a server process. The fast path is an outbox: inside the very transaction
 * that appends a fax event (events/write-with-events sink), the event is fanned out into deliveries and
 * those that may go at once are leased to this dispatcher; when the bus says the transaction
 * committed, they are sent — no commit of our own stands between a stored page and its webhook. The
 * step runs under a savepoint and never fails the fax's write: if it fails, the loop catches up.
 *
 * Without that step (PostgreSQL, by default), the bus's after-commit call fans the event out at once
 * in a transaction of its own, beside the loop rather than behind it.
 *
 * The loop is woken by the event bus, by `notify()` or by its poll timer. Each pass is one write
 * transaction — record the attempts that finished, fan out what is left, claim due deliveries under a
 * lease — so under load one commit serves many pages (group commit). Each claimed delivery is then
 * sent (signed, 15 s timeout, no redirects, only to allowed addresses, over kept-alive connections). A pass that fails is redone
 * step by step, so one bad item cannot hold up the rest. Events committed by other processes, or whose
 * wake-up was lost in a crash, are found by the sweeps: a frequent one over the last few seconds of
 * events and a slower one from the durable watermark, which then moves up to `lookbackMs` before the
 * sweep began. Every `pruneIntervalMs` the delivery log past `retentionMs` and the cursors of finished
 * faxes are dropped, in batches (prune-webhook-history).
 *
 * Time has two sources on purpose: `clock` schedules (due times, leases, endpoint health) and can be
 * driven by tests; the `webhook-timestamp` header and secret rotation use the wall clock, since
 * receivers check it against theirs.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { eventBusOf } from '../events/event-bus.ts';
import { type BusEvent, isTransient } from '../events/fax-event.ts';
import { addEventSink } from '../events/write-with-events.ts';
import type { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import type { Database, Db } from '../store/database.ts';
import { accountEndpointPresence } from './account-endpoint-presence.ts';
import { type ClaimedDelivery, claimWebhookDeliveriesIn } from './claim-webhook-deliveries.ts';
import {
  advanceFanOutWatermark,
  fanOutFaxEvents,
  fanOutFaxEventsIn,
  findFaxesToFanOut,
  readFanOutWatermark,
} from './fan-out-fax-events.ts';
import { postWebhook, type WebhookAttempt } from './post-webhook.ts';
import { pruneWebhookHistory } from './prune-webhook-history.ts';
import {
  type AttemptResult,
  type RecordAttemptOptions,
  recordWebhookAttempt,
  recordWebhookAttemptsIn,
} from './record-webhook-attempt.ts';
import { WebhookConnections } from './webhook-connections.ts';
import { webhookHeaders } from './webhook-signature.ts';

const DEFAULT_RETENTION_MS = 30 * 86_400_000;

export interface WebhookDispatcherOptions {
  /** The database the fax events are written through: its event bus and event-transaction hook. */
  readonly database: Database;
  /**
   * Connections for the dispatcher's own transactions, when they should not queue behind the fax
   * writes for the same pool (PostgreSQL under load); default `database`.
   */
  readonly store?: Database;
  readonly policy: OutboundAddressPolicy;
  readonly logger?: Logger;
  readonly workerId?: string;
  /** Requests in flight at once; default 64. */
  readonly concurrency?: number;
  /** Per attempt; default 15 s. */
  readonly timeoutMs?: number;
  /** Lease on a claimed delivery; must outlast the timeout. Default timeout + 30 s. */
  readonly leaseMs?: number;
  /** Poll for due deliveries (retries coming due); default 250 ms. */
  readonly pollIntervalMs?: number;
  /** The recent-events sweep looks this far back; default 5 s. */
  readonly recentWindowMs?: number;
  /** How often the recent-events sweep runs; default 1 s (the bus announces this process's events). */
  readonly recentSweepIntervalMs?: number;
  /** Full sweep from the watermark; default every 10 s. */
  readonly fullSweepIntervalMs?: number;
  /** How late an event may commit after its creation time and still be found by the full sweep; default 5 min. */
  readonly lookbackMs?: number;
  /** Finished deliveries and their attempts are kept this long; default 30 days. */
  readonly retentionMs?: number;
  /** How often the delivery log and the fan-out cursors are pruned; default every 10 min. */
  readonly pruneIntervalMs?: number;
  /**
   * A final fax's cursor is dropped once its newest event is this much older than the fan-out
   * watermark, a margin for sweeps still running from an older watermark; default 1 h.
   */
  readonly cursorMarginMs?: number;
  readonly disableAfterMs?: number;
  /** The scheduling clock; default Date.now. */
  readonly clock?: () => number;
  /** Jitter source, 0..1; default Math.random. */
  readonly random?: () => number;
  /**
   * Whether to be woken by the database's event bus; default true. Without it, only `notify()` and the
   * sweeps find events.
   */
  readonly listen?: boolean;
  /**
   * Whether to fan out (and lease) inside each event's own transaction; default on SQLite only. On
   * PostgreSQL the event transaction holds the account's stream lock (migration 0003), and our round
   * trips there would queue every fax of the account behind them; the pass after the commit costs
   * one commit more but holds no one up.
   */
  readonly inTransaction?: boolean;
}

/** Delivery of webhooks in this process; see the module comment. */
export class WebhookDispatcher {
  readonly workerId: string;
  readonly #o: WebhookDispatcherOptions;
  readonly #store: Database;
  readonly #clock: () => number;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  /** Kept-alive connections to the receivers, so a delivery does not wait for a handshake. */
  readonly #connections: WebhookConnections;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #notified = new Set<string>();
  #completions: Completion[] = [];
  readonly #listeners = new Set<AttemptListener>();
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  #lastRecentSweep = 0;
  #lastFullSweep = 0;
  #lastPrune = 0;
  #idleWaiters: (() => void)[] = [];
  #unsubscribe: (() => void) | null = null;
  #removeSink: (() => void) | null = null;
  /** Faxes whose events committed and are fanned out by the fast lane (when not in-transaction). */
  readonly #fastLaneFaxIds = new Set<string>();
  #fastLane: Promise<void> | null = null;
  /** Events fanned out inside their own transaction, with what was leased there; keyed by event id. */
  readonly #reserved = new Map<string, { readonly claimed: ClaimedDelivery[]; readonly at: number }>();
  #reservedCount = 0;

  constructor(options: WebhookDispatcherOptions) {
    this.#o = options;
    this.#store = options.store ?? options.database;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:whd:${randomBytes(4).toString('hex')}`;
    this.#clock = options.clock ?? Date.now;
    this.#concurrency = options.concurrency ?? 64;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#leaseMs = options.leaseMs ?? this.#timeoutMs + 30_000;
    this.#connections = new WebhookConnections(options.policy);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Called after each recorded attempt (tests and metrics). */
  onAttempt(listener: AttemptListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    if (this.#state !== 'idle') throw new Error(`webhook dispatcher already ${this.#state}`);
    this.#state = 'running';
    if (this.#o.listen !== false) {
      if (this.#o.inTransaction ?? this.#o.database.engine === 'sqlite') {
        this.#removeSink = addEventSink(this.#o.database, (trx, event) =>
          this.#fanOutInEventTransaction(trx, event),
        );
      }
      const bus = eventBusOf(this.#o.database);
      const stopEvents = bus.subscribe({}, (event) => this.#committed(event));
      // Wake-ups may have been lost (the bus reconnected): both sweeps, now, find what they announced.
      const stopResync = bus.onMaybeMissed(() => {
        this.#lastRecentSweep = 0;
        this.#lastFullSweep = 0;
        this.notify();
      });
      this.#unsubscribe = () => {
        stopEvents();
        stopResync();
      };
    }
    this.#loop = this.#run();
  }

  /** Wakes the loop now; with a fax id, that fax's new events are fanned out in the next pass. */
  notify(faxId?: string): void {
    if (faxId !== undefined) this.#notified.add(faxId);
    this.#woken = true;
    this.#wake?.();
  }

  /** Resolves when a pass found nothing to do and nothing is in flight or waiting to be recorded. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.notify();
    });
  }

  /** Stops claiming, waits for the attempts in flight (each bounded by the timeout) and records them. */
  async stop(): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'stopped';
      this.#connections.close();
      return;
    }
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#removeSink?.();
    this.#unsubscribe?.();
    this.#wake?.();
    await this.#loop;
    await this.#fastLane;
    await Promise.all(this.#inFlight.values());
    this.#connections.close();
    try {
      await this.#pass();
    } catch (error) {
      this.#o.logger?.error({ err: error }, 'webhook dispatcher: recording the last attempts failed');
    }
    for (const w of this.#idleWaiters.splice(0)) w();
    this.#state = 'stopped';
  }

  async #run(): Promise<void> {
    const pollMs = this.#o.pollIntervalMs ?? 250;
    while (this.#state === 'running') {
      this.#woken = false;
      let busy = false;
      try {
        busy = (await this.#sweeps()) || busy;
        busy = (await this.#pass()) || busy;
      } catch (error) {
        this.#o.logger?.error({ err: error }, 'webhook dispatcher pass failed');
      }
      const quiet =
        !busy &&
        this.#inFlight.size === 0 &&
        this.#notified.size === 0 &&
        this.#completions.length === 0 &&
        this.#fastLane === null &&
        this.#fastLaneFaxIds.size === 0;
      if (quiet) for (const w of this.#idleWaiters.splice(0)) w();
      if (this.#state === 'running' && !this.#woken && !(busy && this.#inFlight.size < this.#concurrency)) {
        await this.#sleep(pollMs);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  /** Finds events no wake-up announced: recent ones often, everything since the watermark now and then. */
  async #sweeps(): Promise<boolean> {
    const database = this.#store;
    let fanned = 0;
    const wall = Date.now();
    if (wall - this.#lastRecentSweep >= (this.#o.recentSweepIntervalMs ?? 1_000)) {
      this.#lastRecentSweep = wall;
      fanned += (await this.#sweep(wall - (this.#o.recentWindowMs ?? 5_000))).fanned;
    }
    if (wall - this.#lastFullSweep >= (this.#o.fullSweepIntervalMs ?? 10_000)) {
      this.#lastFullSweep = wall;
      const watermark = await readFanOutWatermark(database);
      const full = await this.#sweep(watermark);
      fanned += full.fanned;
      // A fax that failed keeps the watermark where it is, so the next full sweep tries it again.
      if (full.complete) await advanceFanOutWatermark(database, wall - (this.#o.lookbackMs ?? 300_000));
    }
    if (wall - this.#lastPrune >= (this.#o.pruneIntervalMs ?? 600_000)) {
      this.#lastPrune = wall;
      await this.#prune(wall);
    }
    return fanned > 0;
  }

  /** Drops the delivery log past the retention and the cursors no sweep can need (prune-webhook-history). */
  async #prune(wall: number): Promise<void> {
    try {
      const watermark = await readFanOutWatermark(this.#store);
      const swept = Math.min(watermark, wall - (this.#o.recentWindowMs ?? 5_000));
      const pruned = await pruneWebhookHistory(this.#store, {
        deliveriesBefore: this.#clock() - (this.#o.retentionMs ?? DEFAULT_RETENTION_MS),
        cursorsBefore: swept - (this.#o.cursorMarginMs ?? 3_600_000),
      });
      if (pruned.deliveries + pruned.cursors > 0) this.#o.logger?.info(pruned, 'webhook history pruned');
      // More is due than one round takes: go on at the next pass rather than in one long stretch.
      if (!pruned.complete) this.#lastPrune = 0;
    } catch (error) {
      this.#o.logger?.error({ err: error }, 'pruning the webhook history failed');
    }
  }

  async #sweep(sinceMs: number): Promise<{ fanned: number; complete: boolean }> {
    const database = this.#store;
    const batch = 100;
    const failed = new Set<string>();
    let fanned = 0;
    for (let round = 0; round < 1000; round++) {
      const found = await findFaxesToFanOut(database, sinceMs, batch + failed.size);
      const faxIds = found.filter((id) => !failed.has(id));
      if (faxIds.length === 0) return { fanned, complete: failed.size === 0 };
      try {
        fanned += (await fanOutFaxEvents(database, faxIds, this.#clock())).events;
      } catch {
        // One bad fax must not hold up the others: go one by one and set the bad ones aside.
        for (const faxId of faxIds) {
          try {
            fanned += (await fanOutFaxEvents(database, [faxId], this.#clock())).events;
          } catch (error) {
            failed.add(faxId);
            this.#o.logger?.error({ err: error, faxId }, 'fanning out fax events failed');
          }
        }
      }
      if (found.length < batch + failed.size) return { fanned, complete: failed.size === 0 };
    }
    return { fanned, complete: false };
  }

  /**
   * False only when the account surely had no enabled endpoint a moment ago. On SQLite a cache miss
   * reads inside the event's transaction (a failed read there does not abort it); on PostgreSQL it
   * would, so the miss is answered "maybe" and the cache filled on a connection of our own.
   */
  async #accountMayHaveEndpoints(trx: Db, accountId: string): Promise<boolean> {
    const presence = accountEndpointPresence(this.#o.database);
    const known = presence.peek(accountId);
    if (known !== undefined) return known;
    if (this.#o.database.engine === 'postgres') {
      presence.has(this.#store.db, accountId).catch(() => {});
      return true;
    }
    try {
      return await presence.has(trx, accountId);
    } catch {
      return true;
    }
  }

  /** The outbox step, inside the transaction that appended `event`. */
  async #fanOutInEventTransaction(trx: Db, event: BusEvent): Promise<void> {
    if (isTransient(event) || this.#state !== 'running') return;
    const database = this.#store;
    if (!(await this.#accountMayHaveEndpoints(trx, event.accountId))) {
      // Nothing to deliver: the fax's cursor stays behind and the sweeps move it up later, in batches.
      this.#reserved.set(event.envelope.id, { claimed: [], at: Date.now() });
      return;
    }
    const now = this.#clock();
    await sql`savepoint webhook_fan_out`.execute(trx);
    try {
      await fanOutFaxEventsIn(trx, database.engine, [event.faxId], now);
      const free = this.#concurrency - this.#inFlight.size - this.#reservedCount;
      const claimed = await claimWebhookDeliveriesIn(trx, database.engine, {
        workerId: this.workerId,
        limit: free,
        leaseMs: this.#leaseMs,
        now,
        faxId: event.faxId,
      });
      await sql`release savepoint webhook_fan_out`.execute(trx);
      // Kept even when empty: it tells #committed that this event needs no pass of the loop.
      this.#reserved.set(event.envelope.id, { claimed, at: Date.now() });
      this.#reservedCount += claimed.length;
    } catch (error) {
      await sql`rollback to savepoint webhook_fan_out`.execute(trx);
      await sql`release savepoint webhook_fan_out`.execute(trx);
      this.#o.logger?.warn(
        { err: error, faxId: event.faxId },
        'webhook fan-out in the event transaction failed',
      );
      this.#notified.add(event.faxId);
    }
  }

  /** The bus: `event` committed. Send what its transaction leased to us. */
  #committed(event: BusEvent): void {
    const reserved = this.#reserved.get(event.envelope.id);
    if (reserved) {
      this.#reserved.delete(event.envelope.id);
      this.#reservedCount -= reserved.claimed.length;
      if (this.#state === 'running') for (const c of reserved.claimed) this.#start(c);
      return;
    }
    if (this.#removeSink === null) {
      // An account known to have no endpoint has nothing to send: the sweeps move its cursor up.
      const presence = accountEndpointPresence(this.#o.database);
      const known = presence.peek(event.accountId);
      if (known === false) return;
      if (known === undefined) presence.has(this.#store.db, event.accountId).catch(() => {});
      // No fan-out in the event's transaction: do it in a transaction of its own right away,
      // next to (not behind) whatever the loop's pass is busy with.
      this.#fastLaneFaxIds.add(event.faxId);
      this.#runFastLane();
      return;
    }
    this.notify(event.faxId);
  }

  #runFastLane(): void {
    if (this.#fastLane !== null || this.#state !== 'running') return;
    const database = this.#store;
    this.#fastLane = (async () => {
      while (this.#fastLaneFaxIds.size > 0 && this.#state === 'running') {
        const faxIds = [...this.#fastLaneFaxIds];
        this.#fastLaneFaxIds.clear();
        const now = this.#clock();
        const limit = this.#concurrency - this.#inFlight.size - this.#reservedCount;
        try {
          // Not waiting for the disk: the events are durable already, and a crash that loses this
          // commit loses the cursor's advance with it, so the loop fans the same events out again,
          // under the same webhook-id (the event's).
          // The new deliveries are leased as they are written (no claim statement after them); any
          // left waiting, and retries coming due, are the loop's, which this lane wakes when done.
          const { claimed = [] } = await database.writeTransaction(
            (trx) =>
              fanOutFaxEventsIn(trx, database.engine, faxIds, now, {
                workerId: this.workerId,
                leaseMs: this.#leaseMs,
                limit,
              }),
            { durable: false },
          );
          for (const c of claimed) this.#start(c);
        } catch (error) {
          // The loop's pass redoes them, fax by fax if need be.
          this.#o.logger?.warn({ err: error }, 'webhook fan-out after commit failed; the loop retries it');
          for (const id of faxIds) this.#notified.add(id);
          this.notify();
        }
      }
    })().finally(() => {
      this.#fastLane = null;
      if (this.#fastLaneFaxIds.size > 0) this.#runFastLane();
      else this.notify();
    });
  }

  /**
   * Leases taken in a transaction that then rolled back were never real; ones whose commit was never
   * announced are left to run out, and the deliveries are claimed again.
   */
  #forgetStaleReservations(): void {
    const cutoff = Date.now() - 5_000;
    for (const [id, r] of this.#reserved) {
      if (r.at < cutoff) {
        this.#reserved.delete(id);
        this.#reservedCount -= r.claimed.length;
      }
    }
  }

  #recordOptions(completion: Completion, disabled: [string, string][]): RecordAttemptOptions {
    return {
      workerId: this.workerId,
      now: completion.finishedAt,
      startedAt: completion.startedAt,
      random: this.#o.random,
      disableAfterMs: this.#o.disableAfterMs,
      onDisabled: (endpointId, reason) => disabled.push([endpointId, reason]),
    };
  }

  /** One write transaction: record, fan out, claim. @returns whether it did anything. */
  async #pass(): Promise<boolean> {
    const database = this.#store;
    if (this.#reserved.size > 0) this.#forgetStaleReservations();
    const completions = this.#completions.splice(0);
    const faxIds = [...this.#notified];
    this.#notified.clear();
    const free =
      this.#state === 'running' ? this.#concurrency - this.#inFlight.size - this.#reservedCount : 0;
    if (completions.length === 0 && faxIds.length === 0 && free <= 0) return false;
    const now = this.#clock();
    const claimOptions = {
      workerId: this.workerId,
      limit: free,
      leaseMs: this.#leaseMs,
      now,
      exclude: new Set(this.#inFlight.keys()),
    };
    let results: (AttemptResult | null)[] = [];
    let disabled: [string, string][] = [];
    let fanned = 0;
    let claimed: ClaimedDelivery[] = [];
    try {
      const outcome = await database.writeTransaction(async (trx) => {
        const notices: [string, string][] = [];
        const recorded = await recordWebhookAttemptsIn(
          trx,
          completions.map((c) => ({
            claimed: c.claimed,
            attempt: c.attempt,
            options: this.#recordOptions(c, notices),
          })),
        );
        const fan = await fanOutFaxEventsIn(trx, database.engine, faxIds, now);
        const taken = await claimWebhookDeliveriesIn(trx, database.engine, claimOptions);
        return { recorded, notices, events: fan.events, taken };
      });
      ({ recorded: results, notices: disabled, events: fanned, taken: claimed } = outcome);
    } catch (error) {
      this.#o.logger?.warn({ err: error }, 'webhook dispatcher pass failed; redoing it step by step');
      ({ results, disabled, fanned } = await this.#passStepByStep(completions, faxIds, now));
    }
    for (const [endpointId, reason] of disabled) {
      this.#o.logger?.warn({ endpointId, reason }, 'webhook endpoint disabled');
    }
    completions.forEach((c, i) => {
      const result = results[i];
      if (result === null || result === undefined) return;
      if (result !== 'delivered') {
        this.#o.logger?.debug(
          { deliveryId: c.claimed.delivery.id, outcome: c.attempt.outcome, result },
          'webhook attempt failed',
        );
      }
      for (const l of this.#listeners) l(c.claimed, c.attempt, result);
    });
    for (const c of claimed) this.#start(c);
    return completions.length > 0 || fanned > 0 || claimed.length > 0;
  }

  async #passStepByStep(completions: readonly Completion[], faxIds: readonly string[], now: number) {
    const database = this.#store;
    const results: (AttemptResult | null)[] = [];
    const disabled: [string, string][] = [];
    let fanned = 0;
    for (const c of completions) {
      try {
        results.push(
          await recordWebhookAttempt(database, c.claimed, c.attempt, this.#recordOptions(c, disabled)),
        );
      } catch (error) {
        // Unrecorded, the lease runs out and the delivery is tried again: at least once, never lost.
        this.#o.logger?.error(
          { err: error, deliveryId: c.claimed.delivery.id },
          'recording a webhook attempt failed',
        );
        results.push(null);
      }
    }
    for (const faxId of faxIds) {
      try {
        fanned += (await fanOutFaxEvents(database, [faxId], now)).events;
      } catch (error) {
        this.#o.logger?.error({ err: error, faxId }, 'fanning out fax events failed');
      }
    }
    return { results, disabled, fanned };
  }

  #start(claimed: ClaimedDelivery): void {
    const done = this.#send(claimed)
      .then((completion) => {
        this.#completions.push(completion);
      })
      .finally(() => {
        this.#inFlight.delete(claimed.delivery.id);
        this.notify();
      });
    this.#inFlight.set(claimed.delivery.id, done);
  }

  async #send(claimed: ClaimedDelivery): Promise<Completion> {
    const { delivery, endpoint } = claimed;
    const startedAt = this.#clock();
    const wall = Date.now();
    const secrets = [endpoint.secret];
    if (endpoint.previous_secret && (endpoint.previous_secret_until ?? 0) > wall) {
      secrets.push(endpoint.previous_secret);
    }
    let attempt: WebhookAttempt;
    try {
      attempt = await postWebhook({
        url: endpoint.url,
        body: delivery.body,
        headers: webhookHeaders(secrets, {
          id: delivery.event_id,
          timestamp: Math.floor(wall / 1000),
          body: delivery.body,
        }),
        policy: this.#o.policy,
        timeoutMs: this.#timeoutMs,
        connections: this.#connections,
      });
    } catch (error) {
      attempt = { outcome: 'network_error', durationMs: 0, error: String(error) };
    }
    return { claimed, attempt, startedAt, finishedAt: this.#clock() };
  }
}

type AttemptListener = (claimed: ClaimedDelivery, attempt: WebhookAttempt, result: AttemptResult) => void;

interface Completion {
  readonly claimed: ClaimedDelivery;
  readonly attempt: WebhookAttempt;
  /** On the scheduling clock. */
  readonly startedAt: number;
  readonly finishedAt: number;
}
