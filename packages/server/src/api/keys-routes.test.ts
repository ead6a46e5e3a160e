/**
 * @module api/keys-routes.test
 * /v1/keys through inject(): create (secret shown once), list (prefixes only), revoke, and the
 * per-key rate limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './test-app.ts';

describe('keys API', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { FAXWIRE_RATE_LIMIT_PER_SECOND: '1000' } });
  });
  after(() => t.close());
  const errorOf = (res: { json(): unknown }) => (res.json() as { error: { code: string } }).error.code;

  it('creates a key that works at once, lists keys without secrets, and revokes', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: t.auth,
      payload: { name: 'ci' },
    });
    assert.equal(created.statusCode, 201);
    const key = created.json();
    assert.match(key.key, /^fw_[A-Za-z0-9_-]{43}$/);
    assert.ok(key.key.startsWith(key.prefix));
    assert.equal(key.name, 'ci');
    const asNew = { authorization: `Bearer ${key.key}` };
    const list = await t.app.inject({ method: 'GET', url: '/v1/keys', headers: asNew });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      list.json().data.map((k: { name: string }) => k.name),
      ['initial', 'ci'],
    );
    assert.ok(!list.body.includes(key.key), 'no secret in the list');
    const stored = await t.deps.database.db
      .selectFrom('api_keys')
      .select('hash')
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    assert.ok(!stored.hash.includes(key.key.slice(3)), 'only a digest is stored');

    const self = await t.app.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: asNew });
    assert.deepEqual([self.statusCode, errorOf(self)], [403, 'forbidden']);
    const revoked = await t.app.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: t.auth });
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revokedAt);
    const refused = await t.app.inject({ method: 'GET', url: '/v1/keys', headers: asNew });
    assert.deepEqual([refused.statusCode, errorOf(refused)], [401, 'unauthorized']);
    const missing = await t.app.inject({ method: 'DELETE', url: '/v1/keys/key_nope', headers: t.auth });
    assert.deepEqual([missing.statusCode, errorOf(missing)], [404, 'not_found']);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: t.auth,
      payload: { name: '' },
    });
    assert.deepEqual([bad.statusCode, errorOf(bad)], [400, 'validation_failed']);
  });
});

describe('rate limit', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { FAXWIRE_RATE_LIMIT_PER_SECOND: '3' } });
  });
  after(() => t.close());

  it('answers 429 rate_limited with Retry-After once a key’s bucket is empty', async () => {
    const statuses: number[] = [];
    let limited: { headers: Record<string, unknown>; json(): unknown } | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/numbers', headers: t.auth });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) limited = res;
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.ok(limited, `a request was limited: ${statuses}`);
    assert.equal((limited.json() as { error: { code: string } }).error.code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });
});
