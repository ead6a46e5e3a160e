/**
 * @module documents/header-line
 * The fax header line (the transmitting terminal identification, "TTI", that fax machines print at the top
 * of each page they send): `2026-12-07 14:03 UTC  ACME Corp  From: +14155550190  To: +14155550191  Page 3/12`.
 *
 * Drawn with a small bitmap font of our own — 5 × 7 dots for capitals and digits, 2 more below the baseline
 * for descenders — because a page stamp must be cheap (well under a millisecond) and exact: the same text
 * always gives the same pixels. One dot is about 0.25 mm: 2 pels across at 204 dpi, and 1, 2 or 4 rows down
 * at standard, fine and superfine. Whole rows per dot keep the text identical when a fine or superfine page is
 * sent at standard resolution (convert-resolution keeps every 2nd or 4th row), and the physical height is the
 * same at every resolution: capitals 1.8 mm, the full line with descenders 2.3 mm (about 7.5 pt type), so the
 * longest possible line (134 characters) still fits across 1728 pels.
 *
 * The line sits in the top 2.85 mm of the page, 5 mm from the left edge, and is OR'd onto the page: the
 * page's own black pixels stay, none are removed.
 */
import type { BilevelPage } from 'telefax/image/bilevel-page';

/** What the header line says on one page. */
export interface HeaderLineFields {
  /** When this sending attempt started, ms since the epoch; printed in UTC to the minute. */
  readonly sentAt: number;
  /** The sender's own text, printable ASCII (the API enforces it; anything else prints as `?`). */
  readonly headerText: string;
  readonly from: string;
  readonly to: string;
  /** 1-based page number. */
  readonly page: number;
  /** Pages in the fax, when known before the sending starts. */
  readonly pageCount: number | null;
}

/** The text of the header line; empty header text leaves its field out. */
export function headerLineText(fields: HeaderLineFields): string {
  const time = `${new Date(fields.sentAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const page = fields.pageCount === null ? `${fields.page}` : `${fields.page}/${fields.pageCount}`;
  const text = fields.headerText.trim();
  return [time, ...(text ? [text] : []), `From: ${fields.from}`, `To: ${fields.to}`, `Page ${page}`].join(
    '  ',
  );
}

/** Dots across a glyph, and its advance (one blank column between glyphs). */
const GLYPH_WIDTH = 5;
const ADVANCE_DOTS = 6;
/** Dot rows of a glyph: 7 down to the baseline, 2 of descender. */
const GLYPH_ROWS = 9;
/** Blank dot rows above the capitals. */
const TOP_DOTS = 2;
const LEFT_MARGIN_MM = 5;
/** Nominal dot size: 0.25 mm across (2 pels at 204 dpi), one standard-resolution row (1/98 in) down. */
const DOTS_PER_INCH_X = 101.6;
const DOTS_PER_INCH_Y = 98;

/**
 * The glyphs, printable ASCII: rows top to bottom separated by spaces, `#` ink and `.` blank; rows after the
 * last one given are blank. Row 6 is the baseline row; lower case x-height is rows 2–6.
 */
const GLYPH_DRAWINGS: Readonly<Record<string, string>> = {
  ' ': '',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '"': '.#.#. .#.#. .#.#.',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  $: '..#.. .#### #.#.. .###. ..#.# ####. ..#..',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '&': '.##.. #..#. #.#.. .#... #.#.# #..#. .##.#',
  "'": '..#.. ..#.. .#...',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '*': '..... ..#.. #.#.# .###. #.#.# ..#..',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#..',
  ',': '..... ..... ..... ..... ..... .##.. .##.. ..#.. .#...',
  '-': '..... ..... ..... .###.',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  '/': '....# ...#. ...#. ..#.. .#... .#... #....',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '.###. #...# ....# ..##. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  ':': '..... .##.. .##.. ..... .##.. .##..',
  ';': '..... .##.. .##.. ..... .##.. .##.. ..#.. .#...',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '=': '..... ..... ##### ..... #####',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '@': '.###. #...# #.### #.#.# #.### #.... .####',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  '\\': '#.... .#... .#... ..#.. ...#. ...#. ....#',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '^': '..#.. .#.#. #...#',
  _: '..... ..... ..... ..... ..... ..... ..... #####',
  '`': '.#... ..#.. ...#.',
  a: '..... ..... .###. ....# .#### #...# .####',
  b: '#.... #.... ####. #...# #...# #...# ####.',
  c: '..... ..... .#### #.... #.... #.... .####',
  d: '....# ....# .#### #...# #...# #...# .####',
  e: '..... ..... .###. #...# ##### #.... .###.',
  f: '..##. .#..# .#... ###.. .#... .#... .#...',
  g: '..... ..... .#### #...# #...# #...# .#### ....# .###.',
  h: '#.... #.... #.##. ##..# #...# #...# #...#',
  i: '..#.. ..... .##.. ..#.. ..#.. ..#.. .###.',
  j: '...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..',
  k: '#.... #.... #..#. #.#.. ##... #.#.. #..#.',
  l: '.##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  m: '..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#',
  n: '..... ..... #.##. ##..# #...# #...# #...#',
  o: '..... ..... .###. #...# #...# #...# .###.',
  p: '..... ..... ####. #...# #...# #...# ####. #.... #....',
  q: '..... ..... .#### #...# #...# #...# .#### ....# ....#',
  r: '..... ..... #.##. ##..# #.... #.... #....',
  s: '..... ..... .#### #.... .###. ....# ####.',
  t: '.#... .#... ###.. .#... .#... .#..# ..##.',
  u: '..... ..... #...# #...# #...# #..## .##.#',
  v: '..... ..... #...# #...# #...# .#.#. ..#..',
  w: '..... ..... #...# #...# #.#.# #.#.# .#.#.',
  x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
  y: '..... ..... #...# #...# #...# #...# .#### ....# .###.',
  z: '..... ..... ##### ...#. ..#.. .#... #####',
  '{': '...## ..#.. ..#.. .#... ..#.. ..#.. ...##',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '}': '##... ..#.. ..#.. ...#. ..#.. ..#.. ##...',
  '~': '..... ..... .#... #.#.# ...#.',
};

const FIRST_CODE = 0x20;
const LAST_CODE = 0x7e;
const FALLBACK_CODE = '?'.charCodeAt(0);

/** GLYPH_ROWS row masks per printable ASCII code from FIRST_CODE; bit 4 is the leftmost dot. */
const GLYPHS: Uint8Array = (() => {
  const glyphs = new Uint8Array((LAST_CODE - FIRST_CODE + 1) * GLYPH_ROWS);
  for (let code = FIRST_CODE; code <= LAST_CODE; code++) {
    const drawing = GLYPH_DRAWINGS[String.fromCharCode(code)];
    if (drawing === undefined) throw new Error(`no glyph for ${JSON.stringify(String.fromCharCode(code))}`);
    const rows = drawing === '' ? [] : drawing.split(' ');
    if (rows.length > GLYPH_ROWS || rows.some((r) => !/^[#.]{5}$/.test(r))) {
      throw new Error(`malformed glyph for ${JSON.stringify(String.fromCharCode(code))}`);
    }
    for (const [r, row] of rows.entries()) {
      let mask = 0;
      for (const dot of row) mask = (mask << 1) | (dot === '#' ? 1 : 0);
      glyphs[(code - FIRST_CODE) * GLYPH_ROWS + r] = mask;
    }
  }
  return glyphs;
})();

/** Pels per dot across and rows per dot down for a page's resolution. */
export function headerDotSize(page: Pick<BilevelPage, 'xDpi' | 'yDpi'>): { x: number; y: number } {
  return {
    x: Math.max(1, Math.round(page.xDpi / DOTS_PER_INCH_X)),
    y: Math.max(1, Math.round(page.yDpi / DOTS_PER_INCH_Y)),
  };
}

/** Rows at the top of the page the header line may ink (at most this many). */
export function headerBandRows(page: Pick<BilevelPage, 'xDpi' | 'yDpi'>): number {
  return (TOP_DOTS + GLYPH_ROWS) * headerDotSize(page).y;
}

/**
 * A copy of the page with the header line drawn in its top band; the page given is left as it is. Characters
 * that do not fit across the page are left off whole.
 */
export function stampHeaderLine(page: BilevelPage, text: string): BilevelPage {
  const data = page.data.slice();
  const dot = headerDotSize(page);
  const left = Math.round((LEFT_MARGIN_MM / 25.4) * page.xDpi);
  const advance = ADVANCE_DOTS * dot.x;
  const fits =
    left + GLYPH_WIDTH * dot.x <= page.width
      ? Math.floor((page.width - left - GLYPH_WIDTH * dot.x) / advance) + 1
      : 0;
  const count = Math.min(text.length, fits);
  const codes = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const code = text.charCodeAt(i);
    codes[i] = code >= FIRST_CODE && code <= LAST_CODE ? code : FALLBACK_CODE;
  }

  const row = new Uint8Array(page.stride);
  for (let r = 0; r < GLYPH_ROWS; r++) {
    row.fill(0);
    let inked = false;
    for (let i = 0; i < count; i++) {
      const mask = GLYPHS[(codes[i]! - FIRST_CODE) * GLYPH_ROWS + r]!;
      if (mask === 0) continue;
      inked = true;
      const x0 = left + i * advance;
      for (let d = 0; d < GLYPH_WIDTH; d++) {
        if ((mask & (1 << (GLYPH_WIDTH - 1 - d))) === 0) continue;
        for (let x = x0 + d * dot.x; x < x0 + (d + 1) * dot.x; x++) row[x >> 3]! |= 0x80 >> (x & 7);
      }
    }
    if (!inked) continue;
    for (let j = 0; j < dot.y; j++) {
      const y = (TOP_DOTS + r) * dot.y + j;
      if (y >= page.height) break;
      const offset = y * page.stride;
      for (let b = 0; b < page.stride; b++) data[offset + b]! |= row[b]!;
    }
  }
  return { ...page, data };
}
