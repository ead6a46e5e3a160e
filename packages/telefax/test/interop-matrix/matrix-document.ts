/**
 * @module matrix-document
 * The 8-page document every interop matrix cell sends: pages of different content and height, so one call covers
 * long runs, runs of one pixel, vertical edges, text-like strokes, noise, an almost empty page and a short page.
 * Heights are given at standard resolution; a fine page covers the same paper with twice the rows (T.4 §2.2).
 */
import { samplePage } from '../../src/codec/sample-pages.ts';
import {
  type BilevelPage,
  createPage,
  type FaxResolution,
  RESOLUTION_DPI,
  setPixel,
} from '../../src/image/bilevel-page.ts';
import { syntheticPage } from '../../src/image/synthetic-page.ts';

const WIDTH = 1728;

type PageKind =
  | 'letter'
  | 'noise'
  | 'black-areas'
  | 'thin-lines'
  | 'near-empty'
  | 'glyphs'
  | 'patterns'
  | 'short';

/**
 * Kind and height (rows at standard resolution) of each page, in document order. The noise page codes to more
 * than one ECM block (256 frames of 256 octets, T.30 Annex A) at either resolution in every compression.
 */
export const MATRIX_PAGES: readonly { readonly kind: PageKind; readonly rows: number }[] = [
  { kind: 'letter', rows: 300 },
  { kind: 'noise', rows: 240 },
  { kind: 'black-areas', rows: 260 },
  { kind: 'thin-lines', rows: 200 },
  { kind: 'near-empty', rows: 180 },
  { kind: 'glyphs', rows: 240 },
  { kind: 'patterns', rows: 120 },
  { kind: 'short', rows: 40 },
];

function fillRect(page: BilevelPage, x0: number, y0: number, w: number, h: number): void {
  for (let y = Math.max(0, y0); y < Math.min(page.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(page.width, x0 + w); x++) setPixel(page, x, y, true);
  }
}

/** A page of `kind` with `height` rows at `yDpi`; `scale` is rows per standard row (1 standard, 2 fine). */
function makePage(kind: PageKind, height: number, yDpi: number, scale: number, seed: number): BilevelPage {
  const xDpi = RESOLUTION_DPI.standard.x;
  const withDpi = (page: BilevelPage): BilevelPage => ({ ...page, xDpi, yDpi });
  switch (kind) {
    case 'letter':
      return syntheticPage(WIDTH, height, seed, xDpi, yDpi);
    case 'noise':
      return withDpi(samplePage('random', WIDTH, height, seed));
    case 'glyphs':
      return withDpi(samplePage('text', WIDTH, height, seed));
    case 'short':
      return syntheticPage(WIDTH, height, seed, xDpi, yDpi);
    case 'black-areas': {
      // Full-width black bands and solid blocks with white holes: runs of the whole row and long makeup codes.
      const page = createPage(WIDTH, height, xDpi, yDpi);
      fillRect(page, 0, 0, WIDTH, 40 * scale);
      fillRect(page, 100, 60 * scale, 900, 120 * scale);
      fillRect(page, 1200, 60 * scale, WIDTH - 1200, 160 * scale);
      for (let i = 0; i < 6; i++) {
        const x = 200 + i * 120;
        for (let y = 80 * scale; y < 160 * scale; y++)
          for (let dx = 0; dx < 40; dx++) setPixel(page, x + dx, y, false);
      }
      fillRect(page, 0, height - 20 * scale, WIDTH, 20 * scale);
      return page;
    }
    case 'thin-lines': {
      // One-pixel rules and a grid: vertical mode codes on every row, single-pixel runs across the row.
      const page = createPage(WIDTH, height, xDpi, yDpi);
      for (let y = 0; y < height; y += 16) fillRect(page, 0, y, WIDTH, 1);
      for (let x = 0; x < WIDTH; x += 24) fillRect(page, x, 0, 1, height);
      for (let i = 0; i < height; i++) {
        setPixel(page, (i * 7) % WIDTH, i, true);
        setPixel(page, WIDTH - 1 - ((i * 5) % WIDTH), i, true);
      }
      return page;
    }
    case 'near-empty': {
      // All white but one small mark: rows of a single white run, and EOLs almost back to back.
      const page = createPage(WIDTH, height, xDpi, yDpi);
      fillRect(page, 860, Math.floor(height / 2), 3, 3);
      return page;
    }
    case 'patterns': {
      // A checkerboard band (runs of one pixel: the worst case for MH) above coarse stripes. The band leaves a
      // margin: libtiff's G3 decoder, which spandsp reads the document with, overflows its run buffer on a row
      // of 1,729 runs (a full 1728-pixel checkerboard row), even one libtiff encoded itself.
      const page = createPage(WIDTH, height, xDpi, yDpi);
      const band = Math.floor(height / 4);
      for (let y = 0; y < band; y++)
        for (let x = 64 + (y & 1); x < WIDTH - 64; x += 2) setPixel(page, x, y, true);
      for (let x = 0; x < WIDTH; x += 9) fillRect(page, x, band + 4, 4, height - band - 4);
      return page;
    }
  }
}

/** The 8 pages at `resolution` (standard or fine). */
export function matrixDocument(resolution: Extract<FaxResolution, 'standard' | 'fine'>): BilevelPage[] {
  const scale = resolution === 'fine' ? 2 : 1;
  const yDpi = RESOLUTION_DPI[resolution].y;
  return MATRIX_PAGES.map(({ kind, rows }, i) => makePage(kind, rows * scale, yDpi, scale, 101 + i));
}
