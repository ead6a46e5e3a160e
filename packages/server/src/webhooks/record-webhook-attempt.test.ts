/**
 * @module webhooks/record-webhook-attempt.test
 * Attempts recorded together come to what recording them one by one does, on every engine: successes
 * deliver (unless the lease went to another worker meanwhile), a failure in between reschedules and
 * marks the endpoint failing, and the endpoint's health follows the order the attempts ended in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootstrapAccount } from '../domain/accounts.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import type { ClaimedDelivery } from './claim-webhook-deliveries.ts';
import { newDeliveryRow } from './fan-out-fax-events.ts';
import type { WebhookAttempt } from './post-webhook.ts';
import { type AttemptToRecord, recordWebhookAttemptsIn } from './record-webhook-attempt.ts';
import { createWebhookEndpoint } from './webhook-endpoints.ts';
import { newWebhookId } from './webhook-ids.ts';

const NOW = 1_790_000_000_000;
const ok: WebhookAttempt = { outcome: 'delivered', status: 204, durationMs: 3 };
const serverError: WebhookAttempt = {
  outcome: 'http_error',
  status: 500,
  durationMs: 4,
  responseBody: 'oops',
};

for (const engine of TEST_ENGINES) {
  describe(`recording webhook attempts together (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let accountId: string;
    before(async () => {
      t = await engine.open();
      accountId = (await bootstrapAccount(t.database, { first: '+14155550100', last: '+14155550109' }))!
        .accountId;
    });
    after(() => t.dispose());

    /** Deliveries to a new endpoint, leased by `w1` (the one at `stolen` by `w2`). */
    const leased = async (count: number, stolen = -1) => {
      const endpoint = await createWebhookEndpoint(
        t.database,
        accountId,
        { url: 'https://a.example/h' },
        NOW,
      );
      const claimed: ClaimedDelivery[] = [];
      for (let i = 0; i < count; i++) {
        const delivery = {
          ...newDeliveryRow(
            endpoint.id,
            { id: newWebhookId('evt'), type: 'fax.page.received', faxId: null, sequence: null },
            '{}',
            NOW,
            false,
          ),
          attempts: 1,
          locked_by: i === stolen ? 'w2' : 'w1',
          locked_until: NOW + 60_000,
        };
        await t.database.db.insertInto('webhook_deliveries').values(delivery).execute();
        claimed.push({ delivery, endpoint });
      }
      return { endpoint, claimed };
    };
    const item = (claimed: ClaimedDelivery, attempt: WebhookAttempt, i: number): AttemptToRecord => ({
      claimed,
      attempt,
      options: { workerId: 'w1', now: NOW + 1000 + i, startedAt: NOW + 900 + i, random: () => 0.5 },
    });
    const record = (items: AttemptToRecord[]) =>
      t.database.writeTransaction((trx) => recordWebhookAttemptsIn(trx, items));
    const deliveries = (ids: string[]) =>
      t.database.db
        .selectFrom('webhook_deliveries')
        .select(['id', 'state', 'locked_by', 'last_status', 'delivered_at', 'next_attempt_at'])
        .where('id', 'in', ids)
        .execute()
        .then((rows) => ids.map((id) => rows.find((r) => r.id === id)!));
    const failingSince = async (endpointId: string) =>
      (
        await t.database.db
          .selectFrom('webhook_endpoints')
          .select('failing_since')
          .where('id', '=', endpointId)
          .executeTakeFirstOrThrow()
      ).failing_since;

    it('delivers the successes, keeps a lost lease untouched, reschedules the failure, in order', async () => {
      const { endpoint, claimed } = await leased(4, 1);
      const results = await record([
        item(claimed[0]!, ok, 0),
        item(claimed[1]!, ok, 1),
        item(claimed[2]!, serverError, 2),
        item(claimed[3]!, ok, 3),
      ]);
      assert.deepEqual(results, ['delivered', 'lease_lost', 'retrying', 'delivered']);
      const rows = await deliveries(claimed.map((c) => c.delivery.id));
      assert.deepEqual(
        rows.map((r) => [r.state, r.locked_by, r.last_status, r.delivered_at]),
        [
          ['delivered', null, 204, NOW + 1000],
          ['pending', 'w2', null, null],
          ['pending', null, 500, null],
          ['delivered', null, 204, NOW + 1003],
        ],
      );
      assert.ok(rows[2]!.next_attempt_at > NOW + 1002, 'the failure waits for its retry');
      const attempts = await t.database.db
        .selectFrom('webhook_attempts')
        .select(['delivery_id', 'outcome', 'status', 'started_at', 'response_body'])
        .where(
          'delivery_id',
          'in',
          claimed.map((c) => c.delivery.id),
        )
        .orderBy('started_at')
        .execute();
      assert.deepEqual(
        attempts.map((a) => [a.delivery_id, a.outcome, a.status, a.started_at]),
        [
          [claimed[0]!.delivery.id, 'delivered', 204, NOW + 900],
          [claimed[2]!.delivery.id, 'http_error', 500, NOW + 902],
          [claimed[3]!.delivery.id, 'delivered', 204, NOW + 903],
        ],
      );
      assert.equal(await failingSince(endpoint.id), null, 'the success after the failure healed it');
    });

    it('leaves the endpoint failing when a failure ends the batch', async () => {
      const { endpoint, claimed } = await leased(3);
      const results = await record([
        item(claimed[0]!, ok, 0),
        item(claimed[1]!, ok, 1),
        item(claimed[2]!, serverError, 2),
      ]);
      assert.deepEqual(results, ['delivered', 'delivered', 'retrying']);
      assert.equal(await failingSince(endpoint.id), NOW + 902);
    });
  });
}
