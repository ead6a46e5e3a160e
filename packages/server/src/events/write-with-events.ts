/**
 * @module events/write-with-events
 * The one way a domain write that appends events commits: `writeWithEvents` runs the caller's
 * transaction, hands each appended event to the registered sinks inside that same transaction (so
 * e.g. webhook deliveries are enqueued atomically with the event — the outbox pattern), and publishes
 * the events on the bus only after the commit, so no listener ever sees an event that rolled back.
 */
import type { Database, Db } from '../store/database.ts';
import { accountSequencerOf } from './account-sequencer.ts';
import { eventBusOf } from './event-bus.ts';
import type { BusEvent } from './fax-event.ts';

export type EventSink = (trx: Db, event: BusEvent) => Promise<void>;

interface PendingEvents {
  readonly events: BusEvent[];
  readonly deferPositions: boolean;
}

const pending = new WeakMap<Db, PendingEvents>();
const sinks = new WeakMap<Database, Set<EventSink>>();

/** Called by appendFaxEvent: remembers the event for the transaction `trx` belongs to. */
export function collectEvent(trx: Db, event: BusEvent): void {
  pending.get(trx)?.events.push(event);
}

/**
 * Whether events appended in `trx` leave their account position to the sequencer after the commit
 * (PostgreSQL, inside `writeWithEvents`), instead of taking it from the account row in the transaction.
 */
export function accountPositionsDeferred(trx: Db): boolean {
  return pending.get(trx)?.deferPositions ?? false;
}

/**
 * Registers a sink run inside every event-appending transaction of `database`, after the caller's
 * work; a sink that throws rolls the whole write back. @returns the function that removes it.
 */
export function addEventSink(database: Database, sink: EventSink): () => void {
  let set = sinks.get(database);
  if (!set) {
    set = new Set();
    sinks.set(database, set);
  }
  set.add(sink);
  return () => set.delete(sink);
}

/**
 * On PostgreSQL the events' account positions are handed out after the commit, in batches, by the
 * account sequencer: taking them from the account row inside the transaction would hold that row's lock
 * through the commit's WAL flush, one transaction of the account at a time (at 500 inbound faxes,
 * a page write waited 340 ms for it). The events are published as soon as they commit (webhooks and a
 * fax's own stream need no account position), and this resolves once they have their positions too,
 * so a read of the account's log after a write sees it. SQLite has one writer at a time anyway: there
 * the position comes with the transaction.
 */
export interface WriteWithEventsOptions {
  /**
   * False: resolve at the commit, while the account positions are still being handed out (a write on
   * the way to an MCF; the write that ends the fax waits, and its run numbers these too). Default true.
   */
  readonly awaitAccountPositions?: boolean;
}

export async function writeWithEvents<T>(
  database: Database,
  fn: (trx: Db) => Promise<T>,
  options: WriteWithEventsOptions = {},
): Promise<T> {
  let events: BusEvent[] = [];
  const deferPositions = database.engine === 'postgres';
  const result = await database.writeTransaction(async (trx) => {
    // A retried transaction body starts from nothing.
    events = [];
    pending.set(trx, { events, deferPositions });
    try {
      const value = await fn(trx);
      for (const sink of sinks.get(database) ?? []) {
        for (const event of events) await sink(trx, event);
      }
      return value;
    } finally {
      pending.delete(trx);
    }
  });
  const bus = eventBusOf(database);
  for (const event of events) bus.publish(event);
  if (events.some((e) => e.accountSequence === 0)) {
    const numbered = accountSequencerOf(database).sequence();
    if (options.awaitAccountPositions !== false) await numbered;
  }
  return result;
}
