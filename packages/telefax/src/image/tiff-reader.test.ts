import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPage, samePixels } from './bilevel-page.ts';
import { TiffError } from './image-error.ts';
import { syntheticPage } from './synthetic-page.ts';
import { readTiff, tiffPages } from './tiff-reader.ts';
import { TIFF_TAG } from './tiff-tags.ts';
import { writeTiff } from './tiff-writer.ts';

/** Offsets of each directory of a little-endian TIFF. */
function ifdOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const out: number[] = [];
  for (let at = view.getUint32(4, true); at !== 0 && out.length < 10; ) {
    out.push(at);
    at = view.getUint32(at + 2 + view.getUint16(at, true) * 12, true);
  }
  return out;
}

/** Position of a tag's entry in a directory. */
function entryOf(bytes: Uint8Array, tag: number, ifd = 0): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const at = ifdOffsets(bytes)[ifd];
  for (let i = 0; i < view.getUint16(at, true); i++) {
    if (view.getUint16(at + 2 + i * 12, true) === tag) return at + 2 + i * 12;
  }
  throw new Error(`tag ${tag} not found`);
}

function patchValue(bytes: Uint8Array, tag: number, value: number, ifd = 0): Uint8Array {
  const out = bytes.slice();
  const e = entryOf(out, tag, ifd);
  const view = new DataView(out.buffer);
  if (view.getUint16(e + 2, true) === 3) view.setUint16(e + 8, value, true);
  else view.setUint32(e + 8, value, true);
  return out;
}

function assertTiffError(bytes: Uint8Array, code: string, pattern?: RegExp): void {
  assert.throws(
    () => readTiff(bytes),
    (err: unknown) =>
      err instanceof TiffError && err.code === code && (pattern === undefined || pattern.test(err.message)),
  );
}

const page = syntheticPage(300, 64, 7);
const twoPages = writeTiff([page, syntheticPage(300, 40, 8)], { compression: 'mh' });

test('BlackIsZero pages are inverted to 1 = black, for raw and fax-coded data', () => {
  for (const compression of ['none', 'mh', 'mmr'] as const) {
    const bytes = patchValue(writeTiff([page], { compression }), TIFF_TAG.PhotometricInterpretation, 1);
    const [p] = readTiff(bytes).pages;
    assert.equal(p.photometric, 1);
    const inverted = createPage(page.width, page.height);
    for (let i = 0; i < inverted.data.length; i++) inverted.data[i] = ~page.data[i];
    assert.ok(samePixels(p.page, inverted), compression);
    assert.equal(p.page.data[page.stride - 1] & 0x0f, 0, 'pad bits stay 0');
  }
});

test('resolution in centimetres is converted to dpi', () => {
  const bytes = writeTiff([page], { compression: 'none' });
  const view = new DataView(bytes.buffer);
  view.setUint16(entryOf(bytes, TIFF_TAG.ResolutionUnit) + 8, 3, true);
  for (const [tag, num, den] of [
    [TIFF_TAG.XResolution, 80, 1],
    [TIFF_TAG.YResolution, 77, 1],
  ]) {
    const at = view.getUint32(entryOf(bytes, tag) + 8, true);
    view.setUint32(at, num, true);
    view.setUint32(at + 4, den, true);
  }
  const [p] = readTiff(bytes).pages;
  assert.equal(Math.round(p.page.xDpi), 203);
  assert.equal(Math.round(p.page.yDpi), 196);
  assert.equal(p.resolution, 'fine');
});

test('the lazy iterator yields page 1 before it meets a bad page 2', () => {
  const bytes = patchValue(twoPages, TIFF_TAG.Compression, 5, 1);
  const it = tiffPages(bytes);
  const first = it.next();
  assert.ok(!first.done && samePixels(first.value.page, page));
  assert.throws(
    () => it.next(),
    (err: unknown) => err instanceof TiffError && err.code === 'unsupported_media_type',
  );
});

test('structural damage is a TiffError with a stable code', () => {
  const [first, second] = ifdOffsets(twoPages);
  const view = (b: Uint8Array) => new DataView(b.buffer);
  const nextOf = (b: Uint8Array, at: number) => at + 2 + view(b).getUint16(at, true) * 12;

  const selfLoop = twoPages.slice();
  view(selfLoop).setUint32(nextOf(selfLoop, first), first, true);
  assertTiffError(selfLoop, 'invalid_document', /loops/);
  const backLoop = twoPages.slice();
  view(backLoop).setUint32(nextOf(backLoop, second), first, true);
  assertTiffError(backLoop, 'invalid_document', /loops/);

  const outside = twoPages.slice();
  view(outside).setUint32(4, twoPages.length + 10, true);
  assertTiffError(outside, 'invalid_document');
  assertTiffError(
    patchValue(twoPages, TIFF_TAG.StripOffsets, twoPages.length - 4),
    'invalid_document',
    /past the end/,
  );
  assertTiffError(patchValue(twoPages, TIFF_TAG.StripByteCounts, 0xffffff00), 'invalid_document');
  assertTiffError(patchValue(twoPages, TIFF_TAG.RowsPerStrip, 10), 'invalid_document', /strips/);
  assertTiffError(patchValue(twoPages, TIFF_TAG.RowsPerStrip, 0), 'invalid_document');
  assertTiffError(patchValue(twoPages, TIFF_TAG.ImageWidth, 0), 'invalid_document');
  assertTiffError(twoPages.subarray(0, first + 20), 'invalid_document');
  assertTiffError(twoPages.subarray(0, 7), 'invalid_document');
  const hugeCount = twoPages.slice();
  view(hugeCount).setUint16(first, 0xffff, true);
  assertTiffError(hugeCount, 'invalid_document');
  const tagOutside = twoPages.slice();
  view(tagOutside).setUint32(entryOf(tagOutside, TIFF_TAG.Software) + 4, 0x7fffffff, true);
  assertTiffError(tagOutside, 'invalid_document', /outside/);

  const raw = writeTiff([page], { compression: 'none' });
  assertTiffError(raw.subarray(0, 100).slice(), 'invalid_document');
  assertTiffError(patchValue(raw, TIFF_TAG.StripByteCounts, 10), 'invalid_document', /holds/);
  assertTiffError(new TextEncoder().encode('%PDF-1.7 not a tiff'), 'invalid_document');
  const big = raw.slice();
  big[2] = 43;
  assertTiffError(big, 'unsupported_media_type', /BigTIFF/);
});

test('what we do not read is unsupported_media_type, what is too big is document_too_large', () => {
  assertTiffError(patchValue(twoPages, TIFF_TAG.Compression, 5), 'unsupported_media_type', /Compression 5/);
  assertTiffError(patchValue(twoPages, TIFF_TAG.Compression, 2), 'unsupported_media_type');
  assertTiffError(patchValue(twoPages, TIFF_TAG.T4Options, 2), 'unsupported_media_type', /uncompressed mode/);
  assertTiffError(patchValue(twoPages, TIFF_TAG.BitsPerSample, 8), 'unsupported_media_type', /bilevel/);
  assertTiffError(patchValue(twoPages, TIFF_TAG.PhotometricInterpretation, 2), 'unsupported_media_type');
  const g4 = writeTiff([page], { compression: 'mmr' });
  assertTiffError(patchValue(g4, TIFF_TAG.T6Options, 2), 'unsupported_media_type');
  assertTiffError(patchValue(twoPages, TIFF_TAG.ImageWidth, 10001), 'document_too_large');
  assertTiffError(patchValue(twoPages, TIFF_TAG.ImageLength, 40001), 'document_too_large');
  assert.throws(
    () => readTiff(twoPages, { maxPages: 1 }),
    (err: unknown) => err instanceof TiffError && err.code === 'document_too_large',
  );
  assert.throws(
    () => readTiff(twoPages, { maxTotalPixels: 300 * 64 + 10 }),
    (err: unknown) => err instanceof TiffError && err.code === 'document_too_large',
  );
});

test('corrupt fax data gives bad rows, not an exception', () => {
  const bytes = writeTiff([syntheticPage(1728, 200, 11)], { compression: 'mh' });
  const view = new DataView(bytes.buffer);
  const start = view.getUint32(entryOf(bytes, TIFF_TAG.StripOffsets) + 8, true);
  const length = view.getUint32(entryOf(bytes, TIFF_TAG.StripByteCounts) + 8, true);
  for (let i = start + Math.floor(length / 3); i < start + Math.floor(length / 3) + 40; i++) bytes[i] ^= 0x5a;
  const [p] = readTiff(bytes).pages;
  assert.equal(p.page.height, 200);
  assert.ok(p.badRows > 0 && p.badRows < 200, `bad rows ${p.badRows}`);
  assert.equal(p.badRowPositions.length, p.badRows);
});

test('fuzz: mutated and truncated TIFFs either parse or throw TiffError', () => {
  const small = [syntheticPage(120, 30, 21), syntheticPage(77, 12, 22, 204, 98)];
  const seeds = [
    writeTiff(small, { compression: 'none' }),
    writeTiff(small, { compression: 'mh', byteAlignEol: true }),
    writeTiff(small, { compression: 'mr', fillOrder: 1 }),
    writeTiff(small, { compression: 'mmr', byteOrder: 'MM' }),
  ];
  let state = 99;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const interesting = [0, 1, 2, 3, 4, 5, 8, 0x7f, 0x80, 0xff];
  const limits = { maxPagePixels: 2_000_000, maxHeight: 4000 };
  let parsed = 0;
  for (let i = 0; i < 3000; i++) {
    const seed = seeds[i % seeds.length];
    let bytes = seed.slice();
    if (random() < 0.2) bytes = bytes.slice(0, Math.floor(random() * bytes.length));
    const flips = 1 + Math.floor(random() * 6);
    for (let f = 0; f < flips && bytes.length > 0; f++) {
      // The directories sit at the end of what we write; aim most mutations there.
      const tail = Math.min(bytes.length, 400);
      const at =
        random() < 0.8 ? bytes.length - 1 - Math.floor(random() * tail) : Math.floor(random() * bytes.length);
      bytes[at] =
        random() < 0.5 ? interesting[Math.floor(random() * interesting.length)] : Math.floor(random() * 256);
    }
    try {
      for (const p of tiffPages(bytes, limits)) {
        assert.equal(p.page.data.length, p.page.stride * p.page.height);
        parsed++;
      }
    } catch (err) {
      if (!(err instanceof TiffError)) throw err;
    }
  }
  assert.ok(parsed > 0);
});
