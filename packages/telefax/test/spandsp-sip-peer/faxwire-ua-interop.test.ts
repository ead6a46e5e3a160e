/**
 * @module faxwire-ua-interop.test
 * Faxwire's SIP user agent (src/sip fax-call) with its own T.30 engine over T.38 (src/t30, src/t38) against an
 * independent implementation of both: spandsp-sip-peer, i.e. sofia-sip signalling and spandsp's T.38 terminal.
 * Both directions: audio first (either side re-INVITEs, or both at once), T.38 or both offered in the first
 * INVITE, SIP over TCP, T.30 polling, and spandsp sending over a lossy line (UDPTL redundancy, ECM with PPR).
 * Pass = both ends report a completed fax and the received pages are pixel-identical; a far end that will not do
 * T.38 makes our call fail with `t38_not_supported` instead of hanging.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { samplePage } from '../../src/codec/sample-pages.ts';
import { type BilevelPage, samePixels } from '../../src/image/bilevel-page.ts';
import { readTiff } from '../../src/image/tiff-reader.ts';
import { writeTiff } from '../../src/image/tiff-writer.ts';
import {
  answerFaxCalls,
  type FaxCall,
  FaxCallError,
  type FaxCallMedia,
  type FaxCallPolicy,
  placeFaxCall,
} from '../../src/sip/fax-call.ts';
import type { FaxOutcome } from '../../src/t30/fax-outcome.ts';
import { T30Session } from '../../src/t30/t30-session.ts';
import { T38Transport } from '../../src/t38/t38-transport.ts';
import { UdptlEndpoint } from '../../src/t38/udptl-endpoint.ts';
import { describePeerRun } from '../spandsp-peer/peer-process.ts';
import {
  buildSpandspSipPeer,
  type SpandspSipPeerProcess,
  type SpandspSipPeerRun,
  startSpandspSipPeer,
} from './spandsp-sip-peer.ts';

const PAGES: BilevelPage[] = [
  samplePage('text', 1728, 300, 1),
  samplePage('random', 1728, 160, 2),
  samplePage('stripes', 1728, 240, 3),
];

let dir = '';
let doc = '';
let counter = 0;

before(async () => {
  await buildSpandspSipPeer();
  dir = await mkdtemp(join(tmpdir(), 'faxwire-sip-interop-'));
  doc = join(dir, 'doc.tif');
  await writeFile(doc, writeTiff(PAGES, { compression: 'mh' }));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// SPANDSP_SIP_PEER_VERBOSE=1 adds spandsp's T.30/T.38 log to the peer's stderr shown on failures.
const peerCommon = [
  '--pace',
  'none',
  '--timeout-s',
  '30',
  ...(process.env.SPANDSP_SIP_PEER_VERBOSE ? ['--verbose'] : []),
];

/** Our UDPTL socket is bound before the SDP names its port; the far end is set once T.38 is agreed. */
/**
 * Our UDPTL socket, bound before the SDP names its port. Datagrams arriving before T.38 is agreed (the far end
 * may send CED/CSI/DIS the moment it has sent its 200) are kept and replayed once the T.38 transport exists.
 * The port is below Linux's ephemeral range (32768+) and the peer's media range (20000+): other test files on
 * the machine take "free" ports from the kernel and bind them a moment later, and their senders must never reach
 * this socket.
 */
class UdptlPort {
  readonly #early: Array<[Buffer, RemoteInfo]> = [];
  #handedOver = false;
  private constructor(readonly socket: Socket) {
    socket.on('message', this.#keep);
  }

  static async open(): Promise<UdptlPort> {
    for (let attempt = 0; ; attempt++) {
      const socket = createSocket('udp4');
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(10000 + randomInt(10000), '127.0.0.1', () => {
            socket.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        socket.close();
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 20) throw err;
        continue;
      }
      // The unpaced peer sends up to 10,000 datagrams/s; a default-sized buffer overflows whenever this event
      // loop stalls for a few tens of ms. Loss is tested on purpose, below.
      try {
        socket.setRecvBufferSize(4 << 20);
      } catch {
        // capped by net.core.rmem_max; the default still works, only with more recovery
      }
      return new UdptlPort(socket);
    }
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  readonly #keep = (message: Buffer, from: RemoteInfo): void => {
    if (this.#early.length < 512) this.#early.push([message, from]);
  };

  /** The transport for the agreed media, fed first with what arrived early. */
  transportFor(media: FaxCallMedia): T38Transport {
    this.#handedOver = true;
    this.socket.off('message', this.#keep);
    const endpoint = new UdptlEndpoint(this.socket, {
      remoteHost: media.remoteAddress,
      remotePort: media.remotePort,
      ...(media.remote.maxDatagram ? { farMaxDatagram: media.remote.maxDatagram } : {}),
    });
    const transport = new T38Transport(endpoint, { version: media.agreed.version, pace: 'none' });
    for (const [message, from] of this.#early.splice(0)) this.socket.emit('message', message, from);
    return transport;
  }

  /** Closes the socket if no transport took it over (the transport closes it otherwise). */
  async close(): Promise<void> {
    if (this.#handedOver) return;
    this.#handedOver = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

interface OurFax {
  outcome: FaxOutcome;
  received: BilevelPage[];
  /** T.30 frames in and out and the UDPTL counters, shown when an assertion fails. */
  log: string;
}

async function runFax(udptl: UdptlPort, call: FaxCall, role: 'send' | 'receive'): Promise<OurFax> {
  const transport = udptl.transportFor(call.media);
  const received: BilevelPage[] = [];
  const trace: string[] = [];
  try {
    const session = new T30Session({
      port: transport,
      direction: role,
      calling: call.direction === 'outgoing',
      ident: 'FAXWIRE',
      ...(role === 'send' ? { pages: PAGES } : { onPage: (page: BilevelPage) => void received.push(page) }),
      maxCallMs: 60_000,
      onTrace: (e) => trace.push(`${e.atMs} ${e.dir} ${e.what}`),
    });
    const outcome = await session.run();
    return { outcome, received, log: `${trace.slice(-40).join('\n')}\n${JSON.stringify(transport.stats)}` };
  } finally {
    await transport.close();
  }
}

function failure(fax: OurFax, run: SpandspSipPeerRun): string {
  return `ours: ${JSON.stringify(fax.outcome)}\n${fax.log}\npeer: ${describePeerRun(run)}`;
}

/** Both ends completed the fax, all pages, each naming the other ('FAXWIRE' and 'SPANDSP'). */
function assertBothCompleted(fax: OurFax, run: SpandspSipPeerRun): void {
  assert.equal(fax.outcome.ok, true, failure(fax, run));
  assert.equal(fax.outcome.pages, PAGES.length);
  assert.equal(fax.outcome.remoteIdent, 'SPANDSP');
  assert.equal(run.exitCode, 0, describePeerRun(run));
  assert.equal(run.json?.pages, PAGES.length);
  assert.equal(run.json?.remoteIdent.trim(), 'FAXWIRE');
}

function assertSamePages(got: readonly BilevelPage[]): void {
  assert.equal(got.length, PAGES.length);
  for (let i = 0; i < got.length; i++) assert.ok(samePixels(got[i], PAGES[i]), `page ${i + 1} differs`);
}

/** Faxwire answering one call through answerFaxCalls, on its own UA and UDPTL port. */
interface FaxwireCallee {
  readonly udptl: UdptlPort;
  readonly sipPort: number;
  /** The call once T.38 is agreed; rejects if our side reports a failure or the peer exits first. */
  call(peer: SpandspSipPeerProcess): Promise<FaxCall>;
  close(): Promise<void>;
}

async function faxwireAnswers(
  policy: FaxCallPolicy,
  transport: 'UDP' | 'TCP' = 'UDP',
): Promise<FaxwireCallee> {
  const udptl = await UdptlPort.open();
  let onCall: (call: FaxCall) => void = () => {};
  let onError: (err: FaxCallError) => void = () => {};
  const answered = new Promise<FaxCall>((resolve, reject) => {
    onCall = resolve;
    onError = reject;
  });
  answered.catch(() => {});
  const listener = await answerFaxCalls({
    localHost: '127.0.0.1',
    transports: [transport],
    t38: { localPort: udptl.localPort, address: '127.0.0.1' },
    policy: { switchTimeoutMs: 20_000, ...policy },
    onCall: (call) => onCall(call),
    onError: (err) => onError(err),
  });
  return {
    udptl,
    sipPort: listener.userAgent.stack.port(transport),
    call: (peer) =>
      Promise.race([
        answered,
        peer.done.then((run) => Promise.reject(new Error(`peer ended first: ${describePeerRun(run)}`))),
      ]),
    close: async () => {
      await listener.close();
      await udptl.close();
    },
  };
}

interface PeerCall {
  readonly fax: OurFax;
  readonly run: SpandspSipPeerRun;
}

/**
 * spandsp-sip-peer answers (`answer --sip-port 0 …peerArgs`), Faxwire calls it and sends or receives; the sender
 * hangs up. `onCall` sees the call before the fax starts.
 */
async function faxwireCalls(
  peerArgs: readonly string[],
  faxwire: 'send' | 'receive',
  options: { policy?: FaxCallPolicy; transport?: 'UDP' | 'TCP'; onCall?: (call: FaxCall) => void } = {},
): Promise<PeerCall> {
  const peer = await startSpandspSipPeer(['answer', '--sip-port', '0', ...peerArgs], { killAfterMs: 60_000 });
  const sipPort = await peer.ready;
  const udptl = await UdptlPort.open();
  const tcp = options.transport === 'TCP';
  try {
    const call = await placeFaxCall({
      target: `sip:fax@127.0.0.1:${sipPort}${tcp ? ';transport=tcp' : ''}`,
      localHost: '127.0.0.1',
      ...(tcp ? { transports: ['TCP' as const] } : {}),
      t38: { localPort: udptl.localPort, address: '127.0.0.1' },
      policy: { switchTimeoutMs: 20_000, ...options.policy },
    });
    options.onCall?.(call);
    const fax = await runFax(udptl, call, faxwire);
    if (faxwire === 'send') await call.hangup();
    return { fax, run: await peer.done };
  } finally {
    await udptl.close();
    peer.kill();
  }
}

/**
 * Faxwire answers (`policy`, over `transport`), spandsp-sip-peer calls it (`call sip:… …peerArgs`) and Faxwire
 * sends or receives; the sender hangs up, and the call has ended on both sides when this returns.
 */
async function spandspCalls(
  peerArgs: readonly string[],
  faxwire: 'send' | 'receive',
  policy: FaxCallPolicy,
  transport: 'UDP' | 'TCP' = 'UDP',
): Promise<PeerCall> {
  const callee = await faxwireAnswers(policy, transport);
  const peer = await startSpandspSipPeer(['call', `sip:fax@127.0.0.1:${callee.sipPort}`, ...peerArgs], {
    killAfterMs: 60_000,
  });
  try {
    const call = await callee.call(peer);
    const fax = await runFax(callee.udptl, call, faxwire);
    if (faxwire === 'send') await call.hangup();
    const run = await peer.done;
    await call.ended;
    return { fax, run };
  } finally {
    peer.kill();
    await callee.close();
  }
}

interface OutgoingCase {
  name: string;
  peer: string[];
  policy: FaxCallPolicy;
  expectReinvitedBy: 'local' | 'remote' | 'none';
}

const outgoing: OutgoingCase[] = [
  {
    name: 'audio first, the spandsp callee re-INVITEs to T.38',
    peer: [],
    policy: { initialOffer: 'audio', reinviteWaitMs: 5000 },
    expectReinvitedBy: 'local',
  },
  {
    name: 'audio first, the spandsp callee waits and Faxwire re-INVITEs',
    peer: ['--reinvite-after-ms', '60000'],
    policy: { initialOffer: 'audio', reinviteWaitMs: 200 },
    expectReinvitedBy: 'remote',
  },
  {
    name: 'T.38 in the first INVITE',
    peer: [],
    policy: { initialOffer: 't38' },
    expectReinvitedBy: 'none',
  },
  {
    name: 'audio and T.38 offered together, the callee takes T.38',
    peer: [],
    policy: { initialOffer: 'both' },
    expectReinvitedBy: 'none',
  },
];

for (const c of outgoing) {
  test(`Faxwire calls spandsp-sip-peer and sends 3 pages: ${c.name}`, async (t) => {
    const out = join(dir, `rx-${counter++}.tif`);
    const { fax, run } = await faxwireCalls(
      ['--out', out, '--ident', 'SPANDSP', ...peerCommon, ...c.peer],
      'send',
      { policy: c.policy },
    );
    t.diagnostic(`ours ${JSON.stringify(fax.outcome)}; peer sip ${JSON.stringify(run.json?.sip)}`);
    assertBothCompleted(fax, run);
    assert.equal(run.json?.sip?.reinvitedBy, c.expectReinvitedBy);
    assert.equal(run.json?.sip?.t38?.rateManagement, 'transferredTCF');
    assertSamePages(readTiff(await readFile(out)).pages.map((p) => p.page));
  });
}

interface IncomingCase {
  name: string;
  peer: string[];
  policy: FaxCallPolicy;
  expectReinvitedBy: 'local' | 'remote' | 'none' | 'either';
}

const incoming: IncomingCase[] = [
  {
    name: 'audio first, Faxwire (called) re-INVITEs to T.38',
    peer: [],
    policy: { answerReinviteDelayMs: 0 },
    expectReinvitedBy: 'remote',
  },
  {
    name: 'audio first, Faxwire waits and the spandsp caller re-INVITEs',
    peer: ['--reinvite-after-ms', '200'],
    policy: { answerReinviteDelayMs: 60_000 },
    expectReinvitedBy: 'local',
  },
  {
    name: 'T.38 in the first INVITE',
    peer: ['--media', 't38'],
    policy: {},
    expectReinvitedBy: 'none',
  },
  {
    name: 'audio and T.38 offered together, Faxwire takes T.38',
    peer: ['--media', 'audio+t38'],
    policy: {},
    expectReinvitedBy: 'none',
  },
  {
    // Whether the two re-INVITEs cross (491 on both, RFC 3261 §14.1 back-off) depends on scheduling; either way
    // exactly one of them must win and the fax go through.
    name: 'both ends re-INVITE 100 ms after the answer (glare)',
    peer: ['--reinvite-after-ms', '100'],
    policy: { answerReinviteDelayMs: 100 },
    expectReinvitedBy: 'either',
  },
];

for (const c of incoming) {
  test(`spandsp-sip-peer calls Faxwire and sends 3 pages: ${c.name}`, async (t) => {
    const { fax, run } = await spandspCalls(
      [doc, '--ident', 'SPANDSP', ...peerCommon, ...c.peer],
      'receive',
      c.policy,
    );
    t.diagnostic(`ours ${JSON.stringify(fax.outcome)}; peer sip ${JSON.stringify(run.json?.sip)}`);
    assertBothCompleted(fax, run);
    assert.equal(
      run.json?.sip?.initialOffer,
      c.peer.includes('audio+t38') ? 'audio+t38' : c.peer.includes('t38') ? 't38' : 'audio',
    );
    if (c.expectReinvitedBy === 'either') assert.match(run.json?.sip?.reinvitedBy ?? '', /^(local|remote)$/);
    else assert.equal(run.json?.sip?.reinvitedBy, c.expectReinvitedBy);
    // The sender hangs up after DCN.
    assert.equal(run.json?.sip?.byeBy, 'local');
    assertSamePages(fax.received);
  });
}

test('spandsp refreshes the session mid-fax (re-INVITE with unchanged T.38) both ways; Faxwire answers it and the fax goes on', async (t) => {
  {
    const out = join(dir, `rx-${counter++}.tif`);
    let changes = 0;
    const { fax, run } = await faxwireCalls(
      ['--out', out, '--refresh-after-ms', '30', ...peerCommon],
      'send',
      {
        policy: { initialOffer: 't38' },
        onCall: (call) => {
          call.onMediaChange = () => changes++;
        },
      },
    );
    t.diagnostic(`Faxwire sends: peer sip ${JSON.stringify(run.json?.sip)}`);
    assert.equal(fax.outcome.ok, true, failure(fax, run));
    assert.equal(run.exitCode, 0, describePeerRun(run));
    assert.equal(run.json?.sip?.refreshes, 1);
    assert.equal(changes, 0, 'an unchanged description is not a media change');
    assertSamePages(readTiff(await readFile(out)).pages.map((p) => p.page));
  }
  {
    const { fax, run } = await spandspCalls(
      [doc, '--media', 't38', '--refresh-after-ms', '30', ...peerCommon],
      'receive',
      {},
    );
    t.diagnostic(`Faxwire receives: peer sip ${JSON.stringify(run.json?.sip)}`);
    assert.equal(fax.outcome.ok, true, failure(fax, run));
    assert.equal(run.exitCode, 0, describePeerRun(run));
    assert.equal(run.json?.sip?.refreshes, 1);
    assertSamePages(fax.received);
  }
});

for (const media of ['refuse-t38', 'audio-only'] as const) {
  test(`a spandsp-sip-peer callee with --media ${media}: Faxwire's call fails with t38_not_supported`, async () => {
    const peer = await startSpandspSipPeer(
      ['answer', '--sip-port', '0', '--out', join(dir, 'never.tif'), '--media', media, ...peerCommon],
      { killAfterMs: 60_000 },
    );
    const sipPort = await peer.ready;
    const udptl = await UdptlPort.open();
    try {
      await assert.rejects(
        placeFaxCall({
          target: `sip:fax@127.0.0.1:${sipPort}`,
          localHost: '127.0.0.1',
          t38: { localPort: udptl.localPort, address: '127.0.0.1' },
          policy: { initialOffer: 'audio', reinviteWaitMs: 200, switchTimeoutMs: 20_000 },
        }),
        (err: unknown) => err instanceof FaxCallError && err.reason === 't38_not_supported',
      );
      const run = await peer.done;
      assert.equal(run.exitCode, 1, describePeerRun(run));
      assert.match(run.json?.reason ?? '', /before T\.38/);
      assert.equal(run.json?.sip?.byeBy, 'remote');
    } finally {
      await udptl.close();
      peer.kill();
    }
  });
}

test('polling both ways: Faxwire calls and receives from a sending spandsp callee; spandsp calls and receives from Faxwire', async (t) => {
  {
    const { fax, run } = await faxwireCalls(['--send', doc, '--ident', 'SPANDSP', ...peerCommon], 'receive');
    t.diagnostic(`Faxwire polls: ours ${JSON.stringify(fax.outcome)}`);
    assert.equal(fax.outcome.ok, true, failure(fax, run));
    assert.equal(run.exitCode, 0, describePeerRun(run));
    assertSamePages(fax.received);
  }
  {
    const out = join(dir, `rx-${counter++}.tif`);
    const { fax, run } = await spandspCalls(['--out', out, '--ident', 'SPANDSP', ...peerCommon], 'send', {
      answerReinviteDelayMs: 0,
    });
    t.diagnostic(`spandsp polls: ours ${JSON.stringify(fax.outcome)}`);
    assert.equal(fax.outcome.ok, true, failure(fax, run));
    assert.equal(run.exitCode, 0, describePeerRun(run));
    assertSamePages(readTiff(await readFile(out)).pages.map((p) => p.page));
  }
});

test('SIP over TCP both ways: Faxwire calls and sends, then spandsp-sip-peer calls and sends', async (t) => {
  {
    const out = join(dir, `rx-${counter++}.tif`);
    const { fax, run } = await faxwireCalls(['--out', out, '--transport', 'tcp', ...peerCommon], 'send', {
      transport: 'TCP',
    });
    t.diagnostic(`Faxwire calls over TCP: peer sip ${JSON.stringify(run.json?.sip)}`);
    assert.equal(fax.outcome.ok, true, failure(fax, run));
    assert.equal(run.exitCode, 0, describePeerRun(run));
    assertSamePages(readTiff(await readFile(out)).pages.map((p) => p.page));
  }
  {
    const { fax, run } = await spandspCalls(
      [doc, '--transport', 'tcp', ...peerCommon],
      'receive',
      { answerReinviteDelayMs: 0 },
      'TCP',
    );
    t.diagnostic(`spandsp calls over TCP: peer sip ${JSON.stringify(run.json?.sip)}`);
    assert.equal(fax.outcome.ok, true, failure(fax, run));
    assert.equal(run.exitCode, 0, describePeerRun(run));
    assertSamePages(fax.received);
  }
});

const lossy: Array<{ name: string; peer: string[] }> = [
  {
    // Without ECM nothing repeats a lost image packet, so identical pixels prove Faxwire's UDPTL recovery.
    name: 'no ECM, MH, 3 % loss, redundancy 3: UDPTL redundancy repairs it',
    peer: ['--ecm', 'off', '--compression', 'mh', '--loss', '3', '--seed', '8', '--redundancy', '3'],
  },
  { name: 'ECM, MMR, 3 % loss, redundancy 3', peer: ['--loss', '3', '--seed', '7', '--redundancy', '3'] },
  {
    // Enough gaps survive to need PPR: the frames spandsp repeats must complete the block, not start a page.
    name: 'ECM, MMR, 5 % loss, redundancy 1: PPR repairs the blocks',
    peer: ['--loss', '5', '--seed', '4', '--redundancy', '1'],
  },
];

for (const c of lossy) {
  test(`spandsp-sip-peer sends over a lossy line to Faxwire: ${c.name}`, async (t) => {
    const { fax, run } = await spandspCalls([doc, ...peerCommon, ...c.peer], 'receive', {
      answerReinviteDelayMs: 0,
    });
    t.diagnostic(`ours ${JSON.stringify(fax.outcome)}; ${fax.log.split('\n').pop()}`);
    assert.ok((run.json?.txDropped ?? 0) > 0, 'loss was simulated');
    assert.equal(fax.outcome.ok, true, failure(fax, run));
    assert.equal(run.exitCode, 0, describePeerRun(run));
    assertSamePages(fax.received);
  });
}
