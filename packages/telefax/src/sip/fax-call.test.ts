import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { CED_FREQUENCY_HZ, CNG_FREQUENCY_HZ } from '../rtp/fax-tones.ts';
import { decodeG711 } from '../rtp/g711.ts';
import { toneShare } from '../rtp/goertzel.ts';
import { parseRtpPacket, type RtpPacket } from '../rtp/rtp-packet.ts';
import { answerFaxCalls, type FaxCall, FaxCallError, type FaxCallPolicy, placeFaxCall } from './fax-call.ts';
import { parseSdp, serializeSdp } from './sdp.ts';
import { answerOffer, audioMedia, createSessionDescription, t38ReOffer } from './sdp-offer-answer.ts';
import { t38OfferParams } from './sdp-t38.ts';
import { createResponse, type SipMessage, type SipRequest } from './sip-message.ts';
import { parseSipMessage } from './sip-parser.ts';
import { serializeSipMessage } from './sip-serializer.ts';
import { waitFor } from './sip-test-messages.ts';
import type { SipTransportProtocol } from './transport.ts';
import { UserAgent } from './user-agent.ts';

const FAST = { t1Ms: 20, t2Ms: 160, t4Ms: 100 };
const GLARE = { owner: [210, 400] as const, other: [0, 200] as const };
const agents: UserAgent[] = [];

async function agent(): Promise<UserAgent> {
  const ua = await UserAgent.create({ host: '127.0.0.1', port: 0, timers: FAST, glareBackoffMs: GLARE });
  agents.push(ua);
  return ua;
}

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
});

function uri(ua: UserAgent, protocol: SipTransportProtocol = 'UDP'): string {
  return `sip:fax@127.0.0.1:${ua.stack.port(protocol)}${protocol === 'TCP' ? ';transport=tcp' : ''}`;
}

/** A user agent answering fax calls on UDPTL port 30000; `incoming` is its first call. */
async function answeringAgent(
  policy: FaxCallPolicy,
): Promise<{ callee: UserAgent; incoming: Promise<FaxCall> }> {
  const callee = await agent();
  const incoming = new Promise<FaxCall>((resolve, reject) => {
    void answerFaxCalls({
      userAgent: callee,
      t38: { localPort: 30000 },
      policy,
      onCall: resolve,
      onError: reject,
    });
  });
  return { callee, incoming };
}

async function callPair(
  callerPolicy: FaxCallPolicy,
  calleePolicy: FaxCallPolicy,
  protocol: SipTransportProtocol = 'UDP',
): Promise<{ outgoing: FaxCall; incoming: FaxCall }> {
  const { callee, incoming } = await answeringAgent(calleePolicy);
  const caller = await agent();
  const outgoing = await placeFaxCall({
    target: uri(callee, protocol),
    userAgent: caller,
    t38: { localPort: 20000 },
    policy: callerPolicy,
  });
  return { outgoing, incoming: await incoming };
}

function assertCrossed(outgoing: FaxCall, incoming: FaxCall) {
  assert.equal(outgoing.media.remotePort, 30000);
  assert.equal(outgoing.media.remoteAddress, '127.0.0.1');
  assert.equal(incoming.media.remotePort, 20000);
  assert.equal(outgoing.media.agreed.rateManagement, 'transferredTCF');
  assert.equal(incoming.media.agreed.version, outgoing.media.agreed.version);
  assert.equal(outgoing.callId, incoming.callId);
}

describe('fax calls', () => {
  for (const protocol of ['UDP', 'TCP'] as const) {
    it(`audio first, the called side re-INVITEs to T.38 (${protocol}); hangup ends both`, async () => {
      const { outgoing, incoming } = await callPair(
        { reinviteWaitMs: 2000 },
        { answerReinviteDelayMs: 20 },
        protocol,
      );
      assertCrossed(outgoing, incoming);
      assert.equal(incoming.direction, 'incoming');
      assert.equal(incoming.invite?.method, 'INVITE');
      assert.match(incoming.invite!.uri, /^sip:fax@127\.0\.0\.1:\d+/);
      const audio = parseSdp(outgoing.dialog.localSdp!).media;
      assert.equal(audio.length, 2, 'our answer keeps the audio line (port 0) next to the image line');
      assert.equal(audio[0]!.port, 0);
      await outgoing.hangup();
      assert.equal((await incoming.ended).reason, 'remote-bye');
      assert.equal((await outgoing.ended).reason, 'local-bye');
    });
  }

  it('the backstop ends a call that nobody hangs up', async () => {
    const { outgoing, incoming } = await callPair(
      { initialOffer: 'both', maxCallDurationMs: 150 },
      { maxCallDurationMs: 60_000 },
    );
    assert.equal((await outgoing.ended).reason, 'max-duration');
    assert.equal((await incoming.ended).reason, 'remote-bye');
  });

  it('the caller re-INVITEs itself when the called side does not', async () => {
    const { outgoing, incoming } = await callPair({ reinviteWaitMs: 50 }, { sendReinvite: false });
    assertCrossed(outgoing, incoming);
    await incoming.hangup();
    assert.equal((await outgoing.ended).reason, 'remote-bye');
  });

  it('an initial offer with audio and image is answered with T.38 at once', async () => {
    const { outgoing, incoming } = await callPair(
      { initialOffer: 'both', sendReinvite: false },
      { sendReinvite: false },
    );
    assertCrossed(outgoing, incoming);
    assert.equal(parseSdp(outgoing.dialog.remoteSdp!).media[0]!.port, 0);
    await outgoing.hangup();
  });

  it('a T.38-only offer is answered with T.38', async () => {
    const { outgoing, incoming } = await callPair({ initialOffer: 't38', sendReinvite: false }, {});
    assertCrossed(outgoing, incoming);
    await outgoing.hangup();
  });

  it('glare: both sides re-INVITE at once, 491 back-off resolves it', async () => {
    const { outgoing, incoming } = await callPair({ reinviteWaitMs: 30 }, { answerReinviteDelayMs: 30 });
    assertCrossed(outgoing, incoming);
    await outgoing.hangup();
  });

  it('a session refresh after T.38 is answered with the identical description', async () => {
    const { outgoing, incoming } = await callPair({ reinviteWaitMs: 2000 }, { answerReinviteDelayMs: 10 });
    let changed = false;
    outgoing.onMediaChange = () => (changed = true);
    incoming.onMediaChange = () => (changed = true);
    const before = incoming.dialog.localSdp;
    const response = await outgoing.dialog.reinvite(outgoing.dialog.localSdp!);
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), before);
    assert.equal(changed, false);
    await outgoing.hangup();
  });

  it('488 to our T.38 re-INVITE ends the call as t38_not_supported', async () => {
    const callee = await agent();
    let ended: Promise<{ reason: string }> | undefined;
    callee.onInvite = (invite) => {
      const answer = answerOffer(invite.offer!, {
        origin: { address: '127.0.0.1', sessionId: '1', sessionVersion: 1 },
        audioPort: 31000,
      });
      void invite.accept({
        sdp: serializeSdp(answer.sdp),
        onDialog: (d) => {
          d.onReinvite = async () => ({ status: 488 });
          ended = d.ended;
        },
      });
    };
    const caller = await agent();
    await assert.rejects(
      placeFaxCall({
        target: uri(callee),
        userAgent: caller,
        t38: { localPort: 20000 },
        policy: { reinviteWaitMs: 20 },
      }),
      (err: unknown) =>
        err instanceof FaxCallError && err.reason === 't38_not_supported' && err.status === 488,
    );
    assert.equal((await ended!).reason, 'remote-bye');
  });

  it('a callee that accepts audio only and never switches ends as fax_not_detected', async () => {
    const callee = await agent();
    callee.onInvite = (invite) => {
      const answer = answerOffer(invite.offer!, {
        origin: { address: '127.0.0.1', sessionId: '1', sessionVersion: 1 },
        audioPort: 31000,
      });
      void invite.accept({ sdp: serializeSdp(answer.sdp) });
    };
    const caller = await agent();
    await assert.rejects(
      placeFaxCall({
        target: uri(callee),
        userAgent: caller,
        t38: { localPort: 20000 },
        policy: { sendReinvite: false, switchTimeoutMs: 200 },
      }),
      (err: unknown) => err instanceof FaxCallError && err.reason === 'fax_not_detected',
    );
    assert.equal(caller.dialogCount, 0);
  });

  it('a T.38-only offer to an audio-only peer fails as t38_not_supported; busy maps to busy', async () => {
    const callee = await agent();
    callee.onInvite = (invite) => {
      const answer = answerOffer(invite.offer!, {
        origin: { address: '127.0.0.1', sessionId: '1', sessionVersion: 1 },
        audioPort: 31000,
      });
      if (answer.accepted === null) invite.reject(488);
      else invite.reject(486);
    };
    const caller = await agent();
    await assert.rejects(
      placeFaxCall({
        target: uri(callee),
        userAgent: caller,
        t38: { localPort: 20000 },
        policy: { initialOffer: 't38' },
      }),
      (err: unknown) => err instanceof FaxCallError && err.reason === 't38_not_supported',
    );
    await assert.rejects(
      placeFaxCall({ target: uri(callee), userAgent: caller, t38: { localPort: 20000 } }),
      (err: unknown) => err instanceof FaxCallError && err.reason === 'busy',
    );
  });

  it('answerFaxCalls: an async accept() can refuse a number, and a caller that gives up is reported', async () => {
    const callee = await agent();
    const caller = await agent();
    const errors: FaxCallError[] = [];
    await answerFaxCalls({
      userAgent: callee,
      t38: async () => ({ localPort: 30000 }),
      accept: async (invite) => {
        await new Promise((r) => setTimeout(r, 100));
        return invite.request.uri.startsWith('sip:unknown') ? 404 : true;
      },
      onCall: () => assert.fail('no call expected'),
      onError: (e) => errors.push(e),
    });
    const port = callee.stack.port('UDP');
    await assert.rejects(
      placeFaxCall({ target: `sip:unknown@127.0.0.1:${port}`, userAgent: caller, t38: { localPort: 20000 } }),
      (err: unknown) => err instanceof FaxCallError && err.reason === 'rejected' && err.status === 404,
    );
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 30);
    await assert.rejects(
      placeFaxCall({
        target: `sip:fax@127.0.0.1:${port}`,
        userAgent: caller,
        t38: { localPort: 20000 },
        signal: abort.signal,
      }),
      (err: unknown) => err instanceof FaxCallError && err.reason === 'cancelled',
    );
    await waitFor(() => errors.length > 0, 5000, 'the callee to report the cancelled call');
    assert.deepEqual(
      errors.map((e) => e.reason),
      ['cancelled'],
    );
  });

  it('a late-offer INVITE (no SDP, Cisco delayed offer): we offer audio in the 200, then move to T.38', async () => {
    const { callee, incoming: call } = await answeringAgent({ answerReinviteDelayMs: 10 });
    const raw = createSocket('udp4');
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
    const inbox: SipMessage[] = [];
    const waiters: Array<() => void> = [];
    raw.on('message', (m) => {
      inbox.push(parseSipMessage(m));
      waiters.shift()?.();
    });
    const next = async (match: (m: SipMessage) => boolean): Promise<SipMessage> => {
      for (;;) {
        const i = inbox.findIndex(match);
        if (i >= 0) return inbox.splice(i, 1)[0]!;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    const send = (text: string) => raw.send(text, callee.stack.port('UDP'), '127.0.0.1');
    const port = raw.address().port;
    const common = ['From: <sip:cisco@127.0.0.1>;tag=ci1', 'Call-ID: late-offer-1', 'Max-Forwards: 70'];
    send(
      [
        `INVITE sip:fax@127.0.0.1:${callee.stack.port('UDP')} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKlate1`,
        ...common,
        'To: <sip:fax@127.0.0.1>',
        'CSeq: 101 INVITE',
        `Contact: <sip:cisco@127.0.0.1:${port}>`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const ok = await next((m) => m.kind === 'response' && m.status === 200);
    const offer = parseSdp(ok.body.toString());
    assert.equal(offer.media.length, 1);
    assert.equal(offer.media[0]!.type, 'audio');
    const answer = serializeSdp(
      answerOffer(offer, {
        origin: { address: '127.0.0.1', sessionId: '9', sessionVersion: 1 },
        audioPort: 17000,
      }).sdp,
    );
    const to = ok.headers.get('to')!;
    send(
      [
        `ACK sip:telefax@127.0.0.1:${callee.stack.port('UDP')} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKlate1ack`,
        ...common,
        `To: ${to}`,
        'CSeq: 101 ACK',
        'Content-Type: application/sdp',
        `Content-Length: ${answer.length}`,
        '',
        answer,
      ].join('\r\n'),
    );
    const reinvite = (await next((m) => m.kind === 'request' && m.method === 'INVITE')) as SipRequest;
    const t38Answer = answerOffer(parseSdp(reinvite.body.toString()), {
      origin: { address: '127.0.0.1', sessionId: '9', sessionVersion: 2 },
      t38Port: 17002,
    });
    assert.equal(t38Answer.accepted, 't38');
    raw.send(
      serializeSipMessage(
        createResponse(reinvite, 200, {
          headers: [
            ['Contact', `<sip:cisco@127.0.0.1:${port}>`],
            ['Content-Type', 'application/sdp'],
          ],
          body: serializeSdp(t38Answer.sdp),
        }),
      ),
      callee.stack.port('UDP'),
      '127.0.0.1',
    );
    const fax = await call;
    assert.equal(fax.media.remotePort, 17002);
    assert.equal(fax.callId, 'late-offer-1');
    await next((m) => m.kind === 'request' && m.method === 'ACK');
    raw.close();
    fax.dialog.terminate('closed');
  });

  it('placeFaxCall binds and releases its own user agent', async () => {
    const callee = await agent();
    const incoming = new Promise<FaxCall>((resolve) => {
      void answerFaxCalls({ userAgent: callee, t38: { localPort: 30000 }, onCall: resolve });
    });
    const outgoing = await placeFaxCall({
      target: uri(callee),
      localSipPort: 0,
      t38: { localPort: 20000 },
      policy: { initialOffer: 'both' },
    });
    assertCrossed(outgoing, await incoming);
    await outgoing.hangup();
    await outgoing.ended;
  });
});

describe('fax calls: the audio phase', () => {
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) s.close();
  });

  /** An RTP port on 127.0.0.1 that keeps every RTP packet it receives. */
  async function rtpListener(): Promise<{ port: number; packets: RtpPacket[] }> {
    const socket = createSocket('udp4');
    sockets.push(socket);
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const packets: RtpPacket[] = [];
    socket.on('message', (m) => {
      const packet = parseRtpPacket(m);
      if (packet) packets.push(packet);
    });
    return { port: socket.address().port, packets };
  }

  function assertStream(packets: readonly RtpPacket[], payloadType: number) {
    assert.ok(packets.length > 10, `${packets.length} packets`);
    for (let i = 1; i < packets.length; i++) {
      const [a, b] = [packets[i - 1]!, packets[i]!];
      assert.equal(b.payloadType, payloadType);
      assert.equal(b.ssrc, a.ssrc);
      assert.equal(b.sequenceNumber, (a.sequenceNumber + 1) & 0xffff);
      const step = (b.timestamp - a.timestamp) >>> 0;
      assert.ok(step >= 160 && step % 160 === 0, `timestamp step ${step}`);
    }
  }

  /** The received audio laid out by RTP timestamp from the first packet (a skipped stretch stays zero). */
  function timeline(packets: readonly RtpPacket[], codec: 'PCMU' | 'PCMA'): Int16Array {
    const first = packets[0]!.timestamp;
    const end = ((packets.at(-1)!.timestamp - first) >>> 0) + 160;
    const out = new Int16Array(end);
    for (const p of packets) out.set(decodeG711(p.payload, codec), (p.timestamp - first) >>> 0);
    return out;
  }
  const silent = (samples: Int16Array) => samples.every((x) => Math.abs(x) <= 8);

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('the caller sends CNG over RTP in the codec of the answer (PCMA only), and stops when T.38 takes over', async () => {
    const rtp = await rtpListener();
    const callee = await agent();
    let offered: string[] = [];
    const dialog = new Promise<import('./dialog.ts').Dialog>((resolve) => {
      callee.onInvite = (invite) => {
        offered = [...invite.offer!.media[0]!.formats];
        const answer = answerOffer(invite.offer!, {
          origin: { address: '127.0.0.1', sessionId: '1', sessionVersion: 1 },
          audioPort: rtp.port,
          codecs: ['PCMA'],
        });
        void invite.accept({ sdp: serializeSdp(answer.sdp) }).then(resolve);
      };
    });
    const caller = await agent();
    const placed = placeFaxCall({
      target: uri(callee),
      userAgent: caller,
      t38: { localPort: 20000 },
      policy: { reinviteWaitMs: 10_000 },
    });
    const answered = await dialog;
    assert.deepEqual(offered, ['0', '8', '101'], 'default offer: PCMU, PCMA, telephone-event');
    await waitFor(() => rtp.packets.length >= 30, 5000, 'RTP from the caller');
    assertStream(rtp.packets, 8);
    // CNG: 0.5 s of 1100 Hz (4000 samples), then silence.
    const audio = timeline(rtp.packets, 'PCMA');
    const cng = audio.subarray(0, 4000);
    assert.ok(toneShare(cng, CNG_FREQUENCY_HZ) > 0.95, `1100 Hz share ${toneShare(cng, CNG_FREQUENCY_HZ)}`);
    assert.ok(toneShare(cng, CED_FREQUENCY_HZ) < 0.01);
    assert.ok(silent(audio.subarray(4000, 4800)), 'silence after the burst');

    const reoffer = t38ReOffer(
      { address: '127.0.0.1', sessionId: '1', sessionVersion: 2 },
      parseSdp(answered.localSdp!),
      31002,
      t38OfferParams(),
    );
    assert.equal((await answered.reinvite(serializeSdp(reoffer))).status, 200);
    const call = await placed;
    assert.equal(call.media.remotePort, 31002);
    await sleep(100);
    const settled = rtp.packets.length;
    await sleep(300);
    assert.equal(rtp.packets.length, settled, 'no RTP after the switch to T.38');
    await call.hangup();
  });

  it('the answerer takes a PCMA-only offer, plays CED after the silence, and stops at T.38', async () => {
    const rtp = await rtpListener();
    const { callee, incoming } = await answeringAgent({ sendReinvite: false, cedDelayMs: 200 });
    const caller = await agent();
    const offer = createSessionDescription({ address: '127.0.0.1', sessionId: '7', sessionVersion: 1 }, [
      audioMedia(rtp.port, ['PCMA']),
    ]);
    const dialog = await caller.invite(uri(callee), { sdp: serializeSdp(offer) }).dialog;
    const answer = parseSdp(dialog.remoteSdp!).media[0]!;
    assert.deepEqual(answer.formats, ['8', '101']);
    // 200 ms of silence (10 packets), then CED.
    await waitFor(() => rtp.packets.length >= 40, 5000, 'RTP from the answerer');
    assertStream(rtp.packets, 8);
    assert.ok(silent(timeline(rtp.packets, 'PCMA').subarray(0, 1600)), 'silence before CED');
    const ced = timeline(rtp.packets, 'PCMA').subarray(1600, 6400);
    assert.ok(toneShare(ced, CED_FREQUENCY_HZ) > 0.95, `2100 Hz share ${toneShare(ced, CED_FREQUENCY_HZ)}`);
    assert.ok(toneShare(ced, CNG_FREQUENCY_HZ) < 0.01);

    const reoffer = t38ReOffer(
      { address: '127.0.0.1', sessionId: '7', sessionVersion: 2 },
      offer,
      21002,
      t38OfferParams(),
    );
    assert.equal((await dialog.reinvite(serializeSdp(reoffer))).status, 200);
    const call = await incoming;
    assert.equal(call.media.remotePort, 21002);
    await sleep(100);
    const settled = rtp.packets.length;
    await sleep(300);
    assert.equal(rtp.packets.length, settled, 'no RTP after the switch to T.38');
    await dialog.bye('local-bye');
  });

  it('codecs: an offer of only PCMA, and an answerer that takes only PCMU refuses it', async () => {
    const callee = await agent();
    const errors: FaxCallError[] = [];
    await answerFaxCalls({
      userAgent: callee,
      t38: { localPort: 30000, codecs: ['PCMU'] },
      onCall: () => assert.fail('no call expected'),
      onError: (e) => errors.push(e),
    });
    const caller = await agent();
    const rejected = await placeFaxCall({
      target: uri(callee),
      userAgent: caller,
      t38: { localPort: 20000, codecs: ['PCMA'] },
    }).catch((e: unknown) => e);
    assert.ok(rejected instanceof FaxCallError && rejected.status === 488, String(rejected));
    await waitFor(() => errors.length > 0, 5000, 'the callee to report the refusal');
    assert.equal(errors[0]!.reason, 't38_not_supported');
  });

  it('a caller hearing CED re-INVITEs at once instead of waiting reinviteWaitMs', async () => {
    const { callee, incoming } = await answeringAgent({ sendReinvite: false, cedDelayMs: 0 });
    const caller = await agent();
    const outgoing = await placeFaxCall({
      target: uri(callee),
      userAgent: caller,
      t38: { localPort: 20000 },
      policy: { reinviteWaitMs: 60_000, switchTimeoutMs: 4000 },
    });
    assertCrossed(outgoing, await incoming);
    await outgoing.hangup();
  });
});
