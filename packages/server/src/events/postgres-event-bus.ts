/**
 * @module events/postgres-event-bus
 * The bus across processes, for the scale-out deployment: every node LISTENs on one PostgreSQL channel;
 * a node that publishes delivers to its own listeners at once and NOTIFYs the others with a small hint
 * (account, fax, account position — NOTIFY payloads are limited to 8000 bytes, metadata alone may
 * exceed that). A node that hears a hint reads the event from the log, once, and delivers it locally.
 * Transient events travel whole when they fit and are dropped when they do not (they are superseded
 * within a second). A lost notification costs latency only: streams re-read the log at each keep-alive.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../store/database.ts';
import { type EventBus, type EventFilter, type EventListener, InProcessEventBus } from './event-bus.ts';
import { type BusEvent, eventFromRow } from './fax-event.ts';

export const EVENTS_CHANNEL = 'faxwire_events';
const MAX_PAYLOAD_BYTES = 7900;
const RECONNECT_MS = 1000;

interface Hint {
  /** The publishing node, so it ignores its own notifications. */
  readonly n: string;
  readonly a: string;
  readonly f: string;
  readonly s: number | null;
  /** A transient event, whole. */
  readonly e?: BusEvent['envelope'];
}

export interface PostgresEventBusOptions {
  readonly connectionString: string;
  readonly onError?: (error: unknown) => void;
}

export class PostgresEventBus implements EventBus {
  readonly #database: Database;
  readonly #options: PostgresEventBusOptions;
  readonly #local = new InProcessEventBus();
  readonly #node = randomBytes(6).toString('hex');
  #client: pg.Client | null = null;
  #closed = false;
  #reconnect: NodeJS.Timeout | null = null;

  constructor(database: Database, options: PostgresEventBusOptions) {
    this.#database = database;
    this.#options = options;
  }

  /** Connects and listens; resolves once notifications flow. */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.connectionString });
    client.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL && message.payload) this.#onHint(message.payload);
    });
    client.on('error', (error) => {
      this.#options.onError?.(error);
      this.#scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.#client = client;
  }

  publish(event: BusEvent): void {
    this.#local.publish(event);
    const hint: Hint = {
      n: this.#node,
      a: event.accountId,
      f: event.faxId,
      s: event.accountSequence,
      ...(event.accountSequence === null ? { e: event.envelope } : {}),
    };
    const payload = JSON.stringify(hint);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) return;
    this.#database.db
      .selectNoFrom((eb) => eb.fn<string>('pg_notify', [eb.val(EVENTS_CHANNEL), eb.val(payload)]).as('n'))
      .execute()
      .catch((error) => this.#options.onError?.(error));
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    return this.#local.subscribe(filter, listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnect) clearTimeout(this.#reconnect);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
    await this.#local.close();
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
    this.#database.db
      .selectFrom('fax_events')
      .selectAll()
      .where('account_id', '=', hint.a)
      .where('account_seq', '=', hint.s)
      .executeTakeFirst()
      .then(
        (row) => {
          if (row) this.#local.publish(eventFromRow(row));
        },
        (error) => this.#options.onError?.(error),
      );
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnect) return;
    const old = this.#client;
    this.#client = null;
    old?.end().catch(() => {});
    this.#reconnect = setTimeout(() => {
      this.#reconnect = null;
      if (this.#closed) return;
      this.start().catch((error) => {
        this.#options.onError?.(error);
        this.#scheduleReconnect();
      });
    }, RECONNECT_MS);
    this.#reconnect.unref();
  }
}
