/**
 * @module api/webhooks-routes.test
 * /v1/webhooks through inject(), on every database engine: endpoint CRUD and validation, the SSRF
 * refusal at create time (literal and DNS names, and how to allow them), secret rotation, Ed25519 (`v1a`)
 * signing that shows only the public key, and — with a
 * real dispatcher and receiver — a test event, a fax event through the filters, the delivery log with
 * its attempts, and a manual redelivery under the same webhook-id.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { createAccount, issueApiKey } from '../domain/accounts.ts';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { TEST_ENGINES } from '../store/test-databases.ts';
import { startTestReceiver, type TestReceiver } from '../webhooks/test-receiver.ts';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.ts';
import { buildApp } from './build-app.ts';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

const errorOf = (res: { json(): unknown }) =>
  (res.json() as { error: { code: string; message: string; details: Record<string, unknown> } }).error;

for (const engine of TEST_ENGINES) {
  describe(`webhooks API (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestApp;
    /** The same store behind an app whose policy allows loopback, as FAXWIRE_WEBHOOK_ALLOW_NETS would. */
    let app: FastifyInstance;
    let receiver: TestReceiver;
    let dispatcher: WebhookDispatcher;

    before(async () => {
      t = await createTestApp({ engine });
      const policy = new OutboundAddressPolicy(['127.0.0.0/8', '::1/128']);
      dispatcher = new WebhookDispatcher({ database: t.deps.database, policy, pollIntervalMs: 20 });
      app = await buildApp({ ...t.deps, webhooks: { policy, notify: () => dispatcher.notify() } });
      receiver = await startTestReceiver();
      dispatcher.start();
    });
    after(async () => {
      await dispatcher.stop();
      await receiver.close();
      await app.close();
      await t.close();
    });

    const call = (
      a: FastifyInstance,
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: string,
      payload?: object,
    ) => a.inject({ method, url, headers: t.auth, ...(payload ? { payload } : {}) });

    async function until(what: string, condition: () => boolean | Promise<boolean>) {
      for (let i = 0; i < 400; i++) {
        if (await condition()) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.fail(`timed out waiting for ${what}`);
    }

    it('refuses private, loopback and link-local targets unless allowed, and says how to allow them', async () => {
      for (const url of [
        'http://127.0.0.1:9/hook',
        'http://localhost:9/hook',
        'http://10.1.2.3/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]:9/hook',
        'https://[fe80::1]/hook',
      ]) {
        const res = await call(t.app, 'POST', '/v1/webhooks', { url });
        assert.equal(res.statusCode, 400, url);
        const error = errorOf(res);
        assert.equal(error.code, 'webhook_url_not_allowed', url);
        assert.match(error.message, /FAXWIRE_WEBHOOK_ALLOW_NETS/);
      }
      const allowed = await call(app, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook' });
      assert.equal(allowed.statusCode, 201);
      await call(app, 'DELETE', `/v1/webhooks/${allowed.json().id}`);
    });

    it('validates the URL, the event types and the fields', async () => {
      const cases: [object, string][] = [
        [{ url: 'ftp://127.0.0.1/x' }, 'validation_failed'],
        [{ url: 'not a url' }, 'validation_failed'],
        [{ url: 'http://127.0.0.1:9/', eventTypes: ['fax.exploded'] }, 'invalid_event_type'],
        [{ url: 'http://127.0.0.1:9/', numbers: ['555-1234'] }, 'validation_failed'],
        [{ url: 'http://127.0.0.1:9/', colour: 'red' }, 'validation_failed'],
        [{}, 'validation_failed'],
      ];
      for (const [body, code] of cases) {
        const res = await call(app, 'POST', '/v1/webhooks', body);
        assert.equal(res.statusCode, 400, JSON.stringify(body));
        assert.equal(errorOf(res).code, code, JSON.stringify(body));
      }
      const typed = await call(app, 'POST', '/v1/webhooks', {
        url: 'http://127.0.0.1:9/',
        eventTypes: ['fax.page.recieved'],
      });
      assert.equal(errorOf(typed).details.eventType, 'fax.page.recieved');
      const unauthorized = await app.inject({ method: 'GET', url: '/v1/webhooks' });
      assert.equal(unauthorized.statusCode, 401);
    });

    it('creates, reads, lists, changes and deletes an endpoint', async () => {
      const created = await call(app, 'POST', '/v1/webhooks', {
        url: 'http://127.0.0.1:9/a',
        description: 'billing',
        eventTypes: ['fax.received', 'fax.failed'],
        numbers: [t.numbers[0]],
      });
      assert.equal(created.statusCode, 201);
      const endpoint = created.json();
      assert.match(endpoint.id, /^whk_[0-9a-z]{26}$/);
      assert.match(endpoint.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.equal(Buffer.from(endpoint.secret.slice(6), 'base64').length, 32);
      assert.deepEqual(
        [endpoint.url, endpoint.description, endpoint.eventTypes, endpoint.numbers, endpoint.enabled],
        ['http://127.0.0.1:9/a', 'billing', ['fax.received', 'fax.failed'], [t.numbers[0]], true],
      );

      const got = (await call(app, 'GET', `/v1/webhooks/${endpoint.id}`)).json();
      assert.equal(got.secret, undefined, 'the secret is not in the endpoint view');
      assert.equal(got.url, endpoint.url);
      const secret = (await call(app, 'GET', `/v1/webhooks/${endpoint.id}/secret`)).json();
      assert.equal(secret.secret, endpoint.secret);
      const list = (await call(app, 'GET', '/v1/webhooks')).json();
      assert.ok(list.data.some((e: { id: string }) => e.id === endpoint.id));

      const patched = await call(app, 'PATCH', `/v1/webhooks/${endpoint.id}`, {
        description: null,
        eventTypes: [],
        enabled: false,
      });
      assert.equal(patched.statusCode, 200);
      assert.deepEqual(
        [
          patched.json().description,
          patched.json().eventTypes,
          patched.json().enabled,
          patched.json().disabledReason,
        ],
        [null, [], false, 'manual'],
      );
      const test = await call(app, 'POST', `/v1/webhooks/${endpoint.id}/test`);
      assert.equal(test.statusCode, 409);
      assert.equal(errorOf(test).code, 'webhook_disabled');
      const badUrl = await call(t.app, 'PATCH', `/v1/webhooks/${endpoint.id}`, { url: 'http://10.0.0.1/' });
      assert.equal(errorOf(badUrl).code, 'webhook_url_not_allowed');
      const empty = await call(app, 'PATCH', `/v1/webhooks/${endpoint.id}`, {});
      assert.equal(empty.statusCode, 400);

      const deleted = await call(app, 'DELETE', `/v1/webhooks/${endpoint.id}`);
      assert.equal(deleted.statusCode, 204);
      const gone = await call(app, 'GET', `/v1/webhooks/${endpoint.id}`);
      assert.equal(gone.statusCode, 404);
      assert.equal(errorOf(gone).code, 'not_found');
    });

    it('rotates the secret: the new one is returned and the old one keeps signing during the overlap', async () => {
      const endpoint = (await call(app, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/r' })).json();
      const rotated = await call(app, 'POST', `/v1/webhooks/${endpoint.id}/secret/rotate`, {
        overlapSeconds: 3600,
      });
      assert.equal(rotated.statusCode, 200);
      assert.notEqual(rotated.json().secret, endpoint.secret);
      const expires = Date.parse(rotated.json().previousSecretExpiresAt);
      assert.ok(Math.abs(expires - (Date.now() + 3_600_000)) < 60_000);
      const immediate = await call(app, 'POST', `/v1/webhooks/${endpoint.id}/secret/rotate`, {
        overlapSeconds: 0,
      });
      assert.equal(immediate.json().previousSecretExpiresAt, null);
      const plain = await call(app, 'POST', `/v1/webhooks/${endpoint.id}/secret/rotate`);
      assert.equal(plain.statusCode, 200, 'an empty POST rotates with the default overlap');
      const day = Date.parse(plain.json().previousSecretExpiresAt) - Date.now();
      assert.ok(Math.abs(day - 86_400_000) < 60_000);
      await call(app, 'DELETE', `/v1/webhooks/${endpoint.id}`);
    });

    it('signs with Ed25519 on request: only the public key is shown, and deliveries verify with it', async () => {
      const refused = await call(app, 'POST', '/v1/webhooks', { url: receiver.url, signing: 'rsa' });
      assert.equal(errorOf(refused).code, 'validation_failed');
      const created = await call(app, 'POST', '/v1/webhooks', {
        url: `${receiver.url}/ed`,
        signing: 'ed25519',
      });
      assert.equal(created.statusCode, 201);
      const endpoint = created.json();
      assert.equal(endpoint.signing, 'ed25519');
      assert.match(endpoint.publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
      assert.equal(endpoint.secret, endpoint.publicKey, 'receivers get the key they verify with');
      const shown = [
        created.body,
        (await call(app, 'GET', `/v1/webhooks/${endpoint.id}`)).body,
        (await call(app, 'GET', `/v1/webhooks/${endpoint.id}/secret`)).body,
        (await call(app, 'GET', '/v1/webhooks')).body,
      ];
      assert.ok(!shown.some((b) => b.includes('whsk_')), 'the signing key never leaves the server');
      assert.equal(
        (await call(app, 'GET', `/v1/webhooks/${endpoint.id}/secret`)).json().secret,
        endpoint.publicKey,
      );

      receiver.answer = () => ({ status: 204 });
      const test = await call(app, 'POST', `/v1/webhooks/${endpoint.id}/test`);
      assert.equal(test.statusCode, 202);
      await until('the signed test event', () => receiver.received.some((r) => r.path.endsWith('/ed')));
      const got = receiver.received.find((r) => r.path.endsWith('/ed'))!;
      // As a receiver would check it, from the spec: Ed25519 over `id.timestamp.body`, `v1a,<base64>`.
      const key = createPublicKey({
        key: {
          kty: 'OKP',
          crv: 'Ed25519',
          x: Buffer.from(endpoint.publicKey.slice(5), 'base64').toString('base64url'),
        },
        format: 'jwk',
      });
      const content = Buffer.from(
        `${got.headers['webhook-id']}.${got.headers['webhook-timestamp']}.${got.body}`,
      );
      const signatures = String(got.headers['webhook-signature']).split(' ');
      assert.ok(signatures.every((s) => s.startsWith('v1a,')));
      assert.ok(signatures.some((s) => verify(null, content, key, Buffer.from(s.slice(4), 'base64'))));

      const rotated = (await call(app, 'POST', `/v1/webhooks/${endpoint.id}/secret/rotate`)).json();
      assert.equal(rotated.signing, 'ed25519', 'a rotation keeps the scheme');
      assert.match(rotated.secret, /^whpk_/);
      assert.notEqual(rotated.publicKey, endpoint.publicKey);
      const hmac = (await call(app, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/h' })).json();
      assert.deepEqual([hmac.signing, hmac.publicKey], ['hmac-sha256', null]);
      await call(app, 'DELETE', `/v1/webhooks/${endpoint.id}`);
      await call(app, 'DELETE', `/v1/webhooks/${hmac.id}`);
      receiver.received.splice(0);
    });

    it('sends a test event and a fax event, logs every attempt, and redelivers under the same webhook-id', async () => {
      let failNext = 1;
      receiver.answer = () => (failNext-- > 0 ? { status: 500 } : { status: 204 });
      const endpoint = (
        await call(app, 'POST', '/v1/webhooks', { url: receiver.url, eventTypes: ['fax.queued'] })
      ).json();
      const elsewhere = (
        await call(app, 'POST', '/v1/webhooks', { url: `${receiver.url}/other`, numbers: [t.numbers[1]] })
      ).json();

      const test = await call(app, 'POST', `/v1/webhooks/${endpoint.id}/test`);
      assert.equal(test.statusCode, 202);
      assert.equal(test.json().eventType, 'webhook.test');
      // The first attempt fails with 500; the retry is 5 s out, so ask for it now by redelivering.
      await until('the failed attempt', () => receiver.received.length >= 1);
      const redo = await call(
        app,
        'POST',
        `/v1/webhooks/${endpoint.id}/deliveries/${test.json().id}/redeliver`,
      );
      assert.equal(redo.statusCode, 202);
      await until('the redelivery', () => receiver.received.some((r) => r.status === 204));
      const ids = receiver.received.map((r) => r.headers['webhook-id']);
      assert.deepEqual(ids, [test.json().eventId, test.json().eventId]);
      const verified = new Webhook(endpoint.secret).verify(receiver.received[1]!.body, {
        'webhook-id': String(receiver.received[1]!.headers['webhook-id']),
        'webhook-timestamp': String(receiver.received[1]!.headers['webhook-timestamp']),
        'webhook-signature': String(receiver.received[1]!.headers['webhook-signature']),
      }) as { type: string; data: { endpointId: string } };
      assert.equal(verified.type, 'webhook.test');
      assert.equal(verified.data.endpointId, endpoint.id);

      const fax = await call(app, 'POST', '/v1/faxes', {
        to: '+14155550199',
        from: t.numbers[0],
        documents: [{ content: tinyPdf(1).toString('base64') }],
        metadata: { ticket: 'T-9' },
      });
      assert.equal(fax.statusCode, 202);
      dispatcher.notify(fax.json().id);
      await until('the fax.queued event', () => receiver.received.length >= 3);
      const queued = JSON.parse(receiver.received[2]!.body);
      assert.equal(receiver.received[2]!.path, '/hooks', 'the endpoint filtered by number got nothing');
      assert.equal(queued.type, 'fax.queued');
      assert.deepEqual(
        [
          queued.data.faxId,
          queued.data.sequence,
          queued.data.status,
          queued.data.direction,
          queued.data.metadata,
        ],
        [fax.json().id, 1, 'queued', 'outbound', { ticket: 'T-9' }],
      );

      await dispatcher.idle(); // the attempts are recorded after the receiver answered
      const log = await call(app, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`);
      assert.equal(log.statusCode, 200);
      const deliveries = log.json().data as {
        id: string;
        eventType: string;
        state: string;
        attemptLog: { attempt: number; outcome: string; status: number }[];
      }[];
      assert.deepEqual(
        deliveries.map((d) => [d.eventType, d.state]),
        [
          ['fax.queued', 'delivered'],
          ['webhook.test', 'delivered'],
          ['webhook.test', 'pending'],
        ],
      );
      assert.deepEqual(
        deliveries[2]!.attemptLog.map((a) => [a.attempt, a.outcome, a.status]),
        [[1, 'http_error', 500]],
      );
      assert.deepEqual(
        deliveries[1]!.attemptLog.map((a) => [a.attempt, a.outcome, a.status]),
        [[1, 'delivered', 204]],
      );
      const page = await call(app, 'GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=1&state=delivered`);
      assert.equal(page.json().data.length, 1);
      assert.ok(page.json().nextCursor);
      const other = await call(app, 'GET', `/v1/webhooks/${elsewhere.id}/deliveries`);
      assert.equal(other.json().data.length, 0);
      const missing = await call(app, 'POST', `/v1/webhooks/${endpoint.id}/deliveries/dlv_nope/redeliver`);
      assert.equal(missing.statusCode, 404);
    });

    it("keeps each account's endpoints and delivery logs to itself", async () => {
      const mine = (await call(app, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/mine' })).json();
      const db = t.deps.database.db;
      const { key } = await issueApiKey(db, await createAccount(db, 'Other'), 'other');
      const other = { authorization: `Bearer ${key}` };
      const as = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
        app.inject({ method, url, headers: other, ...(payload ? { payload } : {}) });
      assert.equal((await as('GET', '/v1/webhooks')).json().data.length, 0);
      for (const [method, url, body] of [
        ['GET', `/v1/webhooks/${mine.id}`],
        ['GET', `/v1/webhooks/${mine.id}/secret`],
        ['GET', `/v1/webhooks/${mine.id}/deliveries`],
        ['PATCH', `/v1/webhooks/${mine.id}`, { enabled: false }],
        ['POST', `/v1/webhooks/${mine.id}/test`],
        ['POST', `/v1/webhooks/${mine.id}/secret/rotate`],
        ['DELETE', `/v1/webhooks/${mine.id}`],
      ] as const) {
        const res = await as(method, url, body);
        assert.equal(res.statusCode, 404, `${method} ${url}`);
      }
      const still = (await call(app, 'GET', `/v1/webhooks/${mine.id}`)).json();
      assert.equal(still.enabled, true);
      await call(app, 'DELETE', `/v1/webhooks/${mine.id}`);
    });

    it('documents the routes in the OpenAPI document', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      for (const path of ['/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/deliveries']) {
        assert.ok(doc.paths[path], path);
      }
    });
  });
}
