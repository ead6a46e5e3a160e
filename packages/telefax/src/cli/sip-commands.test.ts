import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { samplePage } from '../codec/sample-pages.ts';
import { samePixels } from '../image/bilevel-page.ts';
import { readTiff } from '../image/tiff-reader.ts';
import { writeTiff } from '../image/tiff-writer.ts';

const bin = fileURLToPath(new URL('../../bin/telefax.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'telefax-sip-cli-'));
const PAGES = [
  samplePage('text', 1728, 300, 1),
  samplePage('random', 1728, 160, 2),
  samplePage('stripes', 1728, 240, 3),
];
const doc = join(dir, 'doc.tif');
writeFileSync(doc, writeTiff(PAGES, { compression: 'mh' }));
let counter = 0;

after(() => rmSync(dir, { recursive: true, force: true }));

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI; `ready` resolves with the SIP port once `sip answer` listens. */
function telefax(args: string[]): { ready: Promise<number>; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: (port: number) => void = () => {};
  const ready = new Promise<number>((resolve) => {
    markReady = resolve;
  });
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    const m = /listening on sip port (\d+)/.exec(stderr);
    if (m) markReady(Number(m[1]));
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr });
    });
  });
  return { ready, done };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
const explain = (r: CliRun) => `exit ${r.status}\n${r.stdout}\n${r.stderr.slice(-3000)}`;

function assertSamePages(file: string): void {
  const got = readTiff(readFileSync(file)).pages;
  assert.equal(got.length, PAGES.length);
  for (let i = 0; i < got.length; i++) assert.ok(samePixels(got[i].page, PAGES[i]), `page ${i + 1} differs`);
}

const fast = ['--pace', 'none', '--json', '--local-address', '127.0.0.1'];

test('telefax sip call → telefax sip answer: 3 pages over SIP + T.38, pixel-identical, same JSON as send/receive', async () => {
  const out = join(dir, `out-${counter++}`);
  const answer = telefax([
    'sip',
    'answer',
    '--sip-port',
    '0',
    '--out-dir',
    out,
    '--ident',
    'RX SIP',
    ...fast,
  ]);
  const port = await answer.ready;
  const call = telefax(['sip', 'call', `sip:fax@127.0.0.1:${port}`, doc, '--ident', 'TX SIP', ...fast]);
  const [rx, tx] = await Promise.all([answer.done, call.done]);
  assert.equal(tx.status, 0, explain(tx));
  assert.equal(rx.status, 0, explain(rx));
  const txJson = lastJson(tx.stdout);
  const rxJson = lastJson(rx.stdout);
  for (const j of [txJson, rxJson]) {
    assert.equal(j.ok, true);
    assert.equal(j.reason, null);
    assert.equal(j.pages, 3);
    assert.equal(j.pageDoneMs.length, 3);
    assert.equal(typeof j.durationMs, 'number');
    assert.equal(j.sip.t38.version, 0);
    assert.equal(j.sip.callId, txJson.sip.callId);
  }
  assert.equal(txJson.remoteIdent, 'RX SIP');
  assert.equal(rxJson.remoteIdent, 'TX SIP');
  assert.equal(txJson.sip.direction, 'outgoing');
  assert.equal(rxJson.sip.direction, 'incoming');
  // The call starts in audio: each side plays its fax tone (CNG, CED) as RTP until the switch to T.38.
  assert.ok(txJson.sip.rtpPacketsReceived > 0, `caller heard no RTP: ${explain(tx)}`);
  assert.ok(rxJson.sip.rtpPacketsReceived > 0, `answerer heard no RTP: ${explain(rx)}`);
  assertSamePages(join(out, 'fax.tif'));
  assert.ok(existsSync(join(out, 'page-003.tif')));
});

test('telefax sip call --transport tcp --initial-offer t38 → telefax sip answer (listening on UDP and TCP)', async () => {
  const out = join(dir, `out-${counter++}`);
  const answer = telefax(['sip', 'answer', '--sip-port', '0', '--out-dir', out, ...fast]);
  const port = await answer.ready;
  const call = telefax([
    'sip',
    'call',
    `sip:fax@127.0.0.1:${port}`,
    doc,
    '--transport',
    'tcp',
    '--initial-offer',
    't38',
    '--ecm',
    'off',
    '--compression',
    'mr',
    '--max-rate',
    '9600',
    ...fast,
  ]);
  const [rx, tx] = await Promise.all([answer.done, call.done]);
  assert.equal(tx.status, 0, explain(tx));
  assert.equal(rx.status, 0, explain(rx));
  const j = lastJson(tx.stdout);
  assert.equal(j.ecm, false);
  assert.equal(j.compression, 'mr');
  assert.equal(j.bitRate, 9600);
  assert.equal(j.sip.t38.maxBitRate, 9600);
  // T.38 from the first INVITE: no audio phase, so no RTP either way.
  assert.equal(j.sip.rtpPacketsReceived, 0);
  assert.equal(lastJson(rx.stdout).sip.rtpPacketsReceived, 0);
  assertSamePages(join(out, 'fax.tif'));
});

test('bad arguments: one line on stderr, exit 1, before any call', async () => {
  const notTiff = join(dir, 'not.tif');
  writeFileSync(notTiff, 'hello');
  for (const args of [
    ['sip', 'call', 'sip:fax@127.0.0.1:9', notTiff],
    ['sip', 'call', 'mailto:x@y', doc],
    ['sip', 'call', 'sip:fax@127.0.0.1:9', doc, '--user', 'alice'],
    ['sip', 'answer', '--sip-port', '70000', '--out-dir', dir],
  ]) {
    const r = await telefax(args).done;
    assert.equal(r.status, 1, explain(r));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^telefax: /);
  }
});
