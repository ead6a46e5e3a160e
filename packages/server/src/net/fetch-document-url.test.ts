/**
 * @module net/fetch-document-url.test
 * The document fetcher against a real HTTP server on 127.0.0.1: the address policy on the first
 * request and on every redirect, redirect limits, size limits with and without Content-Length, timeouts,
 * HTTP errors, sniffing — and no temporary file left behind by any failure.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ApiError } from '../api/errors.ts';
import { tinyPdf } from '../api/test-app.ts';
import { fetchDocumentUrl, MAX_REDIRECTS } from './fetch-document-url.ts';
import { OutboundAddressPolicy } from './outbound-address-policy.ts';
import {
  neverEnding,
  startDocumentServer,
  type TestDocumentServer,
  tooLargeDeclared,
  tooLargeStreamed,
} from './test-document-server.ts';

const PDF = tinyPdf(2);
const MAX_BYTES = 4096;

describe('fetchDocumentUrl', () => {
  let server: TestDocumentServer;
  let base: string;
  let tmpDir: string;
  const loopback = new OutboundAddressPolicy(['127.0.0.1/32']);
  const fetch = (path: string, extra: { policy?: OutboundAddressPolicy; timeoutMs?: number } = {}) =>
    fetchDocumentUrl(path.startsWith('http') ? path : `${base}${path}`, {
      policy: extra.policy ?? loopback,
      tmpDir,
      maxBytes: MAX_BYTES,
      connectTimeoutMs: 2000,
      timeoutMs: extra.timeoutMs ?? 5000,
    });
  /** Resolves to the ApiError the fetch fails with. */
  const failure = async (promise: Promise<unknown>): Promise<ApiError> => {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
      return error;
    }
    assert.fail('the fetch succeeded');
  };

  before(async () => {
    server = await startDocumentServer({
      '/doc.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF),
      '/octet': (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PDF),
      '/gzip.pdf': (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/pdf', 'content-encoding': 'gzip' })
          .end(gzipSync(PDF)),
      '/gzip-bomb': (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/pdf', 'content-encoding': 'gzip' })
          .end(gzipSync(Buffer.concat([PDF, Buffer.alloc(MAX_BYTES * 4)]))),
      '/notes.txt': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('Hello, fax.\n'),
      '/page.html': (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<html><body>hi</body></html>'),
      '/binary': (_req, res) => res.writeHead(200).end(Buffer.from([0, 1, 2, 3, 0, 0, 7, 8])),
      '/empty': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(),
      '/big-declared': tooLargeDeclared(PDF, MAX_BYTES + 1),
      '/big-chunked': tooLargeStreamed(PDF, MAX_BYTES * 2),
      '/slow': neverEnding(PDF),
      '/forbidden': (_req, res) => res.writeHead(403).end('go away'),
      '/broken': (_req, res) => res.writeHead(500).end('oops'),
      '/to-doc': (_req, res) => res.writeHead(302, { location: '/doc.pdf' }).end(),
      '/to-private': (_req, res) => res.writeHead(301, { location: 'http://10.1.2.3/doc.pdf' }).end(),
      '/to-localhost': (_req, res) =>
        res.writeHead(307, { location: `http://localhost:${new URL(base).port}/doc.pdf` }).end(),
      '/to-ftp': (_req, res) => res.writeHead(302, { location: 'ftp://example.com/doc.pdf' }).end(),
      '/no-location': (_req, res) => res.writeHead(302).end(),
      '/loop-a': (_req, res) => res.writeHead(302, { location: '/loop-b' }).end(),
      '/loop-b': (_req, res) => res.writeHead(302, { location: `${base}/loop-a#again` }).end(),
      ...Object.fromEntries(
        Array.from({ length: 8 }, (_, n) => [
          `/hop${n}`,
          (req: IncomingMessage, res: ServerResponse) => {
            const limit = Number(new URL(req.url ?? '', base).searchParams.get('limit'));
            if (n >= limit) res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF);
            else res.writeHead(308, { location: `/hop${n + 1}?limit=${limit}` }).end();
          },
        ]),
      ),
    });
    base = server.base;
  });
  after(() => server.close());
  beforeEach(() => {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
    tmpDir = mkdtempSync(join(tmpdir(), 'faxwire-fetch-'));
  });
  const leftovers = () => readdirSync(tmpDir);

  it('streams a document to a temporary file and sniffs its type', async () => {
    const doc = await fetch('/doc.pdf');
    assert.equal(doc.kind, 'pdf');
    assert.equal(doc.byteSize, PDF.length);
    assert.deepEqual(readFileSync(doc.path), PDF);
    assert.equal(doc.filename, 'doc.pdf');
    assert.equal(doc.contentType, 'application/pdf');
    assert.deepEqual(leftovers(), [doc.path.split('/').at(-1)]);
  });

  it('believes the bytes, not the declared type, and decompresses gzip', async () => {
    assert.equal((await fetch('/octet')).kind, 'pdf');
    assert.equal((await fetch('/notes.txt')).kind, 'text');
    const gz = await fetch('/gzip.pdf');
    assert.deepEqual(readFileSync(gz.path), PDF);
  });

  it('refuses a private address unless the policy allows it, by literal and by name', async () => {
    const closed = new OutboundAddressPolicy([]);
    let error = await failure(fetch('/doc.pdf', { policy: closed }));
    assert.equal(error.code, 'document_url_forbidden');
    assert.equal(error.details.address, '127.0.0.1');
    assert.match(error.message, /FAXWIRE_FETCH_ALLOW_NETS/);
    // A host name is judged by what it resolves to, when the connection is made.
    error = await failure(fetch(`http://localhost:${new URL(base).port}/doc.pdf`, { policy: closed }));
    assert.equal(error.code, 'document_url_forbidden');
    assert.equal(error.details.host, 'localhost');
    assert.match(String(error.details.address), /^(127\.0\.0\.1|::1)$/);
    error = await failure(fetch('http://[::ffff:127.0.0.1]/x.pdf', { policy: closed }));
    assert.equal(error.code, 'document_url_forbidden');
    assert.equal(error.statusCode, 400);
  });

  it('follows redirects, re-checking every hop against the policy', async () => {
    const doc = await fetch('/to-doc');
    assert.equal(doc.kind, 'pdf');
    assert.equal(doc.url, `${base}/doc.pdf`);
    // The file name comes from the URL that was asked for.
    assert.equal(doc.filename, 'to-doc');
    let error = await failure(fetch('/to-private'));
    assert.deepEqual(
      [error.code, error.details.address, error.details.redirect],
      ['document_url_forbidden', '10.1.2.3', 1],
    );
    // A host name on a hop goes through the same connect-time lookup as the first request.
    const loopbackBoth = new OutboundAddressPolicy(['127.0.0.1/32', '::1/128']);
    assert.equal((await fetch('/to-localhost', { policy: loopbackBoth })).kind, 'pdf');
    error = await failure(fetch('/to-ftp'));
    assert.deepEqual(
      [error.code, error.details.reason, error.details.redirect],
      ['document_url_invalid', 'scheme', 1],
    );
    error = await failure(fetch('/no-location'));
    assert.deepEqual(
      [error.code, error.details.reason],
      ['document_fetch_failed', 'redirect_without_location'],
    );
  });

  it('stops a redirect loop at the first repeated URL', async () => {
    const error = await failure(fetch('/loop-a'));
    assert.deepEqual(
      [error.code, error.statusCode, error.details.reason, error.details.redirect],
      ['document_fetch_failed', 422, 'redirect_loop', 2],
    );
  });

  it(`follows ${MAX_REDIRECTS} redirects and no more`, async () => {
    assert.equal((await fetch(`/hop0?limit=${MAX_REDIRECTS}`)).kind, 'pdf');
    const error = await failure(fetch(`/hop0?limit=${MAX_REDIRECTS + 1}`));
    assert.deepEqual(
      [error.code, error.details.reason, error.details.maxRedirects],
      ['document_fetch_failed', 'too_many_redirects', MAX_REDIRECTS],
    );
  });

  it('refuses an oversize document by Content-Length and by streamed bytes, leaving no file', async () => {
    let error = await failure(fetch('/big-declared'));
    assert.deepEqual(
      [error.code, error.statusCode, error.details.contentLength],
      ['document_too_large', 413, MAX_BYTES + 1],
    );
    error = await failure(fetch('/big-chunked'));
    assert.deepEqual([error.code, error.details.maxBytes], ['document_too_large', MAX_BYTES]);
    // A compressed body is limited by what it decompresses to.
    error = await failure(fetch('/gzip-bomb'));
    assert.equal(error.code, 'document_too_large');
    assert.deepEqual(leftovers(), []);
  });

  it('reports HTTP errors with their status', async () => {
    let error = await failure(fetch('/missing.pdf'));
    assert.deepEqual(
      [error.code, error.statusCode, error.details.status],
      ['document_fetch_failed', 422, 404],
    );
    assert.match(error.message, /404 Not Found/);
    error = await failure(fetch('/forbidden'));
    assert.equal(error.details.status, 403);
    error = await failure(fetch('/broken'));
    assert.equal(error.details.status, 500);
    assert.deepEqual(leftovers(), []);
  });

  it('gives up on a slow server after the total timeout, leaving no file', async () => {
    const error = await failure(fetch('/slow', { timeoutMs: 300 }));
    assert.deepEqual(
      [error.code, error.statusCode, error.details.phase],
      ['document_fetch_timeout', 422, 'total'],
    );
    assert.deepEqual(leftovers(), []);
  });

  it('reports unreachable hosts, refused connections and bad URLs', async () => {
    let error = await failure(fetch('http://no-such-host.invalid/doc.pdf', { policy: loopback }));
    assert.deepEqual([error.code, error.details.reason], ['document_fetch_failed', 'dns']);
    // A port nothing listens on: take one, then close it.
    const gone = await startDocumentServer({});
    await gone.close();
    error = await failure(fetch(`${gone.base}/doc.pdf`));
    assert.deepEqual([error.code, error.details.reason], ['document_fetch_failed', 'connection_refused']);
    for (const [url, reason] of [
      ['not a url', 'format'],
      ['/relative/doc.pdf', 'format'],
      ['file:///etc/passwd', 'scheme'],
      ['ftp://example.com/doc.pdf', 'scheme'],
      [`http://user:secret@127.0.0.1:${new URL(base).port}/doc.pdf`, 'credentials'],
      [`https://example.com/${'a'.repeat(9000)}`, 'length'],
    ] as const) {
      error = await failure(
        fetchDocumentUrl(url, { policy: loopback, tmpDir, maxBytes: MAX_BYTES, timeoutMs: 2000 }),
      );
      assert.deepEqual(
        [error.code, error.statusCode, error.details.reason],
        ['document_url_invalid', 400, reason],
        url,
      );
    }
  });

  it('refuses what is no document: HTML, unknown binary, an empty body', async () => {
    let error = await failure(fetch('/page.html'));
    assert.deepEqual(
      [error.code, error.details.contentType],
      ['unsupported_media_type', 'text/html; charset=utf-8'],
    );
    error = await failure(fetch('/binary'));
    assert.equal(error.code, 'unsupported_media_type');
    error = await failure(fetch('/empty'));
    assert.equal(error.code, 'invalid_document');
    assert.deepEqual(leftovers(), []);
  });

  it('stops when the caller aborts', async () => {
    const stop = new AbortController();
    const pending = fetchDocumentUrl(`${base}/slow`, {
      policy: loopback,
      tmpDir,
      maxBytes: MAX_BYTES,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(new Error('stopped by the test')), 50);
    await assert.rejects(pending, /stopped by the test/);
    assert.deepEqual(leftovers(), []);
  });
});
