/**
 * The UA against a hand-driven peer on a raw UDP socket, for behaviour another instance of our own UA never shows:
 * forked 2xx responses and a peer that ignores CANCEL.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, it } from 'node:test';
import type { Dialog } from './dialog.ts';
import type { SipRequest } from './sip-message.ts';
import { createResponse } from './sip-message.ts';
import { parseSipMessage } from './sip-parser.ts';
import { SipRequestError } from './sip-request-error.ts';
import { serializeSipMessage } from './sip-serializer.ts';
import { UserAgent } from './user-agent.ts';

const FAST = { t1Ms: 20, t2Ms: 160, t4Ms: 100 };
const cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function rawPeer(): Promise<{
  socket: Socket;
  port: number;
  requests: SipRequest[];
  next: () => Promise<SipRequest>;
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const requests: SipRequest[] = [];
  const waiters: Array<(r: SipRequest) => void> = [];
  socket.on('message', (data) => {
    const m = parseSipMessage(data);
    if (m.kind !== 'request') return;
    requests.push(m);
    waiters.shift()?.(m);
  });
  cleanup.push(() => {
    socket.close();
  });
  let seen = 0;
  const next = () =>
    new Promise<SipRequest>((resolve) => {
      if (requests.length > seen) resolve(requests[seen++]!);
      else
        waiters.push((r) => {
          seen++;
          resolve(r);
        });
    });
  return { socket, port: socket.address().port, requests, next };
}

async function ua(): Promise<UserAgent> {
  const agent = await UserAgent.create({ host: '127.0.0.1', port: 0, timers: FAST });
  cleanup.push(() => agent.close());
  return agent;
}

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

it('a 2xx from a second fork is ACKed and ended with BYE; the first call stays up', async () => {
  const peer = await rawPeer();
  const agent = await ua();
  const call = agent.invite(`sip:fax@127.0.0.1:${peer.port}`, { sdp: SDP });
  const invite = await peer.next();
  const reply = (tag: string) => {
    const ok = createResponse(invite, 200, {
      toTag: tag,
      headers: [
        ['Contact', `<sip:fork-${tag}@127.0.0.1:${peer.port}>`],
        ['Content-Type', 'application/sdp'],
      ],
      body: SDP,
    });
    peer.socket.send(serializeSipMessage(ok), agent.stack.port('UDP'), '127.0.0.1');
  };
  reply('forkA');
  const dialog = await call.dialog;
  assert.equal(dialog.remoteTag, 'forkA');
  reply('forkB');
  const ackA = await peer.next();
  assert.equal(ackA.method, 'ACK');
  const ackB = await peer.next();
  assert.equal(ackB.method, 'ACK');
  assert.match(ackB.headers.get('to')!, /tag=forkB/);
  const bye = await peer.next();
  assert.equal(bye.method, 'BYE');
  assert.equal(bye.uri, `sip:fork-forkB@127.0.0.1:${peer.port}`);
  assert.equal(dialog.state, 'confirmed');
  assert.equal(agent.dialogCount, 1);
});

it('a peer that rings and ignores our CANCEL: the call still ends as cancelled after 64×T1', async () => {
  const peer = await rawPeer();
  const agent = await ua();
  const call = agent.invite(`sip:fax@127.0.0.1:${peer.port}`, { sdp: SDP });
  const invite = await peer.next();
  peer.socket.send(
    serializeSipMessage(createResponse(invite, 180, { toTag: 'ring' })),
    agent.stack.port('UDP'),
    '127.0.0.1',
  );
  call.onProvisional = () => call.cancel();
  let cancel: SipRequest;
  do cancel = await peer.next();
  while (cancel.method !== 'CANCEL');
  assert.equal(cancel.headers.get('via'), invite.headers.get('via'), 'CANCEL reuses the INVITE branch');
  await assert.rejects(
    call.dialog,
    (err: unknown) => err instanceof SipRequestError && err.code === 'cancelled',
  );
});

it('UAC route set: reversed Record-Route of the 2xx, loose-routed to the first hop, target from Contact', async () => {
  const peer = await rawPeer();
  const agent = await ua();
  const call = agent.invite(`sip:fax@127.0.0.1:${peer.port}`, { sdp: SDP });
  const invite = await peer.next();
  const ok = createResponse(invite, 200, {
    toTag: 'rr',
    headers: [
      ['Record-Route', `<sip:10.0.0.1;lr>, <sip:127.0.0.1:${peer.port};lr;ftag=x>`],
      ['Contact', '<sip:callee@192.0.2.99:5060>'],
      ['Content-Type', 'application/sdp'],
    ],
    body: SDP,
  });
  peer.socket.send(serializeSipMessage(ok), agent.stack.port('UDP'), '127.0.0.1');
  const dialog = await call.dialog;
  const ack = await peer.next();
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.uri, 'sip:callee@192.0.2.99:5060');
  void dialog.bye();
  const bye = await peer.next();
  assert.equal(bye.method, 'BYE');
  assert.equal(bye.uri, 'sip:callee@192.0.2.99:5060');
  assert.deepEqual(bye.headers.getAll('route'), [
    `<sip:127.0.0.1:${peer.port};lr;ftag=x>`,
    '<sip:10.0.0.1;lr>',
  ]);
});

it('UAS route set: Record-Route of the INVITE in order, echoed in the 200', async () => {
  const peer = await rawPeer();
  const agent = await ua();
  const accepted = new Promise<Dialog>((resolve) => {
    agent.onInvite = (invite) => void invite.accept({ sdp: SDP }).then(resolve);
  });
  const replies: string[] = [];
  peer.socket.on('message', (m) => {
    if (m.toString().startsWith('SIP/2.0 200')) replies.push(m.toString());
  });
  const invite = [
    `INVITE sip:fax@127.0.0.1:${agent.stack.port('UDP')} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKuasrr`,
    `Record-Route: <sip:127.0.0.1:${peer.port};lr>, <sip:10.0.0.2;lr>`,
    'From: <sip:caller@example.com>;tag=c1',
    'To: <sip:fax@127.0.0.1>',
    'Call-ID: uas-rr-1',
    'CSeq: 5 INVITE',
    'Contact: <sip:caller@192.0.2.77>',
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${SDP.length}`,
    '',
    SDP,
  ].join('\r\n');
  peer.socket.send(invite, agent.stack.port('UDP'), '127.0.0.1');
  while (replies.length === 0) await new Promise((r) => setTimeout(r, 5));
  const ok = parseSipMessage(Buffer.from(replies[0]!));
  assert.deepEqual(ok.headers.getAll('record-route'), [
    `<sip:127.0.0.1:${peer.port};lr>`,
    '<sip:10.0.0.2;lr>',
  ]);
  const toTag = /tag=([^;>\s]+)/.exec(ok.headers.get('to')!)![1];
  peer.socket.send(
    [
      'ACK sip:telefax@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKuasrrack`,
      'From: <sip:caller@example.com>;tag=c1',
      `To: <sip:fax@127.0.0.1>;tag=${toTag}`,
      'Call-ID: uas-rr-1',
      'CSeq: 5 ACK',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    agent.stack.port('UDP'),
    '127.0.0.1',
  );
  const dialog = await accepted;
  void dialog.bye();
  let bye: SipRequest;
  do bye = await peer.next();
  while (bye.method !== 'BYE');
  assert.equal(bye.uri, 'sip:caller@192.0.2.77');
  assert.deepEqual(bye.headers.getAll('route'), [`<sip:127.0.0.1:${peer.port};lr>`, '<sip:10.0.0.2;lr>']);
  assert.match(bye.headers.get('from')!, new RegExp(`tag=${toTag}`));
  assert.equal(bye.headers.get('call-id'), 'uas-rr-1');
});

it('an outbound proxy gets out-of-dialog requests with a pre-loaded loose Route', async () => {
  const proxy = await rawPeer();
  const agent = await UserAgent.create({
    host: '127.0.0.1',
    port: 0,
    timers: FAST,
    outboundProxy: `sip:127.0.0.1:${proxy.port}`,
  });
  cleanup.push(() => agent.close());
  const call = agent.invite('sip:+4930123456@carrier.invalid', { sdp: SDP });
  const invite = await proxy.next();
  assert.equal(invite.uri, 'sip:+4930123456@carrier.invalid');
  assert.deepEqual(invite.headers.getAll('route'), [`<sip:127.0.0.1:${proxy.port};lr>`]);
  call.cancel();
  proxy.socket.send(
    serializeSipMessage(createResponse(invite, 180, { toTag: 'p' })),
    agent.stack.port('UDP'),
    '127.0.0.1',
  );
  let cancel: SipRequest;
  do cancel = await proxy.next();
  while (cancel.method !== 'CANCEL');
  assert.deepEqual(cancel.headers.getAll('route'), [`<sip:127.0.0.1:${proxy.port};lr>`]);
  proxy.socket.send(
    serializeSipMessage(createResponse(invite, 487, { toTag: 'p' })),
    agent.stack.port('UDP'),
    '127.0.0.1',
  );
  await assert.rejects(
    call.dialog,
    (err: unknown) => err instanceof SipRequestError && err.code === 'cancelled',
  );
});
