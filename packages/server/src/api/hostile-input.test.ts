/**
 * @module api/hostile-input.test
 * Bad input never becomes a 500: random and malformed requests to every route get a 4xx with the
 * error envelope, and the server keeps answering. The generator is seeded, so a failure replays.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('hostile input', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { FAXWIRE_RATE_LIMIT_PER_SECOND: '0' } });
  });
  after(() => t.close());

  it('answers 300 random requests with 2xx or a catalogued 4xx, never 5xx', async () => {
    const random = rng(20261123);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      '',
      'x'.repeat(300),
      '+14155550100',
      '\u0000',
      '../../etc/passwd',
      [],
      {},
      { __proto__: { admin: true } },
      [{ content: '' }],
      [{ content: tinyPdf().toString('base64'), contentType: 'application/pdf' }],
      { subject: 1 },
      { count: 1.5, delaySeconds: -1 },
      '2026-13-45T99:99:99Z',
    ];
    const fields = [
      'to',
      'from',
      'documents',
      'resolution',
      'priority',
      'headerText',
      'cover',
      'retries',
      'sendAt',
      'metadata',
      'constructor',
      'x',
    ];
    const routes = [
      ['POST', '/v1/faxes'],
      ['GET', '/v1/faxes?limit=abc&cursor=%00'],
      ['GET', '/v1/faxes/%2e%2e%2f'],
      ['POST', '/v1/faxes/fax_1/cancel'],
      ['DELETE', '/v1/faxes/fax_1'],
      ['POST', '/v1/numbers'],
      ['PATCH', '/v1/numbers/%2B14155550100'],
      ['DELETE', '/v1/numbers/abc'],
      ['POST', '/v1/keys'],
      ['DELETE', '/v1/keys/key_1'],
    ] as const;
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const [method, url] = pick(routes);
      const body: Record<string, unknown> = {};
      for (let f = 0; f < 1 + Math.floor(random() * 4); f++) body[pick(fields)] = pick(values);
      const raw = random() < 0.15;
      const contentType = raw
        ? pick(['application/json', 'text/plain', 'multipart/form-data', 'multipart/form-data; boundary=b'])
        : 'application/json';
      const payload = raw
        ? pick(['{', '[]', 'null', '"x"', '--b\r\n', '--b\r\nContent-Disposition: form-data\r\n\r\n'])
        : JSON.stringify(body);
      const res = await t.app.inject({
        method,
        url,
        headers: { ...t.auth, 'content-type': contentType },
        payload,
      });
      seen.add(res.statusCode);
      assert.ok(
        res.statusCode < 500,
        `${method} ${url} ${contentType} ${payload.slice(0, 200)} → ${res.statusCode} ${res.body}`,
      );
      if (res.statusCode >= 400) {
        const error = res.json().error;
        assert.equal(typeof error.code, 'string');
        assert.equal(typeof error.message, 'string');
        assert.equal(typeof error.details, 'object');
      }
    }
    assert.ok(seen.size >= 3, `a variety of outcomes: ${[...seen]}`);
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
  });
});
