/**
 * @module events/streaming-docs.test
 * The examples in docs/streaming.md are code that works: each ```ts block type-checks against the
 * SDK, the webhook receiver verifies a signed delivery (and refuses a forged one) and saves the page it
 * announces, and the live-stream follower does the same from `GET /v1/events`. The PNGs they save hold
 * the page's pixels.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { getPixel } from 'telefax/image/bilevel-page';
import { syntheticPage } from 'telefax/image/synthetic-page';
import ts from 'typescript';
import { buildApp } from '../api/build-app.ts';
import { createTestApp, type TestApp } from '../api/test-app.ts';
import { writeFaxTiff } from '../documents/index.ts';
import {
  finishInboundFax,
  recordReceivedPage,
  reportPageProgress,
  startInboundFax,
} from '../domain/inbound-fax.ts';
import { generateWebhookSecret, webhookHeaders } from '../webhooks/webhook-signature.ts';
import { eventFromRow } from './fax-event.ts';

const here = dirname(fileURLToPath(import.meta.url));
const serverDir = join(here, '..', '..');
const sdkEntry = join(serverDir, '..', 'sdk', 'src', 'index.ts');

/** The ```ts blocks of the document, by the file name their first line gives. */
function examples(): Record<string, string> {
  const markdown = readFileSync(join(serverDir, 'docs', 'streaming.md'), 'utf8');
  const files: Record<string, string> = {};
  for (const [, code] of markdown.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = /^\/\/ ([a-z-]+\.ts)/.exec(code!)?.[1];
    assert.ok(name, 'each example starts with a comment naming its file');
    files[name] = code!;
  }
  return files;
}

async function pngMatches(file: string, page: ReturnType<typeof syntheticPage>): Promise<boolean> {
  const { data, info } = await sharp(readFileSync(file))
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== page.width || info.height !== page.height) return false;
  for (let y = 0; y < page.height; y += 7) {
    for (let x = 0; x < page.width; x += 3) {
      if (data[(y * info.width + x) * info.channels]! < 128 !== (getPixel(page, x, y) === 1)) return false;
    }
  }
  return true;
}

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(10);
  assert.ok(condition(), what);
};

describe('docs/streaming.md examples', () => {
  // Inside the package, so `@faxwire/sdk` resolves as it does for a user; dot-named, so no runner scans it.
  const dir = mkdtempSync(join(serverDir, '.docs-examples-'));
  const inbox = join(dir, 'inbox');
  const secret = generateWebhookSecret();
  const page = syntheticPage(1728, 300, 11);
  let t: TestApp;
  let app: FastifyInstance;
  let receiver: Server;
  let receiverUrl: string;
  let follow: {
    followEvents(onEvent: (e: unknown) => Promise<void>, signal: AbortSignal): Promise<void>;
    handleEvent(e: unknown): Promise<void>;
  };

  before(async () => {
    for (const [name, code] of Object.entries(examples())) writeFileSync(join(dir, name), code);
    t = await createTestApp();
    app = await buildApp(t.deps);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    Object.assign(process.env, {
      FAXWIRE_URL: base,
      FAXWIRE_API_KEY: t.key,
      FAXWIRE_WEBHOOK_SECRET: secret,
      INBOX_DIR: inbox,
    });
    const webhook = await import(pathToFileURL(join(dir, 'webhook-receiver.ts')).href);
    receiver = webhook.server;
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    assert.ok(address && typeof address === 'object');
    receiverUrl = `http://127.0.0.1:${address.port}/`;
    follow = await import(pathToFileURL(join(dir, 'follow-events.ts')).href);
  });
  after(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await app?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('type-checks every example against the SDK', () => {
    const names = Object.keys(examples());
    assert.deepEqual(names.sort(), ['follow-events.ts', 'webhook-receiver.ts']);
    const program = ts.createProgram(
      names.map((n) => join(dir, n)),
      {
        target: ts.ScriptTarget.ES2023,
        lib: ['lib.es2023.d.ts'],
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        verbatimModuleSyntax: true,
        types: ['node'],
        paths: { '@faxwire/sdk': [sdkEntry] },
      },
    );
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(problems, []);
  });

  const receive = async () => {
    const fax = await startInboundFax(t.deps.database, { to: t.numbers[0]!, from: '+14155550123' });
    await recordReceivedPage({ database: t.deps.database, blobs: t.deps.blobs }, fax.id, {
      n: 1,
      bytes: await writeFaxTiff([page]),
      rows: page.height,
      badRows: 0,
      width: page.width,
      resolution: 'fine',
    });
    return fax.id;
  };

  it('the webhook receiver verifies the delivery and saves the page it announces', async () => {
    const faxId = await receive();
    const row = await t.deps.database.db
      .selectFrom('fax_events')
      .selectAll()
      .where('fax_id', '=', faxId)
      .where('type', '=', 'fax.page.received')
      .executeTakeFirstOrThrow();
    const body = JSON.stringify(eventFromRow(row).envelope);
    const headers = webhookHeaders([secret], { id: row.id, timestamp: Math.floor(Date.now() / 1000), body });
    const forged = await fetch(receiverUrl, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: body.replace('"page":1', '"page":2'),
    });
    assert.equal(forged.status, 401);
    const res = await fetch(receiverUrl, { method: 'POST', headers, body });
    assert.equal(res.status, 204);
    const file = join(inbox, faxId, 'page-1.png');
    await until(() => existsSync(file), 'the receiver saved the page');
    await sleep(50);
    assert.ok(await pngMatches(file, page), 'the saved PNG is the received page');
  });

  it('the live-stream follower gets progress, saves the page, and sees the fax complete', async () => {
    const seen: string[] = [];
    const abort = new AbortController();
    const following = follow.followEvents(async (event) => {
      seen.push((event as { type: string }).type);
      await follow.handleEvent(event);
    }, abort.signal);
    await sleep(200);
    const fax = await startInboundFax(t.deps.database, { to: t.numbers[0]!, from: '+14155550124' });
    reportPageProgress(t.deps.database, fax.id, 1, { ...page, height: 100 });
    await until(() => seen.includes('fax.page.progress'), 'a progress event arrived');
    await recordReceivedPage({ database: t.deps.database, blobs: t.deps.blobs }, fax.id, {
      n: 1,
      bytes: await writeFaxTiff([page]),
      rows: page.height,
      badRows: 0,
      width: page.width,
    });
    await finishInboundFax(t.deps.database, fax.id, { status: 'received' });
    await until(() => seen.includes('fax.received'), 'the fax completed on the stream');
    abort.abort();
    await following;
    assert.deepEqual(
      seen.filter((s) => s !== 'fax.page.progress'),
      ['fax.receiving.started', 'fax.page.received', 'fax.received'],
    );
    assert.ok(await pngMatches(join(inbox, fax.id, 'page-1.png'), page));
  });
});
