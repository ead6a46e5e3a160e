/**
 * @module events/postgres-event-bus
 * The bus across processes, for the scale-out deployment: every node LISTENs on one PostgreSQL channel;
 * a node that publishes delivers to its own listeners at once and NOTIFYs the others with a small hint
 * (account, fax, event id and account position — NOTIFY payloads are limited to 8000 bytes, metadata
 * alone may exceed that). A node that hears a hint reads the event from the log, once, and delivers it locally.
 * Transient events travel whole when they fit and are dropped when they do not (they are superseded
 * within a second). A lost notification costs latency only: streams re-read the log at each keep-alive.
 *
 * LISTEN needs a session of its own, so each node holds one dedicated connection beside its pool.
 * PostgreSQL does not queue notifications for a session that is gone, so when that connection breaks
 * (or stops answering the heartbeat) the bus reconnects with growing, jittered delays and, once it
 * listens again, tells every `onMaybeMissed` listener to re-read the log from its position.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../store/database.ts';
import { type EventBus, type EventFilter, type EventListener, InProcessEventBus } from './event-bus.ts';
import { type BusEvent, eventFromRow } from './fax-event.ts';

export const EVENTS_CHANNEL = 'faxwire_events';
/** How the listening session shows in `pg_stat_activity`. */
export const EVENT_BUS_APPLICATION_NAME = 'faxwire-event-bus';
const MAX_PAYLOAD_BYTES = 7900;
/** Events kept for their position repeats: far more than arrive between a commit and its numbering. */
const RECENT_EVENTS = 2000;

interface Hint {
  /** The publishing node, so it ignores its own notifications. */
  readonly n: string;
  readonly a: string;
  readonly f: string;
  /** The account position: null for a transient event, 0 for one not numbered yet. */
  readonly s: number | null;
  /** The stored event's id, to read it by. */
  readonly i?: string;
  /** A repeat announcing the account position (`BusEvent.positionOnly`). */
  readonly p?: 1;
  /** A transient event, whole. */
  readonly e?: BusEvent['envelope'];
}

export interface PostgresEventBusOptions {
  readonly connectionString: string;
  /** A failure of the listening connection, a NOTIFY or a hint's read (for the log). */
  readonly onError?: (error: unknown) => void;
  /** The listening connection is back after a loss; listeners have been told to re-read the log. */
  readonly onReconnected?: (failedAttempts: number) => void;
  /** First delay before reconnecting; it doubles on each failed attempt. Default 500 ms. */
  readonly reconnectMs?: number;
  /** Longest delay between reconnection attempts; default 30 s. */
  readonly maxReconnectMs?: number;
  /**
   * How often the listening connection must answer a round trip; one left unanswered for a whole
   * period counts as a lost connection (a silently dropped TCP session raises no error). Default 30 s.
   */
  readonly heartbeatMs?: number;
}

export class PostgresEventBus implements EventBus {
  readonly #database: Database;
  readonly #options: PostgresEventBusOptions;
  readonly #local = new InProcessEventBus();
  readonly #node = randomBytes(6).toString('hex');
  #client: pg.Client | null = null;
  #closed = false;
  #reconnect: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #connecting: Promise<void> | null = null;
  /** Consecutive failed connection attempts; sets the next delay. */
  #failures = 0;
  /**
   * Events lately read for a hint, by id: the repeat that announces an event's account position
   * (PostgreSQL numbers after the commit) then needs no second read. Oldest first, bounded.
   */
  readonly #recent = new Map<string, BusEvent>();
  /** NOTIFYs and hint reads in flight on the pool, awaited by `close()`. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(database: Database, options: PostgresEventBusOptions) {
    this.#database = database;
    this.#options = options;
  }

  /** Whether the listening connection is up now. */
  get listening(): boolean {
    return this.#client !== null;
  }

  /**
   * Connects and listens; resolves once notifications flow. When that fails it rejects, and the bus
   * keeps trying in the background (local listeners are served meanwhile).
   */
  async start(): Promise<void> {
    try {
      await this.#connect();
    } catch (error) {
      this.#scheduleReconnect();
      throw error;
    }
  }

  publish(event: BusEvent): void {
    this.#local.publish(event);
    if (this.#closed) return;
    const hint: Hint = {
      n: this.#node,
      a: event.accountId,
      f: event.faxId,
      s: event.accountSequence,
      ...(event.accountSequence === null ? { e: event.envelope } : { i: event.envelope.id }),
      ...(event.positionOnly ? { p: 1 as const } : {}),
    };
    const payload = JSON.stringify(hint);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) return;
    this.#track(
      this.#database.db
        .selectNoFrom((eb) => eb.fn<string>('pg_notify', [eb.val(EVENTS_CHANNEL), eb.val(payload)]).as('n'))
        .execute(),
    );
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    return this.#local.subscribe(filter, listener);
  }

  onMaybeMissed(listener: () => void): () => void {
    return this.#local.onMaybeMissed(listener);
  }

  /** Stops listening and reconnecting, and waits for the notifications and reads in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnect) clearTimeout(this.#reconnect);
    this.#reconnect = null;
    await this.#connecting?.catch(() => {});
    this.#stopHeartbeat();
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
    await Promise.allSettled([...this.#inFlight]);
    await this.#local.close();
  }

  #connect(): Promise<void> {
    const connecting = (async () => {
      const client = new pg.Client({
        connectionString: this.#options.connectionString,
        keepAlive: true,
        application_name: EVENT_BUS_APPLICATION_NAME,
      });
      client.on('notification', (message) => {
        if (!this.#closed && message.channel === EVENTS_CHANNEL && message.payload)
          this.#onHint(message.payload);
      });
      client.on('error', (error) => this.#lost(client, error));
      client.on('end', () => this.#lost(client, new Error('the event bus connection ended')));
      try {
        await client.connect();
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      if (this.#closed) {
        await client.end().catch(() => {});
        return;
      }
      this.#client = client;
      this.#startHeartbeat(client);
    })();
    this.#connecting = connecting;
    return connecting.finally(() => {
      if (this.#connecting === connecting) this.#connecting = null;
    });
  }

  /** The current listening connection failed: drop it and reconnect. Old connections are ignored. */
  #lost(client: pg.Client, error: unknown): void {
    if (client !== this.#client || this.#closed) return;
    this.#client = null;
    this.#stopHeartbeat();
    client.end().catch(() => {});
    this.#options.onError?.(error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnect) return;
    const base = this.#options.reconnectMs ?? 500;
    const ceiling = this.#options.maxReconnectMs ?? 30_000;
    const delay = Math.min(ceiling, base * 2 ** Math.min(this.#failures, 20));
    // Jitter, so the nodes of a cluster do not all knock at once after a database restart.
    this.#reconnect = setTimeout(() => this.#reconnectNow(), delay * (0.5 + Math.random() / 2));
    this.#reconnect.unref();
  }

  async #reconnectNow(): Promise<void> {
    this.#reconnect = null;
    if (this.#closed) return;
    try {
      await this.#connect();
    } catch (error) {
      this.#failures++;
      this.#options.onError?.(error);
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed) return;
    const failures = this.#failures;
    this.#failures = 0;
    // Whatever was notified while no session listened is gone: everyone re-reads the log.
    this.#local.announceMaybeMissed();
    this.#options.onReconnected?.(failures);
  }

  #startHeartbeat(client: pg.Client): void {
    let waiting = false;
    this.#heartbeat = setInterval(() => {
      if (waiting) {
        this.#lost(client, new Error('the event bus connection stopped answering'));
        return;
      }
      waiting = true;
      client.query('select 1').then(
        () => {
          waiting = false;
        },
        (error) => this.#lost(client, error),
      );
    }, this.#options.heartbeatMs ?? 30_000);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.#options.onError?.(error));
    this.#inFlight.add(tracked);
    tracked.finally(() => this.#inFlight.delete(tracked));
  }

  #onHint(payload: string): void {
    let hint: Hint;
    try {
      hint = JSON.parse(payload) as Hint;
    } catch {
      return;
    }
    if (hint.n === this.#node) return;
    if (hint.s === null) {
      if (hint.e)
        this.#local.publish({ accountId: hint.a, faxId: hint.f, accountSequence: null, envelope: hint.e });
      return;
    }
    const known = hint.p && hint.i !== undefined ? this.#recent.get(hint.i) : undefined;
    if (known) {
      this.#recent.delete(hint.i!);
      this.#local.publish({ ...known, accountSequence: hint.s, positionOnly: true });
      return;
    }
    let read = this.#database.db.selectFrom('fax_events').selectAll().where('account_id', '=', hint.a);
    // A hint from a node of an older version carries the position only.
    read = hint.i !== undefined ? read.where('id', '=', hint.i) : read.where('account_seq', '=', hint.s);
    this.#track(
      read.executeTakeFirst().then((row) => {
        if (!row || this.#closed) return;
        const event = eventFromRow(row);
        if (hint.p) {
          this.#local.publish({ ...event, positionOnly: true });
          return;
        }
        this.#recent.set(event.envelope.id, event);
        if (this.#recent.size > RECENT_EVENTS) this.#recent.delete(this.#recent.keys().next().value!);
        this.#local.publish(event);
      }),
    );
  }
}
