/**
 * @module api/read-fax-request.test
 * Large documents stay on disk while a fax is accepted: a ~15 MB PDF uploaded as multipart over a real
 * socket, or fetched from a URL, is inspected by the real PDF workers, stored whole, and counted right,
 * while the main thread's live memory grows by far less than the file; its temporary file is gone
 * afterwards; and a corrupt one of the same size is refused with the same 4xx as a small one.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RenderingDocumentInspector } from '../domain/rendering-document-inspector.ts';
import {
  type DocumentHandler,
  startDocumentServer,
  type TestDocumentServer,
} from '../net/test-document-server.ts';
import { readBlob } from '../store/blob-store.ts';
import { createTestApp, type TestApp } from './test-app.ts';

const IMAGE_WIDTH = 3000;
const IMAGE_HEIGHT = 5000;
const PAGES = 3;

/**
 * A PDF of `PAGES` pages sharing one uncompressed greyscale image of 15 MB, written to `path` in slices
 * so that making it costs no memory either.
 */
function writeBigPdf(path: string): void {
  const imageBytes = IMAGE_WIDTH * IMAGE_HEIGHT;
  const content = 'q 612 0 0 792 0 0 cm /Im1 Do Q\n';
  const kids = Array.from({ length: PAGES }, (_, i) => `${i + 3} 0 R`).join(' ');
  const page = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 ${PAGES + 3} 0 R >> >> /Contents ${PAGES + 4} 0 R >>`;
  const fd = openSync(path, 'w');
  let at = 0;
  const write = (data: string | Buffer) => {
    const buffer = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    writeSync(fd, buffer);
    at += buffer.length;
  };
  const offsets: number[] = [];
  const object = (body: string) => {
    offsets.push(at);
    write(`${offsets.length} 0 obj\n${body}\nendobj\n`);
  };
  try {
    write('%PDF-1.4\n');
    object('<< /Type /Catalog /Pages 2 0 R >>');
    object(`<< /Type /Pages /Kids [${kids}] /Count ${PAGES} >>`);
    for (let i = 0; i < PAGES; i++) object(page);
    offsets.push(at);
    write(
      `${offsets.length} 0 obj\n<< /Type /XObject /Subtype /Image /Width ${IMAGE_WIDTH} /Height ${IMAGE_HEIGHT} ` +
        `/ColorSpace /DeviceGray /BitsPerComponent 8 /Length ${imageBytes} >>\nstream\n`,
    );
    const slice = Buffer.alloc(1024 * 1024);
    for (let y = 0; y < slice.length; y++) slice[y] = (y * 7) & 0xff;
    for (let left = imageBytes; left > 0; left -= slice.length)
      write(slice.subarray(0, Math.min(left, slice.length)));
    write('\nendstream\nendobj\n');
    object(`<< /Length ${content.length} >>\nstream\n${content}endstream`);
    const xref = at;
    write(`xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`);
    for (const off of offsets) write(`${String(off).padStart(10, '0')} 00000 n \n`);
    write(`trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  } finally {
    closeSync(fd);
  }
}

/** A PDF header and then 15 MB that hold no PDF objects at all. */
function writeCorruptPdf(path: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'));
    const slice = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 15; i++) writeSync(fd, slice);
  } finally {
    closeSync(fd);
  }
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;

/** What the main thread holds: its JS heap and every ArrayBuffer (Buffers included). */
function liveBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * The most the main thread's live memory rose above where it started while `work` ran. Sampled after
 * a full collection, so garbage (the chunks a stream passes on) does not count, only what is held; the
 * chunks in flight and buffers V8 has yet to sweep still do, a few MB at most, which is why the tests
 * allow half the file's size rather than nothing. Reading the file whole takes at least all of it.
 */
async function growthDuring<T>(
  ctx: TestContext,
  work: () => Promise<T>,
): Promise<{ result: T; growth: number }> {
  gc({ type: 'major' });
  const base = liveBytes();
  let peak = base;
  const sample = setInterval(() => {
    gc({ type: 'major' });
    peak = Math.max(peak, liveBytes());
  }, 5);
  try {
    const result = await work();
    ctx.diagnostic(`main-thread live memory (heap + ArrayBuffers) rose by at most ${peak - base} bytes`);
    return { result, growth: peak - base };
  } finally {
    clearInterval(sample);
  }
}

interface Reply {
  readonly status: number;
  readonly body: { [key: string]: unknown };
}

/** POSTs a multipart form with one file part streamed from disk over a real socket. */
function postFile(
  url: string,
  headers: Record<string, string>,
  fields: Record<string, string>,
  file: { path: string; name: string; type: string },
): Promise<Reply> {
  const boundary = `faxwire${randomBytes(8).toString('hex')}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const length = Buffer.byteLength(head) + statSync(file.path).size + Buffer.byteLength(tail);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(length),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(head);
    const body = createReadStream(file.path);
    body.on('error', reject);
    body.on('end', () => req.end(tail));
    body.pipe(req, { end: false });
  });
}

describe('large documents on the request path', () => {
  let dir: string;
  let bigPdf: string;
  let corruptPdf: string;
  let fileBytes: number;
  let inspector: RenderingDocumentInspector;
  let t: TestApp;
  let base: string;
  let server: TestDocumentServer;

  const serve =
    (path: () => string): DocumentHandler =>
    (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/pdf',
        'content-length': String(statSync(path()).size),
      });
      createReadStream(path()).pipe(res);
    };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faxwire-big-'));
    bigPdf = join(dir, 'big.pdf');
    corruptPdf = join(dir, 'corrupt.pdf');
    writeBigPdf(bigPdf);
    writeCorruptPdf(corruptPdf);
    fileBytes = statSync(bigPdf).size;
    inspector = new RenderingDocumentInspector();
    t = await createTestApp({
      inspector,
      env: { FAXWIRE_FETCH_ALLOW_NETS: '127.0.0.1/32', FAXWIRE_RATE_LIMIT_PER_SECOND: '0' },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    server = await startDocumentServer({
      '/big.pdf': serve(() => bigPdf),
      '/corrupt.pdf': serve(() => corruptPdf),
    });
  });
  after(async () => {
    await server?.close();
    await t?.close();
    await inspector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tmpFiles = () => {
    const tmp = join(t.deps.config.dataDir, 'tmp');
    return existsSync(tmp) ? readdirSync(tmp) : [];
  };
  const fields = () => ({ to: '+14155550199', from: t.numbers[0]! });
  const sendJson = (documents: unknown[]) =>
    t.app
      .inject({ method: 'POST', url: '/v1/faxes', headers: t.auth, payload: { ...fields(), documents } })
      .then((res): Reply => ({ status: res.statusCode, body: res.json() }));

  it('accepts a 15 MB multipart PDF without holding it in memory, and stores it whole', async (ctx) => {
    assert.ok(fileBytes > 15_000_000, `the test PDF is ${fileBytes} bytes`);
    const { result, growth } = await growthDuring(ctx, () =>
      postFile(`${base}/v1/faxes`, t.auth, fields(), {
        path: bigPdf,
        name: 'big.pdf',
        type: 'application/pdf',
      }),
    );
    assert.equal(result.status, 202, JSON.stringify(result.body));
    const documents = result.body.documents as { id: string; size: number; pageCount: number }[];
    assert.equal(result.body.pageCount, PAGES);
    assert.deepEqual(
      documents.map((d) => [d.size, d.pageCount]),
      [[fileBytes, PAGES]],
    );
    assert.ok(
      growth < fileBytes / 2,
      `main-thread live memory grew by ${growth} bytes for a ${fileBytes}-byte file`,
    );
    const row = await t.db.database.db
      .selectFrom('fax_documents')
      .select(['blob_key', 'sha256'])
      .where('id', '=', documents[0]!.id)
      .executeTakeFirstOrThrow();
    const expected = await sha256Of(bigPdf);
    assert.equal(row.sha256, expected);
    const stored = await readBlob(t.deps.blobs, row.blob_key!);
    assert.equal(createHash('sha256').update(stored).digest('hex'), expected);
    assert.deepEqual(tmpFiles(), []);
  });

  it('refuses a corrupt 15 MB multipart PDF with invalid_document, leaving no file behind', async (ctx) => {
    const { result, growth } = await growthDuring(ctx, () =>
      postFile(`${base}/v1/faxes`, t.auth, fields(), {
        path: corruptPdf,
        name: 'corrupt.pdf',
        type: 'application/pdf',
      }),
    );
    assert.equal(result.status, 400, JSON.stringify(result.body));
    const error = result.body.error as { code: string; details: { document: number } };
    assert.equal(error.code, 'invalid_document');
    assert.equal(error.details.document, 0);
    assert.ok(growth < fileBytes / 2, `main-thread live memory grew by ${growth} bytes`);
    assert.deepEqual(tmpFiles(), []);
  });

  it('accepts a 15 MB PDF given by URL without holding it in memory', async (ctx) => {
    const { result, growth } = await growthDuring(ctx, () => sendJson([{ url: `${server.base}/big.pdf` }]));
    assert.equal(result.status, 202, JSON.stringify(result.body));
    assert.equal(result.body.pageCount, PAGES);
    const documents = result.body.documents as { size: number }[];
    assert.equal(documents[0]!.size, fileBytes);
    assert.ok(
      growth < fileBytes / 2,
      `main-thread live memory grew by ${growth} bytes for a ${fileBytes}-byte file`,
    );
    assert.deepEqual(tmpFiles(), []);
  });

  it('refuses a corrupt 15 MB PDF given by URL with invalid_document, leaving no file behind', async (ctx) => {
    const { result, growth } = await growthDuring(ctx, () =>
      sendJson([{ url: `${server.base}/corrupt.pdf` }]),
    );
    assert.equal(result.status, 400, JSON.stringify(result.body));
    assert.equal((result.body.error as { code: string }).code, 'invalid_document');
    assert.ok(growth < fileBytes / 2, `main-thread live memory grew by ${growth} bytes`);
    assert.deepEqual(tmpFiles(), []);
  });
});
