/**
 * @module store/database
 * Opens the database the configuration names — SQLite (better-sqlite3, WAL) or PostgreSQL (pg) —
 * behind one Kysely instance, and runs the migrations. Everything above this file is engine-blind,
 * except the few statements that need an engine's own locking, which read `engine`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.ts';
import { migrations } from './migrations/migrations.ts';
import type { DatabaseSchema } from './schema.ts';
import { sqliteGroupCommit } from './sqlite-group-commit.ts';

const BUSY_TIMEOUT_MS = 5000;

export type Engine = 'sqlite' | 'postgres';
export type Db = Kysely<DatabaseSchema>;

export interface Database {
  readonly engine: Engine;
  readonly db: Db;
  /**
   * Runs `fn` in a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`, which takes the
   * single write lock up front, so a read-then-write never fails to upgrade when another process
   * wrote in between, and transactions that arrive together share one commit, each in its own
   * savepoint (sqlite-group-commit.ts); on PostgreSQL it is an ordinary READ COMMITTED transaction.
   * Either way it resolves only once its writes are durable, and a `fn` that throws leaves nothing —
   * unless `durable: false`: then it resolves once committed and visible, before the commit reaches
   * the disk. Only for writes whose loss in a crash is harmless (a lease taken, a claim made).
   */
  writeTransaction<T>(fn: (trx: Db) => Promise<T>, options?: WriteOptions): Promise<T>;
  close(): Promise<void>;
}

export interface WriteOptions {
  /** False: answered at commit, without waiting for the disk. Default true. */
  readonly durable?: boolean;
  /**
   * A short write many others wait for: on PostgreSQL it runs on a small pool of its own instead of
   * queueing for a connection behind them. SQLite has one connection; there it changes nothing.
   */
  readonly priority?: boolean;
}

export class MigrationError extends Error {
  constructor(migration: string | undefined, cause: unknown) {
    super(`database migration ${migration ?? '(unknown)'} failed: ${String(cause)}`, { cause });
    this.name = 'MigrationError';
  }
}

/** An opened database, with how its engine runs the migrations safely against other processes. */
type Opened = Database & { migrate(): Promise<void> };

/** Opens the database and brings its schema to the latest migration. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const opened =
    config.engine === 'sqlite' ? openSqlite(config.path) : openPostgres(config.url, config.poolSize ?? 10);
  const { migrate, ...database } = opened;
  try {
    await migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

function openSqlite(path: string): Opened {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  // FULL syncs the WAL on every commit: a page we acknowledged must survive a power cut. Write
  // transactions keep that guarantee through group commit (sqlite-group-commit.ts).
  sqlite.pragma('synchronous = FULL');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: keepStatements(sqlite) }) });
  const writes = sqliteGroupCommit(sqlite, db, {
    path: path === ':memory:' ? null : path,
    busyTimeoutMs: BUSY_TIMEOUT_MS,
  });
  return {
    engine: 'sqlite',
    db,
    migrate: () => migrateSqlite(sqlite, db),
    writeTransaction: writes.writeTransaction,
    close: async () => {
      await writes.close();
      await db.destroy();
    },
  };
}

/** Distinct SQL texts kept compiled; the queries the code builds are far fewer. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query it runs, and better-sqlite3 compiles SQL on each prepare; the same few
 * texts recur, so compiled statements are kept. Reusing one is safe: the single connection runs one
 * statement at a time (Kysely's mutex), and SQLite re-prepares a statement itself after a schema change.
 */
function keepStatements(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(text) {
      let statement = statements.get(text);
      if (statement === undefined) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statement = sqlite.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}

function openPostgres(url: string, poolSize: number): Opened {
  const db = postgresPool(url, poolSize);
  // Two small lanes beside the main pool, so their writes never queue for a connection behind the
  // main pool's: housekeeping many others wait for (numbering the account streams), and the writes
  // that need not wait for the disk (webhook fan-out and claims, spool clean-up). The latter say so
  // with `set local` in each transaction: a session-wide setting (a startup option, a SET) would be
  // refused by PgBouncer or leak to other clients through its shared server connections.
  const priority = postgresPool(url, 2);
  const relaxed = postgresPool(url, 2);
  const writeMain = <T>(fn: (trx: Db) => Promise<T>) => db.transaction().execute(fn);
  const writePriority = <T>(fn: (trx: Db) => Promise<T>) => priority.transaction().execute(fn);
  const writeRelaxed = <T>(fn: (trx: Db) => Promise<T>) =>
    relaxed.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      return fn(trx);
    });
  return {
    engine: 'postgres',
    db,
    writeTransaction: (fn, options) =>
      (options?.priority ? writePriority : options?.durable === false ? writeRelaxed : writeMain)(fn),
    migrate: () => migrateToLatest(db),
    close: async () => {
      await Promise.all([db.destroy(), priority.destroy(), relaxed.destroy()]);
    },
  };
}

function postgresPool(url: string, max: number): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // int8 (our millisecond times) would arrive as strings; they fit a double for 285,000 years.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server closed (a restart, a terminated backend) is an 'error' on the pool;
  // unheard, it would end the process. The pool drops that client and the next query opens another.
  pool.on('error', () => {});
  return new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Kysely takes no lock on SQLite (it assumes one connection), so two processes starting on one file
 * would both see the schema empty and both create it. Here the whole run is one `BEGIN IMMEDIATE`
 * transaction on the single connection: the second process waits for the write lock (busy timeout),
 * then finds the migrations done; a migration that fails leaves nothing behind.
 */
async function migrateSqlite(sqlite: BetterSqlite3.Database, db: Db): Promise<void> {
  sqlite.exec('BEGIN IMMEDIATE');
  try {
    await migrateToLatest(db);
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw error;
  }
  sqlite.exec('COMMIT');
}

/** Applies every pending migration in order; on PostgreSQL, Kysely's advisory lock serialises starts. */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new MigrationError(results?.find((r) => r.status === 'Error')?.migrationName, error);
}
