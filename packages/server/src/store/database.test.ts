/**
 * @module store/database.test
 * The database contract: one suite, every engine. What runs above the store relies on each of these.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { migrateToLatest, type WriteOptions } from './database.ts';
import { migrations } from './migrations/migrations.ts';
import { newId } from './new-id.ts';
import { TEST_ENGINES, type TestDatabase } from './test-databases.ts';
import { testFaxRow } from './test-fax-row.ts';

for (const engine of TEST_ENGINES) {
  describe(`database contract (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    const accountId = newId('acct');
    const now = 1_790_000_000_123;

    before(async () => {
      t = await engine.open();
      await t.database.db
        .insertInto('accounts')
        .values({ id: accountId, name: 'a', created_at: now })
        .execute();
    });
    after(() => t.dispose());

    it('migrating again changes nothing', async () => {
      await migrateToLatest(t.database.db);
      const rows = await t.database.db.selectFrom('accounts').selectAll().execute();
      assert.equal(rows.length, 1);
    });

    it('keeps millisecond times as numbers, exactly', async () => {
      const row = await t.database.db.selectFrom('accounts').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.created_at, now);
      assert.equal(typeof row.created_at, 'number');
    });

    it('enforces unique numbers and api key hashes', async () => {
      const number = {
        e164: '+14155550100',
        account_id: accountId,
        inbound_enabled: 1,
        csi: null,
        label: null,
      };
      await t.database.db
        .insertInto('numbers')
        .values({ id: newId('num'), ...number, created_at: now, updated_at: now })
        .execute();
      await assert.rejects(
        t.database.db
          .insertInto('numbers')
          .values({ id: newId('num'), ...number, created_at: now, updated_at: now })
          .execute(),
      );
      const key = { account_id: accountId, name: 'k', prefix: 'fw_x', hash: 'h1', created_at: now };
      await t.database.db
        .insertInto('api_keys')
        .values({ id: newId('key'), ...key })
        .execute();
      await assert.rejects(
        t.database.db
          .insertInto('api_keys')
          .values({ id: newId('key'), ...key })
          .execute(),
      );
    });

    it('allows one idempotency key per account, and many faxes without one', async () => {
      const fax = (idempotency_key: string | null) =>
        testFaxRow({
          id: newId('fax'),
          account_id: accountId,
          direction: 'outbound',
          status: 'queued',
          to_number: '+14155550101',
          from_number: '+14155550100',
          idempotency_key,
          created_at: now,
          updated_at: now,
        });
      await t.database.db
        .insertInto('faxes')
        .values([fax(null), fax(null), fax('k1')])
        .execute();
      await assert.rejects(t.database.db.insertInto('faxes').values(fax('k1')).execute());
    });

    it('commits a write that need not wait for the disk, and rolls it back as a whole when it throws', async () => {
      await t.database.writeTransaction(
        (trx) =>
          trx.insertInto('accounts').values({ id: 'acct_lease', name: 'l', created_at: now }).execute(),
        { durable: false },
      );
      await assert.rejects(
        t.database.writeTransaction(
          async (trx) => {
            await trx.updateTable('accounts').set({ name: 'x' }).where('id', '=', 'acct_lease').execute();
            throw new Error('boom');
          },
          { durable: false },
        ),
        /boom/,
      );
      const row = await t.database.db
        .selectFrom('accounts')
        .where('id', '=', 'acct_lease')
        .select('name')
        .executeTakeFirstOrThrow();
      assert.equal(row.name, 'l');
      if (t.database.engine === 'postgres') {
        const syncCommit = (options?: WriteOptions) =>
          t.database.writeTransaction(
            async (trx) =>
              (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(trx)).rows[0]!
                .synchronous_commit,
            options,
          );
        assert.equal(await syncCommit({ durable: false }), 'off');
        assert.equal(await syncCommit(), 'on');
        assert.equal(await syncCommit({ priority: true }), 'on');
      }
    });

    it('rolls a write transaction back as a whole', async () => {
      await assert.rejects(
        t.database.writeTransaction(async (trx) => {
          await trx
            .insertInto('accounts')
            .values({ id: 'acct_rollback', name: 'r', created_at: now })
            .execute();
          throw new Error('boom');
        }),
        /boom/,
      );
      const row = await t.database.db
        .selectFrom('accounts')
        .where('id', '=', 'acct_rollback')
        .selectAll()
        .execute();
      assert.equal(row.length, 0);
    });

    it('keeps concurrent write transactions apart: each commits or rolls back alone, and is durable when it resolves', async () => {
      const other = await t.openAnother();
      const ids = Array.from({ length: 12 }, (_, i) => `acct_burst_${i}`);
      const outcomes = await Promise.allSettled(
        ids.map((id, i) =>
          t.database
            .writeTransaction(async (trx) => {
              await trx
                .insertInto('accounts')
                .values({ id, name: String(i), created_at: now })
                .execute();
              if (i % 4 === 1) throw new Error(`refused ${i}`);
              // A second write after the first in the same transaction: both or neither stay.
              await trx
                .updateTable('accounts')
                .set({ name: `${i}!` })
                .where('id', '=', id)
                .execute();
              return i;
            })
            .then(async (value) => {
              // Answered only after the commit: another connection already sees the whole write.
              const seen = await other.db
                .selectFrom('accounts')
                .where('id', '=', id)
                .select('name')
                .executeTakeFirst();
              return { value, seen: seen?.name };
            }),
        ),
      );
      for (const [i, outcome] of outcomes.entries()) {
        if (i % 4 === 1) {
          assert.equal(outcome.status, 'rejected');
          assert.match(String((outcome as PromiseRejectedResult).reason), new RegExp(`refused ${i}`));
        } else {
          assert.deepEqual(outcome, { status: 'fulfilled', value: { value: i, seen: `${i}!` } });
        }
      }
      const stored = await t.database.db
        .selectFrom('accounts')
        .where('id', 'in', ids)
        .select(['id', 'name'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        stored.map((r) => r.name).sort(),
        ids
          .map((_, i) => i)
          .filter((i) => i % 4 !== 1)
          .map((i) => `${i}!`)
          .sort(),
      );
    });

    it('rolls back a write whose statement fails, and still commits the others', async () => {
      const results = await Promise.allSettled([
        t.database.writeTransaction((trx) =>
          trx.insertInto('accounts').values({ id: 'acct_dup_a', name: 'a', created_at: now }).execute(),
        ),
        t.database.writeTransaction(async (trx) => {
          await trx.insertInto('accounts').values({ id: 'acct_dup_b', name: 'b', created_at: now }).execute();
          // Same primary key again: the statement fails, the transaction's first insert must go too.
          await trx.insertInto('accounts').values({ id: 'acct_dup_b', name: 'c', created_at: now }).execute();
        }),
        t.database.writeTransaction((trx) =>
          trx.insertInto('accounts').values({ id: 'acct_dup_d', name: 'd', created_at: now }).execute(),
        ),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const rows = await t.database.db
        .selectFrom('accounts')
        .where('id', 'in', ['acct_dup_a', 'acct_dup_b', 'acct_dup_d'])
        .select('id')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        rows.map((r) => r.id),
        ['acct_dup_a', 'acct_dup_d'],
      );
    });

    it('cascades a fax deletion to its documents, pages and events, and enforces foreign keys', async () => {
      const faxId = newId('fax');
      await t.database.db
        .insertInto('faxes')
        .values(testFaxRow({ id: faxId, account_id: accountId, created_at: now, updated_at: now }))
        .execute();
      await t.database.db
        .insertInto('fax_pages')
        .values({ fax_id: faxId, n: 1, blob_key: 'k', rows: 2200, bad_rows: 3, received_at: now })
        .execute();
      await t.database.db
        .insertInto('fax_events')
        .values({
          id: newId('evt'),
          fax_id: faxId,
          sequence: 1,
          type: 'fax.page.received',
          data_json: '{}',
          created_at: now,
        })
        .execute();
      await assert.rejects(
        t.database.db
          .insertInto('fax_events')
          .values({
            id: newId('evt'),
            fax_id: faxId,
            sequence: 1,
            type: 'x',
            data_json: '{}',
            created_at: now,
          })
          .execute(),
        'sequence is unique per fax',
      );
      await assert.rejects(
        t.database.db
          .insertInto('fax_pages')
          .values({ fax_id: 'fax_missing', n: 1, blob_key: null, rows: 1, bad_rows: 0, received_at: now })
          .execute(),
      );
      await t.database.db.deleteFrom('faxes').where('id', '=', faxId).execute();
      const pages = await t.database.db
        .selectFrom('fax_pages')
        .where('fax_id', '=', faxId)
        .selectAll()
        .execute();
      const events = await t.database.db
        .selectFrom('fax_events')
        .where('fax_id', '=', faxId)
        .selectAll()
        .execute();
      assert.deepEqual([pages.length, events.length], [0, 0]);
    });

    it('outlives its idle connections being closed by the server', async (c) => {
      if (t.database.engine !== 'postgres') return c.skip('PostgreSQL only: SQLite has no server');
      const { sql } = await import('kysely');
      await t.database.db.selectFrom('accounts').select('id').execute();
      const other = await t.openAnother();
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and application_name = ''
          and state = 'idle'`.execute(other.db);
      // The pool hears its idle connections end (an 'error' event that must not end the process) …
      await new Promise((resolve) => setTimeout(resolve, 100));
      // … and the next query runs on a new one.
      const rows = await t.database.db.selectFrom('accounts').select('id').execute();
      assert.ok(rows.length > 0);
    });

    it('serialises write transactions from two connections', async () => {
      const other = await t.openAnother();
      await t.database.db
        .insertInto('accounts')
        .values({ id: 'acct_counter', name: '0', created_at: now })
        .execute();
      const bump = (d: typeof other) =>
        d.writeTransaction(async (trx) => {
          const row = await trx
            .selectFrom('accounts')
            .where('id', '=', 'acct_counter')
            .select('name')
            .executeTakeFirstOrThrow();
          if (d.engine === 'postgres') {
            // READ COMMITTED: the row lock is what serialises; SQLite's BEGIN IMMEDIATE already did.
            await trx
              .selectFrom('accounts')
              .where('id', '=', 'acct_counter')
              .select('id')
              .forUpdate()
              .execute();
            const fresh = await trx
              .selectFrom('accounts')
              .where('id', '=', 'acct_counter')
              .select('name')
              .executeTakeFirstOrThrow();
            row.name = fresh.name;
          }
          await trx
            .updateTable('accounts')
            .set({ name: String(Number(row.name) + 1) })
            .where('id', '=', 'acct_counter')
            .execute();
        });
      await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? other : t.database)));
      const row = await t.database.db
        .selectFrom('accounts')
        .where('id', '=', 'acct_counter')
        .select('name')
        .executeTakeFirstOrThrow();
      assert.equal(row.name, '20');
    });
  });
}

describe('first migration of one SQLite file by several processes at once', () => {
  it('each process opens it and every migration runs once', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faxwire-migrate-'));
    try {
      const path = join(dir, 'faxwire.db');
      const go = join(dir, 'go');
      const fixture = fileURLToPath(new URL('./open-database.fixture.ts', import.meta.url));
      const runs = Array.from({ length: 6 }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', fixture, path, go], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        return once(child, 'exit').then(([code]) => ({ code, out, err }));
      });
      // The processes take a while to load; they all wait for this file, then migrate together.
      await sleep(1500);
      writeFileSync(go, '');
      const results = await Promise.all(runs);
      const names = Object.keys(migrations).sort();
      for (const r of results) {
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(JSON.parse(r.out), names);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
