/**
 * @module store/sqlite-group-commit.test
 * What group commit adds on SQLite beyond the database contract (database.test.ts): writes that arrive
 * together run in the order they were asked for, a write that throws leaves the rest of its group
 * intact, and statements outside write transactions still commit with `synchronous = FULL`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type Database, openDatabase } from './database.ts';

describe('SQLite group commit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faxwire-group-'));
  let database: Database;
  const now = 1_790_000_000_000;

  before(async () => {
    database = await openDatabase({ engine: 'sqlite', path: join(dir, 'faxwire.db') });
    await sql`insert into accounts (id, name, created_at) values ('acct_order', '', ${now})`.execute(
      database.db,
    );
  });
  after(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the writes of a burst one after the other, in the order they were asked for', async () => {
    const append = (letter: string, fail: boolean) =>
      database.writeTransaction(async (trx) => {
        const { name } = await trx
          .selectFrom('accounts')
          .where('id', '=', 'acct_order')
          .select('name')
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('accounts')
          .set({ name: name + letter })
          .where('id', '=', 'acct_order')
          .execute();
        if (fail) throw new Error(`no ${letter}`);
      });
    const letters = 'abcdefghijklmnop'.split('');
    const results = await Promise.allSettled(letters.map((l, i) => append(l, i % 5 === 2)));
    assert.deepEqual(
      results.map((r) => r.status === 'fulfilled'),
      letters.map((_, i) => i % 5 !== 2),
    );
    const { name } = await database.db
      .selectFrom('accounts')
      .where('id', '=', 'acct_order')
      .select('name')
      .executeTakeFirstOrThrow();
    assert.equal(name, letters.filter((_, i) => i % 5 !== 2).join(''));
  });

  it('answers a write that need not be durable at commit, and the durable ones of its group after the fsync', async () => {
    const answered: string[] = [];
    const write = (name: string, durable: boolean) =>
      database
        .writeTransaction(
          (trx) => trx.updateTable('accounts').set({ name }).where('id', '=', 'acct_order').execute(),
          { durable },
        )
        .then(() => answered.push(name));
    await Promise.all([write('durable-1', true), write('lease', false), write('durable-2', true)]);
    assert.deepEqual(answered, ['lease', 'durable-1', 'durable-2']);
    const { name } = await database.db
      .selectFrom('accounts')
      .where('id', '=', 'acct_order')
      .select('name')
      .executeTakeFirstOrThrow();
    assert.equal(name, 'durable-2');
    // Alone in its group, a write that need not be durable commits all the same.
    await write('alone', false);
    const after = await database.db
      .selectFrom('accounts')
      .where('id', '=', 'acct_order')
      .select('name')
      .executeTakeFirstOrThrow();
    assert.equal(after.name, 'alone');
  });

  it('leaves the connection syncing every commit outside write transactions', async () => {
    await Promise.all(
      [1, 2, 3].map((n) =>
        database.writeTransaction((trx) =>
          trx
            .updateTable('accounts')
            .set({ name: `n${n}` })
            .where('id', '=', 'acct_order')
            .execute(),
        ),
      ),
    );
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db);
    // 2 = FULL (SQLite's PRAGMA synchronous values: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA).
    assert.equal(rows[0]!.synchronous, 2);
  });
});
