import assert from 'node:assert/strict';
import { test } from 'node:test';
import { samePixels } from './bilevel-page.ts';
import { PbmError } from './image-error.ts';
import { readPbm, writePbm } from './pbm.ts';
import { syntheticPage } from './synthetic-page.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

test('P4 and P1 round-trip, odd widths included', () => {
  for (const width of [1, 7, 13, 64, 203]) {
    const page = syntheticPage(width, 37, width);
    for (const format of ['P4', 'P1'] as const) {
      const back = readPbm(writePbm(page, { format, comment: 'test\npage' }));
      assert.ok(samePixels(page, back), `${format} ${width}`);
      assert.equal(back.yDpi, 196);
    }
  }
});

test('P1 with comments and digits without spaces', () => {
  const page = readPbm(ascii('P1\n# a comment\n5 # width\n2\n10100#c\n0 1 0 1 1\n'), { yDpi: 98 });
  assert.equal(page.width, 5);
  assert.equal(page.height, 2);
  assert.deepEqual([...page.data], [0b10100000, 0b01011000]);
  assert.equal(page.yDpi, 98);
});

test('P4 pad bits are cleared and the header allows comments', () => {
  const page = readPbm(new Uint8Array([...ascii('P4 #c\n3 1\n'), 0xff]));
  assert.deepEqual([...page.data], [0xe0]);
});

test('bad PBM input throws PbmError with a stable code', () => {
  const cases: [Uint8Array, string][] = [
    [ascii(''), 'invalid_document'],
    [ascii('GIF89a'), 'invalid_document'],
    [ascii('P5\n1 1\n255\n\0'), 'unsupported_media_type'],
    [ascii('P4\n8 2\n\0'), 'invalid_document'],
    [ascii('P1\n2 2\n0 1 1'), 'invalid_document'],
    [ascii('P1\n2 1\n0 x'), 'invalid_document'],
    [ascii('P4\n0 5\n'), 'invalid_document'],
    [ascii('P4\nx 5\n'), 'invalid_document'],
    [ascii('P4\n100000 5\n'), 'document_too_large'],
    [ascii('P4\n9999 40001\n'), 'document_too_large'],
    [ascii('P4\n99999999999999 1\n'), 'document_too_large'],
  ];
  for (const [bytes, code] of cases) {
    assert.throws(
      () => readPbm(bytes),
      (err: unknown) => err instanceof PbmError && err.code === code,
      new TextDecoder().decode(bytes),
    );
  }
});

test('fuzz: mutated and truncated PBM either parses or throws PbmError', () => {
  const seeds = [
    writePbm(syntheticPage(61, 20, 3)),
    writePbm(syntheticPage(19, 9, 4), { format: 'P1', comment: 'x' }),
  ];
  let state = 12345;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  for (let i = 0; i < 3000; i++) {
    const seed = seeds[i % seeds.length];
    let bytes = seed.slice();
    const mode = random();
    if (mode < 0.3) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
    else {
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        // Mutate mostly the header, where the interesting parsing is.
        const at =
          random() < 0.7
            ? Math.floor(random() * Math.min(16, bytes.length))
            : Math.floor(random() * bytes.length);
        bytes[at] =
          random() < 0.5
            ? Math.floor(random() * 256)
            : '0123456789 #\nP14'.charCodeAt(Math.floor(random() * 16));
      }
    }
    try {
      const page = readPbm(bytes);
      assert.equal(page.data.length, page.stride * page.height);
    } catch (err) {
      if (!(err instanceof PbmError)) throw err;
    }
  }
});
