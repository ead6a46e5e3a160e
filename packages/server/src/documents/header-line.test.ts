/**
 * The header line: its text, where it inks (only the top band, only adding black), that it reads back
 * character by character at every resolution and after the page is sent at standard resolution and coded,
 * and that the letters have the same physical size whatever the resolution.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BilevelPage,
  createPage,
  FAX_WIDTHS,
  type FaxResolution,
  getPixel,
  RESOLUTION_DPI,
  samePixels,
} from 'telefax/image/bilevel-page';
import { convertResolution } from 'telefax/image/convert-resolution';
import { readTiff } from 'telefax/image/tiff-reader';
import { headerBandRows, headerDotSize, headerLineText, stampHeaderLine } from './header-line.ts';
import { writeFaxTiff } from './write-fax-tiff.ts';

const RESOLUTIONS: FaxResolution[] = ['standard', 'fine', 'superfine'];
const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
const LEFT = 40; // 5 mm at 204 dpi
const ADVANCE = 12; // 6 dots of 2 pels

/** A letter-size page at a fax resolution, white or filled with a fixed pseudo-random pattern. */
function faxPage(resolution: FaxResolution, fill: 'white' | 'noise' = 'white', width = 1728): BilevelPage {
  const { x, y } = RESOLUTION_DPI[resolution];
  const page = createPage(width, Math.round(11 * y), x, y);
  if (fill === 'noise') {
    let s = 12345;
    for (let i = 0; i < page.data.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      page.data[i] = s >>> 24;
    }
    const padMask = (0xff00 >> (((width - 1) & 7) + 1)) & 0xff;
    for (let r = 0; r < page.height; r++) page.data[r * page.stride + page.stride - 1]! &= padMask;
  }
  return page;
}

/** Ink bounding box of a region, in pixels; null when blank. */
function inkBox(page: BilevelPage, x0: number, x1: number, y0 = 0, y1 = page.height) {
  let box: { left: number; right: number; top: number; bottom: number } | null = null;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (!getPixel(page, x, y)) continue;
      box = box ?? { left: x, right: x, top: y, bottom: y };
      box.left = Math.min(box.left, x);
      box.right = Math.max(box.right, x);
      box.top = Math.min(box.top, y);
      box.bottom = Math.max(box.bottom, y);
    }
  }
  return box;
}

/** The dots of character cell i as a string, sampled at each dot's centre. */
function cellDots(page: BilevelPage, i: number): string {
  const dot = headerDotSize(page);
  let dots = '';
  for (let r = 0; r < headerBandRows(page) / dot.y; r++) {
    for (let d = 0; d < 6; d++) {
      const x = LEFT + i * ADVANCE + d * dot.x + (dot.x >> 1);
      const y = r * dot.y + (dot.y >> 1);
      dots += x < page.width && y < page.height && getPixel(page, x, y) ? '#' : '.';
    }
  }
  return dots;
}

/** Each printable character's cell, from a standard page with that character alone. */
const ATLAS = new Map<string, string>();
for (const c of PRINTABLE) ATLAS.set(cellDots(stampHeaderLine(faxPage('standard'), c), 0), c);

/** Reads the header line back from the page, cell by cell. */
function readBack(page: BilevelPage, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ATLAS.get(cellDots(page, i)) ?? '\u{fffd}';
  return text;
}

const FIELDS = {
  sentAt: Date.UTC(2026, 11, 7, 14, 3, 59),
  headerText: 'ACME Corp',
  from: '+14155550190',
  to: '+14155550191',
  page: 3,
  pageCount: 12,
};

describe('headerLineText', () => {
  it('prints the attempt time in UTC to the minute, the text, both numbers and the page of the total', () => {
    assert.equal(
      headerLineText(FIELDS),
      '2026-12-07 14:03 UTC  ACME Corp  From: +14155550190  To: +14155550191  Page 3/12',
    );
  });

  it('leaves out an unknown total and an empty text', () => {
    assert.equal(
      headerLineText({ ...FIELDS, headerText: '  ', pageCount: null, sentAt: Date.UTC(2027, 0, 2, 3, 4) }),
      '2027-01-02 03:04 UTC  From: +14155550190  To: +14155550191  Page 3',
    );
  });
});

describe('stampHeaderLine', () => {
  it('draws every printable ASCII character as a glyph of its own', () => {
    assert.equal(ATLAS.size, PRINTABLE.length, 'two characters share a glyph');
    assert.equal(ATLAS.get('.'.repeat(6 * 11)), ' ');
  });

  for (const resolution of RESOLUTIONS) {
    it(`adds black only in the top band and leaves the page given untouched (${resolution})`, () => {
      const page = faxPage(resolution, 'noise');
      const before = page.data.slice();
      const stamped = stampHeaderLine(page, headerLineText(FIELDS));
      assert.deepEqual(page.data, before, 'the page given was changed');
      assert.notEqual(stamped.data, page.data);
      const band = headerBandRows(page) * page.stride;
      let removed = 0;
      let changedBelow = 0;
      let added = 0;
      for (let i = 0; i < page.data.length; i++) {
        if ((stamped.data[i]! & page.data[i]!) !== page.data[i]) removed++;
        if (stamped.data[i] === page.data[i]) continue;
        if (i >= band) changedBelow++;
        else added++;
      }
      assert.deepEqual([removed, changedBelow], [0, 0], 'black removed, or pixels changed below the band');
      assert.ok(added > 100, `only ${added} bytes got ink`);
      assert.deepEqual(
        [stamped.width, stamped.height, stamped.stride, stamped.xDpi, stamped.yDpi],
        [page.width, page.height, page.stride, page.xDpi, page.yDpi],
      );
    });

    it(`reads back character by character (${resolution})`, () => {
      const text = headerLineText(FIELDS);
      const stamped = stampHeaderLine(faxPage(resolution), text);
      assert.equal(readBack(stamped, text.length), text);
      const all = stampHeaderLine(faxPage(resolution), PRINTABLE);
      assert.equal(readBack(all, PRINTABLE.length), PRINTABLE);
    });
  }

  it('reads back the same after a fine or superfine page is sent at standard and fax-coded', async () => {
    const text = headerLineText(FIELDS);
    for (const resolution of ['fine', 'superfine'] as const) {
      const onLine = convertResolution(stampHeaderLine(faxPage(resolution), text), 'standard');
      const direct = stampHeaderLine(faxPage('standard'), text);
      const band = headerBandRows(direct) * direct.stride;
      assert.deepEqual(onLine.data.subarray(0, band), direct.data.subarray(0, band), resolution);
      for (const compression of ['mh', 'mr', 'mmr'] as const) {
        const decoded = readTiff(await writeFaxTiff([onLine], { compression })).pages[0]!.page;
        assert.ok(samePixels(decoded, onLine), `${resolution} ${compression}`);
        assert.equal(readBack(decoded, text.length), text);
      }
    }
  });

  it('gives the letters the same physical size at every resolution', () => {
    const mm = (rows: number, dpi: number) => (rows / dpi) * 25.4;
    const sizes = RESOLUTIONS.map((resolution) => {
      const page = stampHeaderLine(faxPage(resolution), 'Hg');
      const h = inkBox(page, LEFT, LEFT + ADVANCE)!;
      const g = inkBox(page, LEFT + ADVANCE, LEFT + 2 * ADVANCE)!;
      return {
        capHeight: mm(h.bottom - h.top + 1, page.yDpi),
        lineHeight: mm(g.bottom - h.top + 1, page.yDpi),
        width: mm(h.right - h.left + 1, page.xDpi),
        top: mm(h.top, page.yDpi),
      };
    });
    for (const s of sizes) {
      assert.ok(Math.abs(s.capHeight - 1.81) < 0.02, `cap height ${s.capHeight} mm`);
      assert.ok(Math.abs(s.lineHeight - 2.33) < 0.02, `line height ${s.lineHeight} mm`);
      assert.ok(Math.abs(s.width - 1.24) < 0.01, `glyph width ${s.width} mm`);
      assert.ok(s.top > 0.4 && s.top + s.lineHeight < 4, `line at ${s.top} mm from the top`);
    }
  });

  it('puts the baseline, x-height and descenders where they belong', () => {
    const page = stampHeaderLine(faxPage('fine'), 'Hxg.');
    const [h, x, g, dot] = [0, 1, 2, 3].map(
      (i) => inkBox(page, LEFT + i * ADVANCE, LEFT + (i + 1) * ADVANCE)!,
    );
    // Rows 4–17 (dots 2–8) are the capitals, rows 8–17 the x-height, rows 18–21 the descender.
    assert.deepEqual([h!.top, h!.bottom, h!.left, h!.right], [4, 17, LEFT, LEFT + 9]);
    assert.deepEqual([x!.top, x!.bottom], [8, 17]);
    assert.deepEqual([g!.top, g!.bottom], [8, 21]);
    assert.deepEqual([dot!.top, dot!.bottom], [14, 17]);
    assert.equal(headerBandRows(page), 22);
  });

  it('fits the longest line the API allows across 1728 pels and leaves off whole characters on narrow pages', () => {
    const longest = headerLineText({
      ...FIELDS,
      headerText: 'W'.repeat(50),
      from: '+123456789012345',
      to: '+123456789012345',
      page: 9999,
      pageCount: 9999,
    });
    assert.equal(longest.length, 134);
    for (const width of FAX_WIDTHS) {
      const page = stampHeaderLine(faxPage('fine', 'white', width), longest);
      assert.equal(readBack(page, longest.length), longest, `${width} pels`);
    }
    const narrow = stampHeaderLine(faxPage('fine', 'white', 100), 'ABCDEFGH');
    // 40 + 12 × 4 + 10 = 98 ≤ 100: five characters fit, the sixth would be cut and is left off.
    assert.equal(readBack(narrow, 5), 'ABCDE');
    assert.equal(inkBox(narrow, LEFT + 4 * ADVANCE + 10, 100), null);
    const tiny = createPage(8, 1);
    assert.ok(samePixels(stampHeaderLine(tiny, 'ABC'), tiny));
  });

  it('prints a question mark for a character outside printable ASCII', () => {
    const page = stampHeaderLine(faxPage('standard'), 'Zürich\u0007');
    assert.equal(readBack(page, 7), 'Z?rich?');
  });
});
