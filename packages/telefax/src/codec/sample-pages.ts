/**
 * @module
 * Synthetic bilevel pages for codec tests and benchmarks, deterministic for a given seed: the page kinds that
 * stress different code paths (long runs, runs of one pixel, vertical edges, text-like strokes, noise).
 */

import { type BilevelPage, createPage, setPixel } from '../image/bilevel-page.ts';

export type SamplePageKind = 'white' | 'black' | 'checkerboard' | 'stripes' | 'text' | 'random';

export const SAMPLE_PAGE_KINDS: readonly SamplePageKind[] = [
  'white',
  'black',
  'checkerboard',
  'stripes',
  'text',
  'random',
];

/** A small deterministic PRNG (mulberry32): the same seed gives the same page everywhere. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fillRect(page: BilevelPage, x0: number, y0: number, w: number, h: number): void {
  for (let y = y0; y < Math.min(page.height, y0 + h); y++) {
    for (let x = x0; x < Math.min(page.width, x0 + w); x++) setPixel(page, x, y, true);
  }
}

/** A page of the given kind; pad bits are left 0. */
export function samplePage(kind: SamplePageKind, width: number, height: number, seed = 1): BilevelPage {
  const page = createPage(width, height);
  const random = seededRandom(seed);
  switch (kind) {
    case 'white':
      break;
    case 'black':
      fillRect(page, 0, 0, width, height);
      break;
    case 'checkerboard':
      for (let y = 0; y < height; y++)
        for (let x = (y & 1) ^ 1; x < width; x += 2) setPixel(page, x, y, true);
      break;
    case 'stripes':
      for (let x = 0; x < width; x += 7) fillRect(page, x, 0, 3, height);
      break;
    case 'text':
      // Lines of "glyphs": cells with a few strokes, separated by white gaps, like a typed page.
      for (let y = 2; y + 12 < height; y += 18) {
        for (let x = 4 + Math.floor(random() * 8); x + 9 < width; x += 11) {
          if (random() < 0.15) continue;
          for (let s = 0; s < 3; s++) {
            if (random() < 0.5) fillRect(page, x + Math.floor(random() * 7), y, 2, 12);
            else fillRect(page, x, y + Math.floor(random() * 11), 8, 2);
          }
        }
      }
      break;
    case 'random':
      for (let y = 0; y < height; y++) {
        // Vary density by row: from sparse dots to dense noise.
        const p = ((y % 7) + 1) / 8;
        for (let x = 0; x < width; x++) if (random() < p * 0.6) setPixel(page, x, y, true);
      }
      break;
  }
  return page;
}
