/**
 * @module events/write-with-events
 * The one way a domain write that appends events commits: `writeWithEvents` runs the caller's
 * transaction, hands each appended event to the registered sinks inside that same transaction (so
 * e.g. webhook deliveries are enqueued atomically with the event — the outbox pattern), and publishes
 * the events on the bus only after the commit, so no listener ever sees an event that rolled back.
 */
import type { Database, Db } from '../store/database.ts';
import { eventBusOf } from './event-bus.ts';
import type { BusEvent } from './fax-event.ts';

export type EventSink = (trx: Db, event: BusEvent) => Promise<void>;

const pending = new WeakMap<Db, BusEvent[]>();
const sinks = new WeakMap<Database, Set<EventSink>>();

/** Called by appendFaxEvent: remembers the event for the transaction `trx` belongs to. */
export function collectEvent(trx: Db, event: BusEvent): void {
  pending.get(trx)?.push(event);
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

export async function writeWithEvents<T>(database: Database, fn: (trx: Db) => Promise<T>): Promise<T> {
  let events: BusEvent[] = [];
  const result = await database.writeTransaction(async (trx) => {
    // A retried transaction body starts from nothing.
    events = [];
    pending.set(trx, events);
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
  return result;
}
