/**
 * @module store/test-databases
 * The engines every contract suite loops over: SQLite always, PostgreSQL when FAXWIRE_TEST_PG_URL
 * names a server (scripts/start-test-postgres.sh starts one). Each `open()` gives a fresh, migrated,
 * empty database that `dispose()` deletes.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.ts';
import { type Database, openDatabase } from './database.ts';

export interface TestDatabase {
  readonly database: Database;
  readonly config: DatabaseConfig;
  /** Opens a second, independent connection pool on the same database, as another process would. */
  openAnother(): Promise<Database>;
  dispose(): Promise<void>;
}

export interface TestEngine {
  readonly name: 'sqlite' | 'postgres';
  /** Why the engine is skipped, or undefined when it runs. */
  readonly skip: string | undefined;
  open(): Promise<TestDatabase>;
}

const pgUrl = process.env.FAXWIRE_TEST_PG_URL;

/** Opens `config`; `dispose` closes every connection opened through it, then runs `removeStorage`. */
async function openTestDatabase(
  config: DatabaseConfig,
  removeStorage: () => Promise<void> | void,
): Promise<TestDatabase> {
  const database = await openDatabase(config);
  const others: Database[] = [];
  return {
    database,
    config,
    async openAnother() {
      const other = await openDatabase(config);
      others.push(other);
      return other;
    },
    async dispose() {
      for (const other of others) await other.close();
      await database.close();
      await removeStorage();
    },
  };
}

export const TEST_ENGINES: readonly TestEngine[] = [
  {
    name: 'sqlite',
    skip: undefined,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'faxwire-db-'));
      return openTestDatabase({ engine: 'sqlite', path: join(dir, 'faxwire.db') }, () =>
        rmSync(dir, { recursive: true, force: true }),
      );
    },
  },
  {
    name: 'postgres',
    skip: pgUrl
      ? undefined
      : 'FAXWIRE_TEST_PG_URL is not set (packages/server/scripts/start-test-postgres.sh)',
    async open() {
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      const name = `faxwire_t_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(pgUrl!);
      url.pathname = `/${name}`;
      return openTestDatabase({ engine: 'postgres', url: url.toString() }, async () => {
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
        await admin.end();
      });
    },
  },
];
