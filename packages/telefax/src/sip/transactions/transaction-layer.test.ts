import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { SipMessage, SipRequest, SipResponse } from '../sip-message.ts';
import { createResponse } from '../sip-message.ts';
import { parseSipMessage } from '../sip-parser.ts';
import type { SipEndpoint } from '../transport.ts';
import { DEFAULT_SIP_TIMERS } from './sip-timers.ts';
import { TransactionLayer } from './transaction-layer.ts';

const PEER: SipEndpoint = { protocol: 'UDP', address: '127.0.0.1', port: 5999 };

function request(method: string, branch = 'z9hG4bKtest1'): SipRequest {
  const text = [
    `${method} sip:fax@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=${branch}`,
    'From: <sip:a@127.0.0.1>;tag=fromtag',
    'To: <sip:fax@127.0.0.1>',
    'Call-ID: call-1',
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseSipMessage(Buffer.from(text)) as SipRequest;
}

function harness(maxTransactions = 100) {
  const sent: Array<{ message: SipMessage; at: number }> = [];
  const requests: Array<SipRequest> = [];
  const stray: SipResponse[] = [];
  let now = 0;
  const layer = new TransactionLayer({
    timers: DEFAULT_SIP_TIMERS,
    maxTransactions,
    send: (message) => sent.push({ message, at: now }),
    isReliable: (d) => d.protocol !== 'UDP',
    user: {
      onRequest: (r) => requests.push(r),
      onStrayResponse: (r) => stray.push(r),
    },
  });
  const tick = (ms: number) => {
    for (let i = 0; i < ms; i += 50) {
      now += 50;
      mock.timers.tick(50);
    }
  };
  return { layer, sent, requests, stray, tick };
}

describe('transactions (RFC 3261 §17) with T1 500 ms, T2 4 s, T4 5 s on mocked clocks', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('INVITE client: timer A doubles from T1, timer B times out at 64*T1', () => {
    const h = harness();
    let timedOut = false;
    h.layer.sendRequest(request('INVITE'), PEER, {
      onResponse: () => {},
      onTimeout: () => (timedOut = true),
    });
    h.tick(40_000);
    assert.deepEqual(
      h.sent.map((s) => s.at),
      [0, 500, 1500, 3500, 7500, 15500, 31500],
    );
    assert.equal(timedOut, true);
    assert.equal(h.layer.clientCount, 0);
  });

  it('non-INVITE client: timer E caps at T2, timer F times out', () => {
    const h = harness();
    let timedOut = false;
    h.layer.sendRequest(request('OPTIONS'), PEER, {
      onResponse: () => {},
      onTimeout: () => (timedOut = true),
    });
    h.tick(40_000);
    assert.deepEqual(
      h.sent.map((s) => s.at),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.equal(timedOut, true);
  });

  it('no retransmissions over a reliable transport', () => {
    const h = harness();
    h.layer.sendRequest(
      request('INVITE'),
      { ...PEER, protocol: 'TCP' },
      { onResponse: () => {}, onTimeout: () => {} },
    );
    h.tick(40_000);
    assert.equal(h.sent.length, 1);
  });

  it('INVITE client ACKs a non-2xx itself, absorbs its retransmissions, and ends after timer D', () => {
    const h = harness();
    const seen: number[] = [];
    const invite = request('INVITE');
    h.layer.sendRequest(invite, PEER, { onResponse: (r) => seen.push(r.status), onTimeout: () => {} });
    const ringing = createResponse(invite, 180, { toTag: 'tt' });
    h.layer.receiveResponse(ringing, PEER);
    h.tick(5000);
    assert.equal(h.sent.length, 1, 'a provisional response stops timer A');
    const busy = createResponse(invite, 486, { toTag: 'tt' });
    h.layer.receiveResponse(busy, PEER);
    h.layer.receiveResponse(busy, PEER);
    assert.deepEqual(seen, [180, 486]);
    const acks = h.sent.filter((s) => s.message.kind === 'request' && s.message.method === 'ACK');
    assert.equal(acks.length, 2);
    const ack = acks[0]!.message as SipRequest;
    assert.equal(ack.headers.get('via'), invite.headers.get('via'));
    assert.match(ack.headers.get('to')!, /tag=tt/);
    assert.equal(ack.headers.get('cseq'), '1 ACK');
    h.tick(33_000);
    assert.equal(h.layer.clientCount, 0);
  });

  it('INVITE client passes 2xx retransmissions to the TU until timer M', () => {
    const h = harness();
    const seen: number[] = [];
    const invite = request('INVITE');
    h.layer.sendRequest(invite, PEER, { onResponse: (r) => seen.push(r.status), onTimeout: () => {} });
    const ok = createResponse(invite, 200, { toTag: 'tt' });
    h.layer.receiveResponse(ok, PEER);
    h.layer.receiveResponse(ok, PEER);
    assert.deepEqual(seen, [200, 200]);
    assert.equal(h.sent.length, 1, 'the transaction does not ACK a 2xx');
    h.tick(33_000);
    assert.equal(h.layer.clientCount, 0);
    h.layer.receiveResponse(ok, PEER);
    assert.equal(h.stray.length, 1, 'later 2xx retransmissions go to the TU as stray responses');
  });

  it('INVITE server: 100 at once, retransmissions absorbed, timer G until ACK, then timer I', () => {
    const h = harness();
    const invite = request('INVITE');
    h.layer.receiveRequest(invite, PEER, PEER);
    assert.equal(h.requests.length, 1);
    assert.equal((h.sent[0]!.message as SipResponse).status, 100);
    h.layer.receiveRequest(request('INVITE'), PEER, PEER);
    assert.equal(h.requests.length, 1, 'a retransmitted INVITE is absorbed');
    assert.equal(h.sent.length, 2, 'and answered with the last provisional');
    // Answer through the transaction the TU received.
    const server = h.layer.findInviteFor(request('CANCEL'))!;
    server.respond(createResponse(invite, 486, { toTag: 'srv' }));
    h.tick(4000);
    const finals = () => h.sent.filter((s) => (s.message as SipResponse).status === 486).map((s) => s.at);
    assert.deepEqual(finals(), [0, 500, 1500, 3500]);
    h.layer.receiveRequest(request('ACK'), PEER, PEER);
    h.tick(4000);
    assert.equal(finals().length, 4, 'the ACK stops timer G');
    assert.equal(h.requests.length, 1, 'the ACK for a non-2xx stays in the transaction');
    h.tick(2000);
    assert.equal(h.layer.serverCount, 0);
  });

  it('INVITE server without ACK: timer H reports it', () => {
    const h = harness();
    const invite = request('INVITE');
    h.layer.receiveRequest(invite, PEER, PEER);
    const server = h.layer.findInviteFor(request('CANCEL'))!;
    let noAck = false;
    server.onAckTimeout = () => (noAck = true);
    server.respond(createResponse(invite, 488, { toTag: 'srv' }));
    h.tick(33_000);
    assert.equal(noAck, true);
    assert.equal(h.layer.serverCount, 0);
  });

  it('non-INVITE server resends its final response on retransmission until timer J', () => {
    const h = harness();
    const options = request('OPTIONS');
    let tx: import('./server-transaction.ts').ServerTransaction | undefined;
    const layer = new TransactionLayer({
      timers: DEFAULT_SIP_TIMERS,
      maxTransactions: 10,
      send: (m) => h.sent.push({ message: m, at: 0 }),
      isReliable: () => false,
      user: { onRequest: (_r, t) => (tx = t), onStrayResponse: () => {} },
    });
    layer.receiveRequest(options, PEER, PEER);
    tx!.respond(createResponse(options, 200, { toTag: 'x' }));
    layer.receiveRequest(request('OPTIONS'), PEER, PEER);
    assert.equal(h.sent.length, 2);
    h.tick(33_000);
    assert.equal(layer.serverCount, 0);
  });

  it('bounded: over the transaction limit a new request gets 503 and no state', () => {
    const h = harness(2);
    h.layer.receiveRequest(request('OPTIONS', 'z9hG4bKa'), PEER, PEER);
    h.layer.receiveRequest(request('OPTIONS', 'z9hG4bKb'), PEER, PEER);
    h.layer.receiveRequest(request('OPTIONS', 'z9hG4bKc'), PEER, PEER);
    assert.equal(h.requests.length, 2);
    const refused = h.sent.at(-1)!.message as SipResponse;
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(h.layer.serverCount, 2);
  });
});
