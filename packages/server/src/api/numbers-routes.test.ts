/**
 * @module api/numbers-routes.test
 * /v1/numbers through inject(): list, claim from the loopback range until it runs out, change, release.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

describe('numbers API', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { FAXWIRE_LOOPBACK_NUMBERS: '+15550000000-+15550000003' } });
  });
  after(() => t.close());
  const errorOf = (res: { json(): unknown }) => (res.json() as { error: { code: string } }).error.code;

  it('lists the numbers created on first start', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/numbers', headers: t.auth });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(
      body.data.map((n: { number: string }) => n.number),
      ['+15550000000', '+15550000001'],
    );
    assert.equal(body.nextCursor, null);
    assert.match(body.data[0].id, /^num_/);
    assert.equal(body.data[0].inboundEnabled, true);
  });

  it('claims the lowest free numbers, then reports the range exhausted', async () => {
    const first = await t.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: t.auth,
      payload: { csi: '+1 555 0000', label: 'desk' },
    });
    assert.equal(first.statusCode, 201);
    assert.deepEqual(
      [first.json().number, first.json().csi, first.json().label],
      ['+15550000002', '+1 555 0000', 'desk'],
    );
    const second = await t.app.inject({ method: 'POST', url: '/v1/numbers', headers: t.auth });
    assert.equal(second.json().number, '+15550000003');
    const none = await t.app.inject({ method: 'POST', url: '/v1/numbers', headers: t.auth, payload: {} });
    assert.deepEqual([none.statusCode, errorOf(none)], [409, 'number_unavailable']);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: t.auth,
      payload: { csi: 'letters!' },
    });
    assert.deepEqual([bad.statusCode, errorOf(bad)], [400, 'validation_failed']);
  });

  it('never hands out a test number of the loopback carrier', async () => {
    // 20 numbers: +15550000010…+15550000017 are the test numbers; two went to the first start.
    const wide = await createTestApp({ env: { FAXWIRE_LOOPBACK_NUMBERS: '+15550000000-+15550000019' } });
    try {
      const claimed: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await wide.app.inject({ method: 'POST', url: '/v1/numbers', headers: wide.auth });
        if (res.statusCode !== 201) {
          assert.deepEqual([res.statusCode, errorOf(res)], [409, 'number_unavailable']);
          break;
        }
        claimed.push(res.json().number);
      }
      assert.deepEqual(wide.numbers, ['+15550000000', '+15550000001']);
      assert.deepEqual(claimed, [
        ...Array.from({ length: 8 }, (_, i) => `+1555000000${i + 2}`),
        '+15550000018',
        '+15550000019',
      ]);
    } finally {
      await wide.close();
    }
  });

  it('changes a number’s settings', async () => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/v1/numbers/%2B15550000002',
      headers: t.auth,
      payload: { inboundEnabled: false, csi: null },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual([res.json().inboundEnabled, res.json().csi, res.json().label], [false, null, 'desk']);
    const empty = await t.app.inject({
      method: 'PATCH',
      url: '/v1/numbers/%2B15550000002',
      headers: t.auth,
      payload: {},
    });
    assert.deepEqual([empty.statusCode, errorOf(empty)], [400, 'validation_failed']);
    const unknown = await t.app.inject({
      method: 'PATCH',
      url: '/v1/numbers/%2B15559999999',
      headers: t.auth,
      payload: { label: 'x' },
    });
    assert.deepEqual([unknown.statusCode, errorOf(unknown)], [404, 'not_found']);
    const invalid = await t.app.inject({
      method: 'PATCH',
      url: '/v1/numbers/12',
      headers: t.auth,
      payload: { label: 'x' },
    });
    assert.deepEqual([invalid.statusCode, errorOf(invalid)], [400, 'invalid_phone_number']);
  });

  it('releases a number, refusing while a fax on it is in progress', async () => {
    const fax = await t.app.inject({
      method: 'POST',
      url: '/v1/faxes',
      headers: t.auth,
      payload: {
        to: '+14155550123',
        from: '+15550000003',
        documents: [{ content: tinyPdf().toString('base64') }],
      },
    });
    assert.equal(fax.statusCode, 202);
    const busy = await t.app.inject({ method: 'DELETE', url: '/v1/numbers/%2B15550000003', headers: t.auth });
    assert.deepEqual([busy.statusCode, errorOf(busy)], [409, 'number_in_use']);
    await t.app.inject({ method: 'POST', url: `/v1/faxes/${fax.json().id}/cancel`, headers: t.auth });
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/numbers/%2B15550000003', headers: t.auth });
    assert.equal(res.statusCode, 204);
    const gone = await t.app.inject({ method: 'DELETE', url: '/v1/numbers/%2B15550000003', headers: t.auth });
    assert.equal(gone.statusCode, 404);
    const reclaimed = await t.app.inject({ method: 'POST', url: '/v1/numbers', headers: t.auth });
    assert.equal(reclaimed.json().number, '+15550000003', 'a released number can be claimed again');
  });

  it('requires a key', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/numbers' });
    assert.deepEqual([res.statusCode, errorOf(res)], [401, 'unauthorized']);
  });
});
