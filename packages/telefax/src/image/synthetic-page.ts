/**
 * @module
 * Deterministic text-like test pages: lines of glyph-sized blobs, rules, a dithered patch and a
 * diagonal — the run-length mix of a typed letter, without shipping a scanned chart.
 */

import { type BilevelPage, createPage, setPixel } from './bilevel-page.ts';

/** A small seeded PRNG (mulberry32), so a page is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticPage(width: number, height: number, seed = 1, xDpi = 204, yDpi = 196): BilevelPage {
  const page = createPage(width, height, xDpi, yDpi);
  const random = prng(seed);
  const margin = Math.min(80, Math.floor(width / 10));
  const fill = (x0: number, y0: number, w: number, h: number) => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) setPixel(page, x, y, true);
    }
  };
  let y = Math.min(20, Math.floor(height / 10));
  while (y < height) {
    const kind = random();
    if (kind < 0.75) {
      // A line of text: glyphs are strokes and bowls of varying width.
      const glyphHeight = 8 + Math.floor(random() * 12);
      let x = margin;
      while (x < width - margin) {
        if (random() < 0.15) {
          x += 6 + Math.floor(random() * 10);
          continue;
        }
        const w = 3 + Math.floor(random() * 10);
        const shape = random();
        if (shape < 0.4) fill(x, y, Math.max(1, w >> 2), glyphHeight);
        else if (shape < 0.7) {
          fill(x, y, w, 2);
          fill(x, y + glyphHeight - 2, w, 2);
          fill(x, y, 2, glyphHeight);
          fill(x + w - 2, y, 2, glyphHeight);
        } else {
          for (let i = 0; i < glyphHeight; i++) fill(x + Math.floor((i * w) / glyphHeight), y + i, 2, 1);
        }
        x += w + 1 + Math.floor(random() * 3);
      }
      y += glyphHeight + 4 + Math.floor(random() * 8);
    } else if (kind < 0.85) {
      fill(margin, y, width - 2 * margin, 1 + Math.floor(random() * 3));
      y += 8;
    } else if (kind < 0.95) {
      // A dithered patch: short runs of both colours, the worst case for run-length codes.
      const h = 10 + Math.floor(random() * 20);
      const x0 = margin + Math.floor(random() * (width / 2));
      const w = Math.min(width - x0, 40 + Math.floor(random() * 200));
      for (let yy = y; yy < Math.min(height, y + h); yy++) {
        for (let x = x0; x < x0 + w; x++) if (random() < 0.5) setPixel(page, x, yy, true);
      }
      y += h + 4;
    } else {
      const h = 30 + Math.floor(random() * 40);
      for (let i = 0; i < h && y + i < height; i++) fill(margin + i * 3, y + i, 4, 1);
      y += h + 4;
    }
  }
  // Ink touching both edges exercises runs that start and end the row.
  if (height > 4) {
    fill(0, height - 3, 7, 2);
    fill(width - 5, height - 3, 5, 2);
  }
  return page;
}
