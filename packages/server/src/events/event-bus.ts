/**
 * @module events/event-bus
 * Tells live listeners (streams, webhook fan-out) that events committed. It is a wake-up, not the
 * record: the record is `fax_events`, so a listener that misses a publish (another process wrote it, a
 * crash between commit and publish) catches up from the log by position. In one process the
 * InProcessEventBus is enough; with several API and media nodes, a bus over the database's own
 * notifications (PostgreSQL LISTEN/NOTIFY) goes behind the same interface via `setEventBus`.
 */
import type { Database } from '../store/database.ts';
import { perDatabase } from '../store/per-database.ts';
import { type BusEvent, isTransient } from './fax-event.ts';

export interface EventFilter {
  readonly accountId?: string;
  readonly faxId?: string;
  /** Whether to receive `fax.page.progress`; default false (webhooks never want it). */
  readonly includeTransient?: boolean;
  /** Whether to receive the repeats that announce account positions (`BusEvent.positionOnly`); default false. */
  readonly accountPositions?: boolean;
}

export type EventListener = (event: BusEvent) => void;

export interface EventBus {
  /** Hands the event to every matching listener, synchronously; a throwing listener harms no other. */
  publish(event: BusEvent): void;
  /** @returns the function that unsubscribes. */
  subscribe(filter: EventFilter, listener: EventListener): () => void;
  /**
   * Calls `listener` when publishes may have been lost (a bus across processes lost its connection and
   * has it back): listeners then re-read the log from their positions. @returns the function that stops it.
   */
  onMaybeMissed(listener: () => void): () => void;
  close(): Promise<void>;
}

interface Subscription {
  readonly filter: EventFilter;
  readonly listener: EventListener;
}

export class InProcessEventBus implements EventBus {
  // Indexed by account so a busy server does not test every stream against every event.
  readonly #byAccount = new Map<string, Set<Subscription>>();
  readonly #all = new Set<Subscription>();
  readonly #maybeMissed = new Set<() => void>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(options: { onListenerError?: (error: unknown) => void } = {}) {
    this.#onListenerError = options.onListenerError ?? (() => {});
  }

  get listenerCount(): number {
    let n = this.#all.size;
    for (const set of this.#byAccount.values()) n += set.size;
    return n;
  }

  publish(event: BusEvent): void {
    const deliver = (subs: Iterable<Subscription>) => {
      for (const s of [...subs]) {
        if (s.filter.faxId !== undefined && s.filter.faxId !== event.faxId) continue;
        if (isTransient(event) && !s.filter.includeTransient) continue;
        if (event.positionOnly && !s.filter.accountPositions) continue;
        try {
          s.listener(event);
        } catch (error) {
          this.#onListenerError(error);
        }
      }
    };
    const forAccount = this.#byAccount.get(event.accountId);
    if (forAccount) deliver(forAccount);
    deliver(this.#all);
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    const sub: Subscription = { filter, listener };
    let set = this.#all;
    if (filter.accountId !== undefined) {
      set = this.#byAccount.get(filter.accountId) ?? new Set();
      this.#byAccount.set(filter.accountId, set);
    }
    set.add(sub);
    return () => {
      set.delete(sub);
      if (filter.accountId !== undefined && set.size === 0) this.#byAccount.delete(filter.accountId);
    };
  }

  onMaybeMissed(listener: () => void): () => void {
    this.#maybeMissed.add(listener);
    return () => this.#maybeMissed.delete(listener);
  }

  /** Tells every `onMaybeMissed` listener to re-read the log. */
  announceMaybeMissed(): void {
    for (const listener of [...this.#maybeMissed]) {
      try {
        listener();
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  async close(): Promise<void> {
    this.#byAccount.clear();
    this.#all.clear();
    this.#maybeMissed.clear();
  }
}

const buses = perDatabase<EventBus>(() => new InProcessEventBus());

/** The bus of everything written through `database`; an in-process bus unless one was set. */
export function eventBusOf(database: Database): EventBus {
  return buses.of(database);
}

/** Replaces the bus of `database` (before anything subscribes), e.g. with one that spans processes. */
export function setEventBus(database: Database, bus: EventBus): void {
  buses.set(database, bus);
}
