/**
 * @module spandsp-peer.test
 * spandsp ↔ spandsp through two instances of the peer over UDP on 127.0.0.1: proves our UDPTL (redundancy,
 * FEC, loss recovery) and the peer itself before it is used against Faxwire's own T.30/T.38 engine.
 * Pass = both ends report success, page counts match and the received pages are pixel-identical.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { describePeerRun } from './peer-process.ts';
import {
  buildSpandspPeer,
  freeUdpPorts,
  runSpandspPeer,
  type SpandspPeerRun,
  startSpandspPeer,
} from './spandsp-peer.ts';
import { pbmPage, sameTiffPixels, writeTiffDocument } from './test-tiff-document.ts';

const execFileAsync = promisify(execFile);

const WIDTH = 1728;
const HEIGHTS = [300, 350, 400];

let dir = '';
let doc = '';
let docStandard = '';

/** Three varied 1728-pixel pages: blocks with ruled gaps, a disc, seeded noise + rules. */
function pagePbm(index: number): Buffer {
  const height = HEIGHTS[index];
  let seed = 12345 + index;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  return pbmPage(WIDTH, height, (x, y) => {
    if (index === 0) return ((x >> 6) + (y >> 5)) % 2 === 0 && x % 7 !== 0;
    if (index === 1) return (x - 864) ** 2 + (y - height / 2) ** 2 < (100 + (x % 50)) ** 2;
    return random() < 0.03 || y % 40 < 3;
  });
}

const makeDocument = (path: string, compression: string, yDpi?: number) =>
  writeTiffDocument(
    dir,
    path,
    HEIGHTS.map((_, i) => pagePbm(i)),
    compression,
    yDpi,
  );

interface FaxCase {
  name: string;
  /** options given to both peers */
  common: string[];
  /** options for the sender / receiver only */
  sender?: string[];
  receiver?: string[];
  receiverCalls?: boolean;
  /** send the standard-resolution copy of the document */
  standard?: boolean;
  /** backstop for each process (ms) */
  killAfterMs?: number;
}

interface FaxOutcome {
  tx: SpandspPeerRun;
  rx: SpandspPeerRun;
  out: string;
  wallMs: number;
}

let counter = 0;

async function fax(c: FaxCase): Promise<FaxOutcome> {
  const [txPort, rxPort] = await freeUdpPorts(2);
  const out = join(dir, `received-${counter++}.tif`);
  const txArgs = [
    'send',
    c.standard ? docStandard : doc,
    '--local-port',
    String(txPort),
    '--remote',
    `127.0.0.1:${rxPort}`,
    '--ident',
    'SENDER 1',
    ...c.common,
    ...(c.sender ?? []),
  ];
  const rxArgs = [
    'receive',
    '--out',
    out,
    '--local-port',
    String(rxPort),
    '--remote',
    `127.0.0.1:${txPort}`,
    '--ident',
    'RECEIVER 2',
    ...c.common,
    ...(c.receiver ?? []),
  ];
  if (c.receiverCalls) {
    rxArgs.push('--caller');
    txArgs.push('--answerer');
  }
  const [callerArgs, answererArgs] = c.receiverCalls ? [rxArgs, txArgs] : [txArgs, rxArgs];
  const started = Date.now();
  // The caller must be listening before the answerer sends its first DIS, or that DIS is lost and T4 (3 s)
  // passes before the retry.
  const killAfterMs = c.killAfterMs ?? 90_000;
  const caller = await startSpandspPeer(callerArgs, { killAfterMs });
  await caller.ready.catch(() => {});
  const answerer = await startSpandspPeer(answererArgs, { killAfterMs });
  const [callerRun, answererRun] = await Promise.all([caller.done, answerer.done]);
  const wallMs = Date.now() - started;
  const [tx, rx] = c.receiverCalls ? [answererRun, callerRun] : [callerRun, answererRun];
  return { tx, rx, out, wallMs };
}

interface Expected {
  bitRate: number;
  ecm: boolean;
  compression: string;
  resolution?: string;
}

async function assertDelivered(o: FaxOutcome, expect: Expected, sent = doc): Promise<void> {
  assert.equal(o.tx.exitCode, 0, `sender failed: ${describePeerRun(o.tx)}`);
  assert.equal(o.rx.exitCode, 0, `receiver failed: ${describePeerRun(o.rx)}`);
  const tx = o.tx.json!;
  const rx = o.rx.json!;
  assert.equal(tx.ok, true);
  assert.equal(rx.ok, true);
  assert.equal(tx.pages, HEIGHTS.length);
  assert.equal(rx.pages, HEIGHTS.length);
  for (const r of [tx, rx]) {
    assert.equal(r.bitRate, expect.bitRate);
    assert.equal(r.ecm, expect.ecm);
    assert.equal(r.resolution, expect.resolution ?? 'fine');
  }
  assert.equal(rx.compression, expect.compression);
  assert.equal(tx.remoteIdent, 'RECEIVER 2');
  assert.equal(rx.remoteIdent, 'SENDER 1');
  assert.ok(await sameTiffPixels(sent, o.out), 'received pages differ from the sent ones');
}

before(async () => {
  await buildSpandspPeer();
  dir = await mkdtemp(join(tmpdir(), 'spandsp-peer-'));
  doc = join(dir, 'document.tif');
  await makeDocument(doc, 'g3:2d');
  docStandard = join(dir, 'document-standard.tif');
  await makeDocument(docStandard, 'g4', 98);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const unpaced = ['--pace', 'none', '--timeout-s', '60'];

const matrix: Array<FaxCase & { expect: Expected }> = [
  {
    name: 'ECM, MMR, 14400',
    common: [...unpaced, '--ecm', 'on', '--compression', 'mmr', '--max-rate', '14400'],
    expect: { bitRate: 14400, ecm: true, compression: 'mmr' },
  },
  {
    name: 'ECM, MH, 9600',
    common: [...unpaced, '--ecm', 'on', '--compression', 'mh', '--max-rate', '9600'],
    expect: { bitRate: 9600, ecm: true, compression: 'mh' },
  },
  {
    name: 'no ECM, MH, 14400',
    common: [...unpaced, '--ecm', 'off', '--compression', 'mh', '--max-rate', '14400'],
    expect: { bitRate: 14400, ecm: false, compression: 'mh' },
  },
  {
    name: 'no ECM, MH, 9600',
    common: [...unpaced, '--ecm', 'off', '--compression', 'mh', '--max-rate', '9600'],
    expect: { bitRate: 9600, ecm: false, compression: 'mh' },
  },
  {
    name: 'ECM, MMR, 14400, 5% loss each way, redundancy 3',
    common: [...unpaced, '--ecm', 'on', '--compression', 'mmr', '--loss', '5', '--redundancy', '3'],
    sender: ['--seed', '11'],
    receiver: ['--seed', '12'],
    expect: { bitRate: 14400, ecm: true, compression: 'mmr' },
  },
  {
    // Without ECM nothing repairs a lost image packet, so a pixel-identical page proves the UDPTL recovery.
    name: 'no ECM, MH, 5% loss each way, redundancy 3',
    common: [...unpaced, '--ecm', 'off', '--compression', 'mh', '--loss', '5', '--redundancy', '3'],
    sender: ['--seed', '21'],
    receiver: ['--seed', '22'],
    expect: { bitRate: 14400, ecm: false, compression: 'mh' },
  },
  {
    name: 'no ECM, MR, 5% loss each way, FEC span 3 × 3 entries, T.38 version 2',
    common: [
      ...unpaced,
      '--ecm',
      'off',
      '--compression',
      'mr',
      '--loss',
      '5',
      '--fec',
      '3:3',
      '--t38-version',
      '2',
    ],
    sender: ['--seed', '31'],
    receiver: ['--seed', '32'],
    expect: { bitRate: 14400, ecm: false, compression: 'mr' },
  },
  {
    name: 'no ECM, MR, 7200 (V.29)',
    common: [...unpaced, '--ecm', 'off', '--compression', 'mr', '--max-rate', '7200'],
    expect: { bitRate: 7200, ecm: false, compression: 'mr' },
  },
  {
    name: 'ECM, MMR, 4800 (V.27ter), standard resolution',
    common: [...unpaced, '--ecm', 'on', '--compression', 'mmr', '--max-rate', '4800'],
    standard: true,
    expect: { bitRate: 4800, ecm: true, compression: 'mmr', resolution: 'standard' },
  },
  {
    name: 'caller receives (polling), ECM, MMR, 12000',
    common: [...unpaced, '--ecm', 'on', '--compression', 'mmr', '--max-rate', '12000'],
    receiverCalls: true,
    expect: { bitRate: 12000, ecm: true, compression: 'mmr' },
  },
];

for (const c of matrix) {
  test(`spandsp ↔ spandsp unpaced: ${c.name}`, { timeout: 120_000 }, async (t) => {
    const o = await fax(c);
    t.diagnostic(
      `wall ${o.wallMs} ms; sender ${o.tx.json?.durationMs} ms (simulated ${o.tx.json?.simulatedMs} ms); ` +
        `dropped ${o.tx.json?.txDropped}+${o.rx.json?.txDropped}, recovered ${o.tx.json?.rxRecovered}+${o.rx.json?.rxRecovered}`,
    );
    await assertDelivered(o, c.expect, c.standard ? docStandard : doc);
    if (c.common.includes('--loss')) {
      assert.ok(o.tx.json!.txDropped > 0 && o.rx.json!.rxRecovered > 0, 'loss was simulated and recovered');
    }
  });
}

test('spandsp ↔ spandsp in real time (set SPANDSP_PEER_REALTIME=1; about 50 s)', {
  skip: process.env.SPANDSP_PEER_REALTIME ? false : 'real-time run is opt-in',
  timeout: 200_000,
}, async (t) => {
  const o = await fax({
    name: 'realtime',
    common: ['--pace', 'realtime', '--ecm', 'on', '--timeout-s', '150'],
    killAfterMs: 180_000,
  });
  t.diagnostic(`wall ${o.wallMs} ms; sender ${o.tx.json?.durationMs} ms`);
  await assertDelivered(o, { bitRate: 14400, ecm: true, compression: 'mmr' });
});

async function udptlTool(args: string[]): Promise<string[]> {
  const { stdout } = await execFileAsync(await buildSpandspPeer(), args);
  return stdout.trim().split('\n');
}

// IFPs: v21-preamble indicator, HDLC data 0xFF (v21, one field hdlc-data), no-signal indicator (T.38 §5.5 vectors).
const A = '06';
const B = 'c0 01 80 00 00 ff';
const C = '00';

test('UDPTL datagrams follow the T.38 ASN.1 PER layout (seq, open type, error-recovery choice)', async () => {
  assert.deepEqual(await udptlTool(['udptl-encode', A]), ['00 00 01 06 00 00']);
  // Redundancy: previous IFPs newest first, count growing from 0 at the start of the stream.
  assert.deepEqual(await udptlTool(['udptl-encode', '--redundancy', '2', A, B, C]), [
    '00 00 01 06 00 00',
    '00 01 06 c0 01 80 00 00 ff 00 01 01 06',
    '00 02 01 00 00 02 06 c0 01 80 00 00 ff 01 06',
  ]);
  // FEC span 2, 1 entry: winds up (span 0, no entries) until two packets exist, then XORs them zero-extended.
  assert.deepEqual(await udptlTool(['udptl-encode', '--fec', '2:1', A, B, C]), [
    '00 00 01 06 80 01 00 00',
    '00 01 06 c0 01 80 00 00 ff 80 01 00 00',
    '00 02 01 00 80 01 02 01 06 c6 01 80 00 00 ff',
  ]);
});

test('UDPTL receive recovers a lost packet from redundancy and from FEC, and rejects garbage', async () => {
  const delivered = ['0: 06', '1: c0 01 80 00 00 ff', '2: 00'];
  assert.deepEqual(
    await udptlTool(['udptl-decode', '00 00 01 06 00 00', '00 02 01 00 00 02 06 c0 01 80 00 00 ff 01 06']),
    delivered,
  );
  // The rebuilt IFP is cut from the 7-octet parity back to its own 6 octets.
  assert.deepEqual(
    await udptlTool([
      'udptl-decode',
      '00 00 01 06 80 01 00 00',
      '00 02 01 00 80 01 02 01 06 c6 01 80 00 00 ff',
    ]),
    delivered,
  );
  // A repeat of an already delivered seq is dropped; a truncated open type is malformed.
  assert.deepEqual(
    await udptlTool(['udptl-decode', '00 00 01 06 00 00', '00 00 01 06 00 00', '00 01 7f 06']),
    ['0: 06', 'malformed'],
  );
});

test('the pixel comparison sees a single differing pixel', async () => {
  const pbm = pagePbm(2);
  pbm[pbm.length - 100] ^= 0x10;
  const scratch = await mkdtemp(join(dir, 'other-'));
  const other = join(scratch, 'other.tif');
  await writeTiffDocument(scratch, other, [pagePbm(0), pagePbm(1), pbm], 'g4');
  assert.equal(await sameTiffPixels(doc, doc), true);
  assert.equal(await sameTiffPixels(doc, other), false);
});

test('a peer with nobody answering fails with a timeout and exit status 1', async () => {
  const [local, remote] = await freeUdpPorts(2);
  const run = await runSpandspPeer(
    [
      'send',
      doc,
      '--local-port',
      String(local),
      '--remote',
      `127.0.0.1:${remote}`,
      '--pace',
      'none',
      '--timeout-s',
      '0.5',
    ],
    { killAfterMs: 20_000 },
  );
  assert.equal(run.exitCode, 1);
  assert.equal(run.json?.ok, false);
  assert.match(run.json?.reason ?? '', /timeout/);
  assert.equal(run.json?.pages, 0);
});

test('a stopped peer ends the call and still reports', async () => {
  const [local, remote] = await freeUdpPorts(2);
  const peer = await startSpandspPeer(
    [
      'receive',
      '--out',
      join(dir, 'never.tif'),
      '--local-port',
      String(local),
      '--remote',
      `127.0.0.1:${remote}`,
    ],
    { killAfterMs: 20_000 },
  );
  await peer.ready;
  peer.kill();
  const run = await peer.done;
  assert.equal(run.exitCode, 1);
  assert.equal(run.json?.ok, false);
  assert.equal(run.json?.reason, 'stopped');
});

test('bad arguments give exit status 2 and a JSON error', async () => {
  const run = await runSpandspPeer([
    'receive',
    '--out',
    join(dir, 'x.tif'),
    '--local-port',
    '1',
    '--ecm',
    'maybe',
  ]);
  assert.equal(run.exitCode, 2);
  assert.equal(run.json?.ok, false);
  assert.match(run.json?.reason ?? '', /--ecm/);
});
