import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import {
  generateWebhookSecret,
  generateWebhookSigningKey,
  signWebhook,
  verifyWebhookSignature,
  webhookHeaders,
  webhookPublicKey,
  webhookSigningOf,
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

/** A receiver's check of `v1a` signatures, from the spec alone: Ed25519 over `id.timestamp.body`. */
function receiverVerifies(publicKey: string, id: string, timestamp: number, body: string, header: string) {
  assert.match(publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice(5), 'base64').toString('base64url') },
    format: 'jwk',
  });
  const content = Buffer.from(`${id}.${timestamp}.${body}`);
  return header
    .split(' ')
    .filter((s) => s.startsWith('v1a,'))
    .some((s) => verify(null, content, key, Buffer.from(s.slice(4), 'base64')));
}

test('ed25519 endpoints sign v1a; the public key verifies, a tampered body or another key does not', () => {
  const key = generateWebhookSigningKey();
  assert.match(key, /^whsk_[A-Za-z0-9+/]{86}==$/);
  assert.equal(webhookSigningOf(key), 'ed25519');
  assert.equal(webhookSigningOf(generateWebhookSecret()), 'hmac-sha256');
  assert.equal(webhookPublicKey(generateWebhookSecret()), null);
  const publicKey = webhookPublicKey(key)!;
  const timestamp = Math.floor(Date.now() / 1000);
  const header = signWebhook([key], { id: 'evt_7', timestamp, body });
  assert.match(header, /^v1a,[A-Za-z0-9+/]{86}==$/);
  assert.ok(receiverVerifies(publicKey, 'evt_7', timestamp, body, header));
  assert.ok(!receiverVerifies(publicKey, 'evt_7', timestamp, `${body} `, header));
  assert.ok(!receiverVerifies(publicKey, 'evt_7', timestamp + 1, body, header));
  assert.ok(
    !receiverVerifies(webhookPublicKey(generateWebhookSigningKey())!, 'evt_7', timestamp, body, header),
  );
  assert.ok(verifyWebhookSignature(key, { id: 'evt_7', timestamp, body }, header));
});

test('ed25519 rotation: one v1a signature per key, each verified by its own public key', () => {
  const oldKey = generateWebhookSigningKey();
  const newKey = generateWebhookSigningKey();
  const header = signWebhook([newKey, oldKey], { id: 'evt_8', timestamp: 1700000000, body });
  assert.equal(header.split(' ').length, 2);
  assert.ok(receiverVerifies(webhookPublicKey(oldKey)!, 'evt_8', 1700000000, body, header));
  assert.ok(receiverVerifies(webhookPublicKey(newKey)!, 'evt_8', 1700000000, body, header));
});

test('ed25519 golden vector: a fixed seed, id, timestamp and body give a fixed key and signature', () => {
  // Seed bytes 0x00..0x1f; computed independently with OpenSSL 3 from the PKCS#8 form of that seed:
  // printf 'msg_1.1700000000.{}' | openssl pkeyutl -sign -rawin -inkey seed.pem | base64
  // openssl pkey -in seed.pem -pubout -outform DER | tail -c 32 | base64
  const seed = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const pub = Buffer.from('A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=', 'base64');
  const key = `whsk_${Buffer.concat([seed, pub]).toString('base64')}`;
  assert.equal(webhookPublicKey(key), `whpk_${pub.toString('base64')}`);
  assert.equal(signWebhook([key], { id: 'msg_1', timestamp: 1700000000, body: '{}' }), ED25519_GOLDEN);
  assert.throws(() => signWebhook(['whsk_AAAA'], { id: 'a', timestamp: 1, body }), RangeError);
});

const ED25519_GOLDEN =
  'v1a,fR8yyhXRO0do/WxNS4zXzRCZpGO+mwd0OAbs9Yr4JTAZF2y4KGv3H0dFLUCKzYN4xVJij9U5gkTIbHLMAd6YCQ==';
