/**
 * @module api/hostile-input.test
 * Bad input never becomes a 500: random and malformed requests to every route get a 4xx with the
 * error envelope and a code from the catalogue, and the server keeps answering. Documents by URL are
 * part of it: URLs that fetch, fail, time out, redirect into private networks, use other schemes or
 * are huge, alone or beside `content`; a real HTTP server on 127.0.0.1 (allowed for this app) serves
 * them. The generator is seeded, so a failure replays.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import {
  neverEnding,
  startDocumentServer,
  type TestDocumentServer,
  tooLargeStreamed,
} from '../net/test-document-server.ts';
import { ERROR_CODES } from './errors.ts';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

const MAX_DOCUMENT_BYTES = 64 * 1024;
/** A request that takes this long hangs: every fetch here gives up after well under a second. */
const HANG_MS = 30_000;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Injects one request and checks the invariant: an answer (no hang), never 5xx, errors catalogued. */
async function answer(app: TestApp['app'], request: InjectOptions, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms: ${what}`)), HANG_MS);
  });
  try {
    const res = await Promise.race([app.inject(request), hung]);
    assert.ok(res.statusCode < 500, `${what} → ${res.statusCode} ${res.body}`);
    if (res.statusCode >= 400) {
      const error = res.json().error;
      assert.ok(ERROR_CODES.includes(error.code), `${what} → uncatalogued code ${error.code}`);
      assert.equal(typeof error.message, 'string');
      assert.equal(typeof error.details, 'object');
    }
    return res;
  } finally {
    clearTimeout(timer);
  }
}

describe('hostile input', () => {
  let t: TestApp;
  let documents: TestDocumentServer;
  const pdf = tinyPdf(2);
  before(async () => {
    documents = await startDocumentServer({
      '/invoice.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf),
      '/page.html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>'),
      '/empty.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(),
      '/slow.pdf': neverEnding(pdf),
      '/huge.pdf': tooLargeStreamed(pdf, MAX_DOCUMENT_BYTES * 2),
      '/to-metadata': (_req, res) =>
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      '/to-file': (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
      '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
      '/broken': (_req, res) => res.writeHead(500).end('oops'),
    });
    t = await createTestApp({
      env: {
        FAXWIRE_RATE_LIMIT_PER_SECOND: '0',
        FAXWIRE_FETCH_ALLOW_NETS: '127.0.0.1/32',
        FAXWIRE_FETCH_CONNECT_TIMEOUT_MS: '300',
        FAXWIRE_FETCH_TIMEOUT_MS: '300',
        FAXWIRE_DOCUMENT_MAX_BYTES: String(MAX_DOCUMENT_BYTES),
      },
    });
  });
  after(async () => {
    await t.close();
    await documents.close();
  });

  /** Random `documents` entries: inline, by URL (good, failing, private, other schemes, huge), or both. */
  function documentGenerator(random: () => number) {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const content = pdf.toString('base64');
    const urls = [
      `${documents.base}/invoice.pdf`,
      `${documents.base}/invoice.pdf?sig=${'a'.repeat(64)}#page=2`,
      `${documents.base}/page.html`,
      `${documents.base}/empty.pdf`,
      `${documents.base}/slow.pdf`,
      `${documents.base}/huge.pdf`,
      `${documents.base}/to-metadata`,
      `${documents.base}/to-file`,
      `${documents.base}/loop`,
      `${documents.base}/broken`,
      `${documents.base}/missing.pdf`,
      `${documents.base.replace('127.0.0.1', '127.0.0.2')}/invoice.pdf`,
      'https://documents.example.invalid/invoice.pdf',
      'http://10.0.0.1/invoice.pdf',
      'http://192.168.1.20:8080/scan.pdf',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/invoice.pdf',
      'http://[fd00::1]/invoice.pdf',
      'http://[::ffff:10.0.0.1]/invoice.pdf',
      'http://167772161/invoice.pdf',
      'http://0.0.0.0/invoice.pdf',
      'http://203.0.113.7/invoice.pdf',
      'file:///etc/passwd',
      'ftp://example.com/invoice.pdf',
      'gopher://example.com/_GET',
      'javascript:alert(1)',
      `data:application/pdf;base64,${content}`,
      'http://user:secret@documents.example.invalid/invoice.pdf',
      'http:/invoice.pdf',
      '//documents.example.invalid/invoice.pdf',
      '/invoice.pdf',
      'not a url',
      'http://',
      'http://documents.example.invalid:99999/invoice.pdf',
      'http://documents.example.invalid/\u0000.pdf',
      `https://documents.example.invalid/${'a'.repeat(9000)}`,
      `https://${'a'.repeat(300)}.example.invalid/invoice.pdf`,
      `https://documents.example.invalid/?q=${'%41'.repeat(50_000)}`,
    ];
    const odd: unknown[] = ['', null, 5, [], {}, ['http://10.0.0.1/'], 'x'.repeat(200_000)];
    // Mostly well-formed entries, so most requests get past the schema to the URL checks and the fetch.
    const entry = (): unknown => {
      const roll = random();
      if (roll < 0.6) return { url: pick(urls) };
      if (roll < 0.7) return { url: pick(urls), filename: pick(['a.pdf', '', '../../x', 'x'.repeat(300)]) };
      if (roll < 0.8) return { content };
      return pick([
        () => ({ url: pick(urls), content }),
        () => ({ url: pick(urls), contentType: 'application/pdf' }),
        () => ({ url: pick(odd) }),
        () => ({ content: pick(odd) }),
      ])();
    };
    return () => Array.from({ length: random() < 0.6 ? 1 : 2 + Math.floor(random() * 3) }, entry);
  }

  it('answers 300 random requests with 2xx or a catalogued 4xx, never 5xx', async () => {
    const random = rng(20261123);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const randomDocuments = documentGenerator(random);
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
      ...Array.from({ length: 4 }, randomDocuments),
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
      const res = await answer(
        t.app,
        { method, url, headers: { ...t.auth, 'content-type': contentType }, payload },
        `${method} ${url} ${contentType} ${payload.slice(0, 200)}`,
      );
      seen.add(res.statusCode);
    }
    assert.ok(seen.size >= 3, `a variety of outcomes: ${[...seen]}`);
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
  });

  it('answers 150 random fax requests with documents by URL with 202 or a catalogued 4xx', async () => {
    const random = rng(20261207);
    const randomDocuments = documentGenerator(random);
    const codes = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      // Mostly a valid fax around the documents, so the requests get as far as fetching them.
      const body: Record<string, unknown> = { documents: randomDocuments() };
      if (random() < 0.9) Object.assign(body, { to: '+14155550199', from: t.numbers[0] });
      if (random() < 0.2) body.headerText = 'ACME Billing';
      const payload = JSON.stringify(body);
      const res = await answer(
        t.app,
        {
          method: 'POST',
          url: '/v1/faxes',
          headers: { ...t.auth, 'content-type': 'application/json' },
          payload,
        },
        `POST /v1/faxes ${payload.slice(0, 300)}`,
      );
      const code = res.statusCode < 400 ? String(res.statusCode) : (res.json().error.code as string);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // The generator reaches every stage: accepted, refused by the schema, by the URL checks, by the fetch.
    for (const code of ['202', 'validation_failed', 'document_url_invalid', 'document_url_forbidden']) {
      assert.ok(codes.has(code), `${code} among ${JSON.stringify([...codes])}`);
    }
    assert.ok(
      ['document_fetch_failed', 'document_fetch_timeout', 'document_too_large'].some((c) => codes.has(c)),
      `a failed fetch among ${JSON.stringify([...codes])}`,
    );
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
  });
});
