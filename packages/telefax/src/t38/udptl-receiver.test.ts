import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeUdptl, encodeUdptl, type UdptlPacket } from './udptl.ts';
import { UdptlReceiver, type UdptlRecovery } from './udptl-receiver.ts';
import { type UdptlErrorCorrection, UdptlSender } from './udptl-sender.ts';

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

/** IFP number i: its index in the first two octets, then a length and filler that vary with i. */
function ifpOf(i: number, fixedLength?: number): Uint8Array {
  const out = new Uint8Array(fixedLength ?? 2 + (i % 11));
  out[0] = i >> 8;
  out[1] = i & 0xff;
  for (let j = 2; j < out.length; j++) out[j] = (i * 31 + j * 7) & 0xff;
  return out;
}

interface Outcome {
  delivered: { seq: number; ifp: Uint8Array; recovery: UdptlRecovery }[];
  lost: number[];
  receiver: UdptlReceiver;
}

function collect(options?: ConstructorParameters<typeof UdptlReceiver>[1]): Outcome {
  const outcome: Outcome = { delivered: [], lost: [], receiver: undefined as unknown as UdptlReceiver };
  outcome.receiver = new UdptlReceiver(
    {
      ifp: (ifp, seq, recovery) => outcome.delivered.push({ seq, ifp: new Uint8Array(ifp), recovery }),
      loss: (first, count) => {
        for (let i = 0; i < count; i++) outcome.lost.push((first + i) & 0xffff);
      },
    },
    options,
  );
  return outcome;
}

/** Sends n IFPs through a sender, lets `network` drop/reorder/duplicate the datagrams, feeds a receiver. */
function run(
  n: number,
  ec: UdptlErrorCorrection,
  network: (datagrams: Uint8Array[]) => Uint8Array[],
  fixedLength?: number,
  firstSeq = 0,
): Outcome {
  const sender = new UdptlSender(ec, 1400, firstSeq);
  const datagrams = Array.from({ length: n }, (_, i) => sender.build(ifpOf(i, fixedLength)));
  const outcome = collect();
  let now = 0;
  for (const datagram of network(datagrams)) {
    now += 30;
    outcome.receiver.receive(decodeUdptl(datagram), now);
  }
  outcome.receiver.flush();
  return outcome;
}

function assertInOrderExactlyOnce(outcome: Outcome, n: number, firstSeq = 0, fixedLength?: number): void {
  let previous = -1;
  for (const { seq, ifp, recovery } of outcome.delivered) {
    const i = (seq - firstSeq) & 0xffff;
    assert.ok(i > previous, `seq ${seq} delivered in order and once`);
    previous = i;
    // FEC rebuilds an IFP to the longest of its group; the rest must be exact.
    const expected = fixedLength === undefined ? ifpOf(i) : ifpOf(i, fixedLength);
    if (recovery !== 'fec') assert.equal(ifp.length, expected.length);
    assert.deepEqual(ifp.subarray(0, expected.length), expected);
  }
  const accounted = new Set([...outcome.delivered.map((d) => d.seq), ...outcome.lost]);
  assert.equal(
    accounted.size,
    outcome.delivered.length + outcome.lost.length,
    'no seq both delivered and lost',
  );
  assert.ok(accounted.size <= n);
}

function lossy(rate: number, seed: number, dropped: Set<number>): (datagrams: Uint8Array[]) => Uint8Array[] {
  const random = prng(seed);
  return (datagrams) =>
    datagrams.filter((_, i) => {
      if (random() < rate) {
        dropped.add(i);
        return false;
      }
      return true;
    });
}

for (const rate of [0.05, 0.2]) {
  test(`redundancy depth 3 under ${rate * 100}% random loss recovers everything but bursts over 3`, () => {
    const n = 3000;
    const dropped = new Set<number>();
    const outcome = run(n, { mode: 'redundancy', depth: 3 }, lossy(rate, 1234 + rate * 100, dropped));
    assertInOrderExactlyOnce(outcome, n);
    // Packet i is gone only if it and the three packets that repeat it were all dropped.
    const last = Math.max(...[...Array(n).keys()].filter((i) => !dropped.has(i)));
    const unrecoverable: number[] = [];
    for (let i = 0; i < last; i++) {
      if ([0, 1, 2, 3].every((k) => i + k > last || dropped.has(i + k))) unrecoverable.push(i);
    }
    assert.deepEqual(outcome.lost, unrecoverable);
    assert.equal(outcome.delivered.length, last + 1 - unrecoverable.length);
    assert.ok(outcome.receiver.stats.recovered >= dropped.size - unrecoverable.length - (n - 1 - last));
    for (const d of outcome.delivered) assert.equal(d.recovery !== 'primary', dropped.has(d.seq));
  });
}

test('FEC recovers isolated losses byte-exact from parity (fixed-length IFPs)', () => {
  const n = 400;
  const dropped = new Set<number>();
  // Drop one packet in every 12: each FEC group (span 3 × entries 3) then misses at most one member.
  const outcome = run(
    n,
    { mode: 'fec', span: 3, entries: 3 },
    (datagrams) =>
      datagrams.filter((_, i) => {
        if (i % 12 === 5) dropped.add(i);
        return i % 12 !== 5;
      }),
    20,
  );
  assert.deepEqual(outcome.lost, []);
  assert.equal(outcome.delivered.length, n);
  for (const d of outcome.delivered) {
    assert.deepEqual(d.ifp, ifpOf(d.seq, 20));
    assert.equal(d.recovery === 'fec', dropped.has(d.seq));
  }
});

test('FEC under 5% random loss: variable-length IFPs come back as a prefix with XOR residue', () => {
  const n = 2000;
  const dropped = new Set<number>();
  const outcome = run(n, { mode: 'fec', span: 3, entries: 3 }, lossy(0.05, 77, dropped));
  assertInOrderExactlyOnce(outcome, n);
  const recovered = outcome.delivered.filter((d) => d.recovery === 'fec');
  assert.ok(recovered.length > dropped.size * 0.6, `${recovered.length} of ${dropped.size} recovered`);
  for (const d of recovered) assert.deepEqual(d.ifp.subarray(0, ifpOf(d.seq).length), ifpOf(d.seq));
});

test('reordering within the hold window loses nothing, without error recovery', () => {
  const n = 500;
  const random = prng(5);
  const outcome = run(n, { mode: 'none' }, (datagrams) => {
    const out = datagrams.slice();
    // Disjoint swaps, so no packet arrives more than two places late.
    for (let i = 0; i + 2 < out.length; i++) {
      const r = random();
      if (r < 0.2) {
        [out[i], out[i + 1]] = [out[i + 1], out[i]];
        i += 1;
      } else if (r < 0.25) {
        [out[i], out[i + 2]] = [out[i + 2], out[i]];
        i += 2;
      }
    }
    return out;
  });
  assert.deepEqual(outcome.lost, []);
  assert.deepEqual(
    outcome.delivered.map((d) => d.seq),
    [...Array(n).keys()],
  );
});

test('duplicates (each datagram three times) are delivered once', () => {
  const outcome = run(300, { mode: 'redundancy', depth: 2 }, (d) => d.flatMap((x) => [x, x, x]));
  assert.deepEqual(
    outcome.delivered.map((d) => d.seq),
    [...Array(300).keys()],
  );
  assert.equal(outcome.receiver.stats.duplicates, 600);
});

test('sequence numbers wrap 65535 → 0, with loss across the wrap', () => {
  const first = 65_520;
  const outcome = run(
    40,
    { mode: 'redundancy', depth: 3 },
    (d) => d.filter((_, i) => i !== 15 && i !== 16),
    undefined,
    first,
  );
  assert.deepEqual(outcome.lost, []);
  assert.deepEqual(
    outcome.delivered.map((d) => d.seq),
    Array.from({ length: 40 }, (_, i) => (first + i) & 0xffff),
  );
  assert.deepEqual(
    outcome.delivered.filter((d) => d.recovery === 'redundancy').map((d) => d.seq),
    [65_535, 0],
  );
});

test('a peer that rolls 65535 → 1 is followed without a phantom loss', () => {
  const outcome = collect();
  const seqs = [65_533, 65_534, 65_535, 1, 2, 3];
  const ifps = seqs.map((_, i) => ifpOf(i));
  seqs.forEach((seq, i) => {
    const secondary = ifps.slice(Math.max(0, i - 3), i).reverse();
    outcome.receiver.receive(
      { seq, primary: ifps[i], errorRecovery: { kind: 'redundancy', secondary } },
      i * 30,
    );
  });
  outcome.receiver.flush();
  assert.deepEqual(outcome.lost, []);
  assert.deepEqual(
    outcome.delivered.map((d) => [...d.ifp]),
    ifps.map((x) => [...x]),
  );
});

test('a held gap is given up after holdMs; the late packet is then dropped', () => {
  const outcome = collect({ holdPackets: 5, holdMs: 60 });
  const packet = (seq: number): UdptlPacket => ({
    seq,
    primary: ifpOf(seq),
    errorRecovery: { kind: 'redundancy', secondary: [] },
  });
  const r = outcome.receiver;
  assert.equal(r.receive(packet(10), 0), Number.POSITIVE_INFINITY);
  const deadline = r.receive(packet(12), 30);
  assert.equal(deadline, 90);
  assert.deepEqual(
    outcome.delivered.map((d) => d.seq),
    [10],
  );
  assert.equal(r.expire(89), 90);
  assert.equal(r.expire(90), Number.POSITIVE_INFINITY);
  assert.deepEqual(outcome.lost, [11]);
  r.receive(packet(11), 100);
  assert.equal(r.stats.late, 1);
  assert.deepEqual(
    outcome.delivered.map((d) => d.seq),
    [10, 12],
  );
});

test('a confirmed jump of more than 2,000 restarts the sequence; a lone stray packet does not', () => {
  const outcome = collect();
  const packet = (seq: number): UdptlPacket => ({
    seq,
    primary: ifpOf(seq),
    errorRecovery: { kind: 'redundancy', secondary: [] },
  });
  for (const seq of [100, 101, 20_000, 20_001, 101]) outcome.receiver.receive(packet(seq), 0);
  assert.deepEqual(
    outcome.delivered.map((d) => d.seq),
    [100, 101, 20_000, 20_001],
  );
  assert.equal(outcome.receiver.stats.restarts, 1);
  assert.equal(outcome.receiver.stats.strays, 1);
});

test('round trip through encodeUdptl keeps the receiver happy with any first sequence number', () => {
  const outcome = collect();
  for (let i = 0; i < 5; i++) {
    const datagram = encodeUdptl({
      seq: 4242 + i,
      primary: ifpOf(i),
      errorRecovery: { kind: 'redundancy', secondary: [] },
    });
    outcome.receiver.receive(decodeUdptl(datagram), i);
  }
  assert.deepEqual(
    outcome.delivered.map((d) => d.seq),
    [4242, 4243, 4244, 4245, 4246],
  );
});

test('a peer that numbers a new stream from 0 again is followed after four packets, redundancy filling the start', () => {
  const outcome = collect();
  const first = new UdptlSender({ mode: 'redundancy', depth: 3 });
  for (let i = 0; i < 300; i++) outcome.receiver.receive(decodeUdptl(first.build(ifpOf(i))), i);
  const second = new UdptlSender({ mode: 'redundancy', depth: 3 });
  for (let i = 0; i < 20; i++) outcome.receiver.receive(decodeUdptl(second.build(ifpOf(1000 + i))), 300 + i);
  assert.deepEqual(
    outcome.delivered.slice(300).map((d) => [...d.ifp]),
    Array.from({ length: 20 }, (_, i) => [...ifpOf(1000 + i)]),
  );
  assert.equal(outcome.receiver.stats.restarts, 1);
  assert.deepEqual(outcome.lost, []);
});
