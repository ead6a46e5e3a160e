/**
 * Legibility of small text against Ghostscript's own bilevel rendering (`tiffg4`) of the same PDF on the same
 * grid (204 × 98, 196 and 391). Engines rasterize glyph edges differently, so pixels are not compared one by
 * one; instead:
 *
 * - total ink near Ghostscript's: within 15 % at fine and superfine (engines agree within 7 % on text pages;
 *   the margin allows for hinting at 8 pt). At standard ours is deliberately bolder (pairs of 196-line rows
 *   are merged so 1-row strokes survive): measured +25 %, allowed −5 %…+40 %;
 * - the row and column ink profiles correlate (rows r ≥ 0.95, or 0.85 at standard where a row is 0.26 mm
 *   and one row more or less at a glyph's edge weighs heavily; columns r ≥ 0.9): the same lines and the same
 *   glyph columns are inked;
 * - each text line's own ink is near Ghostscript's (±25 %; standard −20 %…+60 %): no line lost or smeared;
 * - the counters of "e" and "a" stay closed: a line of ten e's must show at least nine enclosed white holes,
 *   which it does not once the cross-bar is lost ("are" read as "arc"); at fine and superfine, as many as
 *   Ghostscript's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BilevelPage, getPixel } from 'telefax/image/bilevel-page';
import { readTiff } from 'telefax/image/tiff-reader';
import { renderDocuments } from './render-documents.ts';
import { closePdfWorkers } from './render-pdf-pages.ts';
import { FAX_GRID_PAGE_PT, ghostscriptTiffG4, postScriptToPdf } from './sample-documents.ts';

interface Line {
  readonly font: string;
  readonly size: number;
  readonly text: string;
  /** Baseline, points from the top. */
  readonly top: number;
  readonly holesPerChar?: number;
}

const LINES: Line[] = [];
{
  let top = 60;
  for (const font of ['Times-Roman', 'Helvetica', 'Courier']) {
    for (const size of [8, 9, 10]) {
      LINES.push({ font, size, text: 'eeeeeeeeee', top, holesPerChar: 1 });
      top += size + 10;
      LINES.push({ font, size, text: 'aaaaaaaaaa', top, holesPerChar: 1 });
      top += size + 10;
      LINES.push({ font, size, text: 'are there where every were here the quick brown fox', top });
      top += size + 14;
    }
  }
}

function postScript(): string {
  const { width, height } = FAX_GRID_PAGE_PT;
  const body = LINES.map(
    (l) => `/${l.font} findfont ${l.size} scalefont setfont 72 ${height - l.top} moveto (${l.text}) show`,
  );
  return `%!PS\n<< /PageSize [${width.toFixed(3)} ${height}] >> setpagedevice\n${body.join('\n')}\nshowpage\n`;
}

function ink(page: BilevelPage, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = Math.max(0, y0); y < Math.min(page.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(page.width, x1); x++) n += getPixel(page, x, y);
  }
  return n;
}

function profile(page: BilevelPage, axis: 'rows' | 'columns'): number[] {
  const out = new Array<number>(axis === 'rows' ? page.height : page.width).fill(0);
  for (let y = 0; y < page.height; y++) {
    for (let x = 0; x < page.width; x++) if (getPixel(page, x, y)) out[axis === 'rows' ? y : x]++;
  }
  return out;
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** White regions inside the box that do not reach its border: the closed counters of the glyphs. */
function holes(page: BilevelPage, x0: number, y0: number, x1: number, y1: number): number {
  const w = x1 - x0;
  const h = y1 - y0;
  const seen = new Uint8Array(w * h);
  let count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (seen[y * w + x] || getPixel(page, x0 + x, y0 + y)) continue;
      let touchesBorder = false;
      const stack = [y * w + x];
      seen[y * w + x] = 1;
      while (stack.length) {
        const i = stack.pop()!;
        const cx = i % w;
        const cy = (i / w) | 0;
        if (cx === 0 || cy === 0 || cx === w - 1 || cy === h - 1) touchesBorder = true;
        for (const [nx, ny] of [
          [cx + 1, cy],
          [cx - 1, cy],
          [cx, cy + 1],
          [cx, cy - 1],
        ]) {
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const j = ny * w + nx;
          if (seen[j] || getPixel(page, x0 + nx, y0 + ny)) continue;
          seen[j] = 1;
          stack.push(j);
        }
      }
      if (!touchesBorder) count++;
    }
  }
  return count;
}

const CASES = [
  { resolution: 'fine', yDpi: 196, ink: [0.85, 1.15], line: [0.75, 1.25], rows: 0.95 },
  { resolution: 'standard', yDpi: 98, ink: [0.95, 1.4], line: [0.8, 1.6], rows: 0.85 },
  { resolution: 'superfine', yDpi: 391, ink: [0.85, 1.15], line: [0.75, 1.25], rows: 0.95 },
] as const;

for (const { resolution, yDpi, ink: inkRange, line: lineRange, rows: minRowR } of CASES) {
  describe(`legibility of small text against Ghostscript tiffg4 (${resolution}, 204 × ${yDpi})`, () => {
    let ours: BilevelPage;
    let theirs: BilevelPage;

    before(async () => {
      const pdf = postScriptToPdf(postScript());
      theirs = readTiff(ghostscriptTiffG4(pdf, 204, yDpi)).pages[0].page;
      for await (const r of renderDocuments([{ data: pdf }], { resolution, paper: 'letter' })) ours = r.page;
    });
    after(closePdfWorkers);

    it('renders on the same grid', () => {
      assert.equal(ours.width, theirs.width);
      assert.equal(ours.height, theirs.height);
    });

    it('has total ink near Ghostscript’s and correlated row/column profiles', () => {
      const a = ink(ours, 0, 0, ours.width, ours.height);
      const b = ink(theirs, 0, 0, theirs.width, theirs.height);
      assert.ok(a / b >= inkRange[0] && a / b <= inkRange[1], `ink ours ${a} vs gs ${b}`);
      const rows = correlation(profile(ours, 'rows'), profile(theirs, 'rows'));
      const cols = correlation(profile(ours, 'columns'), profile(theirs, 'columns'));
      assert.ok(rows >= minRowR, `row profile r = ${rows}`);
      assert.ok(cols >= 0.9, `column profile r = ${cols}`);
    });

    it('keeps every line’s ink near Ghostscript’s', () => {
      for (const line of LINES) {
        const y1 = Math.round(((line.top + line.size * 0.3) / 72) * yDpi);
        const y0 = Math.round(((line.top - line.size) / 72) * yDpi);
        const a = ink(ours, 0, y0, ours.width, y1);
        const b = ink(theirs, 0, y0, theirs.width, y1);
        assert.ok(b > 0, `gs drew ${line.font} ${line.size}`);
        assert.ok(
          a / b >= lineRange[0] && a / b <= lineRange[1],
          `${line.font} ${line.size}pt "${line.text.slice(0, 10)}": ${a} vs ${b}`,
        );
      }
    });

    it('keeps the cross-bar of "e" and the bowl of "a" closed at 8–10 pt', () => {
      for (const line of LINES.filter((l) => l.holesPerChar)) {
        const y0 = Math.round(((line.top - line.size) / 72) * yDpi);
        const y1 = Math.round(((line.top + line.size * 0.3) / 72) * yDpi);
        const x1 = Math.round(((72 + line.text.length * line.size * 0.7) / 72) * 204);
        const x0 = Math.round((60 / 72) * 204);
        const mine = holes(ours, x0, y0, x1, y1);
        const gs = holes(theirs, x0, y0, x1, y1);
        assert.ok(mine >= 9, `${line.font} ${line.size}pt "${line.text[0]}": ${mine} holes (gs ${gs})`);
        if (resolution !== 'standard')
          assert.ok(
            mine >= gs - 1,
            `${line.font} ${line.size}pt "${line.text[0]}": ${mine} holes vs gs ${gs}`,
          );
      }
    });
  });
}
