/**
 * @module events/test-event-bus-sessions
 * Ends the event bus's listening sessions on a PostgreSQL database from outside, as a network fault or
 * an administrator would, so tests can watch the buses reconnect.
 */
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.ts';
import { EVENT_BUS_APPLICATION_NAME } from './postgres-event-bus.ts';

/** Terminates every listening session of the database `config` names; returns how many there were. */
export async function terminateEventBusSessions(config: DatabaseConfig): Promise<number> {
  if (config.engine !== 'postgres') throw new TypeError('event bus sessions exist on PostgreSQL only');
  const admin = new pg.Client({ connectionString: config.url });
  await admin.connect();
  try {
    const killed = await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where datname = current_database() and application_name = $1`,
      [EVENT_BUS_APPLICATION_NAME],
    );
    return killed.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}
