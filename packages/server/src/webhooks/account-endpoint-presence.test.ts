/**
 * @module webhooks/account-endpoint-presence.test
 * The per-account "has an enabled endpoint" cache: create/update/delete in this process are seen at
 * once, another process's changes when the entry expires. With the dispatcher, an account without
 * endpoints skips the fan-out in the event transaction, the sweeps still move the fax's cursor up, and
 * an endpoint created meanwhile by another process (this one's cache stale) gets every event created
 * after it and none from before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAccount } from '../domain/accounts.ts';
import { claimLoopbackNumber } from '../domain/claim-loopback-number.ts';
import { finishInboundFax, recordReceivedPage, startInboundFax } from '../domain/inbound-fax.ts';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { LocalBlobStore } from '../store/local-blob-store.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { accountEndpointPresence } from './account-endpoint-presence.ts';
import { startTestReceiver } from './test-receiver.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.ts';
import { createWebhookEndpoint, deleteWebhookEndpoint, updateWebhookEndpoint } from './webhook-endpoints.ts';
import { newWebhookId } from './webhook-ids.ts';

const RANGE = { first: '+14155550100', last: '+14155550199' };

for (const engine of TEST_ENGINES) {
  describe(`webhook endpoint presence (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    const blobDir = mkdtempSync(join(tmpdir(), 'faxwire-whp-'));
    const blobs = new LocalBlobStore(blobDir);
    before(async () => {
      t = await engine.open();
    });
    after(async () => {
      await t?.dispose();
      rmSync(blobDir, { recursive: true, force: true });
    });

    /** An endpoint written as another process would: this process's cache does not hear of it. */
    const insertElsewhere = async (accountId: string, url: string, createdAt: number) => {
      const id = newWebhookId('whk');
      await t.database.db
        .insertInto('webhook_endpoints')
        .values({
          id,
          account_id: accountId,
          url,
          description: null,
          event_types_json: '[]',
          numbers_json: '[]',
          secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          previous_secret: null,
          previous_secret_until: null,
          enabled: 1,
          disabled_reason: null,
          failing_since: null,
          created_at: createdAt,
          updated_at: createdAt,
        })
        .execute();
      return id;
    };

    it('sees this process’s changes at once and another process’s when the entry expires', async () => {
      const { database } = t;
      const presence = accountEndpointPresence(database);
      const accountId = await createAccount(database.db, 'presence');
      const now = Date.now();
      assert.equal(await presence.has(database.db, accountId, now), false);
      const endpoint = await createWebhookEndpoint(database, accountId, { url: 'https://a.example' }, now);
      assert.equal(await presence.has(database.db, accountId, now), true);
      await updateWebhookEndpoint(database, accountId, endpoint.id, { enabled: false }, now);
      assert.equal(await presence.has(database.db, accountId, now), false);
      await insertElsewhere(accountId, 'https://b.example', now);
      assert.equal(await presence.has(database.db, accountId, now), false, 'cached');
      assert.equal(await presence.has(database.db, accountId, now + 10_000), true, 'expired and read again');
      await updateWebhookEndpoint(database, accountId, endpoint.id, { enabled: true }, now);
      await t.database.db.deleteFrom('webhook_endpoints').where('url', '=', 'https://b.example').execute();
      await deleteWebhookEndpoint(database, accountId, endpoint.id);
      assert.equal(await presence.has(database.db, accountId, now + 10_000), false);
    });

    it('skips the fan-out without endpoints, and loses no event of an endpoint created elsewhere', async () => {
      const { database } = t;
      const accountId = await createAccount(database.db, 'sweeps');
      const number = (await claimLoopbackNumber(database, accountId, RANGE)).e164;
      const receiver = await startTestReceiver();
      const inboundFax = async () => {
        const fax = await startInboundFax(database, { to: number, from: '+14155550142' });
        await recordReceivedPage({ database, blobs }, fax.id, {
          n: 1,
          bytes: Buffer.from('p'),
          rows: 10,
          badRows: 0,
        });
        await finishInboundFax(database, fax.id, { status: 'received' });
        return fax.id;
      };
      const cursorOf = async (faxId: string) =>
        (
          await database.db
            .selectFrom('webhook_fax_cursors')
            .select('sequence')
            .where('fax_id', '=', faxId)
            .executeTakeFirst()
        )?.sequence;
      const lastSequence = async (faxId: string) =>
        (
          await database.db
            .selectFrom('fax_events')
            .select((eb) => eb.fn.max('sequence').as('s'))
            .where('fax_id', '=', faxId)
            .executeTakeFirstOrThrow()
        ).s;
      const dispatcher = (options: Partial<WebhookDispatcherOptions>) => {
        const d = new WebhookDispatcher({
          database,
          policy: new OutboundAddressPolicy(['127.0.0.0/8']),
          inTransaction: true,
          pollIntervalMs: 20,
          timeoutMs: 5_000,
          ...options,
        });
        d.start();
        return d;
      };
      // On PostgreSQL a first lookup is answered "maybe" and fills the cache in the background.
      await accountEndpointPresence(database).has(database.db, accountId);
      // Sweeps only at start: whatever is fanned out afterwards is the event transaction's doing.
      const quiet = dispatcher({ recentSweepIntervalMs: 1e9, fullSweepIntervalMs: 1e9 });
      try {
        await quiet.idle();
        const before = await inboundFax();
        await quiet.idle();
        assert.equal(await cursorOf(before), undefined, 'no fan-out in the event transaction');
        // Another process adds an endpoint; this one still believes the account has none.
        await sleep(5);
        await insertElsewhere(accountId, `${receiver.url}/hook`, Date.now());
        await sleep(5);
        const afterward = await inboundFax();
        await quiet.idle();
        assert.equal(await cursorOf(afterward), undefined, 'skipped on the stale answer');
        await quiet.stop();
        const sweeping = dispatcher({ recentSweepIntervalMs: 20 });
        try {
          for (let i = 0; i < 500 && receiver.received.length < 3; i++) await sleep(10);
          await sweeping.idle();
        } finally {
          await sweeping.stop();
        }
        assert.equal(await cursorOf(before), await lastSequence(before));
        assert.equal(await cursorOf(afterward), await lastSequence(afterward));
        const got = receiver.received.map(
          (r) => JSON.parse(r.body) as { type: string; data: { faxId: string } },
        );
        assert.deepEqual(
          got.map((e) => [e.data.faxId, e.type]),
          [
            [afterward, 'fax.receiving.started'],
            [afterward, 'fax.page.received'],
            [afterward, 'fax.received'],
          ],
        );
      } finally {
        await quiet.stop();
        await receiver.close();
      }
    });
  });
}
