import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T38DecodeError } from './t38-decode-error.ts';
import { decodeUdptl, encodeUdptl, NO_RECOVERY, type UdptlPacket } from './udptl.ts';
import { UdptlSender } from './udptl-sender.ts';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));
const toHex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');

/** A deterministic PRNG (mulberry32) so failures reproduce. */
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

function plain(packet: UdptlPacket): unknown {
  const ec = packet.errorRecovery;
  return {
    seq: packet.seq,
    primary: [...packet.primary],
    ec:
      ec.kind === 'redundancy'
        ? { r: ec.secondary.map((s) => [...s]) }
        : { span: ec.span, f: ec.entries.map((s) => [...s]) },
  };
}

test('golden vectors (T.38 Annex A UDPTLPacket, fax-engines §5.6)', () => {
  const vectors: [UdptlPacket, string][] = [
    [{ seq: 1, primary: hex('06'), errorRecovery: NO_RECOVERY }, '00 01 01 06 00 00'],
    [
      {
        seq: 3,
        primary: hex('06'),
        errorRecovery: { kind: 'redundancy', secondary: [hex('04'), hex('02')] },
      },
      '00 03 01 06 00 02 01 04 01 02',
    ],
    [
      {
        seq: 0xfffe,
        primary: hex('00'),
        errorRecovery: { kind: 'fec', span: 3, entries: [hex('AA'), hex('BB CC')] },
      },
      'FF FE 01 00 80 01 03 02 01 AA 02 BB CC',
    ],
    [
      { seq: 0x1234, primary: hex('C0 01 20'), errorRecovery: { kind: 'fec', span: 0, entries: [] } },
      '12 34 03 C0 01 20 80 01 00 00',
    ],
  ];
  for (const [packet, expected] of vectors) {
    assert.equal(toHex(encodeUdptl(packet)), expected);
    assert.deepEqual(plain(decodeUdptl(hex(expected))), plain(packet));
  }
  // A 200-octet IFP takes the two-octet length determinant 0x80C8.
  const big = new Uint8Array(200).fill(7);
  const encoded = encodeUdptl({ seq: 2, primary: big, errorRecovery: NO_RECOVERY });
  assert.equal(toHex(encoded.subarray(0, 4)), '00 02 80 C8');
  assert.equal(encoded.length, 2 + 2 + 200 + 2);
  assert.deepEqual(plain(decodeUdptl(encoded)), plain({ seq: 2, primary: big, errorRecovery: NO_RECOVERY }));
});

test('the sender builds redundancy newest first, growing 0, 1, 2, 3 at the start, trimmed to the datagram', () => {
  const sender = new UdptlSender({ mode: 'redundancy', depth: 3 }, 400, 0);
  const ifps = [hex('00'), hex('02'), hex('06'), hex('C0 01 20'), hex('0E')];
  const packets = ifps.map((ifp) => decodeUdptl(sender.build(ifp)));
  assert.deepEqual(
    packets.map((p) => (p.errorRecovery.kind === 'redundancy' ? p.errorRecovery.secondary.map(toHex) : [])),
    [[], ['00'], ['02', '00'], ['06', '02', '00'], ['C0 01 20', '06', '02']],
  );
  assert.deepEqual(
    packets.map((p) => p.seq),
    [0, 1, 2, 3, 4],
  );
  // A 30-byte datagram budget leaves room for only some of the previous IFPs.
  const tight = new UdptlSender({ mode: 'redundancy', depth: 3 }, 30, 0xfffe);
  const ifp = new Uint8Array(10).fill(0x11);
  tight.build(ifp);
  tight.build(ifp);
  const third = tight.build(ifp);
  assert.ok(third.length <= 30);
  const decoded = decodeUdptl(third);
  assert.equal(decoded.seq, 0, 'sequence wraps 65535 → 0');
  assert.equal(decoded.errorRecovery.kind === 'redundancy' && decoded.errorRecovery.secondary.length, 1);
});

test('the sender builds FEC parity over span packets with stride entries (T.38 §9.1)', () => {
  const sender = new UdptlSender({ mode: 'fec', span: 2, entries: 2 }, 400, 0);
  const ifps = [hex('01'), hex('02 20'), hex('04'), hex('08 80 80'), hex('10')];
  const packets = ifps.map((ifp) => decodeUdptl(sender.build(ifp)));
  const fec = packets.map((p) =>
    p.errorRecovery.kind === 'fec' ? [p.errorRecovery.span, ...p.errorRecovery.entries.map(toHex)] : [],
  );
  // Wind-up: nothing before span packets, then one entry, then the full span × entries window.
  assert.deepEqual(fec[0], [0]);
  assert.deepEqual(fec[1], [0]);
  assert.deepEqual(fec[2], [2, '03 20']); // 01 ^ 02 20
  assert.deepEqual(fec[3], [2, '06 20']); // 02 20 ^ 04
  // seq 4: entry 0 = seq 0 ^ seq 2, entry 1 = seq 1 ^ seq 3.
  assert.deepEqual(fec[4], [2, '05', '0A A0 80']);
});

test('decode rejects fragments, truncation and trailing bytes with typed errors', () => {
  const cases: [string, string][] = [
    ['', 'truncated'],
    ['00', 'truncated'],
    ['00 01 02 06', 'truncated'],
    ['00 01 01 06', 'truncated'],
    ['00 01 C1 06 00 00', 'fragmented'],
    ['00 01 01 06 00 01 C2', 'fragmented'],
    ['00 01 01 06 00 00 00', 'trailing-bytes'],
    ['00 01 00 00 00', 'bad-value'],
    ['00 01 01 06 80 05 00 00 00 00 01 00', 'bad-value'],
    ['00 01 01 06 80 01 FF 00', 'bad-value'],
  ];
  for (const [input, code] of cases) {
    assert.throws(
      () => decodeUdptl(hex(input)),
      (e: unknown) => e instanceof T38DecodeError && e.code === code,
      `${input} → ${code}`,
    );
  }
});

test('fuzz: random and mutated datagrams either decode or throw T38DecodeError', () => {
  const random = prng(99);
  const sender = new UdptlSender({ mode: 'redundancy', depth: 3 }, 400);
  const fecSender = new UdptlSender({ mode: 'fec', span: 3, entries: 3 }, 400);
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const ifp = new Uint8Array(1 + Math.floor(random() * 60)).map(() => Math.floor(random() * 256));
    seeds.push(sender.build(ifp), fecSender.build(ifp));
  }
  let decoded = 0;
  for (let i = 0; i < 20_000; i++) {
    let input: Uint8Array;
    if (i % 4 === 0) {
      input = new Uint8Array(Math.floor(random() * 40)).map(() => Math.floor(random() * 256));
    } else {
      const seed = seeds[i % seeds.length];
      input = seed.slice(0, random() < 0.3 ? Math.floor(random() * (seed.length + 1)) : seed.length);
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips && input.length > 0; f++)
        input[Math.floor(random() * input.length)] ^= 1 << Math.floor(random() * 8);
    }
    try {
      const packet = decodeUdptl(input);
      decoded++;
      assert.deepEqual(plain(decodeUdptl(encodeUdptl(packet))), plain(packet));
    } catch (error) {
      if (!(error instanceof T38DecodeError)) throw error;
    }
  }
  assert.ok(decoded > 0);
});
