/**
 * @module domain/accounts.test
 * The first start's bootstrap, on every engine: exactly once however many start together, through
 * independent connection pools as separate processes would have, and nothing half-made when keeping
 * the key fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../store/database.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { type Bootstrap, bootstrapAccount, createAccount } from './accounts.ts';
import { hashApiKey } from './api-key.ts';

const RANGE = { first: '+14155550100', last: '+14155550109' };

async function counts(database: Database) {
  const n = async (table: 'accounts' | 'numbers' | 'api_keys' | 'bootstrap_steps') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    accounts: await n('accounts'),
    numbers: await n('numbers'),
    keys: await n('api_keys'),
    steps: await n('bootstrap_steps'),
  };
}

for (const engine of TEST_ENGINES) {
  describe(`first-start bootstrap (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t.dispose());

    const empty = async () => {
      for (const table of ['api_keys', 'numbers', 'bootstrap_steps', 'accounts'] as const) {
        await t.database.db.deleteFrom(table).execute();
      }
    };

    it('creates one account when several start at the same moment', async () => {
      await empty();
      const pools = [t.database, await t.openAnother(), await t.openAnother()];
      const kept: Bootstrap[] = [];
      const results = await Promise.all(
        [...pools, ...pools].map((database) =>
          bootstrapAccount(database, RANGE, { keep: (b) => void kept.push(b) }),
        ),
      );
      const made = results.filter((r) => r !== null);
      assert.equal(made.length, 1, 'exactly one bootstrap');
      assert.deepEqual(kept, made, 'only the winner kept a key');
      assert.deepEqual(await counts(t.database), { accounts: 1, numbers: 2, keys: 1, steps: 1 });
      const boot = made[0]!;
      const key = await t.database.db
        .selectFrom('api_keys')
        .selectAll()
        .where('hash', '=', hashApiKey(boot.key))
        .executeTakeFirst();
      assert.equal(key?.account_id, boot.accountId, 'the kept key opens the one account');
      assert.deepEqual(boot.numbers.map((n) => n.e164).sort(), ['+14155550100', '+14155550101']);
      assert.equal(await bootstrapAccount(t.database, RANGE), null, 'a later start finds it done');
    });

    it('leaves nothing when keeping the key fails, so the next start bootstraps', async () => {
      await empty();
      await assert.rejects(
        bootstrapAccount(t.database, RANGE, {
          keep: () => {
            throw new Error('disk full');
          },
        }),
        /disk full/,
      );
      assert.deepEqual(await counts(t.database), { accounts: 0, numbers: 0, keys: 0, steps: 0 });
      assert.notEqual(await bootstrapAccount(t.database, RANGE), null);
      assert.deepEqual(await counts(t.database), { accounts: 1, numbers: 2, keys: 1, steps: 1 });
    });

    it('treats an account made before the first start as the bootstrap', async () => {
      await empty();
      await createAccount(t.database.db, 'made by hand');
      assert.equal(await bootstrapAccount(t.database, RANGE), null);
      assert.deepEqual(await counts(t.database), { accounts: 1, numbers: 0, keys: 0, steps: 0 });
    });
  });
}
