/**
 * @module webhooks/webhook-delivery.test
 * Delivery end to end on every database engine: inbound faxes written through the domain functions,
 * fanned out, claimed and POSTed to a real receiver on 127.0.0.1, signatures checked with the
 * independent `standardwebhooks` package. A receiver that fails for a stretch (500s, timeouts, 429
 * with Retry-After, 410) gets every event once it recovers, in order per fax, duplicates only under
 * the same webhook-id; retry delays pass on an injected clock. Also: SSRF at delivery time, secret
 * rotation, disabling after failing too long, crash take-over, two dispatchers sharing the table, and
 * the sweeps run at once when the bus says wake-ups may have been lost.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { bootstrapAccount } from '../domain/accounts.ts';
import { finishInboundFax, recordReceivedPage, startInboundFax } from '../domain/inbound-fax.ts';
import { eventBusOf, type InProcessEventBus } from '../events/event-bus.ts';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import type { Database } from '../store/database.ts';
import { LocalBlobStore } from '../store/local-blob-store.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { claimWebhookDeliveries } from './claim-webhook-deliveries.ts';
import { fanOutFaxEventsIn } from './fan-out-fax-events.ts';
import { startTestReceiver, type TestReceiver } from './test-receiver.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.ts';
import { createWebhookEndpoint, rotateWebhookSecret, updateWebhookEndpoint } from './webhook-endpoints.ts';

const ALLOW_LOOPBACK = new OutboundAddressPolicy(['127.0.0.0/8', '::1/128']);

interface Envelope {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { faxId: string; sequence: number };
}

for (const engine of TEST_ENGINES) {
  describe(`webhook delivery (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let database: Database;
    let accountId: string;
    let numbers: string[];
    let receiver: TestReceiver;
    const blobDir = mkdtempSync(join(tmpdir(), 'faxwire-whk-'));
    const blobs = new LocalBlobStore(blobDir);
    let offset = 0;
    const clock = () => Date.now() + offset;
    const dispatchers: WebhookDispatcher[] = [];

    before(async () => {
      t = await engine.open();
      database = t.database;
      const boot = await bootstrapAccount(database, { first: '+14155550100', last: '+14155550199' });
      accountId = boot!.accountId;
      numbers = boot!.numbers.map((n) => n.e164);
    });
    beforeEach(async () => {
      offset = 0;
      receiver = await startTestReceiver();
      await database.db.deleteFrom('webhook_endpoints').execute();
    });
    after(async () => {
      await receiver?.close();
      await t.dispose();
      rmSync(blobDir, { recursive: true, force: true });
    });

    async function withDispatcher(
      options: Partial<WebhookDispatcherOptions>,
      run: (d: WebhookDispatcher) => Promise<void>,
    ) {
      const d = new WebhookDispatcher({
        database,
        policy: ALLOW_LOOPBACK,
        clock,
        random: () => 0.5,
        // Long enough that a slow, loaded machine does not turn a success into a timeout.
        timeoutMs: 5_000,
        pollIntervalMs: 20,
        ...options,
      });
      dispatchers.push(d);
      d.start();
      try {
        await run(d);
      } finally {
        await d.stop();
        await receiver.close();
      }
    }

    /** An inbound fax of `pages` pages, through the same functions the lines call. */
    async function inboundFax(pages: number, notify?: WebhookDispatcher): Promise<string> {
      const fax = await startInboundFax(database, { to: numbers[0]!, from: '+14155550142' });
      notify?.notify(fax.id);
      for (let n = 1; n <= pages; n++) {
        await recordReceivedPage({ database, blobs }, fax.id, {
          n,
          bytes: Buffer.from(`page ${n}`),
          rows: 1100 + n,
          badRows: n - 1,
        });
        notify?.notify(fax.id);
      }
      await finishInboundFax(database, fax.id, { status: 'received' });
      notify?.notify(fax.id);
      return fax.id;
    }

    async function allEventIds(
      faxIds: readonly string[],
    ): Promise<Map<string, { faxId: string; seq: number }>> {
      const rows = await database.db
        .selectFrom('fax_events')
        .select(['id', 'fax_id', 'sequence'])
        .where('fax_id', 'in', faxIds)
        .execute();
      return new Map(rows.map((r) => [r.id, { faxId: r.fax_id, seq: r.sequence }]));
    }

    /** Runs the dispatcher to quiescence, moving the clock to each next retry; `operator` may intervene. */
    async function settle(d: WebhookDispatcher, done: () => boolean, operator?: () => Promise<void>) {
      for (let round = 0; round < 300; round++) {
        await d.idle();
        if (done()) return;
        await operator?.();
        const next = await database.db
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.min('next_attempt_at').as('at'))
          .where('state', '=', 'pending')
          .where('next_attempt_at', '>', clock())
          .executeTakeFirst();
        const at = next?.at === null || next?.at === undefined ? null : Number(next.at);
        if (at !== null && at > clock()) offset += at - clock() + 1;
      }
      assert.fail('deliveries did not settle');
    }

    for (const inTransaction of [true, false]) {
      it(`delivers every event signed as Standard Webhooks, with thin payloads, in order per fax (fan-out ${inTransaction ? 'in the event transaction' : 'after commit'})`, async () => {
        const endpoint = await createWebhookEndpoint(
          database,
          accountId,
          { url: receiver.url },
          Date.now() - 1,
        );
        await withDispatcher({ inTransaction }, async (d) => {
          const faxIds = await Promise.all([inboundFax(2, d), inboundFax(3, d), inboundFax(1, d)]);
          const events = await allEventIds(faxIds);
          await settle(d, () => receiver.received.length >= events.size);
          assert.equal(receiver.received.length, events.size);
          const verifier = new Webhook(endpoint.secret);
          const seen = new Map<string, number>();
          for (const r of receiver.received) {
            const headers = {
              'webhook-id': String(r.headers['webhook-id']),
              'webhook-timestamp': String(r.headers['webhook-timestamp']),
              'webhook-signature': String(r.headers['webhook-signature']),
            };
            const payload = verifier.verify(r.body, headers) as Envelope;
            assert.equal(payload.id, headers['webhook-id']);
            const event = events.get(payload.id)!;
            assert.ok(event, 'the webhook-id is the event id');
            assert.equal(payload.data.faxId, event.faxId);
            assert.equal(payload.data.sequence, event.seq);
            assert.ok((seen.get(event.faxId) ?? 0) < event.seq, 'per-fax order');
            seen.set(event.faxId, event.seq);
          }
          const page2 = receiver.received
            .map((r) => JSON.parse(r.body) as Envelope)
            .find((p) => p.type === 'fax.page.received' && p.data.faxId === faxIds[1] && p.data.page === 2)!;
          assert.deepEqual(Object.keys(page2).sort(), ['data', 'id', 'timestamp', 'type']);
          const { faxId, sequence, status, direction, from, to, metadata, page, rows, badRows, ...rest } =
            page2.data;
          assert.deepEqual(
            { faxId, sequence, status, direction, from, to, metadata, page, rows, badRows },
            {
              faxId: faxIds[1],
              sequence: 3,
              status: 'receiving',
              direction: 'inbound',
              from: '+14155550142',
              to: numbers[0],
              metadata: {},
              page: 2,
              rows: 1102,
              badRows: 1,
            },
          );
          // Page facts only: nothing else, and nothing as large as page content.
          for (const key of Object.keys(rest)) {
            assert.ok(['width', 'resolution', 'size', 'pageUrl', 'pageCount'].includes(key), key);
          }
          assert.ok(receiver.received.every((r) => r.body.length < 2_000));
          const stored = await database.db
            .selectFrom('webhook_deliveries')
            .select(['state', 'attempts'])
            .where('endpoint_id', '=', endpoint.id)
            .execute();
          assert.ok(stored.every((r) => r.state === 'delivered' && r.attempts === 1));
        });
      });
    }

    it('a receiver failing for a stretch (500, timeout, 429 Retry-After, 410) gets every event once it recovers', async () => {
      const endpoint = await createWebhookEndpoint(
        database,
        accountId,
        { url: receiver.url },
        Date.now() - 1,
      );
      const script: ReturnType<TestReceiver['answer']>[] = [
        { status: 500 },
        { status: 503 },
        'hang',
        { status: 200 },
        { status: 429, headers: { 'retry-after': '600' } },
        { status: 500 },
        'hang',
        { status: 410 },
        { status: 200 },
        { status: 500 },
        { status: 502 },
      ];
      receiver.answer = (_r, i) => script[i] ?? (i % 7 === 3 ? { status: 500 } : { status: 200 });
      let reenabled = 0;
      await withDispatcher({ timeoutMs: 300 }, async (d) => {
        const faxIds = await Promise.all([
          inboundFax(3, d),
          inboundFax(2, d),
          inboundFax(2, d),
          inboundFax(1, d),
        ]);
        const events = await allEventIds(faxIds);
        const acked = new Map<string, { faxId: string; seq: number }>();
        const delivered = () => {
          for (const r of receiver.received) {
            if (r.status !== null && r.status >= 200 && r.status < 300) {
              const id = String(r.headers['webhook-id']);
              acked.set(id, events.get(id)!);
            }
          }
          return acked.size === events.size;
        };
        await settle(d, delivered, async () => {
          const row = await database.db
            .selectFrom('webhook_endpoints')
            .select(['enabled', 'disabled_reason'])
            .where('id', '=', endpoint.id)
            .executeTakeFirstOrThrow();
          if (row.enabled === 0) {
            assert.equal(row.disabled_reason, 'gone');
            reenabled++;
            await updateWebhookEndpoint(database, accountId, endpoint.id, { enabled: true }, Date.now());
          }
        });
        assert.equal(reenabled, 1, 'the 410 disabled the endpoint once');
        assert.equal(acked.size, events.size, 'none lost');

        // Order: no request for a fax's event before every earlier event of that fax was acknowledged.
        const ackedSoFar = new Map<string, Set<number>>();
        const bodies = new Map<string, string>();
        for (const r of receiver.received) {
          const id = String(r.headers['webhook-id']);
          const { faxId, seq } = events.get(id)!;
          const done = ackedSoFar.get(faxId) ?? new Set<number>();
          for (let s = 1; s < seq; s++)
            assert.ok(done.has(s), `${faxId} #${seq} was sent before #${s} was acked`);
          if (r.status !== null && r.status >= 200 && r.status < 300) done.add(seq);
          ackedSoFar.set(faxId, done);
          // A repeat is the same message: same id, same body.
          if (bodies.has(id)) assert.equal(bodies.get(id), r.body);
          bodies.set(id, r.body);
        }
        assert.ok(receiver.received.length > events.size, 'the failures caused retries');

        // The 429's Retry-After (600 s) pushed that retry past the 5 s/5 min step; every attempt is logged.
        const attempts = await database.db
          .selectFrom('webhook_attempts as a')
          .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
          .select(['a.outcome', 'a.status', 'a.started_at', 'd.id'])
          .where('d.endpoint_id', '=', endpoint.id)
          .orderBy('a.started_at')
          .execute();
        assert.equal(attempts.length, receiver.received.length);
        const throttled = attempts.find((a) => a.status === 429)!;
        const afterThrottle = attempts.find(
          (a) => a.id === throttled.id && a.started_at > throttled.started_at,
        )!;
        assert.ok(afterThrottle.started_at - throttled.started_at >= 600_000, 'Retry-After: 600 honoured');
        const outcomes = new Set(attempts.map((a) => a.outcome));
        for (const o of ['delivered', 'http_error', 'timeout', 'gone']) assert.ok(outcomes.has(o), o);
      });
    });

    it('refuses at delivery time a DNS name that resolves to loopback without the allowance', async () => {
      await createWebhookEndpoint(
        database,
        accountId,
        { url: `http://localhost:${receiver.port}/hooks` },
        Date.now() - 1,
      );
      await withDispatcher({ policy: new OutboundAddressPolicy([]) }, async (d) => {
        await inboundFax(1, d);
        await d.idle();
        assert.equal(receiver.received.length, 0);
        const attempts = await database.db
          .selectFrom('webhook_attempts')
          .select(['outcome', 'error'])
          .execute();
        assert.ok(attempts.length > 0);
        assert.ok(attempts.every((a) => a.outcome === 'blocked_address'));
        assert.match(attempts[0]!.error ?? '', /refusing to connect to localhost/);
      });
    });

    it('signs with both secrets while a rotation overlaps', async () => {
      const endpoint = await createWebhookEndpoint(
        database,
        accountId,
        { url: receiver.url },
        Date.now() - 1,
      );
      const rotated = await rotateWebhookSecret(database, accountId, endpoint.id, 3_600_000, Date.now());
      await withDispatcher({}, async (d) => {
        const faxId = await inboundFax(0, d);
        const events = await allEventIds([faxId]);
        await settle(d, () => receiver.received.length >= events.size);
        for (const r of receiver.received) {
          const signatures = String(r.headers['webhook-signature']).split(' ');
          assert.equal(signatures.length, 2);
          const headers = {
            'webhook-id': String(r.headers['webhook-id']),
            'webhook-timestamp': String(r.headers['webhook-timestamp']),
            'webhook-signature': String(r.headers['webhook-signature']),
          };
          new Webhook(endpoint.secret).verify(r.body, headers);
          new Webhook(rotated.secret).verify(r.body, headers);
          assert.throws(() =>
            new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(r.body, headers),
          );
        }
      });
    });

    it('disables an endpoint that keeps failing and tells the other endpoints', async () => {
      const other = await startTestReceiver();
      try {
        const failing = await createWebhookEndpoint(
          database,
          accountId,
          { url: `${receiver.url}/failing`, eventTypes: ['fax.received'] },
          Date.now() - 1,
        );
        await createWebhookEndpoint(
          database,
          accountId,
          { url: other.url, eventTypes: ['webhook.endpoint.disabled'] },
          Date.now() - 1,
        );
        receiver.answer = () => ({ status: 500 });
        await withDispatcher({ disableAfterMs: 3_600_000 }, async (d) => {
          await inboundFax(0, d);
          await settle(d, () => other.received.length > 0);
          const row = await database.db
            .selectFrom('webhook_endpoints')
            .selectAll()
            .where('id', '=', failing.id)
            .executeTakeFirstOrThrow();
          assert.equal(row.enabled, 0);
          assert.equal(row.disabled_reason, 'failing');
          const notice = JSON.parse(other.received[0]!.body) as Envelope;
          assert.equal(notice.type, 'webhook.endpoint.disabled');
          assert.equal(notice.data.endpointId, failing.id);
          assert.equal(notice.data.reason, 'failing');
          // 0, 5 s, 5 min, 30 min, 2 h: the attempt past one hour of failing disabled it.
          assert.equal(receiver.received.length, 5);
        });
      } finally {
        await other.close();
      }
    });

    it('takes over a delivery whose dispatcher died holding the lease', async () => {
      await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      const faxId = await inboundFax(0);
      await withDispatcher({ concurrency: 0 }, async (d) => {
        // A dispatcher that may claim nothing still fans out.
        d.notify(faxId);
        await d.idle();
      });
      receiver = await startTestReceiver();
      await database.db
        .updateTable('webhook_endpoints')
        .set({ url: receiver.url })
        .where('account_id', '=', accountId)
        .execute();
      const claimed = await claimWebhookDeliveries(database, {
        workerId: 'crashed',
        limit: 10,
        leaseMs: 60_000,
        now: clock(),
      });
      assert.equal(claimed.length, 1);
      await withDispatcher({}, async (d) => {
        await d.idle();
        // The first event is leased to the dead dispatcher; the second waits behind it.
        assert.equal(receiver.received.length, 0, 'the lease holds while it runs');
        offset += 61_000;
        await settle(d, () => receiver.received.length >= 2);
        assert.deepEqual(
          receiver.received.map((r) => (JSON.parse(r.body) as Envelope).data.sequence),
          [1, 2],
        );
      });
    });

    it('a fan-out that leases takes only the head of each line, and nothing behind a pending delivery', async () => {
      await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      // Nothing is sent here: the receiver only names the endpoint.
      await receiver.close();
      const faxId = await inboundFax(2);
      const lease = { workerId: 'lane', leaseMs: 60_000, limit: 10 };
      const first = await database.writeTransaction((trx) =>
        fanOutFaxEventsIn(trx, database.engine, [faxId], clock(), lease),
      );
      // Four events (started, two pages, received): only event 1 may go before the others.
      assert.equal(first.deliveries, 4);
      assert.deepEqual(
        first.claimed?.map((c) => [c.delivery.sequence, c.delivery.attempts, c.endpoint.url]),
        [[1, 1, receiver.url]],
      );
      const rows = await database.db
        .selectFrom('webhook_deliveries')
        .select(['sequence', 'locked_by', 'attempts'])
        .where('fax_id', '=', faxId)
        .orderBy('sequence')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.sequence, r.locked_by, r.attempts]),
        [
          [1, 'lane', 1],
          [2, null, 0],
          [3, null, 0],
          [4, null, 0],
        ],
      );
      // A later event of the same fax waits while event 1 is pending, and so does a claim.
      await recordReceivedPage({ database, blobs }, faxId, {
        n: 3,
        bytes: Buffer.from('p3'),
        rows: 1,
        badRows: 0,
      });
      const second = await database.writeTransaction((trx) =>
        fanOutFaxEventsIn(trx, database.engine, [faxId], clock(), lease),
      );
      assert.deepEqual([second.deliveries, second.claimed], [1, []]);
      assert.deepEqual(
        await claimWebhookDeliveries(database, {
          workerId: 'other',
          limit: 10,
          leaseMs: 1_000,
          now: clock(),
        }),
        [],
      );
    });

    it('delivers events committed while no dispatcher ran, once one starts (durable cursor and sweep)', async () => {
      await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      const faxIds = [await inboundFax(2), await inboundFax(1)];
      const events = await allEventIds(faxIds);
      await withDispatcher({ listen: false, fullSweepIntervalMs: 0 }, async (d) => {
        await settle(d, () => receiver.received.length >= events.size);
        assert.deepEqual(
          new Set(receiver.received.map((r) => String(r.headers['webhook-id']))),
          new Set(events.keys()),
        );
      });
      const cursors = await database.db
        .selectFrom('webhook_fax_cursors')
        .select(['fax_id', 'sequence'])
        .where('fax_id', 'in', faxIds)
        .orderBy('sequence', 'desc')
        .execute();
      assert.deepEqual(
        cursors.map((c) => c.sequence),
        [4, 3],
      );
    });

    it('a failing webhook step never fails the fax write; the page is stored and the rest still flows', async () => {
      const good = await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      const broken = await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      await database.db
        .updateTable('webhook_endpoints')
        .set({ event_types_json: 'not json' })
        .where('id', '=', broken.id)
        .execute();
      await withDispatcher({}, async (d) => {
        const faxId = await inboundFax(2, d);
        const pages = await database.db
          .selectFrom('fax_pages')
          .select('n')
          .where('fax_id', '=', faxId)
          .execute();
        assert.equal(pages.length, 2, 'the pages were stored');
        await d.idle();
        assert.equal(receiver.received.length, 0, 'fan-out of this fax is stuck, visibly');
        await database.db
          .updateTable('webhook_endpoints')
          .set({ event_types_json: '[]' })
          .where('id', '=', broken.id)
          .execute();
        d.notify(faxId);
        const events = await allEventIds([faxId]);
        await settle(d, () => receiver.received.length >= events.size * 2);
        const perEndpoint = await database.db
          .selectFrom('webhook_deliveries')
          .select(['endpoint_id', 'state'])
          .where('fax_id', '=', faxId)
          .execute();
        assert.equal(perEndpoint.filter((r) => r.endpoint_id === good.id).length, events.size);
        assert.ok(perEndpoint.every((r) => r.state === 'delivered'));
      });
    });

    it('drops finished deliveries past the retention and cursors of finished faxes, keeps pending ones', async () => {
      await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      let faxId = '';
      await withDispatcher({}, async (d) => {
        faxId = await inboundFax(1, d);
        await settle(d, () => receiver.received.length >= 3);
      });
      const cursorOf = () =>
        database.db
          .selectFrom('webhook_fax_cursors')
          .select('sequence')
          .where('fax_id', '=', faxId)
          .execute();
      assert.deepEqual(await cursorOf(), [{ sequence: 3 }]);
      receiver = await startTestReceiver();
      const old = Date.now() - 40 * 86_400_000;
      await database.db.updateTable('webhook_deliveries').set({ updated_at: old }).execute();
      const pending = await database.db
        .selectFrom('webhook_deliveries')
        .select('id')
        .limit(1)
        .executeTakeFirstOrThrow();
      await database.db
        .updateTable('webhook_deliveries')
        .set({ state: 'pending', next_attempt_at: Date.now() + 3_600_000 })
        .where('id', '=', pending.id)
        .execute();
      await sleep(5);
      // No margins: the watermark moves up to the sweep's start and the cursor may go right away.
      const now = { lookbackMs: 0, recentWindowMs: 0, cursorMarginMs: 0 };
      await withDispatcher({ fullSweepIntervalMs: 0, ...now }, async (d) => {
        await d.idle();
      });
      const left = await database.db.selectFrom('webhook_deliveries').select(['id', 'state']).execute();
      assert.deepEqual(left, [{ id: pending.id, state: 'pending' }]);
      assert.deepEqual(await cursorOf(), [], 'the finished fax needs no cursor');
      assert.equal((await database.db.selectFrom('webhook_attempts').select('id').execute()).length, 1);
    });

    it('when the bus may have missed events, sweeps at once instead of at the next sweep', async () => {
      await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      const other = await t.openAnother();
      await withDispatcher(
        { recentSweepIntervalMs: 3_600_000, fullSweepIntervalMs: 3_600_000 },
        async (d) => {
          await d.idle();
          // Written through another pool, whose bus this dispatcher does not hear: as by another process.
          const fax = await startInboundFax(other, { to: numbers[0]!, from: '+14155550143' });
          await sleep(100);
          await d.idle();
          assert.equal(receiver.received.length, 0, 'no wake-up, no sweep due');
          (eventBusOf(database) as InProcessEventBus).announceMaybeMissed();
          await settle(d, () => receiver.received.length >= 1);
          assert.deepEqual(
            receiver.received.map((r) => JSON.parse(r.body).data.faxId),
            [fax.id],
          );
        },
      );
    });

    it('two dispatchers on separate connections share the work without breaking per-fax order', async () => {
      await createWebhookEndpoint(database, accountId, { url: receiver.url }, Date.now() - 1);
      const other = await t.openAnother();
      const second = new WebhookDispatcher({
        database: other,
        policy: ALLOW_LOOPBACK,
        clock,
        pollIntervalMs: 10,
        concurrency: 4,
      });
      second.start();
      try {
        await withDispatcher({ concurrency: 4 }, async (d) => {
          const faxIds = await Promise.all(Array.from({ length: 12 }, () => inboundFax(3)));
          const events = await allEventIds(faxIds);
          for (let i = 0; i < 1200 && receiver.received.length < events.size; i++) {
            d.notify();
            second.notify();
            await new Promise((r) => setTimeout(r, 25));
          }
          await d.idle();
          await second.idle();
          assert.equal(receiver.received.length, events.size, 'each event exactly once');
          const last = new Map<string, number>();
          for (const r of receiver.received) {
            const { faxId, seq } = events.get(String(r.headers['webhook-id']))!;
            assert.equal(seq, (last.get(faxId) ?? 0) + 1, 'in order, none skipped');
            last.set(faxId, seq);
          }
          const byWorker = await database.db
            .selectFrom('webhook_attempts')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow();
          assert.ok(Number(byWorker.n) >= events.size);
        });
      } finally {
        await second.stop();
      }
    });
  });
}
