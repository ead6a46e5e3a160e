/**
 * @module webhooks/prune-webhook-history.test
 * Retention of the webhook tables on every engine, with faxes and fan-out written by the real domain
 * functions: finished deliveries past the retention go with their attempts, in batches, and pending or
 * recent ones stay; a fax's cursor goes only when the fax is final, fully fanned out and older than the
 * cutoff; a cursor made again later fans out nothing twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootstrapAccount } from '../domain/accounts.ts';
import { finishInboundFax, startInboundFax } from '../domain/inbound-fax.ts';
import type { Database } from '../store/database.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { fanOutFaxEvents } from './fan-out-fax-events.ts';
import { pruneWebhookHistory } from './prune-webhook-history.ts';
import { createWebhookEndpoint } from './webhook-endpoints.ts';
import { newWebhookId } from './webhook-ids.ts';

const DAY = 86_400_000;

for (const engine of TEST_ENGINES) {
  describe(`webhook history retention (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let database: Database;
    let to: string;
    before(async () => {
      t = await engine.open();
      database = t.database;
      const boot = await bootstrapAccount(database, { first: '+14155550100', last: '+14155550109' });
      to = boot!.numbers[0]!.e164;
      await createWebhookEndpoint(database, boot!.accountId, { url: 'https://example.com/hook' }, 0);
    });
    after(() => t.dispose());

    const start = async () => (await startInboundFax(database, { to, from: '+14155550142' })).id;
    const finish = (faxId: string) => finishInboundFax(database, faxId, { status: 'received' });
    const fanOut = (faxId: string) => fanOutFaxEvents(database, [faxId], Date.now());
    const deliveryOf = async (faxId: string, sequence: number) =>
      (
        await database.db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('fax_id', '=', faxId)
          .where('sequence', '=', sequence)
          .executeTakeFirstOrThrow()
      ).id;
    const finished = async (
      id: string,
      state: 'delivered' | 'failed' | 'pending',
      at: number,
      tries: number,
    ) => {
      await database.db
        .updateTable('webhook_deliveries')
        .set({ state, updated_at: at, attempts: tries })
        .where('id', '=', id)
        .execute();
      for (let n = 1; n <= tries; n++) {
        await database.db
          .insertInto('webhook_attempts')
          .values({
            id: newWebhookId('att'),
            delivery_id: id,
            attempt: n,
            started_at: at,
            duration_ms: 5,
            outcome: state === 'delivered' && n === tries ? 'success' : 'http_error',
            status: state === 'delivered' && n === tries ? 204 : 500,
            response_body: null,
            error: null,
          })
          .execute();
      }
    };

    it('drops the old delivery log and the cursors no sweep needs, in batches; keeps the rest', async () => {
      const old = Date.now() - 40 * DAY;
      // Final and fully fanned out: its cursor may go.
      const done = await start();
      await finish(done);
      await fanOut(done);
      // Final, but its last event is not fanned out yet.
      const behind = await start();
      await fanOut(behind);
      await finish(behind);
      // Fanned out, but still receiving: more events will come.
      const receiving = await start();
      await fanOut(receiving);

      await finished(await deliveryOf(done, 1), 'pending', old, 2);
      await finished(await deliveryOf(done, 2), 'delivered', Date.now(), 1);
      await finished(await deliveryOf(behind, 1), 'delivered', old, 2);
      await finished(await deliveryOf(receiving, 1), 'failed', old, 1);

      const cutoff = Date.now() + 1;
      await sleep(5);
      // Final and fanned out, but newer than the cutoff.
      const recent = await start();
      await finish(recent);
      await fanOut(recent);

      const options = { deliveriesBefore: Date.now() - 30 * DAY, cursorsBefore: cutoff, batchSize: 1 };
      const first = await pruneWebhookHistory(database, { ...options, maxBatches: 1 });
      assert.deepEqual(first, { deliveries: 1, attempts: first.attempts, cursors: 1, complete: false });
      const second = await pruneWebhookHistory(database, options);
      assert.deepEqual(
        { ...second, attempts: first.attempts + second.attempts },
        { deliveries: 1, attempts: 3, cursors: 0, complete: true },
      );

      const cursors = await database.db.selectFrom('webhook_fax_cursors').select('fax_id').execute();
      assert.deepEqual(cursors.map((c) => c.fax_id).sort(), [behind, receiving, recent].sort());
      const left = await database.db
        .selectFrom('webhook_deliveries')
        .select(['fax_id', 'sequence', 'state'])
        .orderBy('fax_id')
        .orderBy('sequence')
        .execute();
      assert.deepEqual(
        left.filter((d) => d.fax_id !== recent),
        [
          { fax_id: done, sequence: 1, state: 'pending' },
          { fax_id: done, sequence: 2, state: 'delivered' },
        ],
      );
      const attempts = await database.db
        .selectFrom('webhook_attempts as a')
        .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .select('d.fax_id')
        .execute();
      assert.deepEqual(
        attempts.map((a) => a.fax_id),
        [done, done, done],
        'only the kept deliveries have attempts',
      );
      assert.equal(
        Number(
          (
            await database.db
              .selectFrom('webhook_attempts')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        ),
        3,
        'no orphan attempts',
      );

      // Should the pruned cursor come back, the fan-out starts over and delivers nothing twice.
      assert.deepEqual(await fanOut(done), { events: 2, deliveries: 0 });
      assert.deepEqual(await pruneWebhookHistory(database, options), {
        deliveries: 0,
        attempts: 0,
        cursors: 1,
        complete: true,
      });
    });
  });
}
