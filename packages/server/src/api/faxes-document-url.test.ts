/**
 * @module api/faxes-document-url.test
 * POST /v1/faxes with documents given by URL, through inject() and a real HTTP server on 127.0.0.1:
 * accepted when FAXWIRE_FETCH_ALLOW_NETS allows loopback, refused with a precise 4xx otherwise, and
 * never a fax row or a temporary file left behind by a refusal.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../config/config.ts';
import {
  type DocumentHandler,
  neverEnding,
  startDocumentServer,
  type TestDocumentServer,
  tooLargeDeclared,
  tooLargeStreamed,
} from '../net/test-document-server.ts';
import { readBlob } from '../store/blob-store.ts';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

const MAX_BYTES = 4096;
const PDF3 = tinyPdf(3);

let onceServed = false;

const ROUTES: Record<string, DocumentHandler> = {
  '/invoice.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF3),
  '/one.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(tinyPdf(1)),
  '/to-private': (_req, res) => res.writeHead(302, { location: 'http://192.168.1.20/invoice.pdf' }).end(),
  '/loop-a': (_req, res) => res.writeHead(302, { location: '/loop-b' }).end(),
  '/loop-b': (_req, res) => res.writeHead(302, { location: '/loop-a' }).end(),
  '/big-declared': tooLargeDeclared(PDF3, MAX_BYTES * 10),
  '/big-chunked': tooLargeStreamed(PDF3, MAX_BYTES * 3),
  '/slow.pdf': neverEnding(PDF3),
  '/once.pdf': (_req, res) => {
    // Like a pre-signed URL: good for one download.
    if (onceServed) return void res.writeHead(403).end('expired');
    onceServed = true;
    res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF3);
  },
  '/page.html': (_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>Your invoice</p>'),
};

describe('faxes API: documents by URL', () => {
  let server: TestDocumentServer;
  let base: string;
  let hits: readonly string[];
  let t: TestApp;
  let closed: TestApp;

  before(async () => {
    server = await startDocumentServer(ROUTES);
    ({ base, hits } = server);
    const env = {
      FAXWIRE_DOCUMENT_MAX_BYTES: String(MAX_BYTES),
      FAXWIRE_DOCUMENTS_PER_FAX: '3',
      FAXWIRE_FETCH_TIMEOUT_MS: '500',
      FAXWIRE_RATE_LIMIT_PER_SECOND: '0',
    };
    t = await createTestApp({ env: { ...env, FAXWIRE_FETCH_ALLOW_NETS: '127.0.0.1/32' } });
    closed = await createTestApp({ env });
  });
  after(async () => {
    await t.close();
    await closed.close();
    await server.close();
  });

  const send = (app: TestApp, documents: unknown[], headers: Record<string, string> = {}) =>
    app.app.inject({
      method: 'POST',
      url: '/v1/faxes',
      headers: { ...app.auth, ...headers },
      payload: { to: '+14155550199', from: app.numbers[0], documents },
    });
  const errorOf = (res: { json(): unknown }) =>
    (res.json() as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
  const faxCount = async (app: TestApp) =>
    Number(
      (
        await app.deps.database.db
          .selectFrom('faxes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const tmpFiles = (app: TestApp) => {
    const dir = join(app.deps.config.dataDir, 'tmp');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  it('accepts a PDF fetched from a URL: its pages are counted and its bytes stored', async () => {
    const res = await send(t, [{ url: `${base}/invoice.pdf` }]);
    assert.equal(res.statusCode, 202, res.body);
    const fax = res.json();
    assert.equal(fax.status, 'queued');
    assert.equal(fax.pageCount, 3);
    assert.equal(fax.documents.length, 1);
    assert.deepEqual(
      [
        fax.documents[0].contentType,
        fax.documents[0].pageCount,
        fax.documents[0].size,
        fax.documents[0].filename,
      ],
      ['application/pdf', 3, PDF3.length, 'invoice.pdf'],
    );
    const row = await t.deps.database.db
      .selectFrom('fax_documents')
      .selectAll()
      .where('fax_id', '=', fax.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(await readBlob(t.deps.blobs, row.blob_key!), PDF3);
    assert.deepEqual(tmpFiles(t), []);
  });

  it('takes URL and base64 documents in one fax, in order, with a filename given', async () => {
    const res = await send(t, [
      { content: tinyPdf(2).toString('base64'), contentType: 'application/pdf', filename: 'cover.pdf' },
      { url: `${base}/invoice.pdf`, filename: 'March.pdf' },
      { url: `${base}/one.pdf?sig=abc` },
    ]);
    assert.equal(res.statusCode, 202, res.body);
    const fax = res.json();
    assert.deepEqual(
      fax.documents.map((d: { filename: string; pageCount: number }) => [d.filename, d.pageCount]),
      [
        ['cover.pdf', 2],
        ['March.pdf', 3],
        ['one.pdf', 1],
      ],
    );
    assert.equal(fax.pageCount, 6);
  });

  it('without FAXWIRE_FETCH_ALLOW_NETS refuses a loopback URL before connecting, and queues nothing', async () => {
    const before = hits.length;
    const res = await send(closed, [{ url: `${base}/invoice.pdf` }]);
    assert.equal(res.statusCode, 400);
    const error = errorOf(res);
    assert.equal(error.code, 'document_url_forbidden');
    assert.deepEqual(
      [error.details.document, error.details.field, error.details.address],
      [0, 'documents[0].url', '127.0.0.1'],
    );
    assert.match(error.message, /FAXWIRE_FETCH_ALLOW_NETS/);
    assert.equal(hits.length, before, 'the server was never contacted');
    // By name, the refusal comes from the connect-time lookup.
    const byName = await send(closed, [{ url: `http://localhost:${new URL(base).port}/invoice.pdf` }]);
    assert.deepEqual([byName.statusCode, errorOf(byName).code], [400, 'document_url_forbidden']);
    assert.equal(hits.length, before);
    assert.equal(await faxCount(closed), 0);
  });

  it('refuses each failed fetch with its own code, storing nothing and leaving no file', async () => {
    const faxesBefore = await faxCount(t);
    const cases: [string, number, string, Record<string, unknown>][] = [
      ['/to-private', 400, 'document_url_forbidden', { address: '192.168.1.20', redirect: 1 }],
      ['/loop-a', 422, 'document_fetch_failed', { reason: 'redirect_loop' }],
      ['/missing.pdf', 422, 'document_fetch_failed', { reason: 'http_status', status: 404 }],
      ['/big-declared', 413, 'document_too_large', { maxBytes: MAX_BYTES, contentLength: MAX_BYTES * 10 }],
      ['/big-chunked', 413, 'document_too_large', { maxBytes: MAX_BYTES }],
      ['/slow.pdf', 422, 'document_fetch_timeout', { phase: 'total', timeoutMs: 500 }],
      ['/page.html', 415, 'unsupported_media_type', { contentType: 'text/html' }],
    ];
    for (const [path, status, code, details] of cases) {
      const res = await send(t, [{ url: `${base}${path}` }]);
      const error = errorOf(res);
      assert.deepEqual([res.statusCode, error.code], [status, code], `${path}: ${res.body}`);
      for (const [k, v] of Object.entries(details)) assert.deepEqual(error.details[k], v, `${path}: ${k}`);
      assert.equal(error.details.field, 'documents[0].url', path);
      assert.ok(error.message.length > 20, path);
      assert.deepEqual(tmpFiles(t), [], `${path}: a temporary file was left behind`);
    }
    assert.equal(await faxCount(t), faxesBefore);
  });

  it('names the failing document of several, and fetches nothing while any URL is malformed', async () => {
    let res = await send(t, [{ url: `${base}/invoice.pdf` }, { url: `${base}/missing.pdf` }]);
    assert.deepEqual([res.statusCode, errorOf(res).details.document], [422, 1]);
    const before = hits.length;
    res = await send(t, [{ url: `${base}/invoice.pdf` }, { url: 'ftp://example.com/a.pdf' }]);
    assert.deepEqual(
      [res.statusCode, errorOf(res).code, errorOf(res).details.reason, errorOf(res).details.field],
      [400, 'document_url_invalid', 'scheme', 'documents[1].url'],
    );
    res = await send(t, [{ url: `http://user:pw@127.0.0.1:${new URL(base).port}/invoice.pdf` }]);
    assert.deepEqual([res.statusCode, errorOf(res).details.reason], [400, 'credentials']);
    assert.equal(hits.length, before);
  });

  it('wants exactly one form per entry, with errors that name the field', async () => {
    const pdf = tinyPdf(1).toString('base64');
    const cases: [unknown, string, string][] = [
      [{ content: pdf, url: `${base}/invoice.pdf` }, 'documents[0]', 'one_of'],
      [{ filename: 'a.pdf' }, 'documents[0]', 'required'],
      [
        { url: `${base}/invoice.pdf`, contentType: 'application/pdf' },
        'documents[0].contentType',
        'unknown_field',
      ],
      [{ url: `${base}/invoice.pdf`, colour: 'red' }, 'documents[0].colour', 'unknown_field'],
      [{ url: `https://example.com/${'a'.repeat(9000)}` }, 'documents[0].url', 'maxLength'],
      [{ url: 42 }, 'documents[0].url', 'type'],
      [{ content: '' }, 'documents[0].content', 'minLength'],
    ];
    for (const [entry, field, reason] of cases) {
      const res = await send(t, [entry]);
      const error = errorOf(res);
      assert.deepEqual(
        [res.statusCode, error.code, error.details.field, error.details.reason],
        [400, 'validation_failed', field, reason],
        JSON.stringify(entry).slice(0, 100),
      );
    }
  });

  it('replays an Idempotency-Key for the same URL without fetching again, and refuses it for another', async () => {
    const key = { 'idempotency-key': 'doc-url-1' };
    const first = await send(t, [{ url: `${base}/once.pdf` }], key);
    assert.equal(first.statusCode, 202, first.body);
    const fetchedBefore = hits.length;
    // The URL no longer serves the document; the retry gets the fax it created all the same.
    const again = await send(t, [{ url: `${base}/once.pdf` }], key);
    assert.equal(again.statusCode, 202, again.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.json().id, first.json().id);
    const other = await send(t, [{ url: `${base}/one.pdf` }], key);
    assert.deepEqual([other.statusCode, errorOf(other).code], [409, 'idempotency_conflict']);
    assert.equal(hits.length, fetchedBefore);
  });

  it('multipart: documentUrl fields are documents too, in order with the files', async () => {
    const boundary = 'docUrlBoundary7';
    const field = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const payload = Buffer.concat([
      Buffer.from(field('to', '+14155550199') + field('from', t.numbers[0]!)),
      Buffer.from(field('documentUrl', `${base}/invoice.pdf`)),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="one.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
      ),
      tinyPdf(1),
      Buffer.from(`\r\n${field('documentUrl', `${base}/one.pdf`)}--${boundary}--\r\n`),
    ]);
    const post = (body: Buffer) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...t.auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: body,
      });
    const res = await post(payload);
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(
      res.json().documents.map((d: { pageCount: number }) => d.pageCount),
      [3, 1, 1],
    );
    const refused = await post(
      Buffer.from(
        field('to', '+14155550199') +
          field('from', t.numbers[0]!) +
          field('documentUrl', `${base}/missing.pdf`) +
          `--${boundary}--\r\n`,
      ),
    );
    assert.deepEqual(
      [refused.statusCode, errorOf(refused).code, errorOf(refused).details.field],
      [422, 'document_fetch_failed', 'documentUrl'],
    );
  });

  it('describes the URL form in /openapi.json', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const content = spec.paths['/v1/faxes'].post.requestBody.content;
    const items = content['application/json'].schema.properties.documents.items;
    const forms = (items.anyOf ?? items.oneOf) as { properties: Record<string, unknown> }[];
    assert.ok(forms.some((f) => 'url' in f.properties && !('content' in f.properties)));
    assert.ok(forms.some((f) => 'content' in f.properties));
    assert.ok(content['multipart/form-data'].schema.properties.documentUrl);
  });

  it('reads FAXWIRE_FETCH_ALLOW_NETS and the fetch timeouts, refusing bad values', () => {
    const config = loadConfig({
      FAXWIRE_FETCH_ALLOW_NETS: '10.0.0.0/8, fd00::/8',
      FAXWIRE_FETCH_TIMEOUT_MS: '2500',
    });
    assert.deepEqual(config.fetchAllowNets, ['10.0.0.0/8', 'fd00::/8']);
    assert.equal(config.limits.documentFetchTimeoutMs, 2500);
    assert.equal(loadConfig({}).limits.documentFetchConnectTimeoutMs, 10_000);
    assert.deepEqual(loadConfig({}).fetchAllowNets, []);
    assert.throws(
      () => loadConfig({ FAXWIRE_FETCH_ALLOW_NETS: '10.0.0.0/', FAXWIRE_FETCH_CONNECT_TIMEOUT_MS: 'soon' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.startsWith('FAXWIRE_FETCH_ALLOW_NETS')) &&
        error.problems.some((p) => p.startsWith('FAXWIRE_FETCH_CONNECT_TIMEOUT_MS')),
    );
  });
});
