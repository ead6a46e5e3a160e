import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BilevelPage, createPage, FAX_WIDTHS, rowOf, samePixels } from '../image/bilevel-page.ts';
import type { BitOrder, DecodeResult, EncodeOptions, FaxCompression } from './codec-options.ts';
import { decodePage } from './decode-page.ts';
import { encodePage } from './encode-page.ts';
import { FaxEncoder } from './fax-encoder.ts';
import { SAMPLE_PAGE_KINDS, samplePage } from './sample-pages.ts';

const EOL = '000000000001';
const CODECS: FaxCompression[] = ['mh', 'mr', 'mmr'];
const WIDTHS = [1, 13, ...FAX_WIDTHS];

function bytesOf(bits: string): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i] === '1') out[i >> 3] |= 0x80 >> (i & 7);
  return out;
}

function bitsOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
}

function pixelsOf(page: BilevelPage): string[] {
  const rows: string[] = [];
  for (let y = 0; y < page.height; y++) {
    let s = '';
    for (let x = 0; x < page.width; x++) s += (page.data[y * page.stride + (x >> 3)] >> (7 - (x & 7))) & 1;
    rows.push(s);
  }
  return rows;
}

function assertClean(result: DecodeResult, page: BilevelPage, what: string): void {
  assert.equal(result.badRows, 0, `${what}: bad rows ${result.badRowPositions.slice(0, 5)}`);
  assert.equal(result.page.height, page.height, `${what}: height`);
  assert.ok(samePixels(result.page, page), `${what}: pixels`);
}

test('round trip: every codec, width and page kind, both bit orders', () => {
  for (const width of WIDTHS) {
    const height = width < 100 ? 40 : 24;
    for (const kind of SAMPLE_PAGE_KINDS) {
      const page = samplePage(kind, width, height, width);
      for (const compression of CODECS) {
        for (const bitOrder of ['msb-first', 'lsb-first'] as BitOrder[]) {
          const what = `${compression} ${width} ${kind} ${bitOrder}`;
          const coded = encodePage(page, { compression, bitOrder, kFactor: 4 });
          const result = decodePage(coded, { compression, width, bitOrder });
          assertClean(result, page, what);
          assert.equal(result.end, compression === 'mmr' ? 'eofb' : 'rtc', what);
          assert.equal(result.consumedBytes, coded.length, what);
          // Pad bits of decoded rows are 0.
          if (width % 8 !== 0) {
            const mask = 0xff >> (width % 8);
            for (let y = 0; y < height; y++) assert.equal(rowOf(result.page, y).at(-1)! & mask, 0, what);
          }
        }
      }
    }
  }
});

test('round trip with K factors, byte-aligned EOLs, minimum row bits and no RTC', () => {
  const page = samplePage('text', 1728, 60, 3);
  const variants: EncodeOptions[] = [
    { compression: 'mr', kFactor: 1 },
    { compression: 'mr', kFactor: 8 },
    { compression: 'mr', kFactor: 100 },
    { compression: 'mh', byteAlignEol: true },
    { compression: 'mr', kFactor: 4, byteAlignEol: true },
    { compression: 'mh', minBitsPerRow: 1200 },
    { compression: 'mr', minBitsPerRow: 500, byteAlignEol: true },
    { compression: 'mh', rtc: false },
    { compression: 'mr', rtc: false },
    { compression: 'mmr', rtc: false },
  ];
  for (const options of variants) {
    const what = JSON.stringify(options);
    const result = decodePage(encodePage(page, options), { compression: options.compression, width: 1728 });
    assertClean(result, page, what);
    assert.equal(
      result.end,
      options.rtc === false ? 'end-of-data' : options.compression === 'mmr' ? 'eofb' : 'rtc',
    );
  }
});

test('decodes the hand-made 2-D golden rows (T.4 §4.2.1.3) in MR and MMR', () => {
  const rows = ['0000111100000000', '0000011100001100', '0000000000000011', '0000000000011111'];
  const row2D = [
    ['001', '1011', '011', '1'],
    ['011', '1', '001', '1011', '11', '1'],
    ['0001', '000011', '1'],
    ['0000010', '1'],
  ].map((codes) => codes.join(''));
  const mmr = decodePage(bytesOf(`${row2D.join('')}${EOL}${EOL}`), { compression: 'mmr', width: 16 });
  assert.deepEqual(pixelsOf(mmr.page), rows);
  assert.equal(mmr.end, 'eofb');
  const mrBits = `${EOL}1101101110011${EOL}0${row2D[1]}${EOL}0${row2D[2]}${EOL}0${row2D[3]}${`${EOL}1`.repeat(6)}`;
  const mr = decodePage(bytesOf(mrBits), { compression: 'mr', width: 16 });
  assert.deepEqual(pixelsOf(mr.page), rows);
  assert.equal(mr.end, 'rtc');
  assert.equal(mr.badRows, 0);
});

test('MH: any fill before EOL, no leading EOL, fewer EOLs at the end', () => {
  const row = '10000111100010'; // W3 B4 W5 B1 of '0001111000001'
  const expected = ['0001111000001', '0001111000001'];
  const cases: [string, string, DecodeResult['end']][] = [
    ['long fill', `${EOL}${row}${'0'.repeat(5000)}${EOL}${row}${'0'.repeat(3)}${EOL.repeat(6)}`, 'rtc'],
    ['no leading EOL', `${row}${EOL}${row}${EOL.repeat(6)}`, 'rtc'],
    ['leading fill', `${'0'.repeat(30)}${EOL}${row}${EOL}${row}${EOL.repeat(6)}`, 'rtc'],
    ['noise before the first EOL', `11111111011${EOL}${row}${EOL}${row}${EOL.repeat(6)}`, 'rtc'],
    ['two EOLs at the end', `${EOL}${row}${EOL}${row}${EOL}${EOL}`, 'rtc'],
    ['one EOL at the end', `${EOL}${row}${EOL}${row}${EOL}`, 'end-of-data'],
    ['no EOL at the end', `${EOL}${row}${EOL}${row}`, 'end-of-data'],
  ];
  for (const [what, bits, end] of cases) {
    const result = decodePage(bytesOf(bits), { compression: 'mh', width: 13 });
    assert.deepEqual(pixelsOf(result.page), expected, what);
    assert.equal(result.badRows, 0, what);
    assert.equal(result.end, end, what);
  }
});

test('rows too long or too short are bad and replaced by the last good row', () => {
  const good = '10000111100010'; // W3 B4 W5 B1 = 13
  const long = '100001111000111'; // W3 B4 W5 B2 = 14
  const short = '1000011'; // W3 B4 = 7
  const bits = `${EOL}${good}${EOL}${long}${EOL}${short}${EOL}${good}${EOL.repeat(6)}`;
  const result = decodePage(bytesOf(bits), { compression: 'mh', width: 13 });
  assert.equal(result.page.height, 4);
  assert.equal(result.badRows, 2);
  assert.deepEqual(result.badRowPositions, [1, 2]);
  assert.equal(result.longestBadRun, 2);
  assert.deepEqual(pixelsOf(result.page), Array(4).fill('0001111000001'));
  assert.equal(result.end, 'rtc');
  // A bad first row has no good row before it: white.
  const first = decodePage(bytesOf(`${EOL}${long}${EOL}${good}${EOL.repeat(6)}`), {
    compression: 'mh',
    width: 13,
  });
  assert.deepEqual(pixelsOf(first.page), ['0000000000000', '0001111000001']);
});

test('MR: after a bad row, 2-D rows are bad until the next 1-D row', () => {
  const page = samplePage('text', 1728, 24, 5);
  const coded = encodePage(page, { compression: 'mr', kFactor: 4 });
  // Find the EOL+0 of row 5 (a 2-D row: rows 0, 4, 8 … are 1-D) and corrupt the start of its data.
  const bits = bitsOf(coded);
  let at = -1;
  for (let row = 0, i = bits.indexOf(EOL); row <= 5; row++, i = bits.indexOf(EOL, i + 12)) at = i + 13;
  const broken = `${bits.slice(0, at)}0000000${bits.slice(at + 7)}`;
  const result = decodePage(bytesOf(broken), { compression: 'mr', width: 1728 });
  assert.deepEqual(result.badRowPositions, [5, 6, 7]);
  assert.equal(result.longestBadRun, 3);
  assert.equal(result.page.height, 24);
  for (const y of [0, 1, 2, 3, 4, 8, 12, 23])
    assert.deepEqual(rowOf(result.page, y), rowOf(page, y), `row ${y}`);
  assert.deepEqual(rowOf(result.page, 6), rowOf(page, 4), 'bad rows repeat the last good row');
});

test('maxRows stops the page; expectedRows is only a hint; trailing data after RTC is not consumed', () => {
  const page = samplePage('random', 1728, 50, 9);
  for (const compression of CODECS) {
    const coded = encodePage(page, { compression });
    const capped = decodePage(coded, { compression, width: 1728, maxRows: 10 });
    assert.equal(capped.end, 'max-rows');
    assert.equal(capped.page.height, 10);
    assert.deepEqual(capped.page.data, page.data.subarray(0, 10 * page.stride));
    const hinted = decodePage(coded, { compression, width: 1728, expectedRows: 20, xDpi: 204, yDpi: 98 });
    assertClean(hinted, page, compression);
    assert.equal(hinted.page.yDpi, 98);
    const trailing = new Uint8Array(coded.length + 100).fill(0x5a);
    trailing.set(coded);
    const withTrailing = decodePage(trailing, { compression, width: 1728 });
    assertClean(withTrailing, page, `${compression} trailing`);
    assert.equal(withTrailing.consumedBytes, coded.length);
  }
});

test('a page of zero rows and empty input decode to empty pages', () => {
  for (const compression of CODECS) {
    const coded = encodePage(createPage(1728, 0), { compression });
    const result = decodePage(coded, { compression, width: 1728 });
    assert.equal(result.page.height, 0);
    assert.equal(result.end, compression === 'mmr' ? 'eofb' : 'rtc');
    const empty = decodePage(new Uint8Array(0), { compression, width: 1728 });
    assert.equal(empty.page.height, 0);
    assert.equal(empty.end, 'end-of-data');
  }
});

test('T.6: an error stops the page; the rows before it are kept and exact', () => {
  const page = samplePage('text', 1728, 40, 12);
  // Octets that hold rows 0–19 entirely: row 20, the first of a band of text, codes to many octets after them.
  const encoder = new FaxEncoder(1728, { compression: 'mmr' });
  let offset = 0;
  for (let y = 0; y < 20; y++) {
    encoder.encodeRow(rowOf(page, y));
    offset += encoder.take().length;
  }
  const broken = encodePage(page, { compression: 'mmr' });
  broken.fill(0, offset + 2, offset + 4); // sixteen zeros: no mode or run code has eight
  const result = decodePage(broken, { compression: 'mmr', width: 1728 });
  assert.equal(result.end, 'error');
  assert.equal(result.page.height, 20);
  assert.equal(result.badRows, 1);
  assert.deepEqual(result.badRowPositions, [20]);
  assert.deepEqual(result.page.data, page.data.subarray(0, 20 * page.stride));
});
