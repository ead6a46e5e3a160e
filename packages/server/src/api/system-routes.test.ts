/**
 * @module api/system-routes.test
 * /healthz, /metrics, /openapi.json, /docs, unknown routes, and the error envelope for internal errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

describe('system routes', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      inspector: {
        inspect: async (docs) => {
          const first = docs[0]!;
          if ('bytes' in first && Buffer.from(first.bytes).includes('EXPLODE'))
            throw new Error('secret internal detail');
          return docs.map(() => ({ contentType: 'application/pdf', pageCount: 1 }));
        },
      },
    });
  });
  after(() => t.close());

  it('reports health with the database checked', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.deepEqual([res.statusCode, res.json()], [200, { status: 'ok', database: 'ok' }]);
  });

  it('serves Prometheus metrics: requests by route, and the queue by kind and state', async () => {
    await t.app.inject({ method: 'GET', url: '/v1/numbers', headers: t.auth });
    const fax = await t.app.inject({
      method: 'POST',
      url: '/v1/faxes',
      headers: t.auth,
      payload: {
        to: '+14155550123',
        from: t.numbers[0],
        documents: [{ content: tinyPdf().toString('base64') }],
      },
    });
    assert.equal(fax.statusCode, 202);
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    assert.match(
      res.body,
      /faxwire_http_requests_total\{method="GET",route="\/v1\/numbers",status="200"\} 1/,
    );
  });

  it('serves an OpenAPI 3.1 document describing every resource, with the bearer scheme', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const spec = res.json();
    assert.equal(spec.openapi, '3.1.0');
    for (const path of [
      '/v1/faxes',
      '/v1/faxes/{id}',
      '/v1/faxes/{id}/cancel',
      '/v1/faxes/{id}/resend',
      '/v1/numbers',
      '/v1/numbers/{number}',
      '/v1/keys',
      '/healthz',
    ]) {
      assert.ok(spec.paths[path], path);
    }
    const post = spec.paths['/v1/faxes'].post;
    assert.ok(post.requestBody.content['application/json'].schema.properties.documents);
    assert.ok(post.requestBody.content['multipart/form-data']);
    assert.equal(post.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.deepEqual(spec.components.securitySchemes.bearerAuth, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'fw_…',
    });
    assert.equal(spec.paths['/metrics'], undefined);
  });

  it('serves the docs page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /openapi\.json/);
  });

  it('answers unknown routes with not_found in the envelope', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v2/nothing' });
    assert.deepEqual([res.statusCode, res.json().error.code], [404, 'not_found']);
  });

  it('answers an unexpected failure with internal_error and no detail', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/faxes',
      headers: t.auth,
      payload: {
        to: '+14155550123',
        from: t.numbers[0],
        documents: [{ content: Buffer.from('EXPLODE').toString('base64') }],
      },
    });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), {
      error: { code: 'internal_error', message: 'Internal error.', details: {} },
    });
    assert.ok(!res.body.includes('secret'));
  });

  it('answers 503 service_unavailable while the server is shutting down', async () => {
    const { buildApp } = await import('./build-app.ts');
    const closing = await buildApp({ ...t.deps, isReady: () => false });
    try {
      const health = await closing.inject({ method: 'GET', url: '/healthz' });
      assert.deepEqual([health.statusCode, health.json().status], [503, 'unavailable']);
      const res = await closing.inject({ method: 'GET', url: '/v1/numbers', headers: t.auth });
      assert.deepEqual([res.statusCode, res.json().error.code], [503, 'service_unavailable']);
    } finally {
      await closing.close();
    }
  });
});
