import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { postWebhook } from './post-webhook.ts';
import { WebhookConnections } from './webhook-connections.ts';

async function withServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  run: (url: string) => Promise<void>,
  onConnection?: () => void,
) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => handler(req, res, body));
  });
  if (onConnection) server.on('connection', onConnection);
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

test('with kept-alive connections, deliveries to one origin share a connection; without, each opens one', async () => {
  for (const pooled of [true, false]) {
    let connections = 0;
    const bodies: string[] = [];
    const pool = pooled ? new WebhookConnections(allowLoopback) : undefined;
    await withServer(
      (_req, res, body) => {
        bodies.push(body);
        res.end();
      },
      async (url) => {
        for (let i = 0; i < 3; i++) {
          const r = await postWebhook({
            url,
            body: `{"n":${i}}`,
            headers: {},
            policy: allowLoopback,
            connections: pool,
          });
          assert.equal(r.outcome, 'delivered');
        }
      },
      () => connections++,
    );
    pool?.close();
    assert.deepEqual(bodies, ['{"n":0}', '{"n":1}', '{"n":2}']);
    assert.equal(connections, pooled ? 1 : 3);
  }
});

test('a kept-alive connection the receiver dropped is retried once on a new connection', async () => {
  const pool = new WebhookConnections(allowLoopback);
  const perSocket = new WeakMap<object, number>();
  let requests = 0;
  await withServer(
    (req, res) => {
      requests++;
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      // The second request on a connection finds it gone, as when an idle timeout races the reuse.
      if (n === 2) req.socket.destroy();
      else res.end();
    },
    async (url) => {
      const post = () =>
        postWebhook({ url, body: '{}', headers: {}, policy: allowLoopback, connections: pool });
      assert.equal((await post()).outcome, 'delivered');
      assert.equal((await post()).outcome, 'delivered');
    },
  );
  pool.close();
  assert.equal(requests, 3);
});

test('kept-alive connections resolve through the outbound policy when they connect', async () => {
  const strict = new OutboundAddressPolicy();
  const pool = new WebhookConnections(strict);
  await withServer(
    () => assert.fail('must not be reached'),
    async (url) => {
      for (const target of [url, url.replace('127.0.0.1', 'localhost')]) {
        const r = await postWebhook({
          url: target,
          body: '{}',
          headers: {},
          policy: strict,
          connections: pool,
        });
        assert.equal(r.outcome, 'blocked_address');
      }
    },
  );
  pool.close();
});
