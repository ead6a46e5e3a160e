import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import {
  generateWebhookSecret,
  signWebhook,
  verifyWebhookSignature,
  webhookHeaders,
} from './webhook-signature.ts';

const body = JSON.stringify({ type: 'fax.page.received', data: { faxId: 'fax_1', page: 1 } });

test('the independent standardwebhooks library verifies our signature', () => {
  const secret = generateWebhookSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders([secret], { id: 'evt_123', timestamp, body });
  const verified = new Webhook(secret).verify(body, headers);
  assert.deepEqual(verified, JSON.parse(body));
});

test('a tampered body, another secret or an old timestamp fail verification', () => {
  const secret = generateWebhookSecret();
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders([secret], { id: 'evt_1', timestamp, body });
  assert.throws(() => new Webhook(secret).verify(`${body} `, headers));
  assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, headers));
  const old = webhookHeaders([secret], { id: 'evt_1', timestamp: timestamp - 3600, body });
  assert.throws(() => new Webhook(secret).verify(body, old));
});

test('during rotation both secrets verify', () => {
  const oldSecret = generateWebhookSecret();
  const newSecret = generateWebhookSecret();
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders([newSecret, oldSecret], { id: 'evt_9', timestamp, body });
  assert.equal(headers['webhook-signature'].split(' ').length, 2);
  assert.ok(new Webhook(oldSecret).verify(body, headers));
  assert.ok(new Webhook(newSecret).verify(body, headers));
  assert.ok(
    verifyWebhookSignature(oldSecret, { id: 'evt_9', timestamp, body }, headers['webhook-signature']),
  );
});

test('golden vector: a fixed secret, id, timestamp and body give a fixed signature', () => {
  // Key bytes 0x00..0x1f; HMAC-SHA256 over "msg_1.1700000000.{}" computed independently with openssl:
  // printf 'msg_1.1700000000.{}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f -binary | base64
  const secret = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64')}`;
  const sig = signWebhook([secret], { id: 'msg_1', timestamp: 1700000000, body: '{}' });
  assert.equal(sig, GOLDEN);
});

const GOLDEN = 'v1,fhksJF5ElKjlPoT/jtefCO5XjQPvhf7Dhf/8R1ad9yU=';

test('ids with a dot and short secrets are refused', () => {
  assert.throws(() => signWebhook([generateWebhookSecret()], { id: 'a.b', timestamp: 1, body }), RangeError);
  assert.throws(() => signWebhook(['whsec_AAAA'], { id: 'a', timestamp: 1, body }), RangeError);
  assert.throws(() => signWebhook([], { id: 'a', timestamp: 1, body }), RangeError);
});
