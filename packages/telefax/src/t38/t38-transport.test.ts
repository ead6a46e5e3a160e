import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, test } from 'node:test';
import type { PortEvent } from '../t30/t30-port.ts';
import { decodeIfp, encodeIfp, type IfpField, type IfpPacket } from './ifp.ts';
import { T38Transport, type T38TransportOptions } from './t38-transport.ts';
import { decodeUdptl } from './udptl.ts';
import { UdptlEndpoint, type UdptlEndpointOpenOptions } from './udptl-endpoint.ts';
import { UdptlSender } from './udptl-sender.ts';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const open: T38Transport[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

async function pair(
  options: T38TransportOptions = {},
  udptl: { a?: UdptlEndpointOpenOptions; b?: UdptlEndpointOpenOptions } = {},
): Promise<[T38Transport, T38Transport]> {
  const ea = await UdptlEndpoint.open({ localAddress: '127.0.0.1', ...udptl.a });
  const eb = await UdptlEndpoint.open({ localAddress: '127.0.0.1', ...udptl.b });
  ea.setRemote('127.0.0.1', eb.localPort);
  eb.setRemote('127.0.0.1', ea.localPort);
  const a = new T38Transport(ea, { pace: 'none', ...options });
  const b = new T38Transport(eb, { pace: 'none', ...options });
  open.push(a, b);
  return [a, b];
}

/** Receives events until one matches `last` (included). */
async function until(
  port: T38Transport,
  last: (e: PortEvent) => boolean,
  timeoutMs = 3000,
): Promise<PortEvent[]> {
  const events: PortEvent[] = [];
  for (;;) {
    const event = await port.receive(timeoutMs);
    assert.ok(event, `no event within ${timeoutMs} ms after ${JSON.stringify(events.map((e) => e.type))}`);
    events.push(event);
    if (last(event)) return events;
  }
}

function randomBytes(random: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

const DIS = Uint8Array.from([0xff, 0x13, 0x80, 0x00, 0xce, 0xf4, 0x80, 0x80, 0x81, 0x80, 0x80, 0x80, 0x18]);
const CSI = Uint8Array.from([0xff, 0x03, 0x40, 0x31, 0x32, 0x33, 0x20, 0x20]);

test('tones become cng/ced indicators and come back as tone events', async () => {
  const [a, b] = await pair();
  await a.sendTone('ced', 3000);
  assert.deepEqual(await until(b, (e) => e.type === 'carrier-down'), [
    { type: 'tone', tone: 'ced' },
    { type: 'carrier-down' },
  ]);
  await b.sendTone('cng', 500);
  assert.deepEqual(await until(a, (e) => e.type === 'carrier-down'), [
    { type: 'tone', tone: 'cng' },
    { type: 'carrier-down' },
  ]);
});

test('V.21 HDLC frames arrive byte-exact with fcsOk, between carrier-up and carrier-down', async () => {
  for (const version of [0, 2]) {
    const [a, b] = await pair({ version });
    await a.sendHdlc('v21', [CSI, DIS]);
    const events = await until(b, (e) => e.type === 'carrier-down');
    assert.deepEqual(events, [
      { type: 'carrier-up', modem: 'v21' },
      { type: 'hdlc', modem: 'v21', frame: CSI, fcsOk: true },
      { type: 'hdlc', modem: 'v21', frame: DIS, fcsOk: true },
      { type: 'carrier-down' },
    ]);
  }
});

test('on the wire: v21-preamble ×3, MSB-first HDLC octets, fcs-OK-sig-end, no-signal', async () => {
  const sniffer: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => sniffer.bind(0, '127.0.0.1', resolve));
  const seen: { seq: number; ifp: IfpPacket }[] = [];
  sniffer.on('message', (m) => {
    const packet = decodeUdptl(m);
    seen.push({ seq: packet.seq, ifp: decodeIfp(packet.primary, 0) });
  });
  const endpoint = await UdptlEndpoint.open({
    localAddress: '127.0.0.1',
    remoteHost: '127.0.0.1',
    remotePort: sniffer.address().port,
  });
  const port = new T38Transport(endpoint, { pace: 'none', version: 0 });
  try {
    await port.sendHdlc('v21', [DIS]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const summary = seen.map(({ seq, ifp }) =>
      ifp.kind === 'indicator'
        ? `${seq}:${ifp.indicator}`
        : `${seq}:${ifp.fields.map((f) => `${f.type}${f.data ? `[${Buffer.from(f.data).toString('hex')}]` : ''}`).join('+')}`,
    );
    assert.deepEqual(summary, [
      '0:v21-preamble',
      '0:v21-preamble',
      '0:v21-preamble',
      // T.38 §7.4 / spandsp t38_terminal.c: octets travel with the first line bit as MSB — 0x13 → 0xC8, DIS 0x80 → 0x01.
      '1:hdlc-data[ffc80100732f01018101010118]+hdlc-fcs-ok-sig-end',
      '1:hdlc-data[ffc80100732f01018101010118]+hdlc-fcs-ok-sig-end',
      '1:hdlc-data[ffc80100732f01018101010118]+hdlc-fcs-ok-sig-end',
      '2:no-signal',
      '2:no-signal',
      '2:no-signal',
    ]);
  } finally {
    await port.close();
    sniffer.close();
  }
});

test('high-speed ECM HDLC (V.17 14400) frames survive 5% loss byte-exact', async () => {
  const random = prng(17);
  const [a, b] = await pair({}, { b: { dropRate: 0.05, random: prng(3) } });
  const frames = Array.from({ length: 40 }, (_, i) => {
    const frame = randomBytes(random, 4 + 256);
    frame.set([0xff, 0x03, 0x60, i]);
    return frame;
  });
  const done = a.sendHdlc('v17-14400', frames, { longTraining: true });
  const events = await until(b, (e) => e.type === 'carrier-down');
  await done;
  assert.deepEqual(events[0], { type: 'carrier-up', modem: 'v17-14400' });
  const hdlc = events.filter((e) => e.type === 'hdlc');
  assert.equal(hdlc.length, frames.length);
  hdlc.forEach((e, i) => {
    assert.ok(e.type === 'hdlc' && e.fcsOk, `frame ${i} fcsOk`);
    assert.deepEqual(e.type === 'hdlc' && e.frame, frames[i]);
  });
  assert.ok(b.stats.dropped > 0 && b.stats.recovered > 0, JSON.stringify(b.stats));
});

test('a 20 kB non-ECM image stream arrives byte-exact under 5% loss', async () => {
  const random = prng(20);
  const image = randomBytes(random, 20_000);
  const [a, b] = await pair({}, { b: { dropRate: 0.05, random: prng(11) } });
  // Produced while it is sent, in uneven pieces.
  async function* pages(): AsyncIterable<Uint8Array> {
    for (let at = 0; at < image.length; ) {
      const n = 1 + Math.floor(random() * 3000);
      yield image.subarray(at, at + n);
      at += n;
    }
  }
  const done = a.sendImage('v29-9600', pages());
  const events = await until(b, (e) => e.type === 'carrier-down', 5000);
  await done;
  assert.deepEqual(events[0], { type: 'carrier-up', modem: 'v29-9600' });
  const chunks = events.flatMap((e) => (e.type === 'image' ? [e.data] : []));
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(image));
  assert.ok(events.every((e) => e.type !== 'image' || e.modem === 'v29-9600'));
  assert.ok(b.stats.dropped > 0 && b.stats.recovered > 0 && b.stats.lost === 0, JSON.stringify(b.stats));
});

/** A pair whose sender has no redundancy and whose receiver loses the UDPTL packets with these numbers. */
function lossyOneWay(lost: ReadonlySet<number>) {
  return pair(
    {},
    {
      a: { errorCorrection: { mode: 'redundancy', depth: 0 } },
      b: { drop: (datagram) => lost.has(decodeUdptl(datagram).seq) },
    },
  );
}

test('non-ECM data lost for good is reported where it was missing, with the octets it held', async () => {
  const image = randomBytes(prng(21), 5000);
  // Packet 0 is the training indicator, 1… the data: lose the 3rd and 4th data packets.
  const [a, b] = await lossyOneWay(new Set([3, 4]));
  const done = a.sendImage('v27ter-4800', image);
  const events = await until(b, (e) => e.type === 'carrier-down');
  await done;
  const chunk = events.find((e) => e.type === 'image')?.data.length ?? 0;
  assert.ok(chunk > 0 && chunk < 2500, `data in several packets (${chunk} octets each)`);
  const lossAt = events.findIndex((e) => e.type === 'loss');
  assert.deepEqual(events[lossAt], { type: 'loss', modem: 'v27ter-4800', packets: 2, octets: 2 * chunk });
  const before = events.slice(0, lossAt).flatMap((e) => (e.type === 'image' ? [e.data] : []));
  const afterLoss = events.slice(lossAt).flatMap((e) => (e.type === 'image' ? [e.data] : []));
  assert.deepEqual(Buffer.concat(before), Buffer.from(image.subarray(0, 2 * chunk)));
  assert.deepEqual(Buffer.concat(afterLoss), Buffer.from(image.subarray(4 * chunk)));
  assert.equal(events.filter((e) => e.type === 'loss').length, 1);
  assert.equal(b.stats.lost, 2);
});

test('a loss that takes the training indicator and the first data is reported once the data shows its size', async () => {
  const image = randomBytes(prng(22), 3000);
  // Packets 0 and 1: CNG and no-signal, so the receiver knows the sequence; 2 is the training indicator.
  const [a, b] = await lossyOneWay(new Set([2, 3]));
  await a.sendTone('cng', 100);
  await until(b, (e) => e.type === 'carrier-down');
  const done = a.sendImage('v27ter-4800', image);
  const events = await until(b, (e) => e.type === 'carrier-down');
  await done;
  assert.deepEqual(events[0], { type: 'carrier-up', modem: 'v27ter-4800' });
  const chunk = events.find((e) => e.type === 'image')?.data.length ?? 0;
  // The indicator is counted as data too: an estimate on the safe side.
  assert.deepEqual(events[1], { type: 'loss', modem: 'v27ter-4800', packets: 2, octets: 2 * chunk });
  assert.equal(events[2].type, 'image');
});

test('losses in HDLC carriers raise no loss event (the frame arrives with a bad FCS instead)', async () => {
  const [a, b] = await lossyOneWay(new Set([2]));
  const frame = Uint8Array.from({ length: 600 }, (_, i) => (i === 0 ? 0xff : i & 0xff));
  await a.sendHdlc('v17-14400', [frame, frame]);
  const events = await until(b, (e) => e.type === 'carrier-down');
  assert.ok(
    events.every((e) => e.type !== 'loss'),
    JSON.stringify(events.map((e) => e.type)),
  );
  assert.ok(events.some((e) => e.type === 'hdlc' && !e.fcsOk));
});

test('a whole exchange both ways under 5% loss: tone, DIS, DCS, TCF, CFR', async () => {
  const [a, b] = await pair(
    { version: 3 },
    { a: { dropRate: 0.05, random: prng(1) }, b: { dropRate: 0.05, random: prng(2) } },
  );
  const DCS = Uint8Array.from([0xff, 0x13, 0x83, 0x00, 0xc6, 0x80]);
  const CFR = Uint8Array.from([0xff, 0x13, 0x84]);
  const tcf = new Uint8Array(2700);
  await b.sendTone('ced', 3000);
  await b.sendSilence(75);
  await b.sendHdlc('v21', [CSI, DIS]);
  const first = await until(a, (e) => e.type === 'hdlc' && e.frame[2] === 0x80);
  assert.deepEqual(first.slice(0, 3), [
    { type: 'tone', tone: 'ced' },
    { type: 'carrier-down' },
    { type: 'carrier-up', modem: 'v21' },
  ]);
  await a.sendSilence(75);
  await a.sendHdlc('v21', [DCS]);
  await a.sendSilence(75);
  await a.sendImage('v17-14400', tcf, { longTraining: true });
  let carrierDowns = 0;
  const second = await until(b, (e) => e.type === 'carrier-down' && ++carrierDowns === 2);
  const types = second.map((e) => e.type);
  assert.deepEqual(types.slice(0, 5), ['carrier-up', 'hdlc', 'carrier-down', 'carrier-up', 'image']);
  assert.deepEqual(second[1], { type: 'hdlc', modem: 'v21', frame: DCS, fcsOk: true });
  assert.deepEqual(second[3], { type: 'carrier-up', modem: 'v17-14400' });
  const received = Buffer.concat(second.flatMap((e) => (e.type === 'image' ? [e.data] : [])));
  assert.deepEqual(received, Buffer.from(tcf));
  await b.sendHdlc('v21', [CFR]);
  // a still holds the carrier-down that ended the DIS burst.
  assert.deepEqual(await until(a, (e) => e.type === 'hdlc'), [
    { type: 'carrier-down' },
    { type: 'carrier-up', modem: 'v21' },
    { type: 'hdlc', modem: 'v21', frame: CFR, fcsOk: true },
  ]);
});

test('receive times out with null; close() ends pending receives with a closed event', async () => {
  const [a] = await pair();
  assert.equal(await a.receive(20), null);
  const pending = a.receive(10_000);
  await a.close();
  assert.deepEqual(await pending, { type: 'closed', reason: 'closed' });
  assert.deepEqual(await a.receive(10), { type: 'closed', reason: 'closed' });
  await a.sendHdlc('v21', [DIS]); // a no-op once closed
});

test('garbage datagrams are counted and ignored', async () => {
  const [a, b] = await pair();
  // Sent from the far end's own address: junk from anywhere else is dropped before decoding (stats.foreign).
  const junk = a.endpoint.socket;
  const random = prng(8);
  for (let i = 0; i < 50; i++) {
    await new Promise<void>((resolve) =>
      junk.send(randomBytes(random, 1 + (i % 9)), b.endpoint.localPort, '127.0.0.1', () => resolve()),
    );
  }
  await a.sendHdlc('v21', [DIS]);
  const events = await until(b, (e) => e.type === 'carrier-down');
  assert.deepEqual(
    events.filter((e) => e.type === 'hdlc'),
    [{ type: 'hdlc', modem: 'v21', frame: DIS, fcsOk: true }],
  );
  assert.ok(b.stats.garbage + b.stats.badIfp + b.stats.strays > 0, JSON.stringify(b.stats));
});

test('paced: 30 ms chunks (54 octets at 14,400 bit/s), last packet ×3, zero padding after the data', async () => {
  const sniffer: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => sniffer.bind(0, '127.0.0.1', resolve));
  const seen: IfpPacket[] = [];
  sniffer.on('message', (m) => seen.push(decodeIfp(decodeUdptl(m).primary, 0)));
  const endpoint = await UdptlEndpoint.open({
    localAddress: '127.0.0.1',
    remoteHost: '127.0.0.1',
    remotePort: sniffer.address().port,
  });
  const port = new T38Transport(endpoint, { pace: 'realtime' });
  try {
    await port.sendImage('v17-14400', new Uint8Array(200).fill(0x80));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const data = seen.filter((p) => p.kind === 'data');
    const sizes = data.map((p) =>
      p.kind === 'data' ? p.fields.map((f) => `${f.type}:${f.data?.length ?? 0}`).join('+') : '',
    );
    // 200 octets + 60 ms of padding (108 octets) = 308 = 5 × 54 + 38; the last packet goes three times.
    assert.deepEqual(sizes, [
      ...Array(5).fill('t4-non-ecm-data:54'),
      ...Array(3).fill('t4-non-ecm-data:38+t4-non-ecm-sig-end:0'),
    ]);
    const bytes = Buffer.concat(
      data.slice(0, 6).map((p) => (p.kind === 'data' ? p.fields[0].data! : new Uint8Array())),
    );
    assert.ok(
      bytes.subarray(0, 200).every((x) => x === 0x01),
      'bit-reversed data',
    );
    assert.ok(
      bytes.subarray(200).every((x) => x === 0),
      'zero padding',
    );
    assert.deepEqual(seen[0], { kind: 'indicator', indicator: 'v17-14400-short-training' });
    assert.deepEqual(seen.at(-1), { kind: 'indicator', indicator: 'no-signal' });
  } finally {
    await port.close();
    sniffer.close();
  }
});

test('receive side tolerates real-world quirks (fax-engines §3.8, spandsp t38_terminal.c)', async () => {
  const endpoint = await UdptlEndpoint.open({ localAddress: '127.0.0.1', holdMs: 20 });
  const port = new T38Transport(endpoint, { pace: 'none', version: 0 });
  const peer = createSocket('udp4');
  const sender = new UdptlSender({ mode: 'none' });
  const wire = (frame: Uint8Array) =>
    frame.map((x) => Number.parseInt([...x.toString(2).padStart(8, '0')].reverse().join(''), 2));
  const send = (packet: IfpPacket, deliver = true) => {
    const datagram = sender.build(encodeIfp(packet, 0));
    if (deliver) peer.send(datagram, endpoint.localPort, '127.0.0.1');
  };
  const hdlc = (fields: IfpField[]): IfpPacket => ({ kind: 'data', dataType: 'v21', fields });
  try {
    // HDLC data with no preamble indicator before it: the carrier is raised from the data type.
    send(hdlc([{ type: 'hdlc-data', data: wire(DIS) }, { type: 'hdlc-fcs-ok-sig-end' }]));
    // The same signal end repeated under new sequence numbers raises nothing.
    send(hdlc([{ type: 'hdlc-fcs-ok-sig-end' }]));
    send(hdlc([{ type: 't4-non-ecm-sig-end' }]));
    send({ kind: 'indicator', indicator: 'no-signal' });
    assert.deepEqual(await until(port, (e) => e.type === 'carrier-down'), [
      { type: 'carrier-up', modem: 'v21' },
      { type: 'hdlc', modem: 'v21', frame: DIS, fcsOk: true },
      { type: 'carrier-down' },
    ]);
    // Preamble slipped in again between frames; data inside an FCS field (Cisco); a bad FCS.
    send({ kind: 'indicator', indicator: 'v21-preamble' });
    send(hdlc([{ type: 'hdlc-data', data: wire(CSI).subarray(0, 4) }]));
    send({ kind: 'indicator', indicator: 'v21-preamble' });
    send(hdlc([{ type: 'hdlc-fcs-ok', data: wire(CSI).subarray(4) }]));
    send(hdlc([{ type: 'hdlc-data', data: wire(DIS) }, { type: 'hdlc-fcs-bad' }]));
    // A V.8 indicator (2002 extension, same coding in both modules) that a G3 terminal ignores.
    peer.send(
      sender.build(encodeIfp({ kind: 'indicator', indicator: 'v8-ansam' }, 1)),
      endpoint.localPort,
      '127.0.0.1',
    );
    // A frame whose middle packet is lost for good: reported with fcsOk false.
    send(hdlc([{ type: 'hdlc-data', data: wire(DIS).subarray(0, 3) }]));
    send(hdlc([{ type: 'hdlc-data', data: wire(DIS).subarray(3, 6) }]), false);
    send(hdlc([{ type: 'hdlc-data', data: wire(DIS).subarray(6) }, { type: 'hdlc-fcs-ok' }]));
    // The next frame is good again; then the signal ends.
    send(hdlc([{ type: 'hdlc-data', data: wire(CSI) }, { type: 'hdlc-fcs-ok-sig-end' }]));
    const events = await until(port, (e) => e.type === 'carrier-down');
    assert.deepEqual(events, [
      { type: 'carrier-up', modem: 'v21' },
      { type: 'hdlc', modem: 'v21', frame: CSI, fcsOk: true },
      { type: 'hdlc', modem: 'v21', frame: DIS, fcsOk: false },
      { type: 'hdlc', modem: 'v21', frame: DIS.filter((_, i) => i < 3 || i >= 6), fcsOk: false },
      { type: 'hdlc', modem: 'v21', frame: CSI, fcsOk: true },
      { type: 'carrier-down' },
    ]);
    assert.equal(port.stats.ignored, 1);
    assert.equal(port.stats.lost, 1);
    // The preamble and the first octets lost together: the rest must not pass for a good frame.
    send({ kind: 'indicator', indicator: 'v21-preamble' }, false);
    send(hdlc([{ type: 'hdlc-data', data: wire(DIS).subarray(0, 3) }]), false);
    send(hdlc([{ type: 'hdlc-data', data: wire(DIS).subarray(3) }, { type: 'hdlc-fcs-ok-sig-end' }]));
    assert.deepEqual(await until(port, (e) => e.type === 'carrier-down'), [
      { type: 'carrier-up', modem: 'v21' },
      { type: 'hdlc', modem: 'v21', frame: DIS.subarray(3), fcsOk: false },
      { type: 'carrier-down' },
    ]);
  } finally {
    peer.close();
    await port.close();
  }
});

test('a page producer that fails rejects sendImage and still drops the far carrier', async () => {
  const [a, b] = await pair();
  async function* failing(): AsyncIterable<Uint8Array> {
    yield new Uint8Array(500);
    throw new Error('coder failed');
  }
  await assert.rejects(a.sendImage('v29-7200', failing()), /coder failed/);
  const events = await until(b, (e) => e.type === 'carrier-down');
  assert.deepEqual(events[0], { type: 'carrier-up', modem: 'v29-7200' });
  // The chain goes on: the next send works.
  await a.sendHdlc('v21', [DIS]);
  assert.deepEqual((await until(b, (e) => e.type === 'hdlc')).at(-1), {
    type: 'hdlc',
    modem: 'v21',
    frame: DIS,
    fcsOk: true,
  });
});

test('the opening of a real spandsp terminal (CED, then CSI + DIS) decodes to T30Port frames under 10% loss', async () => {
  // IFPs and copy counts recorded from libspandsp 0.0.6 t38_terminal (answering, T.38 version 0, paced): V.21 data
  // goes one octet per IFP, frames end with a separate hdlc-fcs-OK / hdlc-fcs-OK-sig-end IFP.
  const octets = (hexes: string) => hexes.split(' ').map((x) => `1 C001800000${x}`);
  const recorded = [
    '3 00',
    '3 04',
    '3 00',
    '3 06',
    ...octets(`FF C0 02 CC 4C 8C ${Array(17).fill('04').join(' ')}`),
    '1 C00120',
    ...octets('FF C8 01 20 77 1F 01 01 89 01 01 01 18'),
    '3 C00140',
    '3 00',
  ];
  const endpoint = await UdptlEndpoint.open({ localAddress: '127.0.0.1', dropRate: 0.1, random: prng(10) });
  const port = new T38Transport(endpoint, { pace: 'none', version: 0 });
  const peer = createSocket('udp4');
  const sender = new UdptlSender({ mode: 'redundancy', depth: 3 });
  try {
    for (const line of recorded) {
      const [count, hex] = line.split(' ');
      const datagram = sender.build(Buffer.from(hex, 'hex'));
      for (let i = 0; i < Number(count); i++) peer.send(datagram, endpoint.localPort, '127.0.0.1');
    }
    let downs = 0;
    const events = await until(port, (e) => e.type === 'carrier-down' && ++downs === 2);
    const csi = Uint8Array.from([0xff, 0x03, 0x40, 0x33, 0x32, 0x31, ...Array(17).fill(0x20)]);
    const dis = Uint8Array.from([
      0xff, 0x13, 0x80, 0x04, 0xee, 0xf8, 0x80, 0x80, 0x91, 0x80, 0x80, 0x80, 0x18,
    ]);
    assert.deepEqual(events, [
      { type: 'tone', tone: 'ced' },
      { type: 'carrier-down' },
      { type: 'carrier-up', modem: 'v21' },
      { type: 'hdlc', modem: 'v21', frame: csi, fcsOk: true },
      { type: 'hdlc', modem: 'v21', frame: dis, fcsOk: true },
      { type: 'carrier-down' },
    ]);
    assert.ok(port.stats.dropped > 0);
  } finally {
    peer.close();
    await port.close();
  }
});

test('paced V.21: one octet per IFP (30 ms at 300 bit/s, as spandsp), indicators and the last packet ×3', async () => {
  const sniffer: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => sniffer.bind(0, '127.0.0.1', resolve));
  const seen: string[] = [];
  sniffer.on('message', (m) => {
    const packet = decodeUdptl(m);
    const ifp = decodeIfp(packet.primary, 0);
    seen.push(
      `${packet.seq}:${ifp.kind === 'indicator' ? ifp.indicator : ifp.fields.map((f) => `${f.type}${f.data ? `[${Buffer.from(f.data).toString('hex')}]` : ''}`).join('+')}`,
    );
  });
  const endpoint = await UdptlEndpoint.open({
    localAddress: '127.0.0.1',
    remoteHost: '127.0.0.1',
    remotePort: sniffer.address().port,
  });
  const port = new T38Transport(endpoint, { pace: 'realtime' });
  try {
    await port.sendHdlc('v21', [Uint8Array.from([0xff, 0x13, 0x84])]); // CFR
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(seen, [
      ...Array(3).fill('0:v21-preamble'),
      '1:hdlc-data[ff]',
      '2:hdlc-data[c8]',
      ...Array(3).fill('3:hdlc-data[21]+hdlc-fcs-ok-sig-end'),
      ...Array(3).fill('4:no-signal'),
    ]);
  } finally {
    await port.close();
    sniffer.close();
  }
});
