/**
 * @module spandsp-sip-peer.test
 * spandsp-sip-peer ↔ spandsp-sip-peer over SIP (sofia-sip) and T.38/UDPTL on 127.0.0.1: proves the independent
 * SIP + T.38 far end before Faxwire's own user agent is tested against it. Pass = both ends report success,
 * the SIP details say who switched to T.38 and with which parameters, and the received pages are
 * pixel-identical; calls that cannot reach T.38 end promptly on both sides with a stated reason.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { describePeerRun } from '../spandsp-peer/peer-process.ts';
import { pbmPage, sameTiffPixels, writeTiffDocument } from '../spandsp-peer/test-tiff-document.ts';
import {
  buildSpandspSipPeer,
  runSpandspSipPeer,
  type SpandspSipPeerRun,
  startSpandspSipPeer,
} from './spandsp-sip-peer.ts';

const WIDTH = 1728;
const HEIGHTS = [280, 320, 360];

let dir = '';
let doc = '';

/** Page `index`: a checkerboard, a ring, seeded noise with rules. */
function pagePbm(index: number): Buffer {
  const height = HEIGHTS[index];
  let seed = 777 + index;
  const random = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  return pbmPage(WIDTH, height, (x, y) => {
    if (index === 0) return ((x >> 5) + (y >> 4)) % 2 === 0;
    if (index === 1) {
      const r2 = (x - 864) ** 2 + (y - height / 2) ** 2;
      return r2 < 140 ** 2 && r2 > 90 ** 2;
    }
    return random() < 0.04 || y % 32 < 2;
  });
}

interface SipFax {
  /** extra arguments of the called peer (`answer`) and of the calling peer (`call`) */
  answer?: string[];
  call?: string[];
  /** both peers */
  common?: string[];
  /** the callee sends (`--send`) and the caller receives (`--out`): T.30 polling */
  calleeSends?: boolean;
}

interface SipFaxOutcome {
  caller: SpandspSipPeerRun;
  callee: SpandspSipPeerRun;
  out: string;
  wallMs: number;
}

let counter = 0;
const unpaced = ['--pace', 'none', '--timeout-s', '30'];

async function sipFax(c: SipFax): Promise<SipFaxOutcome> {
  const out = join(dir, `received-${counter++}.tif`);
  const common = [...unpaced, ...(c.common ?? [])];
  const started = Date.now();
  const callee = await startSpandspSipPeer(
    [
      'answer',
      '--sip-port',
      '0',
      ...(c.calleeSends ? ['--send', doc] : ['--out', out]),
      '--ident',
      'CALLEE 2',
      ...common,
      ...(c.answer ?? []),
    ],
    { killAfterMs: 60_000 },
  );
  const sipPort = await callee.ready;
  const caller = await startSpandspSipPeer(
    [
      'call',
      `sip:fax@127.0.0.1:${sipPort}`,
      ...(c.calleeSends ? ['--out', out] : [doc]),
      '--ident',
      'CALLER 1',
      ...common,
      ...(c.call ?? []),
    ],
    { killAfterMs: 60_000 },
  );
  const [callerRun, calleeRun] = await Promise.all([caller.done, callee.done]);
  return { caller: callerRun, callee: calleeRun, out, wallMs: Date.now() - started };
}

async function assertDelivered(o: SipFaxOutcome): Promise<void> {
  assert.equal(o.caller.exitCode, 0, `caller failed: ${describePeerRun(o.caller)}`);
  assert.equal(o.callee.exitCode, 0, `callee failed: ${describePeerRun(o.callee)}`);
  const caller = o.caller.json!;
  const callee = o.callee.json!;
  for (const r of [caller, callee]) {
    assert.equal(r.ok, true);
    assert.equal(r.pages, HEIGHTS.length);
    assert.equal(r.resolution, 'fine');
  }
  assert.equal(caller.remoteIdent, 'CALLEE 2');
  assert.equal(callee.remoteIdent, 'CALLER 1');
  assert.equal(caller.sip?.role, 'call');
  assert.equal(callee.sip?.role, 'answer');
  assert.match(caller.sip?.remoteUdptl ?? '', /^127\.0\.0\.1:\d+$/);
  assert.match(callee.sip?.remoteUdptl ?? '', /^127\.0\.0\.1:\d+$/);
  // Exactly one side sent the BYE, and the other received it.
  assert.deepEqual([caller.sip?.byeBy, callee.sip?.byeBy].sort(), ['local', 'remote']);
  assert.ok(await sameTiffPixels(doc, o.out), 'received pages differ from the sent ones');
}

function diagnose(t: { diagnostic(message: string): void }, o: SipFaxOutcome): void {
  t.diagnostic(
    `wall ${o.wallMs} ms; fax ${o.caller.json?.durationMs}/${o.callee.json?.durationMs} ms; ` +
      `caller sip ${JSON.stringify(o.caller.json?.sip)}`,
  );
}

before(async () => {
  await buildSpandspSipPeer();
  dir = await mkdtemp(join(tmpdir(), 'spandsp-sip-peer-'));
  doc = join(dir, 'document.tif');
  // A 3-page fine-resolution TIFF, T.4 2-D coded.
  await writeTiffDocument(
    dir,
    doc,
    HEIGHTS.map((_, i) => pagePbm(i)),
    'g3:2d',
  );
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('audio first, then the callee re-INVITEs to T.38 as a called gateway does; 3 pages arrive intact', async (t) => {
  const o = await sipFax({});
  diagnose(t, o);
  await assertDelivered(o);
  const caller = o.caller.json!;
  const callee = o.callee.json!;
  assert.equal(caller.sip?.initialOffer, 'audio');
  assert.equal(callee.sip?.initialOffer, 'audio');
  assert.equal(callee.sip?.reinvitedBy, 'local');
  assert.equal(caller.sip?.reinvitedBy, 'remote');
  for (const r of [caller, callee]) {
    assert.deepEqual(r.sip?.t38, {
      version: 0,
      maxBitRate: 14400,
      rateManagement: 'transferredTCF',
      udpEc: 't38UDPRedundancy',
      remoteMaxDatagram: 400,
    });
    assert.equal(r.bitRate, 14400);
    assert.equal(r.ecm, true);
  }
  assert.equal(callee.compression, 'mmr');
  // The sender (caller) hangs up after DCN.
  assert.equal(caller.sip?.byeBy, 'local');
  assert.equal(callee.sip?.byeBy, 'remote');
});

test('T.38 in the initial INVITE: no re-INVITE, fax at once', async (t) => {
  const o = await sipFax({ call: ['--media', 't38'] });
  diagnose(t, o);
  await assertDelivered(o);
  for (const r of [o.caller.json!, o.callee.json!]) {
    assert.equal(r.sip?.initialOffer, 't38');
    assert.equal(r.sip?.reinvitedBy, 'none');
  }
});

test('the caller re-INVITEs when the callee does not; version, rate and datagram size are negotiated', async (t) => {
  const o = await sipFax({
    answer: [
      '--reinvite-after-ms',
      '60000',
      '--t38-version',
      '2',
      '--max-rate',
      '9600',
      '--max-datagram',
      '300',
    ],
    call: ['--reinvite-after-ms', '200', '--t38-version', '3'],
  });
  diagnose(t, o);
  await assertDelivered(o);
  const caller = o.caller.json!;
  const callee = o.callee.json!;
  assert.equal(caller.sip?.reinvitedBy, 'local');
  assert.equal(callee.sip?.reinvitedBy, 'remote');
  for (const r of [caller, callee]) {
    assert.equal(r.sip?.t38?.version, 2);
    assert.equal(r.sip?.t38?.maxBitRate, 9600);
    assert.equal(r.bitRate, 9600);
  }
  assert.equal(caller.sip?.t38?.remoteMaxDatagram, 300);
  assert.equal(callee.sip?.t38?.remoteMaxDatagram, 400);
});

test('an INVITE offering audio and T.38: the callee takes T.38 and sends, the caller receives (no ECM, MH)', async (t) => {
  const o = await sipFax({
    call: ['--media', 'audio+t38'],
    common: ['--ecm', 'off', '--compression', 'mh'],
    calleeSends: true,
  });
  diagnose(t, o);
  await assertDelivered(o);
  for (const r of [o.caller.json!, o.callee.json!]) {
    assert.equal(r.sip?.initialOffer, 'audio+t38');
    assert.equal(r.sip?.reinvitedBy, 'none');
    assert.equal(r.ecm, false);
  }
  assert.equal(o.caller.json!.compression, 'mh');
  // The sender hangs up after DCN: here the callee.
  assert.equal(o.callee.json!.sip?.byeBy, 'local');
});

test('a session refresh in the middle of the fax (re-INVITE, unchanged T.38) leaves the fax untouched', async (t) => {
  const o = await sipFax({ answer: ['--refresh-after-ms', '30'] });
  diagnose(t, o);
  await assertDelivered(o);
  assert.equal(o.callee.json?.sip?.refreshes, 1);
});

test('SIP over TCP (sofia on both ends): audio first, re-INVITE, fax', async (t) => {
  const o = await sipFax({ common: ['--transport', 'tcp'] });
  diagnose(t, o);
  await assertDelivered(o);
  assert.equal(o.caller.json?.sip?.reinvitedBy, 'remote');
});

test('both ends configured for FEC agree on t38UDPFEC and repair 3 % loss each way', async (t) => {
  const o = await sipFax({
    common: ['--fec', '3:3', '--loss', '3'],
    answer: ['--seed', '5'],
    call: ['--seed', '6'],
  });
  diagnose(t, o);
  await assertDelivered(o);
  for (const r of [o.caller.json!, o.callee.json!]) assert.equal(r.sip?.t38?.udpEc, 't38UDPFEC');
  assert.ok(
    o.caller.json!.txDropped > 0 && o.callee.json!.rxRecovered > 0,
    'loss was simulated and recovered',
  );
});

test('both ends re-INVITE at the same moment (glare, RFC 3261 §14.1 back-off): the fax still goes through', {
  timeout: 30_000,
}, async (t) => {
  const o = await sipFax({ answer: ['--reinvite-after-ms', '100'], call: ['--reinvite-after-ms', '100'] });
  diagnose(t, o);
  t.diagnostic(`491s: caller ${o.caller.json?.sip?.glare}, callee ${o.callee.json?.sip?.glare}`);
  await assertDelivered(o);
  assert.deepEqual([o.caller.json!.sip?.reinvitedBy, o.callee.json!.sip?.reinvitedBy].sort(), [
    'local',
    'remote',
  ]);
});

test('in real time (set SPANDSP_SIP_PEER_REALTIME=1; about 50 s): Asterisk-like timing, re-INVITE after 3 s of CED', {
  skip: process.env.SPANDSP_SIP_PEER_REALTIME ? false : 'real-time run is opt-in',
  timeout: 200_000,
}, async (t) => {
  const o = await sipFax({
    common: ['--pace', 'realtime', '--timeout-s', '150'],
    answer: ['--reinvite-after-ms', '3000'],
  });
  diagnose(t, o);
  await assertDelivered(o);
});

test('a voice line (audio-only) declines the T.38 stream: both ends fail promptly and say why', async (t) => {
  const o = await sipFax({ answer: ['--media', 'audio-only'], call: ['--reinvite-after-ms', '300'] });
  diagnose(t, o);
  assert.equal(o.caller.exitCode, 1, describePeerRun(o.caller));
  assert.equal(o.callee.exitCode, 1, describePeerRun(o.callee));
  assert.equal(o.caller.json?.ok, false);
  assert.match(o.caller.json?.reason ?? '', /declined T\.38/);
  assert.equal(o.caller.json?.sip?.t38, null);
  assert.equal(o.caller.json?.sip?.lastStatus, 0);
  assert.equal(o.caller.json?.pages, 0);
  assert.match(o.callee.json?.reason ?? '', /before T\.38/);
  assert.equal(o.callee.json?.sip?.byeBy, 'remote');
});

test('a callee that refuses T.38 answers the re-INVITE with 488: the caller fails with that status', async (t) => {
  const o = await sipFax({ answer: ['--media', 'refuse-t38'], call: ['--reinvite-after-ms', '300'] });
  diagnose(t, o);
  assert.equal(o.caller.exitCode, 1, describePeerRun(o.caller));
  assert.equal(o.callee.exitCode, 1, describePeerRun(o.callee));
  assert.match(o.caller.json?.reason ?? '', /T\.38 refused by the far end: re-INVITE answered 488/);
  assert.equal(o.caller.json?.sip?.lastStatus, 488);
  assert.equal(o.callee.json?.sip?.lastStatus, 488);
});

test('a T.38-only INVITE to a callee that refuses T.38 fails with 488; so does audio to a T.38-only callee', async () => {
  const refused = await sipFax({ answer: ['--media', 'refuse-t38'], call: ['--media', 't38'] });
  assert.equal(refused.caller.exitCode, 1, describePeerRun(refused.caller));
  assert.match(refused.caller.json?.reason ?? '', /INVITE failed: 488/);
  assert.equal(refused.callee.exitCode, 1, describePeerRun(refused.callee));
  const t38Only = await sipFax({ answer: ['--media', 't38'] });
  assert.equal(t38Only.caller.exitCode, 1, describePeerRun(t38Only.caller));
  assert.match(t38Only.caller.json?.reason ?? '', /INVITE failed: 488/);
});

/** Sends one INVITE carrying `body` from a raw UDP socket; returns the final response and the peer's report. */
async function offerRaw(body: string): Promise<{ response: string; run: SpandspSipPeerRun }> {
  const peer = await startSpandspSipPeer(
    ['answer', '--sip-port', '0', '--out', join(dir, 'never.tif'), '--timeout-s', '20'],
    { killAfterMs: 30_000 },
  );
  const sipPort = await peer.ready;
  const socket = createSocket('udp4');
  let response = '';
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const clientPort = socket.address().port;
    const common = (method: string, toTag: string) => [
      `${method} sip:fax@127.0.0.1:${sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${clientPort};branch=z9hG4bK-raw-${counter};rport`,
      'Max-Forwards: 70',
      `From: <sip:test@127.0.0.1:${clientPort}>;tag=t1`,
      `To: <sip:fax@127.0.0.1:${sipPort}>${toTag ? `;tag=${toTag}` : ''}`,
      `Call-ID: raw-${counter}@127.0.0.1`,
      `CSeq: 1 ${method}`,
    ];
    counter++;
    const invite = [
      ...common('INVITE', ''),
      `Contact: <sip:test@127.0.0.1:${clientPort}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    const final = new Promise<string>((resolve) => {
      socket.on('message', (msg) => {
        const text = msg.toString('utf8');
        if (!/^SIP\/2\.0 1\d\d /.test(text)) resolve(text);
      });
    });
    socket.send(invite, sipPort, '127.0.0.1');
    response = await final;
    // RFC 3261 §17.1.1.3: the ACK of a non-2xx final response is hop-by-hop, with the response's To tag.
    const toTag = /^To: .*;tag=([^;\r\n]+)/im.exec(response)?.[1] ?? '';
    socket.send([...common('ACK', toTag), 'Content-Length: 0', '', ''].join('\r\n'), sipPort, '127.0.0.1');
  } finally {
    socket.close();
  }
  return { response, run: await peer.done };
}

const sdpHead = 'v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\n';
const rawOffers: Array<{ name: string; body: string; reason: RegExp }> = [
  { name: 'text that is not SDP', body: 'this is not SDP\r\n', reason: /unusable offer: bad SDP/ },
  {
    name: 'an image stream without any c= line',
    body: `${sdpHead}t=0 0\r\nm=image 40000 udptl t38\r\na=T38FaxVersion:0\r\n`,
    reason: /unusable offer/,
  },
  {
    name: 'only a disabled image stream (port 0)',
    body: `${sdpHead}c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=image 0 udptl t38\r\n`,
    reason: /no acceptable stream/,
  },
  {
    name: 'audio in G.729 only',
    body: `${sdpHead}c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n`,
    reason: /no acceptable stream/,
  },
  {
    name: 'an image port beyond 65535',
    body: `${sdpHead}c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=image 99999 udptl t38\r\n`,
    reason: /port 99999 out of range/,
  },
  {
    name: 'nine m= lines',
    body: `${sdpHead}c=IN IP4 127.0.0.1\r\nt=0 0\r\n${'m=audio 40000 RTP/AVP 0\r\n'.repeat(9)}`,
    reason: /more than 8 m= lines/,
  },
];

for (const c of rawOffers) {
  test(`an INVITE whose SDP has ${c.name} is answered 488 and the peer says why`, async () => {
    const { response, run } = await offerRaw(c.body);
    assert.match(response, /^SIP\/2\.0 488 /);
    assert.equal(run.exitCode, 1, describePeerRun(run));
    assert.equal(run.json?.ok, false);
    assert.match(run.json?.reason ?? '', c.reason);
    assert.equal(run.json?.sip?.lastStatus, 488);
  });
}

test('a stopped peer still reports, and bad arguments give exit status 2', async () => {
  const peer = await startSpandspSipPeer(['answer', '--sip-port', '0', '--out', join(dir, 'x.tif')], {
    killAfterMs: 30_000,
  });
  const sipPort = await peer.ready;
  assert.ok(sipPort > 0);
  peer.kill();
  const stopped = await peer.done;
  assert.equal(stopped.exitCode, 1);
  assert.equal(stopped.json?.reason, 'stopped');

  const bad = await runSpandspSipPeer([
    'answer',
    '--sip-port',
    String(sipPort),
    '--out',
    'x.tif',
    '--media',
    'loud',
  ]);
  assert.equal(bad.exitCode, 2);
  assert.equal(bad.json?.ok, false);
  assert.match(bad.json?.reason ?? '', /--media/);
  assert.equal(bad.json?.sip, null);
});
