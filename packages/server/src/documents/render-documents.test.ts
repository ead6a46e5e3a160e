import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { type BilevelPage, getPixel, inkRatio, rowOf, samePixels } from 'telefax/image/bilevel-page';
import { syntheticPage } from 'telefax/image/synthetic-page';
import { writeTiff } from 'telefax/image/tiff-writer';
import { DocumentError, type DocumentErrorCode } from './document-error.ts';
import { countPages, type DocumentInput, type RenderedPage, renderDocuments } from './render-documents.ts';
import { closePdfWorkers } from './render-pdf-pages.ts';
import { mixedPostScript, postScriptToPdf, textPagesPostScript } from './sample-documents.ts';
import { writeTextPdf } from './write-text-pdf.ts';

async function all(
  inputs: DocumentInput[],
  options: Parameters<typeof renderDocuments>[1],
): Promise<RenderedPage[]> {
  const out: RenderedPage[] = [];
  for await (const p of renderDocuments(inputs, options)) out.push(p);
  return out;
}

async function refusal(
  inputs: DocumentInput[],
  options: Parameters<typeof renderDocuments>[1] = { resolution: 'fine' },
) {
  try {
    await all(inputs, options);
  } catch (err) {
    assert.ok(err instanceof DocumentError, `expected DocumentError, got ${err}`);
    return err;
  }
  assert.fail('expected the input to be refused');
}

async function assertCode(
  inputs: DocumentInput[],
  code: DocumentErrorCode,
  options?: Parameters<typeof refusal>[1],
) {
  const err = await refusal(inputs, options);
  assert.equal(err.code, code, err.message);
  return err;
}

/** Ink bounding box: [left, top, right, bottom) in pixels. */
function inkBox(page: BilevelPage): [number, number, number, number] {
  let l = page.width;
  let t = page.height;
  let r = 0;
  let b = 0;
  for (let y = 0; y < page.height; y++) {
    for (let x = 0; x < page.width; x++) {
      if (!getPixel(page, x, y)) continue;
      l = Math.min(l, x);
      r = Math.max(r, x + 1);
      t = Math.min(t, y);
      b = Math.max(b, y + 1);
    }
  }
  return [l, t, r, b];
}

function inkIn(page: BilevelPage, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) n += getPixel(page, x, y);
  return n / ((x1 - x0) * (y1 - y0));
}

/** A PNG whose header claims `width × height` but holds one row of data: refused before decoding. */
function pngBomb(width: number, height: number): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + Math.ceil(width / 8)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** One page showing an 8000 × 8000 RGB image that compresses to a few hundred kB. */
function hugeImagePdf(side = 8000): Uint8Array {
  const image = deflateSync(Buffer.alloc(side * side * 3, 128));
  const content = 'q 500 0 0 500 50 150 cm /I Do Q';
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /I 5 0 R >> >> /Contents 4 0 R >>',
    ),
    Buffer.from(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`),
    Buffer.concat([
      Buffer.from(
        `<< /Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length ${image.length} >>\nstream\n`,
      ),
      image,
      Buffer.from('\nendstream'),
    ]),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let length = parts[0].length;
  objects.forEach((body, i) => {
    offsets.push(length);
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(obj);
    length += obj.length;
  });
  let xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) xref += `${String(o).padStart(10, '0')} 00000 n \n`;
  parts.push(
    Buffer.from(
      `${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`,
    ),
  );
  return Buffer.concat(parts);
}

/** One page whose content stream inflates from about 100 kB to `inflated` bytes of spaces. */
function flateBombPdf(inflated: number): Uint8Array {
  const bomb = deflateSync(Buffer.alloc(inflated, 0x20), { level: 9 });
  const head = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>',
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let length = parts[0].length;
  const add = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  head.forEach((body, i) => {
    offsets.push(length);
    add(Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`));
  });
  offsets.push(length);
  add(Buffer.from(`4 0 obj\n<< /Length ${bomb.length} /Filter /FlateDecode >>\nstream\n`));
  add(bomb);
  add(Buffer.from('\nendstream\nendobj\n'));
  const xref = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  add(
    Buffer.from(
      `xref\n0 5\n0000000000 65535 f \n${xref}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`,
    ),
  );
  return Buffer.concat(parts);
}

describe('renderDocuments', () => {
  let textPdf: Uint8Array;
  let mixedPdf: Uint8Array;
  let letterPdf: Uint8Array;

  before(() => {
    textPdf = postScriptToPdf(textPagesPostScript(3));
    mixedPdf = postScriptToPdf(mixedPostScript());
    letterPdf = postScriptToPdf(textPagesPostScript(1, { width: 612, height: 792 }));
  });
  after(closePdfWorkers);

  it('sizes pages by paper and resolution: 1728 wide, 98/196/391 lines per inch', async () => {
    const a4 = writeTextPdf([{ widthPt: 595.276, heightPt: 841.89, runs: [] }]);
    const legal = writeTextPdf([{ widthPt: 612, heightPt: 1008, runs: [] }]);
    const cases: [Uint8Array, 'standard' | 'fine' | 'superfine', number, number][] = [
      [letterPdf, 'standard', 1078, 98],
      [letterPdf, 'fine', 2156, 196],
      [letterPdf, 'superfine', 4301, 391],
      [a4, 'fine', 2292, 196],
      [legal, 'standard', 1372, 98],
    ];
    for (const [pdf, resolution, height, yDpi] of cases) {
      const [p] = await all([{ data: pdf }], { resolution });
      assert.deepEqual([p.page.width, p.page.height, p.page.xDpi, p.page.yDpi], [1728, height, 204, yDpi]);
      assert.equal(p.page.data.length, 216 * height);
    }
    const [onLetter] = await all([{ data: a4 }], { resolution: 'fine', paper: 'letter' });
    assert.equal(onLetter.page.height, 2156);
  });

  it('fits a Letter page to the fax width, centred, and keeps standard-resolution strokes', async () => {
    const [std] = await all([{ data: letterPdf }], { resolution: 'standard' });
    const [fine] = await all([{ data: letterPdf }], { resolution: 'fine' });
    // Same content at half the rows; merged row pairs make it bolder (measured +31 %), never lighter.
    const ratio = inkRatio(std.page) / inkRatio(fine.page);
    assert.ok(ratio > 1 && ratio < 1.5, `standard/fine ink ${ratio}`);
    const [l, , r] = inkBox(fine.page);
    assert.ok(l > 150 && l < 175, `text starts 60 pt in: ${l}`);
    assert.ok(r < 1728 - 100, `right margin kept: ${r}`);
  });

  it('counts pages from headers and page trees, the cover included', async () => {
    const png = await sharp({ create: { width: 200, height: 300, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const inputs = [{ data: textPdf }, { data: mixedPdf }, { data: png }, { data: Buffer.from('hello\n') }];
    assert.equal(await countPages(inputs), 3 + 3 + 1 + 1);
    assert.equal(await countPages(inputs, { cover: { subject: 'x' } }), 9);
    const pages = await all(inputs, { resolution: 'standard' });
    assert.deepEqual(
      pages.map((p) => [p.pageNumber, p.document, p.sourcePage]),
      [
        [1, 0, 0],
        [2, 0, 1],
        [3, 0, 2],
        [4, 1, 0],
        [5, 1, 1],
        [6, 1, 2],
        [7, 2, 0],
        [8, 3, 0],
      ],
    );
  });

  it('turns landscape pages a quarter turn anticlockwise to fit', async () => {
    const pages = await all([{ data: mixedPdf }], { resolution: 'fine' });
    const page = pages[2].page;
    assert.deepEqual([page.width, page.height], [1728, 2156]);
    // The mark at the landscape page's top-left corner (100 pt square) ends at the bottom-left.
    const side = Math.round((100 / 72) * 204);
    assert.ok(
      inkIn(page, 5, page.height - Math.round((100 / 72) * 196) + 5, side - 5, page.height - 5) > 0.98,
    );
    assert.equal(inkIn(page, 0, 0, side, Math.round((100 / 72) * 196)), 0);
    assert.equal(inkIn(page, page.width - side, page.height - 270, page.width, page.height), 0);
  });

  it('dithers the photo and thresholds the text', async () => {
    const pages = await all([{ data: mixedPdf }], { resolution: 'fine' });
    const photo = pages[1].page;
    // The radial tone sits at x 60..540 pt, y 132..492 pt from the top; sample a band inside it.
    const x0 = Math.round((200 / 72) * 204);
    const x1 = Math.round((400 / 72) * 204);
    const y0 = Math.round((150 / 72) * 196);
    const y1 = Math.round((250 / 72) * 196);
    const share = inkIn(photo, x0, y0, x1, y1);
    assert.ok(share > 0.05 && share < 0.9, `mid tones come out as a mix of dots: ${share}`);
    let transitions = 0;
    for (let y = y0; y < y1; y++)
      for (let x = x0 + 1; x < x1; x++)
        if (getPixel(photo, x, y) !== getPixel(photo, x - 1, y)) transitions++;
    assert.ok(transitions / ((x1 - x0) * (y1 - y0)) > 0.1, 'dithered, not flat');
    // The text page's caption rows have no isolated dither dots: every black pixel has a black 8-neighbour.
    const text = pages[0].page;
    let isolated = 0;
    for (let y = 1; y < 300; y++) {
      for (let x = 1; x < text.width - 1; x++) {
        if (!getPixel(text, x, y)) continue;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) n += getPixel(text, x + dx, y + dy);
        if (n === 1) isolated++;
      }
    }
    assert.ok(isolated < 20, `isolated dots in text: ${isolated}`);
  });

  it('hands out the first page without rendering the rest first', async () => {
    const big = postScriptToPdf(textPagesPostScript(12));
    const seen: number[] = [];
    for await (const p of renderDocuments([{ data: big }], { resolution: 'standard' })) {
      seen.push(p.pageNumber);
      if (seen.length === 1) break;
    }
    assert.deepEqual(seen, [1]);
  });

  it('renders plain text at 80 columns and 60 lines a page', async () => {
    const lines = Array.from({ length: 125 }, (_, i) => `line ${i + 1} ${'x'.repeat(i % 7)}`);
    lines[3] = 'w'.repeat(100);
    const pages = await all([{ data: Buffer.from(lines.join('\n')), mediaType: 'text/plain' }], {
      resolution: 'fine',
    });
    assert.equal(pages.length, 3); // 126 lines after wrapping the long one
    for (const p of pages) assert.ok(inkRatio(p.page) > 0);
    // Courier 10 pt: 80 columns span 480 pt, centred on the page.
    const [l, , r] = inkBox(pages[0].page);
    assert.ok(
      r - l <= Math.round((480 / 72) * 204) && r - l > Math.round((470 / 72) * 204),
      `text width ${r - l}`,
    );
  });

  it('puts a cover page first, counting itself', async () => {
    const pages = await all([{ data: textPdf }], {
      resolution: 'fine',
      cover: {
        to: 'Dr. Ada',
        from: 'Faxwire',
        subject: 'Results',
        message: 'Please find attached.',
        date: '2026-01-02',
      },
    });
    assert.equal(pages.length, 4);
    assert.equal(pages[0].document, -1);
    assert.ok(inkRatio(pages[0].page) > 0.005);
  });

  it('fits PNG and JPEG images at their physical size, rotating landscape ones', async () => {
    // 1000 × 500 px at 100 dpi = 10 × 5 in, landscape: turned, it is 5 in wide and 10 in tall.
    const png = await sharp({ create: { width: 1000, height: 500, channels: 3, background: '#000000' } })
      .withMetadata({ density: 100 })
      .png()
      .toBuffer();
    const [p] = await all([{ data: png }], { resolution: 'fine', paper: 'letter' });
    const [l, t, r, b] = inkBox(p.page);
    assert.ok(Math.abs(r - l - 1020) <= 2, `width ${r - l}`);
    assert.ok(Math.abs(b - t - 1960) <= 2, `height ${b - t}`);
    assert.ok(Math.abs(l - (1728 - 1020) / 2) <= 2, 'centred');
    // A mid-grey JPEG dithers to about half ink.
    const jpeg = await sharp({ create: { width: 600, height: 800, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const [g] = await all([{ data: jpeg }], { resolution: 'standard', paper: 'letter' });
    const [gl, gt, gr, gb] = inkBox(g.page);
    const share = inkIn(g.page, gl + 10, gt + 10, gr - 10, gb - 10);
    assert.ok(Math.abs(share - 0.5) < 0.05, `grey 128 → ${share}`);
  });

  it('follows a JPEG’s EXIF orientation before deciding it is landscape', async () => {
    // Stored 600 × 300 (landscape) with a black left half, tagged "rotate 90° clockwise to display":
    // displayed it is a 300 × 600 portrait with the black half on top, so we do not turn it.
    const raw = Buffer.alloc(600 * 300 * 3, 255);
    for (let y = 0; y < 300; y++) raw.fill(0, y * 1800, y * 1800 + 900);
    const jpeg = await sharp(raw, { raw: { width: 600, height: 300, channels: 3 } })
      .withMetadata({ orientation: 6, density: 72 })
      .jpeg()
      .toBuffer();
    const [p] = await all([{ data: jpeg }], { resolution: 'fine', paper: 'letter' });
    const [l, t, r, b] = inkBox(p.page);
    // The picture is 600 / 72 in tall, centred: its top is at (2156 − 1633) / 2 ≈ 261; the black half is on top.
    assert.ok(Math.abs(t - 261) <= 3 && Math.abs(b - t - 817) <= 3, `black rows ${t}..${b}`);
    assert.ok(
      Math.abs(r - l - Math.round((300 / 72) * 204)) <= 3,
      `displayed width 300 px at 72 dpi: ${r - l}`,
    );
  });

  it('keeps a fax TIFF’s pixels, repeating rows from standard to fine', async () => {
    const std = syntheticPage(1728, 1078, 7, 204, 98);
    const fine = syntheticPage(1728, 2156, 8, 204, 196);
    const tiff = writeTiff([std, fine], { compression: 'mmr' });
    const pages = await all([{ data: tiff }], { resolution: 'fine', paper: 'letter' });
    assert.equal(pages.length, 2);
    assert.equal(pages[0].page.height, 2156);
    for (let y = 0; y < std.height; y++) {
      assert.deepEqual(rowOf(pages[0].page, 2 * y), rowOf(std, y));
      assert.deepEqual(rowOf(pages[0].page, 2 * y + 1), rowOf(std, y));
    }
    assert.ok(samePixels(pages[1].page, fine));
  });

  it('resamples a 200 × 200 dpi bilevel TIFF to the fax grid', async () => {
    const scan = syntheticPage(1700, 2200, 9, 200, 200);
    const [p] = await all([{ data: writeTiff([scan], { compression: 'mmr' }) }], {
      resolution: 'fine',
      paper: 'letter',
    });
    assert.deepEqual([p.page.width, p.page.height], [1728, 2156]);
    const ratio = inkRatio(p.page) / inkRatio(scan);
    assert.ok(ratio > 0.9 && ratio < 1.25, `ink ${ratio}`);
  });

  it('resamples a 300 dpi greyscale TIFF to the fax grid', async () => {
    // Letter at 300 dpi with a black 1 in square whose corner is 2 in from the left and 3 in from the top.
    const width = 2550;
    const height = 3300;
    const raw = Buffer.alloc(width * height, 255);
    for (let y = 900; y < 1200; y++) raw.fill(0, y * width + 600, y * width + 900);
    const tiff = await sharp(raw, { raw: { width, height, channels: 1 } })
      .withMetadata({ density: 300 })
      .tiff({ compression: 'lzw' })
      .toBuffer();
    const [p] = await all([{ data: tiff }], { resolution: 'fine', paper: 'letter' });
    const [l, t, r, b] = inkBox(p.page);
    const s = 1728 / 204 / 8.5; // shrunk to the fax width
    assert.ok(Math.abs(r - l - 204 * s) <= 2, `square width ${r - l}`);
    assert.ok(Math.abs(b - t - 196 * s) <= 2, `square height ${b - t}`);
    assert.ok(Math.abs(l - 2 * 204 * s) <= 3, `left ${l}`);
  });

  describe('refuses bad input with a stable code', () => {
    it('invalid_document: empty, truncated, garbage', async () => {
      const err = await assertCode([{ data: textPdf }, { data: new Uint8Array(0) }], 'invalid_document');
      assert.equal(err.details.document, 1);
      await assertCode([{ data: textPdf.subarray(0, textPdf.length >> 1) }], 'invalid_document');
      await assertCode([{ data: Buffer.from('%PDF-1.7\n1 0 obj garbage\n%%EOF\n') }], 'invalid_document');
      const random = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
      await assertCode([{ data: random, mediaType: 'application/pdf' }], 'invalid_document');
      const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000000' } })
        .png()
        .toBuffer();
      await assertCode([{ data: png.subarray(0, 40) }], 'invalid_document');
    });

    it('unsupported_media_type: unknown content whatever the declared type', async () => {
      const random = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
      await assertCode([{ data: random }], 'unsupported_media_type');
      await assertCode(
        [{ data: Buffer.from('PK\u0003\u0004docx…'), mediaType: 'application/msword' }],
        'unsupported_media_type',
      );
      await assertCode(
        [{ data: Buffer.from('<html>hi</html>'), mediaType: 'text/html' }],
        'unsupported_media_type',
      );
      // A PDF declared as PNG is still rendered as the PDF it is.
      assert.equal(
        (await all([{ data: letterPdf, mediaType: 'image/png' }], { resolution: 'standard' })).length,
        1,
      );
    });

    it('password_protected: an encrypted PDF', async () => {
      const locked = postScriptToPdf(textPagesPostScript(1), [
        '-sOwnerPassword=owner',
        '-sUserPassword=user',
        '-dEncryptionR=3',
        '-dKeyLength=128',
      ]);
      await assertCode([{ data: locked }], 'password_protected');
    });

    it('document_too_large: bytes over the limit, and a PNG bomb refused from its header', async () => {
      const err = await assertCode([{ data: textPdf }], 'document_too_large', {
        resolution: 'fine',
        limits: { maxBytes: 1000 },
      });
      assert.equal(err.details.limit, 'bytes');
      const bomb = pngBomb(30000, 30000);
      assert.ok(bomb.length < 1000);
      const b = await assertCode([{ data: bomb }], 'document_too_large');
      assert.equal(b.details.limit, 'pixels');
    });

    it('document_too_large: a page that needs more than the PDF heap limit', async () => {
      const pdf = hugeImagePdf();
      const err = await assertCode([{ data: pdf }], 'document_too_large', {
        resolution: 'fine',
        limits: { pdfMemoryMb: 32 }, // PDFium needs about 48 MB for this page (it decodes the image downscaled)
      });
      assert.equal(err.details.limit, 'memory');
      // With the default limit the same page renders, its grey image dithered.
      const [p] = await all([{ data: pdf }], { resolution: 'fine' });
      assert.ok(inkRatio(p.page) > 0.2);
    });

    it('document_too_large: a Flate bomb in a content stream', async () => {
      const err = await assertCode([{ data: flateBombPdf(100_000_000) }], 'document_too_large', {
        resolution: 'fine',
        limits: { pdfMemoryMb: 64 },
      });
      assert.equal(err.details.limit, 'memory');
    });

    it('too_many_pages: a 2000-page PDF against the default 500', async () => {
      const pages = Array.from({ length: 2000 }, (_, i) => ({
        widthPt: 612,
        heightPt: 792,
        runs: [{ font: 'Courier' as const, sizePt: 12, x: 72, y: 700, text: `page ${i + 1}` }],
      }));
      const err = await assertCode([{ data: writeTextPdf(pages) }], 'too_many_pages');
      assert.equal(err.details.maxPages, 500);
      await assertCode([{ data: textPdf }], 'too_many_pages', {
        resolution: 'fine',
        limits: { maxPages: 2 },
      });
    });

    it('render_timeout: a page over its time limit ends its worker', async () => {
      await assertCode([{ data: textPdf }], 'render_timeout', {
        resolution: 'fine',
        limits: { pageTimeoutMs: 1 },
      });
      const err = await assertCode([{ data: textPdf }], 'render_timeout', {
        resolution: 'fine',
        limits: { documentTimeoutMs: 1 },
      });
      assert.equal(err.details.limit, 'documentTimeoutMs');
      // The pool recovers: the next document renders.
      assert.equal((await all([{ data: letterPdf }], { resolution: 'standard' })).length, 1);
    });
  });
});
