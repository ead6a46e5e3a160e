import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { decodeIfp, encodeIfp } from './ifp.ts';
import { T38Transport } from './t38-transport.ts';
import { decodeUdptl } from './udptl.ts';
import { UdptlEndpoint, type UdptlRecovery } from './udptl-endpoint.ts';

function ifpOf(i: number): Uint8Array {
  return Uint8Array.from([0xc0 | ((i >> 8) & 0x1f), i & 0xff, 0x77]);
}

async function endpoints(
  a: Parameters<typeof UdptlEndpoint.open>[0] = {},
  b: Parameters<typeof UdptlEndpoint.open>[0] = {},
): Promise<[UdptlEndpoint, UdptlEndpoint]> {
  const ea = await UdptlEndpoint.open({ localAddress: '127.0.0.1', ...a });
  const eb = await UdptlEndpoint.open({ localAddress: '127.0.0.1', ...b });
  ea.setRemote('127.0.0.1', eb.localPort);
  eb.setRemote('127.0.0.1', ea.localPort);
  return [ea, eb];
}

function record(endpoint: UdptlEndpoint): { seq: number; ifp: number[]; recovery: UdptlRecovery }[] {
  const got: { seq: number; ifp: number[]; recovery: UdptlRecovery }[] = [];
  endpoint.onIfp = (ifp, seq, recovery) => got.push({ seq, ifp: [...ifp], recovery });
  return got;
}

async function settle(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('copies share one sequence number; delivery is in order across the 65535 → 0 wrap', async () => {
  const [a, b] = await endpoints({ firstSeq: 65_530 });
  const got = record(b);
  try {
    for (let i = 0; i < 12; i++) a.send(ifpOf(i), i % 4 === 0 ? 3 : 1);
    await settle(() => got.length === 12 && b.stats.duplicates === 6);
    assert.deepEqual(
      got.map((g) => g.seq),
      Array.from({ length: 12 }, (_, i) => (65_530 + i) & 0xffff),
    );
    assert.deepEqual(
      got.map((g) => g.ifp),
      Array.from({ length: 12 }, (_, i) => [...ifpOf(i)]),
    );
    assert.equal(a.stats.packetsOut, 12);
    assert.equal(a.stats.datagramsOut, 18);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('FEC over UDP: every 10th packet dropped, all rebuilt from parity', async () => {
  const [a, b] = await endpoints(
    { errorCorrection: { mode: 'fec', span: 3, entries: 3 } },
    { drop: (d) => decodeUdptl(d).seq % 10 === 3 },
  );
  const got = record(b);
  try {
    for (let i = 0; i < 100; i++) a.send(ifpOf(i));
    await settle(() => got.length >= 99);
    assert.deepEqual(
      got.map((g) => g.seq),
      Array.from({ length: 100 }, (_, i) => i).slice(0, got.length),
    );
    for (const g of got) {
      assert.deepEqual(g.ifp.slice(0, 3), [...ifpOf(g.seq)]);
      assert.equal(g.recovery === 'fec', g.seq % 10 === 3);
    }
    assert.equal(b.stats.lost, 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a transport over FEC streams image data byte-exact; recovered IFPs with XOR residue still decode', async () => {
  const [ea, eb] = await endpoints(
    { errorCorrection: { mode: 'fec', span: 3, entries: 3 } },
    { drop: (d) => decodeUdptl(d).seq % 10 === 5 },
  );
  const a = new T38Transport(ea, { pace: 'none', version: 1 });
  const b = new T38Transport(eb, { pace: 'none', version: 1 });
  try {
    const image = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    await a.sendImage('v27ter-4800', image);
    const chunks: Uint8Array[] = [];
    for (;;) {
      const event = await b.receive(2000);
      assert.ok(event);
      if (event.type === 'image') chunks.push(event.data);
      if (event.type === 'carrier-down') break;
    }
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(image));
    assert.ok(b.stats.recovered > 0 && b.stats.badIfp === 0, JSON.stringify(b.stats));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('garbage and non-UDPTL datagrams are counted, not delivered', async () => {
  const [a, b] = await endpoints();
  const got = record(b);
  const junk = a.socket; // from the remote's address, so the datagrams reach the decoder
  try {
    for (const bytes of [[], [0], [0, 1, 0xc1], [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]) {
      await new Promise<void>((resolve) =>
        junk.send(Uint8Array.from(bytes), b.localPort, '127.0.0.1', () => resolve()),
      );
    }
    a.send(encodeIfp({ kind: 'indicator', indicator: 'cng' }, 0));
    await settle(() => got.length === 1);
    assert.deepEqual(decodeIfp(Uint8Array.from(got[0].ifp), 0), { kind: 'indicator', indicator: 'cng' });
    assert.ok(b.stats.garbage >= 3, JSON.stringify(b.stats));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('an endpoint on an existing socket leaves the socket open when asked', async () => {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const endpoint = new UdptlEndpoint(socket, { closeSocket: false });
  let closedWith = '';
  endpoint.onClose = (reason) => {
    closedWith = reason;
  };
  await endpoint.close();
  assert.equal(closedWith, 'closed');
  assert.ok(socket.address().port > 0, 'socket still bound');
  socket.close();
});

test('datagrams from another address than the remote are ignored, unless acceptFrom is any', async () => {
  const [a, b] = await endpoints();
  const [stranger, strangersPeer] = await endpoints();
  const got = record(b);
  try {
    stranger.setRemote('127.0.0.1', b.localPort);
    stranger.send(ifpOf(1)); // a stray stream aimed at b's port
    a.send(ifpOf(2));
    await settle(() => got.length === 1 && b.stats.foreign === 1);
    assert.deepEqual(got[0].ifp, [...ifpOf(2)]);
  } finally {
    await Promise.all([a.close(), b.close(), stranger.close(), strangersPeer.close()]);
  }
  const [c, d] = await endpoints({}, { acceptFrom: 'any' });
  const [other, othersPeer] = await endpoints();
  const heard = record(d);
  try {
    other.setRemote('127.0.0.1', d.localPort);
    other.send(ifpOf(3));
    await settle(() => heard.length === 1);
    assert.equal(d.stats.foreign, 0);
  } finally {
    await Promise.all([c.close(), d.close(), other.close(), othersPeer.close()]);
  }
});

test('IFPs that arrive before anyone listens are held and handed over in order', async () => {
  const [a, b] = await endpoints();
  try {
    for (let i = 0; i < 5; i++) a.send(ifpOf(i));
    await settle(() => b.stats.early === 5);
    const got = record(b);
    assert.deepEqual(
      got.map((g) => g.ifp),
      Array.from({ length: 5 }, (_, i) => [...ifpOf(i)]),
    );
    a.send(ifpOf(5));
    await settle(() => got.length === 6);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
