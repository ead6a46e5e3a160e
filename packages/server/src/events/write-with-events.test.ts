/**
 * @module events/write-with-events.test
 * On every engine: events reach the bus only after their transaction commits (never on rollback),
 * sinks run inside the transaction (a failing sink undoes the write), and account positions are
 * gap-free and in commit order under concurrent writers on separate connections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootstrapAccount } from '../domain/accounts.ts';
import { appendFaxEvent } from '../domain/append-fax-event.ts';
import { startInboundFax } from '../domain/inbound-fax.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { eventBusOf } from './event-bus.ts';
import type { BusEvent } from './fax-event.ts';
import { readAccountEvents } from './read-events.ts';
import { addEventSink, writeWithEvents } from './write-with-events.ts';

for (const engine of TEST_ENGINES) {
  describe(`writeWithEvents (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let accountId: string;
    let number: string;
    before(async () => {
      t = await engine.open();
      const boot = (await bootstrapAccount(t.database, { first: '+14155550100', last: '+14155550109' }))!;
      accountId = boot.accountId;
      number = boot.numbers[0]!.e164;
    });
    after(() => t.dispose());

    it('publishes after commit, in order, and nothing from a rolled-back transaction', async () => {
      const fax = await startInboundFax(t.database, { to: number, from: '+14155550999' });
      const seen: BusEvent[] = [];
      let committedWhenSeen: boolean[] = [];
      const stop = eventBusOf(t.database).subscribe({ accountId }, (e) => seen.push(e));
      await assert.rejects(
        writeWithEvents(t.database, async (trx) => {
          await appendFaxEvent(trx, fax.id, 'fax.page.received', { page: 1 });
          throw new Error('page not durable');
        }),
      );
      assert.equal(seen.length, 0);
      const stopCheck = eventBusOf(t.database).subscribe({ accountId }, (e) => {
        // A listener may read what it was told about at once: the row is committed.
        committedWhenSeen.push(e.envelope.id.startsWith('evt_'));
      });
      await writeWithEvents(t.database, async (trx) => {
        await appendFaxEvent(trx, fax.id, 'fax.page.received', { page: 1 });
        await appendFaxEvent(trx, fax.id, 'fax.page.received', { page: 2 });
        assert.equal(seen.length, 0, 'nothing before the commit');
      });
      stop();
      stopCheck();
      assert.deepEqual(
        seen.map((e) => [e.envelope.data.sequence, e.envelope.data.page]),
        [
          [2, 1],
          [3, 2],
        ],
      );
      // Numbered in the account's log, in the same order, once writeWithEvents resolves.
      const ids = new Set(seen.map((e) => e.envelope.id));
      const stored = (await readAccountEvents(t.database.db, accountId, { after: 0, limit: 1000 })).filter(
        (e) => ids.has(e.envelope.id),
      );
      assert.deepEqual(
        stored.map((e) => e.envelope.id),
        seen.map((e) => e.envelope.id),
      );
      assert.deepEqual(committedWhenSeen, [true, true]);
      committedWhenSeen = [];
    });

    it('runs sinks inside the transaction: a failing sink undoes the event', async () => {
      const fax = await startInboundFax(t.database, { to: number, from: '+14155550998' });
      const sunk: string[] = [];
      const remove = addEventSink(t.database, async (trx, e) => {
        const row = await trx
          .selectFrom('fax_events')
          .select('id')
          .where('id', '=', e.envelope.id)
          .executeTakeFirst();
        assert.ok(row, 'the sink sees the event in its transaction');
        if (e.envelope.data.page === 13) throw new Error('sink refused');
        sunk.push(e.envelope.type);
      });
      try {
        await writeWithEvents(t.database, (trx) =>
          appendFaxEvent(trx, fax.id, 'fax.page.received', { page: 1 }),
        );
        await assert.rejects(
          writeWithEvents(t.database, (trx) =>
            appendFaxEvent(trx, fax.id, 'fax.page.received', { page: 13 }),
          ),
          /sink refused/,
        );
      } finally {
        remove();
      }
      assert.deepEqual(sunk, ['fax.page.received']);
      const rows = await t.database.db
        .selectFrom('fax_events')
        .select('sequence')
        .where('fax_id', '=', fax.id)
        .execute();
      assert.equal(rows.length, 2, 'receiving.started and page 1; page 13 rolled back');
    });

    it('hands out account positions gap-free and in commit order across connections', async () => {
      const other = await t.openAnother();
      const faxes = await Promise.all(
        [0, 1, 2].map((i) => startInboundFax(t.database, { to: number, from: `+1415555070${i}` })),
      );
      const start = (
        await t.database.db
          .selectFrom('accounts')
          .select('event_seq')
          .where('id', '=', accountId)
          .executeTakeFirstOrThrow()
      ).event_seq;
      const published: number[] = [];
      const stop = eventBusOf(t.database).subscribe({ accountId }, (e) => published.push(e.accountSequence!));
      await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          writeWithEvents(i % 2 ? other : t.database, (trx) =>
            appendFaxEvent(trx, faxes[i % 3]!.id, 'fax.page.received', { page: i + 1 }),
          ),
        ),
      );
      stop();
      const events = await readAccountEvents(t.database.db, accountId, { after: start, limit: 100 });
      assert.deepEqual(
        events.map((e) => e.accountSequence),
        Array.from({ length: 24 }, (_, i) => start + i + 1),
      );
      // Commit order: each fax's own sequence rises along the account positions.
      for (const fax of faxes) {
        const sequences = events.filter((e) => e.faxId === fax.id).map((e) => e.envelope.data.sequence);
        assert.deepEqual(
          sequences,
          [...sequences].sort((a, b) => a - b),
        );
      }
      assert.equal(published.length, 12, 'this connection published its own commits');
    });
  });
}
