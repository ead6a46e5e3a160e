/**
 * @module
 * Fax page geometry: 1728 pels across at 204 dpi (T.4 §2.2, R8), and as many lines as the paper is long at
 * the vertical resolution. Heights use the nominal 98/196/391 lines per inch that BilevelPage records, so a
 * Letter page is exactly 11 × 196 = 2156 lines at fine.
 */
import { type FaxResolution, RESOLUTION_DPI } from 'telefax/image/bilevel-page';

export type PaperSize = 'letter' | 'a4' | 'legal';
export type PaperChoice = PaperSize | 'auto';

/** Paper dimensions in inches. */
export const PAPER_INCHES: Readonly<Record<PaperSize, { width: number; height: number }>> = Object.freeze({
  letter: { width: 8.5, height: 11 },
  a4: { width: 210 / 25.4, height: 297 / 25.4 },
  legal: { width: 8.5, height: 14 },
});

export const FAX_PAGE_WIDTH = 1728;

export interface PageGeometry {
  readonly paper: PaperSize;
  readonly resolution: FaxResolution;
  readonly width: number;
  readonly height: number;
  readonly xDpi: number;
  readonly yDpi: number;
}

export function pageGeometry(paper: PaperSize, resolution: FaxResolution): PageGeometry {
  const dpi = RESOLUTION_DPI[resolution];
  return {
    paper,
    resolution,
    width: FAX_PAGE_WIDTH,
    height: Math.round(PAPER_INCHES[paper].height * dpi.y),
    xDpi: dpi.x,
    yDpi: dpi.y,
  };
}

/**
 * The paper whose proportions are nearest to a portrait source of the given size (any unit), so an A4 PDF
 * goes out as A4 and a Legal one as Legal.
 */
export function nearestPaper(width: number, height: number): PaperSize {
  const aspect = Math.max(width, height) / Math.max(1e-9, Math.min(width, height));
  let best: PaperSize = 'letter';
  let bestDiff = Number.POSITIVE_INFINITY;
  for (const paper of ['letter', 'a4', 'legal'] as const) {
    const diff = Math.abs(PAPER_INCHES[paper].height / PAPER_INCHES[paper].width - aspect);
    if (diff < bestDiff - 1e-9) {
      best = paper;
      bestDiff = diff;
    }
  }
  return best;
}

export function choosePaper(choice: PaperChoice, sourceWidth: number, sourceHeight: number): PaperSize {
  return choice === 'auto' ? nearestPaper(sourceWidth, sourceHeight) : choice;
}
