/**
 * @module store/database
 * Opens the database the configuration names — SQLite (better-sqlite3, WAL) or PostgreSQL (pg) —
 * behind one Kysely instance, and runs the migrations. Everything above this file is engine-blind,
 * except the few statements that need an engine's own locking, which read `engine`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.ts';
import { migrations } from './migrations/migrations.ts';
import type { DatabaseSchema } from './schema.ts';

const BUSY_TIMEOUT_MS = 5000;

export type Engine = 'sqlite' | 'postgres';
export type Db = Kysely<DatabaseSchema>;

export interface Database {
  readonly engine: Engine;
  readonly db: Db;
  /**
   * Runs `fn` in a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`, which takes the
   * single write lock up front, so a read-then-write never fails to upgrade when another process
   * wrote in between; on PostgreSQL it is an ordinary READ COMMITTED transaction.
   */
  writeTransaction<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class MigrationError extends Error {
  constructor(migration: string | undefined, cause: unknown) {
    super(`database migration ${migration ?? '(unknown)'} failed: ${String(cause)}`, { cause });
    this.name = 'MigrationError';
  }
}

/** Opens the database and brings its schema to the latest migration. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const database = config.engine === 'sqlite' ? openSqlite(config.path) : openPostgres(config.url);
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

function openSqlite(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  // FULL syncs the WAL on every commit: a page we acknowledged must survive a power cut.
  sqlite.pragma('synchronous = FULL');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    engine: 'sqlite',
    db,
    writeTransaction: (fn) =>
      db.connection().execute(async (conn) => {
        await beginImmediate(sqlite, conn);
        try {
          const result = await fn(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (error) {
          await sql`rollback`.execute(conn);
          throw error;
        }
      }),
    close: () => db.destroy(),
  };
}

/**
 * better-sqlite3 waits for a busy lock synchronously, which stalls the event loop — and with it the
 * very transaction holding the lock when both connections live in one process. So the wait for the
 * write lock is done here, asynchronously, with a short doubling back-off.
 */
async function beginImmediate(sqlite: BetterSqlite3.Database, conn: Db): Promise<void> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 32)) {
    sqlite.pragma('busy_timeout = 0');
    try {
      await sql`begin immediate`.execute(conn);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
    } finally {
      sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    await setTimeout(waitMs * (0.5 + Math.random()));
  }
}

function openPostgres(url: string): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // int8 (our millisecond times) would arrive as strings; they fit a double for 285,000 years.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'postgres',
    db,
    writeTransaction: (fn) => db.transaction().execute(fn),
    close: () => db.destroy(),
  };
}

/** Applies every pending migration in order; Kysely's lock makes concurrent starts safe. */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new MigrationError(results?.find((r) => r.status === 'Error')?.migrationName, error);
}
