/**
 * @module events/event-feeds
 * The two feeds live streams follow: an account's (every fax, by account position) and one fax's (by
 * its sequence, ending with its final event).
 */
import type { Database } from '../store/database.ts';
import { eventBusOf } from './event-bus.ts';
import type { BusEvent, FaxEventType } from './fax-event.ts';
import type { EventFeed } from './live-event-stream.ts';
import { readAccountEvents, readFaxEvents } from './read-events.ts';

/** The events after which a fax changes no more (a retry announces itself as `fax.queued`). */
export const FINAL_EVENT_TYPES: ReadonlySet<FaxEventType> = new Set([
  'fax.delivered',
  'fax.failed',
  'fax.canceled',
  'fax.received',
]);

export function accountFeed(database: Database, accountId: string): EventFeed {
  return {
    subscribe: (listener) =>
      eventBusOf(database).subscribe({ accountId, includeTransient: true, accountPositions: true }, listener),
    onMaybeMissed: (listener) => eventBusOf(database).onMaybeMissed(listener),
    readAfter: (position, limit) => readAccountEvents(database.db, accountId, { after: position, limit }),
    positionOf: (event: BusEvent) => event.accountSequence,
  };
}

export function faxFeed(database: Database, accountId: string, faxId: string): EventFeed {
  return {
    subscribe: (listener) =>
      eventBusOf(database).subscribe({ accountId, faxId, includeTransient: true }, listener),
    onMaybeMissed: (listener) => eventBusOf(database).onMaybeMissed(listener),
    readAfter: (position, limit) => readFaxEvents(database.db, faxId, { after: position, limit }),
    positionOf: (event: BusEvent) => (event.accountSequence === null ? null : event.envelope.data.sequence),
    isLast: (event) => FINAL_EVENT_TYPES.has(event.envelope.type),
  };
}
