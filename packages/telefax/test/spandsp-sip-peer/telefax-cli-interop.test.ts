/**
 * @module telefax-cli-interop.test
 * The `telefax sip call|answer` command line (Faxwire's SIP UA, T.30 and T.38 in one process) against
 * spandsp-sip-peer (sofia-sip + spandsp), both directions, as an operator would run them. Pass = both
 * processes exit 0 with a completed fax in their JSON line and the received pages are pixel-identical; a far
 * end that refuses or declines T.38 makes `telefax sip call` exit 1 with `t38_not_supported`.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { samplePage } from '../../src/codec/sample-pages.ts';
import { type BilevelPage, samePixels } from '../../src/image/bilevel-page.ts';
import { readTiff } from '../../src/image/tiff-reader.ts';
import { writeTiff } from '../../src/image/tiff-writer.ts';
import {
  describePeerRun,
  type PeerProcess,
  type PeerRun,
  startPeerProcess,
} from '../spandsp-peer/peer-process.ts';
import { buildSpandspSipPeer, type SpandspSipPeerRun, startSpandspSipPeer } from './spandsp-sip-peer.ts';

const bin = fileURLToPath(new URL('../../bin/telefax.js', import.meta.url));

const PAGES: BilevelPage[] = [
  samplePage('text', 1728, 280, 7),
  samplePage('checkerboard', 1728, 200, 8),
  samplePage('random', 1728, 150, 9),
];

let dir = '';
let doc = '';
let counter = 0;

before(async () => {
  await buildSpandspSipPeer();
  dir = await mkdtemp(join(tmpdir(), 'telefax-sip-cli-'));
  doc = join(dir, 'doc.tif');
  await writeFile(doc, writeTiff(PAGES, { compression: 'mr' }));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The JSON line of `telefax sip … --json` (the fields these tests read). */
interface TelefaxSipJson {
  ok: boolean;
  reason: string | null;
  pages: number;
  remoteIdent: string | null;
  sip: {
    direction: string;
    status: number | null;
    remoteUdptl: string | null;
    t38: { version: number } | null;
  };
}

/** Runs the CLI; `ready` resolves with its SIP port once `telefax sip answer` listens. */
function startTelefax(args: readonly string[]): PeerProcess<number, TelefaxSipJson> {
  return startPeerProcess(process.execPath, [bin, ...args], {
    name: 'telefax',
    readyLine: /telefax: listening on sip port (\d+)/,
    readyValue: (match) => Number(match[1]),
    hardKillAfterMs: 2000,
    killAfterMs: 60_000,
  });
}

function explain(run: PeerRun<TelefaxSipJson> | SpandspSipPeerRun): string {
  return describePeerRun(run, 2500);
}

async function assertSamePages(file: string): Promise<void> {
  const got = readTiff(await readFile(file)).pages.map((p) => p.page);
  assert.equal(got.length, PAGES.length);
  for (let i = 0; i < got.length; i++) assert.ok(samePixels(got[i], PAGES[i]), `page ${i + 1} differs`);
}

/**
 * telefax's UDPTL port: below Linux's ephemeral range (32768+) and the peer's media range (20000+), so no other
 * test on the machine that takes "free" ports from the kernel can be handed it and cross-talk into the call.
 */
function udptlPort(): string[] {
  return ['--udptl-port', String(10000 + randomInt(10000))];
}

const unpaced = ['--pace', 'none'];
const peerCommon = ['--pace', 'none', '--timeout-s', '30'];

// The UA-level variants are in faxwire-ua-interop.test.ts; these cover the command line's own glue (UDPTL
// socket hand-over, JSON, exit status) with each process starting in about a second.
interface CliCase {
  name: string;
  telefax: string[];
  peer: string[];
  reinvitedBy: string;
  /** agreed T38FaxVersion (the lower of both; 1 and above use the T.38 2002 ASN.1 IFP encoding) */
  version?: number;
}

/** Both processes completed the fax (identities exchanged) with the re-INVITE and T.38 version `c` expects. */
function assertBothCompleted(ours: PeerRun<TelefaxSipJson>, theirs: SpandspSipPeerRun, c: CliCase): void {
  assert.equal(ours.exitCode, 0, explain(ours));
  assert.equal(theirs.exitCode, 0, explain(theirs));
  assert.equal(ours.json?.pages, PAGES.length);
  assert.equal(ours.json?.remoteIdent, 'SPANDSP');
  assert.equal(theirs.json?.remoteIdent.trim(), 'TELEFAX');
  assert.equal(theirs.json?.sip?.reinvitedBy, c.reinvitedBy);
  assert.equal(ours.json?.sip.t38?.version, c.version ?? 0);
  assert.equal(theirs.json?.sip?.t38?.version, c.version ?? 0);
}

/** spandsp-sip-peer answers (`answer --sip-port 0 …peerArgs`); `telefax sip call --json …telefaxArgs` sends `doc`. */
async function telefaxCalls(
  peerArgs: readonly string[],
  telefaxArgs: readonly string[],
): Promise<[PeerRun<TelefaxSipJson>, SpandspSipPeerRun]> {
  const peer = await startSpandspSipPeer(['answer', '--sip-port', '0', ...peerArgs], { killAfterMs: 60_000 });
  const sipPort = await peer.ready;
  const telefax = startTelefax([
    'sip',
    'call',
    `sip:fax@127.0.0.1:${sipPort}`,
    doc,
    '--json',
    ...udptlPort(),
    ...unpaced,
    ...telefaxArgs,
  ]);
  return Promise.all([telefax.done, peer.done]);
}

const calls: CliCase[] = [
  { name: 'audio first, spandsp re-INVITEs', telefax: [], peer: [], reinvitedBy: 'local' },
  {
    name: 'audio first over SIP/TCP, telefax re-INVITEs',
    telefax: ['--reinvite-wait-ms', '200', '--transport', 'tcp'],
    peer: ['--reinvite-after-ms', '60000', '--transport', 'tcp'],
    reinvitedBy: 'remote',
  },
  {
    name: 'T.38 in the INVITE, T38FaxVersion 2 agreed (we offer 2, spandsp can 3)',
    telefax: ['--initial-offer', 't38', '--t38-version', '2'],
    peer: ['--t38-version', '3'],
    reinvitedBy: 'none',
    version: 2,
  },
];

for (const c of calls) {
  test(`telefax sip call → spandsp-sip-peer answer, 3 pages: ${c.name}`, async (t) => {
    const out = join(dir, `rx-${counter++}.tif`);
    const [ours, theirs] = await telefaxCalls(
      ['--out', out, '--ident', 'SPANDSP', ...peerCommon, ...c.peer],
      ['--ident', 'TELEFAX', ...c.telefax],
    );
    t.diagnostic(`telefax ${JSON.stringify(ours.json)}; peer sip ${JSON.stringify(theirs.json?.sip)}`);
    assertBothCompleted(ours, theirs, c);
    assert.match(ours.json?.sip.remoteUdptl ?? '', /^127\.0\.0\.1:\d+$/);
    await assertSamePages(out);
  });
}

const answers: CliCase[] = [
  {
    name: 'audio first, telefax re-INVITEs',
    telefax: ['--reinvite-wait-ms', '0'],
    peer: [],
    reinvitedBy: 'remote',
  },
  {
    name: 'audio first over SIP/TCP, spandsp re-INVITEs offering T38FaxVersion 3, 2 agreed',
    telefax: ['--reinvite-wait-ms', '60000', '--t38-version', '2'],
    peer: ['--reinvite-after-ms', '200', '--transport', 'tcp', '--t38-version', '3'],
    reinvitedBy: 'local',
    version: 2,
  },
];

for (const c of answers) {
  test(`spandsp-sip-peer call → telefax sip answer, 3 pages: ${c.name}`, async (t) => {
    const outDir = join(dir, `in-${counter++}`);
    const telefax = startTelefax([
      'sip',
      'answer',
      '--sip-port',
      '0',
      '--out-dir',
      outDir,
      '--wait-s',
      '30',
      '--ident',
      'TELEFAX',
      '--json',
      ...udptlPort(),
      ...unpaced,
      ...c.telefax,
    ]);
    const sipPort = await telefax.ready;
    const peer = await startSpandspSipPeer(
      ['call', `sip:fax@127.0.0.1:${sipPort}`, doc, '--ident', 'SPANDSP', ...peerCommon, ...c.peer],
      { killAfterMs: 60_000 },
    );
    const [ours, theirs] = await Promise.all([telefax.done, peer.done]);
    t.diagnostic(`telefax ${JSON.stringify(ours.json)}; peer sip ${JSON.stringify(theirs.json?.sip)}`);
    assertBothCompleted(ours, theirs, c);
    // The sender (spandsp) hangs up after DCN.
    assert.equal(theirs.json?.sip?.byeBy, 'local');
    await assertSamePages(join(outDir, 'fax.tif'));
  });
}

for (const media of ['refuse-t38'] as const) {
  test(`telefax sip call to a spandsp-sip-peer with --media ${media} exits 1 with t38_not_supported`, async () => {
    const [ours, theirs] = await telefaxCalls(
      ['--out', join(dir, 'never.tif'), '--media', media, ...peerCommon],
      ['--reinvite-wait-ms', '200'],
    );
    assert.equal(ours.exitCode, 1, explain(ours));
    assert.equal(ours.json?.ok, false);
    assert.equal(ours.json?.reason, 't38_not_supported');
    assert.equal(ours.json?.sip.status, 488);
    assert.match(ours.stderr, /t38_not_supported/);
    assert.equal(theirs.exitCode, 1, explain(theirs));
    assert.match(theirs.json?.reason ?? '', /before T\.38/);
  });
}
