/**
 * @module domain/append-fax-event.test
 * Event sequences stay gap-free and unique per fax under concurrent writers on separate connections,
 * a rolled-back append gives its number back, and concurrent number claims never collide.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { testFaxRow } from '../store/test-fax-row.ts';
import { bootstrapAccount } from './accounts.ts';
import { appendFaxEvent } from './append-fax-event.ts';
import { claimLoopbackNumber } from './claim-loopback-number.ts';

for (const engine of TEST_ENGINES) {
  describe(`fax events and numbers under concurrency (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let accountId: string;
    const range = { first: '+14155550100', last: '+14155550119' };
    before(async () => {
      t = await engine.open();
      accountId = (await bootstrapAccount(t.database, range))!.accountId;
      await t.database.db
        .insertInto('faxes')
        .values(testFaxRow({ id: 'fax_seq', account_id: accountId }))
        .execute();
    });
    after(() => t.dispose());

    it('numbers events 1..n with no gap or duplicate across two connections, even after a rollback', async () => {
      const other = await t.openAnother();
      await assert.rejects(
        t.database.writeTransaction(async (trx) => {
          await appendFaxEvent(trx, 'fax_seq', 'fax.page.received', { page: 0 });
          throw new Error('page not durable');
        }),
      );
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 ? other : t.database).writeTransaction((trx) =>
            appendFaxEvent(trx, 'fax_seq', 'fax.page.received', { page: i + 1 }),
          ),
        ),
      );
      const rows = await t.database.db
        .selectFrom('fax_events')
        .select(['sequence', 'data_json'])
        .where('fax_id', '=', 'fax_seq')
        .orderBy('sequence')
        .execute();
      assert.deepEqual(
        rows.map((r) => r.sequence),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      assert.ok(rows.every((r) => JSON.parse(r.data_json).sequence === r.sequence));
    });

    it('gives distinct numbers to concurrent claims', async () => {
      const other = await t.openAnother();
      const claimed = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          claimLoopbackNumber(i % 2 ? other : t.database, accountId, range),
        ),
      );
      const numbers = claimed.map((n) => n.e164);
      assert.equal(new Set(numbers).size, 8);
      assert.ok(numbers.every((n) => n >= range.first && n <= range.last));
    });
  });
}
