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
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof WebhookVerificationError);
      return e.code;
    }
    return 'accepted';
  };
  assert.equal(
    code(() => verifier.verify(`${body} `, headers)),
    'invalid_signature',
  );
  assert.equal(
    code(() => new WebhookVerifier(`whsec_${randomBytes(32).toString('base64')}`).verify(body, headers)),
    'invalid_signature',
  );
  assert.equal(
    code(() => verifier.verify(body, headers, { nowSeconds: ts + 301 })),
    'timestamp_out_of_range',
  );
  assert.equal(
    code(() => verifier.verify(body, { 'webhook-id': 'm' })),
    'missing_headers',
  );
});
