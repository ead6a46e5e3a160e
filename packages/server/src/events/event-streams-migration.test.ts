/**
 * @module events/event-streams-migration.test
 * Migration 0003 on a database that already has events: each event gets its account position in the
 * order events were created, gap-free per account, and the account's counter continues after them —
 * on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { type Dialect, Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrations } from '../store/migrations/migrations.ts';

const pgUrl = process.env.FAXWIRE_TEST_PG_URL;

interface Scratch {
  readonly dialect: Dialect;
  dispose(): Promise<void>;
}

const ENGINES: { name: string; skip?: string; open(): Promise<Scratch> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'faxwire-mig-'));
      return {
        dialect: new SqliteDialect({ database: new BetterSqlite3(join(dir, 'db.sqlite')) }),
        dispose: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    ...(pgUrl ? {} : { skip: 'FAXWIRE_TEST_PG_URL is not set' }),
    async open() {
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      const name = `faxwire_m_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(pgUrl!);
      url.pathname = `/${name}`;
      return {
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 2 }) }),
        async dispose() {
          await admin.query(`DROP DATABASE IF EXISTS ${name}`);
          await admin.end();
        },
      };
    },
  },
];

const migrationsBefore = (first: string) =>
  Object.fromEntries(Object.entries(migrations).filter(([name]) => name < first));

for (const engine of ENGINES) {
  describe(`migration 0003-event-streams (${engine.name})`, { skip: engine.skip }, () => {
    it('numbers existing events per account in creation order', async () => {
      const scratch = await engine.open();
      // biome-ignore lint/suspicious/noExplicitAny: the schema before 0003 is not today's row types.
      const db = new Kysely<any>({ dialect: scratch.dialect });
      try {
        const old = new Migrator({ db, provider: { getMigrations: async () => migrationsBefore('0003') } });
        assert.equal((await old.migrateToLatest()).error, undefined);
        for (const account of ['acct_a', 'acct_b']) {
          await db.insertInto('accounts').values({ id: account, name: account, created_at: 1 }).execute();
        }
        const fax = (id: string, account: string) => ({
          id,
          account_id: account,
          direction: 'inbound',
          status: 'receiving',
          to_number: '+1',
          from_number: '+2',
          resolution: 'fine',
          priority: 'normal',
          metadata_json: '{}',
          created_at: 1,
          updated_at: 1,
        });
        await db
          .insertInto('faxes')
          .values([fax('fax_1', 'acct_a'), fax('fax_2', 'acct_a'), fax('fax_3', 'acct_b')])
          .execute();
        const events = [
          ['evt_3', 'fax_2', 1, 30],
          ['evt_1', 'fax_1', 1, 10],
          ['evt_4', 'fax_3', 1, 15],
          ['evt_2', 'fax_1', 2, 20],
        ] as const;
        for (const [id, faxId, sequence, at] of events) {
          await db
            .insertInto('fax_events')
            .values({
              id,
              fax_id: faxId,
              sequence,
              type: 'fax.page.received',
              data_json: '{}',
              created_at: at,
            })
            .execute();
        }
        const after = new Migrator({ db, provider: { getMigrations: async () => migrations } });
        assert.equal((await after.migrateToLatest()).error, undefined);
        const rows = await db
          .selectFrom('fax_events')
          .select(['id', 'account_id', 'account_seq'])
          .orderBy('id')
          .execute();
        assert.deepEqual(
          rows.map((r) => [r.id, r.account_id, Number(r.account_seq)]),
          [
            ['evt_1', 'acct_a', 1],
            ['evt_2', 'acct_a', 2],
            ['evt_3', 'acct_a', 3],
            ['evt_4', 'acct_b', 1],
          ],
        );
        const accounts = await db.selectFrom('accounts').select(['id', 'event_seq']).orderBy('id').execute();
        assert.deepEqual(
          accounts.map((a) => [a.id, Number(a.event_seq)]),
          [
            ['acct_a', 3],
            ['acct_b', 1],
          ],
        );
      } finally {
        await db.destroy();
        await scratch.dispose();
      }
    });
  });
}
