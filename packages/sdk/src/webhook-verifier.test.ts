import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { WebhookVerificationError, WebhookVerifier } from './webhook-verifier.ts';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const body = JSON.stringify({
  id: 'evt_1',
  type: 'fax.page.received',
  timestamp: '2026-01-01T00:00:00.000Z',
  data: {
    faxId: 'fax_1',
    sequence: 2,
    status: 'receiving',
    direction: 'inbound',
    from: '+1',
    to: '+2',
    page: 1,
  },
});

/** The verification error's code, or 'accepted'. */
const failure = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof WebhookVerificationError);
    return e.code;
  }
  return 'accepted';
};

test('accepts what the reference Standard Webhooks signer signs', () => {
  const now = new Date();
  const signature = new Webhook(secret).sign('msg_1', now, body);
  const headers = {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': `v1,${'A'.repeat(44)} ${signature}`,
  };
  const event = new WebhookVerifier(secret).verify(body, headers);
  assert.equal(event.type, 'fax.page.received');
  assert.equal(event.data.page, 1);
  assert.ok(new WebhookVerifier(secret).verify(Buffer.from(body), new Headers(headers)));
});

test('refuses a changed body, a wrong secret, a stale timestamp and missing headers, with codes', () => {
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
    .update(`m.${ts}.${body}`)
    .digest('base64');
  const headers = { 'webhook-id': 'm', 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
  const verifier = new WebhookVerifier(secret);
  assert.ok(verifier.verify(body, headers));
  assert.equal(
    failure(() => verifier.verify(`${body} `, headers)),
    'invalid_signature',
  );
  assert.equal(
    failure(() => new WebhookVerifier(`whsec_${randomBytes(32).toString('base64')}`).verify(body, headers)),
    'invalid_signature',
  );
  assert.equal(
    failure(() => verifier.verify(body, headers, { nowSeconds: ts + 301 })),
    'timestamp_out_of_range',
  );
  assert.equal(
    failure(() => verifier.verify(body, { 'webhook-id': 'm' })),
    'missing_headers',
  );
});

/**
 * The server's signing module, loaded at run time: the SDK depends on no other package, so the path is not
 * part of its build, but a signature the server really produces is the one to check against.
 */
interface ServerSigning {
  generateWebhookSecret(): string;
  generateWebhookSigningKey(): string;
  webhookPublicKey(key: string): string | null;
  webhookHeaders(
    keys: readonly string[],
    input: { id: string; timestamp: number; body: string },
  ): Record<string, string>;
}
const serverSigningUrl = new URL('../../server/src/webhooks/webhook-signature.ts', import.meta.url).href;
const serverSigning = async (): Promise<ServerSigning> => import(serverSigningUrl);

test('a whpk_ key verifies the v1a signature the server signs; a changed body or timestamp does not', async () => {
  const server = await serverSigning();
  const key = server.generateWebhookSigningKey();
  const verifier = new WebhookVerifier(server.webhookPublicKey(key)!);
  const ts = Math.floor(Date.now() / 1000);
  const headers = server.webhookHeaders([key], { id: 'evt_9', timestamp: ts, body });
  assert.match(headers['webhook-signature'], /^v1a,/);
  const event = verifier.verify(body, headers);
  assert.equal(event.type, 'fax.page.received');
  assert.ok(verifier.verify(Buffer.from(body), new Headers(headers)));

  assert.equal(
    failure(() => verifier.verify(body.replace('"page":1', '"page":2'), headers)),
    'invalid_signature',
  );
  assert.equal(
    failure(() => verifier.verify(body, { ...headers, 'webhook-timestamp': String(ts + 1) })),
    'invalid_signature',
  );
  assert.equal(
    failure(() => verifier.verify(body, { ...headers, 'webhook-id': 'evt_8' })),
    'invalid_signature',
  );
  assert.equal(
    failure(() => verifier.verify(body, headers, { nowSeconds: ts - 301 })),
    'timestamp_out_of_range',
  );
  assert.ok(verifier.verify(body, headers, { nowSeconds: ts - 600, toleranceSeconds: 600 }));
  const otherKey = server.webhookPublicKey(server.generateWebhookSigningKey())!;
  assert.equal(
    failure(() => new WebhookVerifier(otherKey).verify(body, headers)),
    'invalid_signature',
  );
});

test('during an Ed25519 key rotation either public key verifies the two-signature header', async () => {
  const server = await serverSigning();
  const [oldKey, newKey] = [server.generateWebhookSigningKey(), server.generateWebhookSigningKey()];
  const ts = Math.floor(Date.now() / 1000);
  const headers = server.webhookHeaders([newKey, oldKey], { id: 'evt_10', timestamp: ts, body });
  assert.equal(headers['webhook-signature'].split(' ').length, 2);
  for (const key of [oldKey, newKey]) {
    assert.equal(new WebhookVerifier(server.webhookPublicKey(key)!).verify(body, headers).id, 'evt_1');
  }
});

test('a whsec_ verifier checks only v1 entries and a whpk_ verifier only v1a entries', async () => {
  const server = await serverSigning();
  const hmacSecret = server.generateWebhookSecret();
  const signingKey = server.generateWebhookSigningKey();
  const hmacVerifier = new WebhookVerifier(hmacSecret);
  const ed25519Verifier = new WebhookVerifier(server.webhookPublicKey(signingKey)!);
  const input = { id: 'evt_11', timestamp: Math.floor(Date.now() / 1000), body };
  const v1 = server.webhookHeaders([hmacSecret], input);
  const v1a = server.webhookHeaders([signingKey], input);
  const both = server.webhookHeaders([hmacSecret, signingKey], input);
  assert.ok(hmacVerifier.verify(body, both));
  assert.ok(ed25519Verifier.verify(body, both));
  assert.equal(
    failure(() => hmacVerifier.verify(body, v1a)),
    'invalid_signature',
  );
  assert.equal(
    failure(() => ed25519Verifier.verify(body, v1)),
    'invalid_signature',
  );
  // A valid signature under the other scheme's label is not tried with the wrong algorithm.
  const relabel = (h: Record<string, string>, from: string, to: string) => ({
    ...h,
    'webhook-signature': h['webhook-signature'].replace(`${from},`, `${to},`),
  });
  assert.equal(
    failure(() => ed25519Verifier.verify(body, relabel(v1a, 'v1a', 'v1'))),
    'invalid_signature',
  );
  assert.equal(
    failure(() => hmacVerifier.verify(body, relabel(v1, 'v1', 'v1a'))),
    'invalid_signature',
  );
});

test('the server golden vector (seed 0x00..0x1f, msg_1, 1700000000, {}) verifies; malformed public keys are refused', () => {
  const publicKey = 'whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=';
  const headers = {
    'webhook-id': 'msg_1',
    'webhook-timestamp': '1700000000',
    'webhook-signature':
      'v1a,fR8yyhXRO0do/WxNS4zXzRCZpGO+mwd0OAbs9Yr4JTAZF2y4KGv3H0dFLUCKzYN4xVJij9U5gkTIbHLMAd6YCQ==',
  };
  assert.deepEqual(new WebhookVerifier(publicKey).verify('{}', headers, { nowSeconds: 1700000000 }), {});
  assert.equal(
    failure(() => new WebhookVerifier(publicKey).verify('{} ', headers, { nowSeconds: 1700000000 })),
    'invalid_signature',
  );
  assert.throws(() => new WebhookVerifier('whpk_AAAA'), RangeError);
  assert.throws(() => new WebhookVerifier(`whpk_${randomBytes(33).toString('base64')}`), RangeError);
});
