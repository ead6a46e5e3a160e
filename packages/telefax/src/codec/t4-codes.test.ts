import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODE_CODES, Mode, runCodesOf } from './t4-codes.ts';

const EOL = '000000000001';

function codeFor(color: 'white' | 'black', run: number): string {
  const code = runCodesOf(color).find((c) => c.run === run);
  assert.ok(code, `${color} ${run}`);
  return code.bits;
}

test('code words quoted from T.4 Tables 2, 3a and 3b', () => {
  const golden: ['white' | 'black', number, string][] = [
    ['white', 0, '00110101'],
    ['white', 1, '000111'],
    ['white', 2, '0111'],
    ['white', 29, '00000010'],
    ['white', 63, '00110100'],
    ['white', 64, '11011'],
    ['white', 1664, '011000'],
    ['white', 1728, '010011011'],
    ['black', 0, '0000110111'],
    ['black', 1, '010'],
    ['black', 2, '11'],
    ['black', 3, '10'],
    ['black', 19, '00001100111'],
    ['black', 63, '000001100111'],
    ['black', 64, '0000001111'],
    ['black', 512, '0000001101100'],
    ['black', 1728, '0000001100101'],
    ['white', 1792, '00000001000'],
    ['black', 1792, '00000001000'],
    ['white', 2560, '000000011111'],
  ];
  for (const [color, run, bits] of golden) assert.equal(codeFor(color, run), bits, `${color} ${run}`);
});

test('each colour has 64 terminating, 27 make-up and 13 extended make-up codes', () => {
  for (const color of ['white', 'black'] as const) {
    const runs = runCodesOf(color).map((c) => c.run);
    assert.equal(runs.length, 104);
    assert.deepEqual(
      runs,
      [...Array(64).keys(), ...Array.from({ length: 40 }, (_, i) => (i + 1) * 64)],
      color,
    );
  }
});

test('run codes with EOL, and mode codes with EOL, are prefix-free; no code has eleven zeros', () => {
  const sets = [
    [...runCodesOf('white').map((c) => c.bits), EOL],
    [...runCodesOf('black').map((c) => c.bits), EOL],
    [...MODE_CODES.map(([, bits]) => bits), EOL],
  ];
  for (const codes of sets) {
    for (const a of codes) {
      for (const b of codes) if (a !== b) assert.ok(!b.startsWith(a), `${a} is a prefix of ${b}`);
      if (a !== EOL) assert.ok(!a.includes('0'.repeat(8)), a);
    }
    // Kraft sum below 1: the unused space is what begins with the zeros of EOL.
    const kraft = codes.reduce((s, c) => s + 2 ** -c.length, 0);
    assert.ok(kraft <= 1, String(kraft));
  }
});

test('mode codes of T.4 Table 4', () => {
  assert.deepEqual(
    new Map(MODE_CODES),
    new Map<number, string>([
      [Mode.Pass, '0001'],
      [Mode.Horizontal, '001'],
      [Mode.V0, '1'],
      [Mode.VR1, '011'],
      [Mode.VR2, '000011'],
      [Mode.VR3, '0000011'],
      [Mode.VL1, '010'],
      [Mode.VL2, '000010'],
      [Mode.VL3, '0000010'],
      [Mode.Extension, '0000001'],
    ]),
  );
});
