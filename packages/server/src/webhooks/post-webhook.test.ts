import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { postWebhook } from './post-webhook.ts';

async function withServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  run: (url: string) => Promise<void>,
) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => handler(req, res, body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const allowLoopback = new OutboundAddressPolicy(['127.0.0.0/8', '::1/128']);

test('a 2xx is delivered with our headers and body; the response is logged', async () => {
  let seen: { headers: IncomingMessage['headers']; body: string } | undefined;
  await withServer(
    (req, res, body) => {
      seen = { headers: req.headers, body };
      res.end('thanks');
    },
    async (url) => {
      const r = await postWebhook({
        url,
        body: '{"a":1}',
        headers: { 'webhook-id': 'evt_1' },
        policy: allowLoopback,
      });
      assert.equal(r.outcome, 'delivered');
      assert.equal(r.status, 200);
      assert.equal(r.responseBody, 'thanks');
    },
  );
  assert.equal(seen?.body, '{"a":1}');
  assert.equal(seen?.headers['webhook-id'], 'evt_1');
  assert.equal(seen?.headers['content-type'], 'application/json');
});

test('redirects are not followed, 410 says gone, 429 carries Retry-After', async () => {
  await withServer(
    (req, res) => {
      if (req.url === '/hook') {
        res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
      }
    },
    async (url) => {
      const r = await postWebhook({ url, body: '{}', headers: {}, policy: allowLoopback });
      assert.equal(r.outcome, 'http_error');
      assert.equal(r.status, 302);
    },
  );
  await withServer(
    (_req, res) => res.writeHead(410).end(),
    async (url) => {
      const r = await postWebhook({ url, body: '{}', headers: {}, policy: allowLoopback });
      assert.equal(r.outcome, 'gone');
    },
  );
  await withServer(
    (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end(),
    async (url) => {
      const r = await postWebhook({ url, body: '{}', headers: {}, policy: allowLoopback });
      assert.equal(r.outcome, 'http_error');
      assert.equal(r.retryAfterMs, 7000);
    },
  );
});

test('a receiver that does not answer times out', async () => {
  await withServer(
    () => {
      /* never answers */
    },
    async (url) => {
      const r = await postWebhook({ url, body: '{}', headers: {}, policy: allowLoopback, timeoutMs: 200 });
      assert.equal(r.outcome, 'timeout');
    },
  );
});

test('loopback targets are refused without an allowance, by IP and by name', async () => {
  await withServer(
    () => assert.fail('must not be reached'),
    async (url) => {
      const strict = new OutboundAddressPolicy();
      assert.equal(
        (await postWebhook({ url, body: '{}', headers: {}, policy: strict })).outcome,
        'blocked_address',
      );
      const byName = url.replace('127.0.0.1', 'localhost');
      assert.equal(
        (await postWebhook({ url: byName, body: '{}', headers: {}, policy: strict })).outcome,
        'blocked_address',
      );
    },
  );
  const r = await postWebhook({ url: 'ftp://x/', body: '', headers: {}, policy: allowLoopback });
  assert.equal(r.outcome, 'invalid_url');
});
