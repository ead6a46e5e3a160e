import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { samplePage } from '../codec/sample-pages.ts';
import { samePixels } from '../image/bilevel-page.ts';
import { readTiff } from '../image/tiff-reader.ts';
import { writeTiff } from '../image/tiff-writer.ts';
import { parseHostPort } from './fax-commands.ts';

const bin = fileURLToPath(new URL('../../bin/telefax.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'telefax-fax-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function telefax(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function freePorts(n: number): Promise<number[]> {
  const sockets = Array.from({ length: n }, () => createSocket('udp4'));
  const ports = await Promise.all(
    sockets.map(
      (s) => new Promise<number>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port))),
    ),
  );
  for (const s of sockets) s.close();
  return ports;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

test('telefax receive + telefax send over T.38 on 127.0.0.1: JSON outcome, exit 0, pages in the out dir', async () => {
  const pages = [samplePage('text', 1728, 200, 1), samplePage('random', 1728, 100, 2)];
  const doc = join(dir, 'doc.tif');
  writeFileSync(doc, writeTiff(pages, { compression: 'mh' }));
  const out = join(dir, 'out');
  const [rxPort, txPort] = await freePorts(2);
  const common = ['--pace', 'none', '--json'];
  const receiver = telefax([
    'receive',
    '--local-port',
    String(rxPort),
    '--remote',
    `127.0.0.1:${txPort}`,
    '--out-dir',
    out,
    '--ident',
    'RX 1',
    ...common,
  ]);
  // The receiver answers (CED, then DIS every T4): the sender may start a moment later.
  const sender = telefax([
    'send',
    doc,
    '--remote',
    `127.0.0.1:${rxPort}`,
    '--local-port',
    String(txPort),
    // ECM: unpaced UDP may drop packets, and only ECM repairs them.
    '--ecm',
    'on',
    '--compression',
    'mr',
    '--max-rate',
    '9600',
    '--ident',
    'TX 1',
    ...common,
  ]);
  const [rx, tx] = await Promise.all([receiver, sender]);
  assert.equal(tx.status, 0, tx.stderr + tx.stdout);
  assert.equal(rx.status, 0, rx.stderr + rx.stdout);
  const txJson = lastJson(tx.stdout);
  assert.equal(txJson.ok, true);
  assert.equal(txJson.reason, null);
  assert.equal(txJson.pages, 2);
  assert.equal(txJson.bitRate, 9600);
  assert.equal(txJson.ecm, true);
  assert.equal(txJson.compression, 'mr');
  assert.equal(txJson.resolution, 'fine');
  assert.equal(txJson.remoteIdent, 'RX 1');
  assert.equal(txJson.pageDoneMs.length, 2);
  assert.equal(typeof txJson.durationMs, 'number');
  const rxJson = lastJson(rx.stdout);
  assert.equal(rxJson.ok, true);
  assert.equal(rxJson.remoteIdent, 'TX 1');
  const got = readTiff(readFileSync(join(out, 'fax.tif'))).pages;
  assert.equal(got.length, 2);
  for (let i = 0; i < 2; i++) assert.ok(samePixels(got[i].page, pages[i]), `page ${i + 1} differs`);
  assert.ok(existsSync(join(out, 'page-001.tif')) && existsSync(join(out, 'page-002.tif')));
});

test('telefax send to nobody: JSON failure on the last line, exit 1', async () => {
  const doc = join(dir, 'one.tif');
  writeFileSync(doc, writeTiff([samplePage('text', 1728, 50, 3)], { compression: 'mh' }));
  const [silent, local] = await freePorts(2);
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(silent, '127.0.0.1', () => resolve()));
  try {
    const r = await telefax([
      'send',
      doc,
      '--remote',
      `127.0.0.1:${silent}`,
      '--local-port',
      String(local),
      '--pace',
      'none',
      '--json',
      '--t1-ms',
      '1500',
    ]);
    assert.equal(r.status, 1, r.stderr);
    const json = lastJson(r.stdout);
    assert.equal(json.ok, false);
    assert.equal(json.reason, 'no_answer');
    assert.equal(json.pages, 0);
  } finally {
    sock.close();
  }
});

test('parseHostPort', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:4000'), { host: '127.0.0.1', port: 4000 });
  assert.deepEqual(parseHostPort('[::1]:5'), { host: '::1', port: 5 });
  assert.throws(() => parseHostPort('nope'));
  assert.throws(() => parseHostPort('h:70000'));
});
