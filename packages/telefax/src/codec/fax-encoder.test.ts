import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BilevelPage, createPage } from '../image/bilevel-page.ts';
import { REVERSED_BITS } from './bit-order.ts';
import type { EncodeOptions } from './codec-options.ts';
import { encodePage } from './encode-page.ts';
import { FaxEncoder } from './fax-encoder.ts';
import { samplePage } from './sample-pages.ts';

const EOL = '000000000001';

/** Bits of the octets, most significant first. */
function bitsOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
}

/** The expected octets' bits: the code words joined and zero-padded to an octet. */
function padded(...codes: string[]): string {
  const s = codes.join('');
  return s.padEnd(Math.ceil(s.length / 8) * 8, '0');
}

function pageOf(...rows: string[]): BilevelPage {
  const page = createPage(rows[0].length, rows.length);
  rows.forEach((pixels, y) => {
    for (let x = 0; x < pixels.length; x++) {
      if (pixels[x] === '1') page.data[y * page.stride + (x >> 3)] |= 0x80 >> (x & 7);
    }
  });
  return page;
}

/** Four rows of 16 pixels that exercise every 2-D mode (worked by hand from T.4 §4.2.1.3). */
const ROWS_2D = ['0000111100000000', '0000011100001100', '0000000000000011', '0000000000011111'];
/** Row 1 against a white reference: a0a1 = 4 > 3 from b1 (the end), so H W4 B4, then V0 at the end. */
const ROW1_2D = ['001', '1011', '011', '1'];
/** Row 2 against row 1: VR1 (5 vs 4), V0 (8 vs 8), H W4 B2 (12: b1 is the end), V0. */
const ROW2_2D = ['011', '1', '001', '1011', '11', '1'];
/** Row 3 against row 2: b2 = 8 < a1 = 14 → P; then a1 = 14 vs b1 = 12 → VR2; V0. */
const ROW3_2D = ['0001', '000011', '1'];
/** Row 4 against row 3: a1 = 11 vs b1 = 14 → VL3; V0. */
const ROW4_2D = ['0000010', '1'];

test('MH: a white row of 1728 is make-up 1728 + terminating 0 (T.4 §4.1.1)', () => {
  const out = encodePage(createPage(1728, 1), { compression: 'mh', rtc: false });
  assert.equal(bitsOf(out), padded(EOL, '010011011', '00110101'));
});

test('MH: small row W3 B4 W5 B1, then RTC of six EOLs (T.4 §4.1.4)', () => {
  const out = encodePage(pageOf('0001111000001'), { compression: 'mh' });
  assert.equal(bitsOf(out), padded(EOL, '1000', '011', '1100', '010', EOL.repeat(6)));
});

test('MH: runs over 2560 repeat the 2560 make-up code (T.4 §4.1.1)', () => {
  const black = encodePage(pageOf('1'.repeat(3000)), { compression: 'mh', rtc: false });
  // W0, B 2560 + 384 + 56
  assert.equal(bitsOf(black), padded(EOL, '00110101', '000000011111', '000000110100', '000000101000'));
  const white = encodePage(pageOf('0'.repeat(3000)), { compression: 'mh', rtc: false });
  // W 2560 + 384 + 56
  assert.equal(bitsOf(white), padded(EOL, '000000011111', '00110111', '01011001'));
});

test('MR K=4: 1-D row after EOL+1, 2-D rows after EOL+0, RTC of six EOL+1 (T.4 §4.2)', () => {
  const out = encodePage(pageOf(...ROWS_2D), { compression: 'mr', kFactor: 4 });
  const row1_1D = ['1011', '011', '10011']; // W4 B4 W8
  const rows = [
    [EOL, '1', ...row1_1D],
    [EOL, '0', ...ROW2_2D],
    [EOL, '0', ...ROW3_2D],
    [EOL, '0', ...ROW4_2D],
  ];
  assert.equal(bitsOf(out), padded(...rows.flat(), `${EOL}1`.repeat(6)));
});

test('MR K=2: every other row is 1-D', () => {
  const out = encodePage(pageOf(...ROWS_2D.slice(0, 3)), { compression: 'mr', kFactor: 2, rtc: false });
  assert.equal(
    bitsOf(out),
    padded(EOL, '1', '1011', '011', '10011', EOL, '0', ...ROW2_2D, EOL, '1', '110100', '11'), // row 3: W14 B2
  );
});

test('MMR: rows coded against a white first reference, then EOFB (T.6 §2.4.1.1)', () => {
  const out = encodePage(pageOf(...ROWS_2D), { compression: 'mmr' });
  assert.equal(bitsOf(out), padded(...ROW1_2D, ...ROW2_2D, ...ROW3_2D, ...ROW4_2D, EOL, EOL));
  const noEofb = encodePage(pageOf(...ROWS_2D), { compression: 'mmr', rtc: false });
  assert.equal(bitsOf(noEofb), padded(...ROW1_2D, ...ROW2_2D, ...ROW3_2D, ...ROW4_2D));
});

test('byte-aligned EOLs end on an octet boundary (TIFF T4Options bit 2)', () => {
  const out = encodePage(pageOf('0001111000001'), { compression: 'mh', byteAlignEol: true });
  const row = ['1000', '011', '1100', '010']; // 14 bits: the row ends at bit 30
  assert.equal(bitsOf(out), padded('0000', EOL, ...row, '000000', EOL, `0000${EOL}`.repeat(5)));
  const mr = encodePage(pageOf(...ROWS_2D.slice(0, 2)), {
    compression: 'mr',
    kFactor: 4,
    byteAlignEol: true,
    rtc: false,
  });
  // EOL ends at 16, tag + 12 bits of row 1 end at 29, so 7 zeros align the next EOL to end at 48.
  assert.equal(bitsOf(mr), padded('0000', EOL, '1', '1011', '011', '10011', '0000000', EOL, '0', ...ROW2_2D));
});

test('minBitsPerRow fills each coded row, EOL included, to the minimum (T.4 §4.1.3)', () => {
  const out = encodePage(createPage(1728, 2), { compression: 'mh', minBitsPerRow: 40 });
  const row = [EOL, '010011011', '00110101', '0'.repeat(40 - 29)];
  assert.equal(bitsOf(out), padded(...row, ...row, EOL.repeat(6)));
  const long = encodePage(pageOf('0001111000001'), { compression: 'mh', minBitsPerRow: 10, rtc: false });
  assert.equal(
    bitsOf(long),
    padded(EOL, '1000', '011', '1100', '010'),
    'no fill when the row is long enough',
  );
});

test("'lsb-first' output is the 'msb-first' output with each octet mirrored", () => {
  const page = samplePage('text', 1728, 40);
  for (const compression of ['mh', 'mr', 'mmr'] as const) {
    const msb = encodePage(page, { compression });
    const lsb = encodePage(page, { compression, bitOrder: 'lsb-first' });
    assert.deepEqual(
      lsb,
      msb.map((b) => REVERSED_BITS[b]),
    );
  }
  const out = encodePage(createPage(1728, 1), { compression: 'mh', rtc: false, bitOrder: 'lsb-first' });
  // EOL 0000 0000 0001 | 0100 1101 1 | 0011 0101 → first octet 0x00, second 0001 0100 → mirrored 0x28.
  assert.deepEqual([...out.subarray(0, 2)], [0x00, 0x28]);
});

test('streaming: take() per row and finish() concatenate to encodePage', () => {
  const page = samplePage('random', 2048, 30, 7);
  for (const options of [
    { compression: 'mh' },
    { compression: 'mr', kFactor: 4, byteAlignEol: true },
    { compression: 'mmr', bitOrder: 'lsb-first' },
  ] as EncodeOptions[]) {
    const encoder = new FaxEncoder(page.width, options);
    const parts: Uint8Array[] = [];
    for (let y = 0; y < page.height; y++) {
      encoder.encodeRow(page.data.subarray(y * page.stride, (y + 1) * page.stride));
      parts.push(encoder.take());
    }
    parts.push(encoder.finish());
    assert.deepEqual(Buffer.concat(parts), Buffer.from(encodePage(page, options)), options.compression);
    assert.equal(encoder.rowCount, page.height);
    assert.equal(encoder.finish().length, 0, 'finish twice adds nothing');
  }
});

test('invalid use is a RangeError or Error, not bad output', () => {
  assert.throws(() => new FaxEncoder(0, { compression: 'mh' }), RangeError);
  assert.throws(() => new FaxEncoder(1728.5, { compression: 'mh' }), RangeError);
  assert.throws(() => new FaxEncoder(1728, { compression: 'mr', kFactor: 0 }), RangeError);
  assert.throws(() => new FaxEncoder(1728, { compression: 'jbig' as 'mh' }), RangeError);
  assert.throws(() => new FaxEncoder(1728, { compression: 'mh', eol: false }), RangeError);
  const encoder = new FaxEncoder(1728, { compression: 'mh' });
  assert.throws(() => encoder.encodeRow(new Uint8Array(10)), RangeError);
  encoder.finish();
  assert.throws(() => encoder.encodeRow(new Uint8Array(216)), Error);
});
