import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  decodeIfp,
  encodeIfp,
  type IfpField,
  type IfpPacket,
  T38_DATA_TYPES,
  T38_FIELD_TYPES,
  T38_INDICATORS,
  T38DecodeError,
  T38EncodeError,
} from './ifp.ts';

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

function check(packet: IfpPacket, version: number, expected: string): void {
  assert.equal(toHex(encodeIfp(packet, version)), expected, `encode v${version} ${JSON.stringify(packet)}`);
  assert.deepEqual(normalise(decodeIfp(hex(expected), version)), normalise(packet));
}

function normalise(packet: IfpPacket): unknown {
  if (packet.kind === 'indicator') return packet;
  return {
    ...packet,
    fields: packet.fields.map((f) =>
      f.data && f.data.length > 0 ? { type: f.type, data: [...f.data] } : { type: f.type },
    ),
  };
}

test('root indicators: one octet, index << 1, same in both versions (T.38 §A, fax-engines §5.5)', () => {
  const expected = [
    '00',
    '02',
    '04',
    '06',
    '08',
    '0A',
    '0C',
    '0E',
    '10',
    '12',
    '14',
    '16',
    '18',
    '1A',
    '1C',
    '1E',
  ];
  for (let i = 0; i < 16; i++) {
    for (const version of [0, 1, 2, 3])
      check({ kind: 'indicator', indicator: T38_INDICATORS[i] }, version, expected[i]);
  }
});

test('extension indicators (2002 module): extension bit, small-number bit, six-bit index', () => {
  const expected = ['20 00', '20 40', '20 80', '20 C0', '21 00', '21 40', '21 80'];
  for (let i = 0; i < 7; i++) check({ kind: 'indicator', indicator: T38_INDICATORS[16 + i] }, 3, expected[i]);
  assert.throws(
    () => encodeIfp({ kind: 'indicator', indicator: 'v8-ansam' }, 0),
    (e: unknown) => e instanceof T38EncodeError && e.code === 'not-in-version',
  );
});

test('every data type with and without a data field', () => {
  for (let i = 0; i < 9; i++) {
    const dataType = T38_DATA_TYPES[i];
    const b = (0x40 | (i << 1)).toString(16).toUpperCase();
    for (const version of [0, 2]) {
      check({ kind: 'data', dataType, fields: [] }, version, b);
      const withData = (0xc0 | (i << 1)).toString(16).toUpperCase();
      check(
        { kind: 'data', dataType, fields: [{ type: 't4-non-ecm-data', data: hex('12') }] },
        version,
        `${withData} 01 ${version === 0 ? 'E0' : 'B0'} 00 00 12`,
      );
    }
  }
  const ext = ['60 00', '60 40', '60 80', '60 C0', '61 00', '61 40'];
  for (let i = 0; i < 6; i++) {
    check({ kind: 'data', dataType: T38_DATA_TYPES[9 + i], fields: [] }, 1, ext[i]);
    const withData = `${(0xe0 | (i >> 2)).toString(16).toUpperCase()} ${(((i & 3) << 6) & 0xff).toString(16).toUpperCase().padStart(2, '0')}`;
    check(
      { kind: 'data', dataType: T38_DATA_TYPES[9 + i], fields: [{ type: 'hdlc-fcs-ok' }] },
      1,
      `${withData} 01 10`,
    );
  }
});

test('every root field type with and without data, both versions', () => {
  for (let t = 0; t < 8; t++) {
    const type = T38_FIELD_TYPES[t];
    // Version 0: presence bit + 3 type bits; version ≥ 1: presence + extension bit + 3 type bits.
    check(
      { kind: 'data', dataType: 'v21', fields: [{ type }] },
      0,
      `C0 01 ${(t << 4).toString(16).toUpperCase().padStart(2, '0')}`,
    );
    check(
      { kind: 'data', dataType: 'v21', fields: [{ type }] },
      1,
      `C0 01 ${(t << 3).toString(16).toUpperCase().padStart(2, '0')}`,
    );
    const data = hex('FF C8 01');
    check(
      { kind: 'data', dataType: 'v17-14400', fields: [{ type, data }] },
      0,
      `D0 01 ${(0x80 | (t << 4)).toString(16).toUpperCase()} 00 02 FF C8 01`,
    );
    check(
      { kind: 'data', dataType: 'v17-14400', fields: [{ type, data }] },
      1,
      `D0 01 ${(0x80 | (t << 3)).toString(16).toUpperCase()} 00 02 FF C8 01`,
    );
  }
});

test('extension field types (2002 module): presence, extension, small-number bits, six-bit index', () => {
  const data = hex('31');
  check(
    { kind: 'data', dataType: 'v8', fields: [{ type: 'cm-message', data }] },
    1,
    'E0 00 01 C0 00 00 00 31',
  );
  check(
    { kind: 'data', dataType: 'v8', fields: [{ type: 'jm-message', data }] },
    1,
    'E0 00 01 C0 80 00 00 31',
  );
  check(
    { kind: 'data', dataType: 'v8', fields: [{ type: 'ci-message', data }] },
    1,
    'E0 00 01 C1 00 00 00 31',
  );
  check({ kind: 'data', dataType: 'v34-pri-rate', fields: [{ type: 'v34rate' }] }, 1, 'E0 40 01 41 80');
  assert.throws(
    () => encodeIfp({ kind: 'data', dataType: 'v21', fields: [{ type: 'cm-message', data }] }, 0),
    (e: unknown) => e instanceof T38EncodeError && e.code === 'not-in-version',
  );
});

test('multiple fields: data then FCS, and fields without data packed as PER bit-fields', () => {
  const frame: IfpField = { type: 'hdlc-data', data: hex('FF C8 01') };
  check(
    { kind: 'data', dataType: 'v21', fields: [frame, { type: 'hdlc-fcs-ok-sig-end' }] },
    1,
    'C0 02 80 00 02 FF C8 01 20',
  );
  check(
    { kind: 'data', dataType: 'v21', fields: [frame, { type: 'hdlc-fcs-ok-sig-end' }] },
    0,
    'C0 02 80 00 02 FF C8 01 40',
  );
  // Version 0: two data-less fields share one octet (the pre-corrigendum half-octet packing).
  check(
    { kind: 'data', dataType: 'v21', fields: [{ type: 'hdlc-fcs-ok' }, { type: 'hdlc-fcs-ok-sig-end' }] },
    0,
    'C0 02 24',
  );
  check(
    {
      kind: 'data',
      dataType: 'v21',
      fields: [{ type: 'hdlc-fcs-ok' }, { type: 'hdlc-data', data: hex('FF') }],
    },
    0,
    'C0 02 28 00 00 FF',
  );
  // Version ≥ 1: 5-bit field headers run on without alignment until a length needs it.
  check(
    { kind: 'data', dataType: 'v21', fields: [{ type: 'hdlc-fcs-ok' }, { type: 'hdlc-fcs-ok-sig-end' }] },
    1,
    'C0 02 11 00',
  );
  check(
    {
      kind: 'data',
      dataType: 'v21',
      fields: [{ type: 'hdlc-fcs-ok' }, { type: 'hdlc-data', data: hex('FF') }],
    },
    1,
    'C0 02 14 00 00 00 FF',
  );
  check(
    {
      kind: 'data',
      dataType: 'v29-9600',
      fields: [frame, { type: 'hdlc-fcs-ok' }, { ...frame }, { type: 'hdlc-fcs-bad-sig-end' }],
    },
    2,
    'C8 04 80 00 02 FF C8 01 14 00 00 02 FF C8 01 28',
  );
  // 128 fields need the two-octet length determinant.
  const many: IfpField[] = Array.from({ length: 128 }, () => ({ type: 'hdlc-fcs-ok' }));
  check({ kind: 'data', dataType: 'v21', fields: many }, 0, `C0 80 80 ${Array(64).fill('22').join(' ')}`);
  // Long field data: length − 1 in two octets.
  const big = new Uint8Array(300).fill(0xaa);
  const encoded = encodeIfp(
    { kind: 'data', dataType: 'v17-9600', fields: [{ type: 't4-non-ecm-data', data: big }] },
    1,
  );
  assert.equal(toHex(encoded.subarray(0, 5)), 'CC 01 B0 01 2B');
  assert.equal(encoded.length, 305);
});

test('decode rejects garbage with typed errors', () => {
  const cases: [string, number, string][] = [
    ['', 0, 'truncated'],
    ['80', 0, 'indicator-with-data'],
    ['06 00', 0, 'trailing-bytes'],
    ['52', 0, 'unknown-data-type'], // root data index 9
    ['21 C0', 1, 'unknown-indicator'], // extension index 7
    ['30 00', 1, 'bad-value'], // normally-small number ≥ 64
    ['C0', 0, 'truncated'],
    ['C0 01 80 00 05 FF', 0, 'truncated'],
    ['C0 C1 00', 0, 'fragmented'],
    ['E0 00 01 C2 00 00 00 31', 1, 'unknown-field-type'],
  ];
  for (const [input, version, code] of cases) {
    assert.throws(
      () => decodeIfp(hex(input), version),
      (e: unknown) => e instanceof T38DecodeError && e.code === code,
      `${input} → ${code}`,
    );
  }
  assert.deepEqual(decodeIfp(hex('06 00'), 0, { allowTrailing: true }), {
    kind: 'indicator',
    indicator: 'v21-preamble',
  });
});

function randomIfp(random: () => number, version: number): IfpPacket {
  const pick = <T>(list: readonly T[], rootCount: number): T =>
    list[Math.floor(random() * (version >= 1 ? list.length : rootCount))];
  if (random() < 0.3) return { kind: 'indicator', indicator: pick(T38_INDICATORS, 16) };
  const fields: IfpField[] = [];
  const count = Math.floor(random() * 5);
  for (let i = 0; i < count; i++) {
    const type = pick(T38_FIELD_TYPES, 8);
    if (random() < 0.5) {
      fields.push({ type });
    } else {
      const data = new Uint8Array(1 + Math.floor(random() * (random() < 0.1 ? 400 : 40)));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(random() * 256);
      fields.push({ type, data });
    }
  }
  return { kind: 'data', dataType: pick(T38_DATA_TYPES, 9), fields };
}

test('decode(encode(x)) = x for random packets in both versions', () => {
  const random = prng(38);
  for (let i = 0; i < 3000; i++) {
    const version = i % 2 === 0 ? 0 : 1 + (i % 3);
    const packet = randomIfp(random, version);
    const bytes = encodeIfp(packet, version);
    assert.deepEqual(normalise(decodeIfp(bytes, version)), normalise(packet));
  }
});

test('fuzz: random and mutated inputs either decode or throw T38DecodeError', () => {
  const random = prng(7);
  const seeds = [0, 1].flatMap((v) => Array.from({ length: 50 }, () => encodeIfp(randomIfp(random, v), v)));
  for (let i = 0; i < 20_000; i++) {
    let input: Uint8Array;
    if (i % 3 === 0) {
      input = new Uint8Array(Math.floor(random() * 24));
      for (let j = 0; j < input.length; j++) input[j] = Math.floor(random() * 256);
    } else {
      const seed = seeds[i % seeds.length];
      input = seed.slice(0, random() < 0.3 ? Math.floor(random() * (seed.length + 1)) : seed.length);
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips && input.length > 0; f++)
        input[Math.floor(random() * input.length)] ^= 1 << Math.floor(random() * 8);
    }
    for (const version of [0, 1]) {
      try {
        const packet = decodeIfp(input, version);
        // Whatever decodes must re-encode to something that decodes to the same packet.
        assert.deepEqual(normalise(decodeIfp(encodeIfp(packet, 1), 1)), normalise(packet));
      } catch (error) {
        if (!(error instanceof T38DecodeError)) throw error;
      }
    }
  }
});

/** Builds the libspandsp oracle (spandsp-ifp-oracle.c), or returns null when gcc or libspandsp-dev is missing. */
function buildSpandspOracle(dir: string): string | null {
  try {
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'spandsp'], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
    const binary = join(dir, 'spandsp-ifp-oracle');
    const source = new URL('./spandsp-ifp-oracle.c', import.meta.url).pathname;
    execFileSync('gcc', ['-O1', '-o', binary, source, ...flags, '-ltiff'], { stdio: 'pipe' });
    return binary;
  } catch {
    return null;
  }
}

test('byte-for-byte agreement with libspandsp t38_core (the interop peer), both versions', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 't38-oracle-'));
  try {
    const oracle = buildSpandspOracle(dir);
    if (oracle === null) {
      t.skip('gcc or libspandsp-dev not installed');
      return;
    }
    const random = prng(2026);
    const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
    const cases: { packet: IfpPacket; version: number; sameEncoding: boolean }[] = [];
    for (let i = 0; i < 1500; i++) {
      const version = i % 2 === 0 ? 0 : 2;
      const packet = randomIfp(random, version);
      // spandsp gives every field its own octet, which matches PER only when no data-less field precedes another
      // (true of everything either side sends); its version 0 decoder does follow the half-octet packing.
      const fields = packet.kind === 'data' ? packet.fields : [];
      const sameEncoding =
        fields.every((f, k) => k === fields.length - 1 || (f.data?.length ?? 0) > 0) &&
        !fields.some((f) => T38_FIELD_TYPES.indexOf(f.type) >= 8 && f.type !== 'cm-message');
      cases.push({ packet, version, sameEncoding });
    }
    const commands: string[] = [];
    for (const { packet, version } of cases) {
      if (packet.kind === 'indicator') {
        commands.push(`I ${version} ${T38_INDICATORS.indexOf(packet.indicator)}`);
      } else {
        const fields = packet.fields.map(
          (f) => `${T38_FIELD_TYPES.indexOf(f.type)} ${f.data ? hexOf(f.data) : '-'}`,
        );
        commands.push(
          `D ${version} ${T38_DATA_TYPES.indexOf(packet.dataType)} ${packet.fields.length} ${fields.join(' ')}`,
        );
      }
      commands.push(`X ${version} ${hexOf(encodeIfp(packet, version))}`);
    }
    const run = spawnSync(oracle, {
      input: `${commands.join('\n')}\n`,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, commands.length);
    let compared = 0;
    cases.forEach(({ packet, version, sameEncoding }, i) => {
      const ours = hexOf(encodeIfp(packet, version));
      const decodedBySpandsp =
        packet.kind === 'indicator'
          ? ` I${T38_INDICATORS.indexOf(packet.indicator)}`
          : packet.fields
              .map(
                (f) =>
                  ` D${T38_DATA_TYPES.indexOf(packet.dataType)}/${T38_FIELD_TYPES.indexOf(f.type)}:${f.data ? hexOf(f.data) : ''}`,
              )
              .join('');
      if (version === 0 || sameEncoding)
        assert.equal(lines[2 * i + 1], `OK${decodedBySpandsp}`, `spandsp decodes ${ours}`);
      if (sameEncoding) {
        assert.equal(ours, lines[2 * i], `encoding of ${JSON.stringify(normalise(packet))} v${version}`);
        assert.deepEqual(normalise(decodeIfp(Buffer.from(lines[2 * i], 'hex'), version)), normalise(packet));
        compared++;
      }
    });
    assert.ok(compared > 800, `${compared} encodings compared`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
