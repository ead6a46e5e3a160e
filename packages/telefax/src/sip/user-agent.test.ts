import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { formatDigestChallenge, verifyAuthorization } from './digest-auth.ts';
import type { IncomingInvite } from './incoming-invite.ts';
import { parseSdp, serializeSdp } from './sdp.ts';
import { activeMedia, audioMedia, createSessionDescription, t38ReOffer } from './sdp-offer-answer.ts';
import { t38OfferParams } from './sdp-t38.ts';
import type { SipResponse } from './sip-message.ts';
import { parseSipMessage } from './sip-parser.ts';
import { SipRequestError } from './sip-request-error.ts';
import { waitFor } from './sip-test-messages.ts';
import type { SipTransportProtocol } from './transport.ts';
import { UserAgent, type UserAgentOptions } from './user-agent.ts';

const FAST = { t1Ms: 20, t2Ms: 160, t4Ms: 100 };
const agents: UserAgent[] = [];

async function agent(options: Partial<UserAgentOptions> = {}): Promise<UserAgent> {
  const ua = await UserAgent.create({ host: '127.0.0.1', port: 0, timers: FAST, ...options });
  agents.push(ua);
  return ua;
}

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
});

function audioSdp(port: number, version = 1): string {
  return serializeSdp(
    createSessionDescription({ address: '127.0.0.1', sessionId: '7', sessionVersion: version }, [
      audioMedia(port),
    ]),
  );
}

function nextInvite(ua: UserAgent): Promise<IncomingInvite> {
  return new Promise((resolve) => {
    ua.onInvite = (invite) => resolve(invite);
  });
}

function target(ua: UserAgent, protocol: SipTransportProtocol): string {
  return `sip:fax@127.0.0.1:${ua.stack.port(protocol)}${protocol === 'TCP' ? ';transport=tcp' : ''}`;
}

for (const protocol of ['UDP', 'TCP'] as const) {
  describe(`UA to UA over ${protocol}`, () => {
    it('INVITE/200/ACK, re-INVITE to T.38, BYE', async () => {
      const caller = await agent();
      const callee = await agent();
      const incoming = nextInvite(callee);
      const call = caller.invite(target(callee, protocol), { sdp: audioSdp(40000) });
      const provisional: number[] = [];
      call.onProvisional = (r) => provisional.push(r.status);
      const invite = await incoming;
      assert.equal(activeMedia(invite.offer!).audio?.port, 40000);
      invite.progress(180);
      const [uasDialog, uacDialog] = await Promise.all([
        invite.accept({ sdp: audioSdp(41000) }),
        call.dialog,
      ]);
      assert.ok(provisional.includes(180));
      assert.equal(uacDialog.callId, uasDialog.callId);
      assert.equal(uacDialog.remoteTag, uasDialog.localTag);
      assert.equal(activeMedia(parseSdp(uacDialog.remoteSdp!)).audio?.port, 41000);
      assert.equal(caller.dialogCount, 1);
      assert.equal(callee.dialogCount, 1);

      uasDialog.onReinvite = async (_req, offer) => {
        const t38 = activeMedia(offer!).t38!;
        assert.equal(t38.port, 42000);
        const answer = t38ReOffer(
          { address: '127.0.0.1', sessionId: '7', sessionVersion: 2 },
          parseSdp(uasDialog.localSdp!),
          43000,
          t38OfferParams(),
        );
        return { status: 200, sdp: serializeSdp(answer) };
      };
      const reoffer = serializeSdp(
        t38ReOffer(
          { address: '127.0.0.1', sessionId: '7', sessionVersion: 2 },
          undefined,
          42000,
          t38OfferParams(),
        ),
      );
      const response = await uacDialog.reinvite(reoffer);
      assert.equal(response.status, 200);
      assert.equal(activeMedia(parseSdp(uacDialog.remoteSdp!)).t38?.port, 43000);

      if (protocol === 'TCP') {
        // Requests to the callee reuse one connection; responses come back on it.
        assert.equal(caller.stack.tcpConnectionCount, 1);
        assert.equal(callee.stack.tcpConnectionCount, 1);
      }
      await uacDialog.bye();
      assert.deepEqual(await uasDialog.ended, { reason: 'remote-bye' });
      assert.deepEqual(await uacDialog.ended, { reason: 'local-bye' });
      assert.equal(callee.dialogCount, 0);
      assert.equal(caller.dialogCount, 0);
    });

    it('CANCEL while ringing: 487 to the caller, onCancel at the callee', async () => {
      const caller = await agent();
      const callee = await agent();
      const incoming = nextInvite(callee);
      const call = caller.invite(target(callee, protocol), { sdp: audioSdp(40000) });
      const invite = await incoming;
      const cancelled = new Promise<void>((resolve) => {
        invite.onCancel = resolve;
      });
      invite.progress(180);
      call.onProvisional = () => call.cancel();
      await cancelled;
      await assert.rejects(
        call.dialog,
        (err: unknown) => err instanceof SipRequestError && err.code === 'cancelled',
      );
      assert.equal(invite.state, 'cancelled');
      assert.equal(callee.dialogCount, 0);
    });
  });
}

describe('UA edge cases', () => {
  it('a 200 that crosses our CANCEL is ACKed and then ended with BYE', async () => {
    const caller = await agent();
    const callee = await agent();
    const incoming = nextInvite(callee);
    const call = caller.invite(target(callee, 'UDP'), { sdp: audioSdp(40000) });
    const invite = await incoming;
    // The CANCEL leaves now (the 100 Trying is in), but our 200 is sent before it arrives: the 200 wins.
    call.cancel();
    const dialog = await invite.accept({ sdp: audioSdp(41000) });
    await assert.rejects(
      call.dialog,
      (err: unknown) => err instanceof SipRequestError && err.code === 'cancelled',
    );
    assert.equal((await dialog.ended).reason, 'remote-bye');
  });

  it('works over IPv6 loopback (Via and URIs with [::1])', async (t) => {
    let a: UserAgent;
    try {
      a = await agent({ host: '::1' });
    } catch {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    const b = await agent({ host: '::1' });
    for (const protocol of ['UDP', 'TCP'] as const) {
      const suffix = protocol === 'TCP' ? ';transport=tcp' : '';
      const response = await a.options(`sip:fax@[::1]:${b.stack.port(protocol)}${suffix}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('via')!, /^SIP\/2.0\/(UDP|TCP) \[::1\]:\d+;.*received=::1/);
    }
  });

  it('OPTIONS is answered with Allow and Accept', async () => {
    const a = await agent();
    const b = await agent();
    const response = await a.options(target(b, 'UDP'));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('allow')!, /INVITE/);
    assert.equal(response.headers.get('accept'), 'application/sdp');
  });

  it('an INVITE rejected with 488 fails with the status', async () => {
    const caller = await agent();
    const callee = await agent();
    const incoming = nextInvite(callee);
    const call = caller.invite(target(callee, 'TCP'), { sdp: audioSdp(40000) });
    (await incoming).reject(488);
    await assert.rejects(call.dialog, (err: unknown) => err instanceof SipRequestError && err.status === 488);
  });

  it('REGISTER with digest (MD5 and SHA-256) against a tiny registrar, with refresh and wrong password', async () => {
    for (const algorithm of ['MD5', 'SHA-256']) {
      const registrar = await agent();
      const bindings = new Map<string, string>();
      let nonceCount = 0;
      registrar.onRequest = (request, respond) => {
        assert.equal(request.method, 'REGISTER');
        const auth = request.headers.get('authorization');
        const check = auth
          ? verifyAuthorization(auth, request, (user) => (user === 'fax1' ? 'pw1' : undefined))
          : { ok: false };
        if (!check.ok) {
          const challenge = formatDigestChallenge('faxwire', `n${++nonceCount}`, { algorithm });
          respond(401, { headers: [['WWW-Authenticate', challenge]] });
          return;
        }
        bindings.set(request.headers.get('to')!, request.headers.get('contact')!);
        respond(200, {
          headers: [['Contact', `${request.headers.get('contact')!};expires=1`]],
        });
      };
      const client = await agent();
      const reg = await client.register({
        registrar: `sip:127.0.0.1:${registrar.stack.port('UDP')}`,
        aor: 'sip:fax1@faxwire.test',
        credentials: { username: 'fax1', password: 'pw1' },
        expiresS: 60,
      });
      assert.equal(reg.expiresS, 1);
      assert.equal(bindings.size, 1);
      await waitFor(() => reg.refreshCount >= 2, 5000, 'a refresh');
      await reg.stop();

      const before = nonceCount;
      await assert.rejects(
        client.register({
          registrar: `sip:127.0.0.1:${registrar.stack.port('UDP')}`,
          aor: 'sip:fax1@faxwire.test',
          credentials: { username: 'fax1', password: 'wrong' },
        }),
        (err: unknown) => err instanceof SipRequestError && err.code === 'auth_failed',
      );
      assert.equal(nonceCount - before, 2, 'one retry with the rejected credentials, then give up');
    }
  });

  it('a stale nonce is answered again with the fresh nonce', async () => {
    const registrar = await agent();
    const nonces: string[] = [];
    registrar.onRequest = (request, respond) => {
      const auth = request.headers.get('authorization');
      const check = auth ? verifyAuthorization(auth, request, () => 'pw') : { ok: false, nonce: undefined };
      if (!check.ok || check.nonce !== 'fresh') {
        const stale = check.ok;
        nonces.push(stale ? 'fresh' : 'old');
        const challenge = formatDigestChallenge('faxwire', stale ? 'fresh' : 'old', { stale });
        respond(401, { headers: [['WWW-Authenticate', challenge]] });
        return;
      }
      respond(200, { headers: [['Expires', '60']] });
    };
    const client = await agent();
    const reg = await client.register({
      registrar: `sip:127.0.0.1:${registrar.stack.port('UDP')}`,
      aor: 'sip:fax1@faxwire.test',
      credentials: { username: 'fax1', password: 'pw' },
    });
    assert.deepEqual(nonces, ['old', 'fresh']);
    assert.equal(reg.expiresS, 60);
    await reg.stop();
  });

  it('INVITE challenged with 407 is retried once with Proxy-Authorization', async () => {
    const caller = await agent({ credentials: { username: 'u', password: 'p' } });
    const callee = await agent();
    let challenges = 0;
    callee.onInvite = (invite) => {
      const auth = invite.request.headers.get('proxy-authorization');
      if (!auth || !verifyAuthorization(auth, invite.request, () => 'p').ok) {
        challenges++;
        invite.transaction.respond(
          (() => {
            const r = parseSipMessage(
              Buffer.from(
                `SIP/2.0 407 Proxy Authentication Required\r\n${[...invite.request.headers.entries()]
                  .filter(([n]) => ['Via', 'From', 'To', 'Call-ID', 'CSeq'].includes(n))
                  .map(([n, v]) => `${n}: ${v}${n === 'To' ? ';tag=px' : ''}`)
                  .join('\r\n')}\r\nProxy-Authenticate: ${formatDigestChallenge('proxy', 'abc', {
                  algorithm: 'SHA-256',
                })}\r\nContent-Length: 0\r\n\r\n`,
              ),
            );
            return r as SipResponse;
          })(),
        );
        callee.releaseInvite(invite);
        return;
      }
      void invite.accept({ sdp: audioSdp(41000) });
    };
    const dialog = await caller.invite(target(callee, 'UDP'), { sdp: audioSdp(40000) }).dialog;
    assert.equal(challenges, 1);
    await dialog.bye();
  });

  it('glare: both sides re-INVITE at once, one gets 491, backs off and succeeds', async () => {
    const caller = await agent({ glareBackoffMs: { owner: [210, 400], other: [0, 200] } });
    const callee = await agent({ glareBackoffMs: { owner: [210, 400], other: [0, 200] } });
    const incoming = nextInvite(callee);
    const call = caller.invite(target(callee, 'UDP'), { sdp: audioSdp(40000) });
    const invite = await incoming;
    const [uas, uac] = await Promise.all([invite.accept({ sdp: audioSdp(41000) }), call.dialog]);
    const slowAnswer = (port: number) => async () => {
      await new Promise((r) => setTimeout(r, 50));
      return { status: 200, sdp: audioSdp(port, 9) };
    };
    uac.onReinvite = slowAnswer(40002);
    uas.onReinvite = slowAnswer(41002);
    const [r1, r2] = await Promise.all([
      uac.reinvite(audioSdp(40001, 2), { retryOnGlare: true }),
      uas.reinvite(audioSdp(41001, 2), { retryOnGlare: true }),
    ]);
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200);
    await uac.bye();
  });

  it('a peer that never ACKs our 200: the 200 is retransmitted, then the dialog ends with BYE', async () => {
    const callee = await agent();
    const invite = nextInvite(callee);
    const raw = createSocket('udp4');
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
    const received: string[] = [];
    raw.on('message', (m) => received.push(m.toString()));
    const port = raw.address().port;
    const sdp = audioSdp(40000);
    raw.send(
      [
        `INVITE sip:fax@127.0.0.1:${callee.stack.port('UDP')} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKnoack1`,
        `From: <sip:raw@127.0.0.1>;tag=raw1`,
        'To: <sip:fax@127.0.0.1>',
        'Call-ID: noack-1',
        'CSeq: 1 INVITE',
        `Contact: <sip:raw@127.0.0.1:${port}>`,
        'Max-Forwards: 70',
        'Content-Type: application/sdp',
        `Content-Length: ${sdp.length}`,
        '',
        sdp,
      ].join('\r\n'),
      callee.stack.port('UDP'),
      '127.0.0.1',
    );
    const pending = (await invite).accept({ sdp: audioSdp(41000) });
    await assert.rejects(pending, (err: unknown) => err instanceof SipRequestError && err.code === 'no_ack');
    raw.close();
    const oks = received.filter((m) => m.startsWith('SIP/2.0 200'));
    assert.ok(oks.length >= 3, `200 sent ${oks.length} times`);
    assert.ok(received.some((m) => m.startsWith('BYE ')));
    assert.equal(callee.dialogCount, 0);
  });

  it('malformed and oversized messages get 400/513 or are dropped, and the UA keeps working', async () => {
    const ua = await agent();
    const raw = createSocket('udp4');
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
    const replies: string[] = [];
    raw.on('message', (m) => replies.push(m.toString()));
    const port = raw.address().port;
    const base = [
      `OPTIONS sip:fax@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKmal1`,
      'From: <sip:raw@127.0.0.1>;tag=r',
      'To: <sip:fax@127.0.0.1>',
      'Call-ID: mal-1',
      'Max-Forwards: 70',
    ];
    const send = (text: string | Buffer) =>
      new Promise<void>((r) => raw.send(text, ua.stack.port('UDP'), '127.0.0.1', () => r()));
    await send([...base, 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n'));
    await send([...base, 'CSeq: 2 OPTIONS', 'Content-Length: 99', '', 'x'].join('\r\n'));
    await send(
      [
        ...base,
        'CSeq: 3 OPTIONS',
        `X-Big: ${'a'.repeat(30000)}`,
        `X-Big2: ${'a'.repeat(30000)}`,
        '',
        '',
      ].join('\r\n'),
    );
    await send('\x00\x01garbage\r\n\r\n');
    await send([...base, 'CSeq: 4 OPTIONS', 'Content-Length: 40000', '', 'x'.repeat(40000)].join('\r\n'));
    await send(Buffer.alloc(60000, 0x41));
    const good = base.slice(1);
    await send(
      ['OPTIONS urn:x-unknown:thing SIP/2.0', ...good, 'CSeq: 5 OPTIONS', 'Content-Length: 0', '', ''].join(
        '\r\n',
      ),
    );
    const unsupported = [...good.map((l) => l.replace('mal1', 'mal6')), 'Require: foo', 'CSeq: 6 OPTIONS'];
    await send(
      ['OPTIONS sip:fax@127.0.0.1 SIP/2.0', ...unsupported, 'Content-Length: 0', '', ''].join('\r\n'),
    );
    await waitFor(() => replies.length >= 6, 5000, 'six replies');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      replies.some((m) => m.startsWith('SIP/2.0 400 CSeq method does not match')),
      replies.join('\n'),
    );
    assert.ok(replies.some((m) => m.startsWith('SIP/2.0 400 Body shorter than Content-Length')));
    assert.ok(replies.some((m) => m.startsWith('SIP/2.0 400 Header line too long')));
    assert.ok(replies.some((m) => m.startsWith('SIP/2.0 413 ')));
    assert.ok(replies.some((m) => m.startsWith('SIP/2.0 416 ')));
    assert.ok(replies.some((m) => m.startsWith('SIP/2.0 420 ') && /\r\nUnsupported: foo\r\n/.test(m)));
    assert.equal(replies.length, 6, 'garbage without a usable Via gets no reply');
    raw.close();
    // A TCP peer that sends an endless header section is disconnected.
    const sock = connect(ua.stack.port('TCP'), '127.0.0.1');
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    sock.write(Buffer.alloc(80000, 0x41));
    await closed;
    const other = await agent();
    assert.equal((await other.options(target(ua, 'TCP'))).status, 200);
  });

  it('session timers: the refresher re-INVITEs with the same SDP; without refreshes the peer ends the call', async () => {
    const caller = await agent({ sessionExpiresS: 1, minSessionExpiresS: 1 });
    const callee = await agent({ minSessionExpiresS: 1 });
    const incoming = nextInvite(callee);
    const call = caller.invite(target(callee, 'UDP'), { sdp: audioSdp(40000) });
    const invite = await incoming;
    const [uas, uac] = await Promise.all([invite.accept({ sdp: audioSdp(41000) }), call.dialog]);
    assert.deepEqual(uac.sessionTimer, { intervalS: 1, weRefresh: true });
    assert.deepEqual(uas.sessionTimer, { intervalS: 1, weRefresh: false });
    const firstSeq = uas.remoteSeq!;
    const answer = uas.localSdp;
    await waitFor(() => uas.remoteSeq! >= firstSeq + 2, 5000, 'two refreshes');
    assert.equal(uas.localSdp, answer);
    assert.equal(uac.remoteSdp, answer);
    assert.equal(uas.state, 'confirmed');
    uac.terminate('closed'); // the refresher vanishes without BYE
    assert.equal((await uas.ended).reason, 'session-expired');
  });

  it('a flood of INVITEs keeps state bounded: 503 over the transaction limit', async () => {
    const ua = await agent({ maxTransactions: 50 });
    const raw = createSocket('udp4');
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
    const statuses = new Map<number, number>();
    raw.on('message', (m) => {
      const status = Number(m.toString().slice(8, 11));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    const port = raw.address().port;
    for (let i = 0; i < 300; i++) {
      const text = [
        `INVITE sip:fax@127.0.0.1 SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKflood${i}`,
        `From: <sip:f@127.0.0.1>;tag=f${i}`,
        'To: <sip:fax@127.0.0.1>',
        `Call-ID: flood-${i}`,
        'CSeq: 1 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      await new Promise<void>((r) => raw.send(text, ua.stack.port('UDP'), '127.0.0.1', () => r()));
    }
    await waitFor(() => (statuses.get(503) ?? 0) >= 50, 5000, '503 responses');
    raw.close();
    assert.ok(ua.stack.layer.serverCount <= 50, `${ua.stack.layer.serverCount} transactions`);
    // UDP on a loaded machine may drop some datagrams; enough must have been refused.
    assert.ok((statuses.get(503) ?? 0) >= 50, JSON.stringify([...statuses]));
    assert.ok((statuses.get(480) ?? 0) >= 1);
    assert.equal(ua.dialogCount, 0);
  });

  it('refuses new INVITEs with 503 over maxDialogs', async () => {
    const caller = await agent();
    const callee = await agent({ maxDialogs: 1 });
    callee.onInvite = (invite) => void invite.accept({ sdp: audioSdp(41000) });
    const first = await caller.invite(target(callee, 'UDP'), { sdp: audioSdp(40000) }).dialog;
    await assert.rejects(
      caller.invite(target(callee, 'UDP'), { sdp: audioSdp(40000) }).dialog,
      (err: unknown) => err instanceof SipRequestError && err.status === 503,
    );
    await first.bye();
  });
});
