/**
 * @module events/start-event-bus
 * The bus a server process uses for `database`: on SQLite the in-process bus (one process owns the
 * file); on PostgreSQL, where any number of API and media nodes share the database, the LISTEN/NOTIFY
 * bus, so an event committed on one node reaches the live streams and the webhook dispatcher of every
 * other at once instead of at their next poll of the log.
 */
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/config.ts';
import type { Database } from '../store/database.ts';
import { type EventBus, eventBusOf, setEventBus } from './event-bus.ts';
import { PostgresEventBus, type PostgresEventBusOptions } from './postgres-event-bus.ts';

export type EventBusTuning = Omit<PostgresEventBusOptions, 'connectionString' | 'onError' | 'onReconnected'>;

/**
 * Installs the bus of `database` (before anything subscribes) and starts it. A PostgreSQL bus that
 * cannot listen yet does not stop the start: it keeps reconnecting, and until then other nodes'
 * events arrive by the log polls. Close the returned bus before the database.
 */
export async function startEventBus(
  database: Database,
  config: DatabaseConfig,
  logger?: Logger,
  tuning: EventBusTuning = {},
): Promise<EventBus> {
  if (config.engine !== 'postgres') return eventBusOf(database);
  const log = logger?.child({ component: 'event-bus' });
  const bus = new PostgresEventBus(database, {
    ...tuning,
    connectionString: config.url,
    onError: (error) => log?.warn({ err: error }, 'event bus: notification path failed'),
    onReconnected: (failedAttempts) =>
      log?.info({ failedAttempts }, 'event bus: listening again; streams and webhooks re-read the log'),
  });
  setEventBus(database, bus);
  try {
    await bus.start();
  } catch (error) {
    log?.warn({ err: error }, 'event bus: cannot listen yet; retrying in the background');
  }
  return bus;
}
