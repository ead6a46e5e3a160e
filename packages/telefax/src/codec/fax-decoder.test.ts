import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rowOf, samePixels } from '../image/bilevel-page.ts';
import type { DecodeOptions, DecodeResult, FaxCompression } from './codec-options.ts';
import { decodePage } from './decode-page.ts';
import { encodePage } from './encode-page.ts';
import { FaxDecoder } from './fax-decoder.ts';
import { FaxEncoder } from './fax-encoder.ts';
import { samplePage, seededRandom } from './sample-pages.ts';

const CODECS: FaxCompression[] = ['mh', 'mr', 'mmr'];

/** Decodes `data` pushed in chunks of the sizes `nextSize` returns; checks onRow against the page. */
function decodeChunked(data: Uint8Array, options: DecodeOptions, nextSize: () => number): DecodeResult {
  const decoder = new FaxDecoder(options);
  const rows: Uint8Array[] = [];
  const bad: number[] = [];
  decoder.onRow = (row, index, isBad) => {
    assert.equal(index, rows.length);
    rows.push(row.slice());
    if (isBad) bad.push(index);
  };
  for (let i = 0; i < data.length; ) {
    const n = Math.max(1, nextSize());
    decoder.push(data.subarray(i, i + n));
    i += n;
    assert.equal(decoder.rowsDecoded, rows.length);
  }
  const result = decoder.end();
  assert.equal(rows.length, result.page.height);
  assert.equal(decoder.badRows, result.badRows);
  for (const [y, row] of rows.entries()) assert.deepEqual(row, rowOf(result.page, y));
  // A T.6 row that fails ends the page: it is counted, but not delivered.
  assert.deepEqual(
    bad,
    result.badRowPositions.filter((y) => y < result.page.height),
  );
  return result;
}

test('streaming decode in 1-octet and random chunks equals the one-shot decode', () => {
  const random = seededRandom(42);
  for (const compression of CODECS) {
    for (const [kind, width] of [
      ['text', 1728],
      ['random', 13],
      ['checkerboard', 2432],
    ] as const) {
      const page = samplePage(kind, width, 30, 11);
      for (const byteAlignEol of [false, true]) {
        const coded = encodePage(page, {
          compression,
          byteAlignEol,
          minBitsPerRow: 300,
          bitOrder: 'lsb-first',
        });
        const options: DecodeOptions = { compression, width, bitOrder: 'lsb-first' };
        const whole = decodePage(coded, options);
        assert.ok(samePixels(whole.page, page), `${compression} ${kind}`);
        for (const nextSize of [() => 1, () => Math.floor(random() * 200)]) {
          const chunked = decodeChunked(coded, options, nextSize);
          assert.deepEqual(chunked, whole, `${compression} ${kind} chunked`);
        }
      }
    }
  }
});

test('streaming: rows arrive as their data does, done after RTC/EOFB, later input ignored', () => {
  for (const compression of CODECS) {
    const page = samplePage('text', 1728, 40, 2);
    const encoder = new FaxEncoder(1728, { compression });
    const decoder = new FaxDecoder({ compression, width: 1728 });
    for (let y = 0; y < page.height; y++) {
      encoder.encodeRow(rowOf(page, y));
      decoder.push(encoder.take());
      // A T.4 row is delivered once the next row's EOL has arrived, which may end in the octet not yet taken.
      // (T.6 rows of one bit may wait for several rows.)
      if (compression !== 'mmr') assert.ok(decoder.rowsDecoded >= y - 1, `${compression} row ${y}`);
    }
    assert.equal(decoder.done, false);
    decoder.push(encoder.finish());
    assert.equal(decoder.done, true);
    assert.equal(decoder.rowsDecoded, page.height);
    decoder.push(new Uint8Array([0xff, 0x00, 0x12]));
    const result = decoder.end();
    assert.ok(samePixels(result.page, page));
    assert.equal(result.end, compression === 'mmr' ? 'eofb' : 'rtc');
    assert.strictEqual(decoder.end(), result, 'end() is idempotent');
  }
});

test('memory: the input buffer holds about one coded row, whatever the fill or the chunking', () => {
  const page = samplePage('random', 2432, 60, 8);
  for (const compression of CODECS) {
    // Long fill (T.4) between rows must not be buffered.
    const coded = encodePage(page, { compression, minBitsPerRow: compression === 'mmr' ? 0 : 200_000 });
    const decoder = new FaxDecoder({ compression, width: 2432, retainPage: false });
    let most = 0;
    for (let i = 0; i < coded.length; i += 97) {
      decoder.push(coded.subarray(i, i + 97));
      most = Math.max(most, decoder.bufferedBytes);
    }
    const result = decoder.end();
    assert.equal(decoder.rowsDecoded, 60);
    assert.equal(result.badRows, 0);
    // A random row of 2432 pixels codes to about 1.2 kB; the buffer keeps at most one row plus a chunk.
    assert.ok(most < 3000, `${compression}: ${most} octets buffered`);
  }
});

test('retainPage: false delivers rows only to onRow', () => {
  const page = samplePage('stripes', 2048, 20);
  const decoder = new FaxDecoder({ compression: 'mr', width: 2048, retainPage: false });
  let rows = 0;
  decoder.onRow = (row, index) => {
    assert.deepEqual(row, rowOf(page, index));
    rows++;
  };
  decoder.push(encodePage(page, { compression: 'mr' }));
  const result = decoder.end();
  assert.equal(rows, 20);
  assert.equal(result.page.height, 0);
  assert.equal(result.end, 'rtc');
});

test('MH resynchronises: a flipped bit in row N spoils only rows near N', () => {
  const page = samplePage('text', 1728, 60, 4);
  const encoder = new FaxEncoder(1728, { compression: 'mh' });
  const parts: Uint8Array[] = [];
  for (let y = 0; y < page.height; y++) {
    encoder.encodeRow(rowOf(page, y));
    parts.push(encoder.take());
  }
  parts.push(encoder.finish());
  const coded = Buffer.concat(parts);
  const n = 25; // inside a band of text, so the row has many codes
  const rowStart = parts.slice(0, n).reduce((s, p) => s + p.length, 0);
  let detected = 0;
  for (let bit = 0; bit < 40; bit += 3) {
    const broken = Uint8Array.from(coded);
    broken[rowStart + 3 + (bit >> 3)] ^= 0x80 >> (bit & 7);
    const result = decodePage(broken, { compression: 'mh', width: 1728 });
    assert.equal(result.page.height, page.height, `bit ${bit}`);
    assert.equal(result.end, 'rtc');
    assert.ok(result.badRows <= 2, `bit ${bit}: ${result.badRowPositions}`);
    for (const y of result.badRowPositions) assert.ok(y >= n - 1 && y <= n + 1, `bit ${bit}: bad row ${y}`);
    if (result.badRows > 0) detected++;
    for (let y = 0; y < page.height; y++) {
      if (y < n - 1 || y > n + 1)
        assert.deepEqual(rowOf(result.page, y), rowOf(page, y), `bit ${bit} row ${y}`);
    }
  }
  assert.ok(detected >= 10, `only ${detected} of 14 flips detected`);
});

test('random bit flips and truncation: the decoder ends, never throws, and bounds its rows', () => {
  const random = seededRandom(7);
  const page = samplePage('text', 1728, 80, 6);
  for (const compression of CODECS) {
    const coded = encodePage(page, { compression, kFactor: 4 });
    for (let trial = 0; trial < 60; trial++) {
      const broken = Uint8Array.from(coded);
      const flips = 1 + Math.floor(random() * 8);
      for (let f = 0; f < flips; f++)
        broken[Math.floor(random() * broken.length)] ^= 1 << Math.floor(random() * 8);
      const cut = random() < 0.3 ? Math.floor(random() * broken.length) : broken.length;
      const data = broken.subarray(0, cut);
      const result = decodePage(data, { compression, width: 1728, maxRows: 200 });
      assert.ok(result.page.height <= 200);
      assert.ok(result.badRows <= result.page.height + 1);
      assert.ok(result.consumedBytes <= data.length);
      if (compression === 'mmr') assert.ok(result.badRows <= 1);
      // Streaming agrees with one-shot on broken data too.
      const chunked = decodeChunked(data, { compression, width: 1728, maxRows: 200 }, () =>
        Math.floor(random() * 64),
      );
      assert.deepEqual(chunked, result, `${compression} trial ${trial}`);
    }
    // Truncation alone: every row decoded before the cut is exact.
    for (let trial = 0; trial < 20; trial++) {
      const cut = Math.floor(random() * coded.length);
      const result = decodePage(coded.subarray(0, cut), { compression, width: 1728 });
      assert.equal(result.end, compression === 'mmr' && result.badRows > 0 ? 'error' : 'end-of-data');
      const bad = new Set(result.badRowPositions);
      for (let y = 0; y < result.page.height; y++) {
        if (!bad.has(y))
          assert.deepEqual(rowOf(result.page, y), rowOf(page, y), `${compression} cut ${cut} row ${y}`);
      }
      assert.ok(result.page.height <= page.height);
      assert.ok(result.badRows <= 1, `${compression} cut ${cut}: ${result.badRowPositions}`);
    }
  }
});

test('random garbage: bounded rows, no throw, for every codec and width', () => {
  const random = seededRandom(99);
  for (const compression of CODECS) {
    for (const width of [1, 13, 1728, 2432]) {
      for (let trial = 0; trial < 15; trial++) {
        const data = new Uint8Array(1 + Math.floor(random() * 20000));
        const density = random();
        for (let i = 0; i < data.length; i++) {
          data[i] = random() < density ? Math.floor(random() * 256) : 0;
        }
        const result = decodePage(data, { compression, width, maxRows: 3000 });
        assert.ok(result.page.height <= 3000);
        assert.equal(result.page.data.length, result.page.height * result.page.stride);
        assert.ok(['rtc', 'eofb', 'end-of-data', 'max-rows', 'error'].includes(result.end));
      }
    }
  }
});

test('invalid options are a RangeError', () => {
  assert.throws(() => new FaxDecoder({ compression: 'mh', width: 0 }), RangeError);
  assert.throws(() => new FaxDecoder({ compression: 'g5' as 'mh', width: 1728 }), RangeError);
});
