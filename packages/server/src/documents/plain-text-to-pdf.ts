/**
 * @module
 * Plain text → PDF pages: Courier 10 pt, 80 columns, 60 lines a page on Letter, long lines wrapped (at a
 * space when there is one), tabs every 8 columns, form feed starts a page. The PDF is then rasterized like any
 * other, so the text gets the PDF path's stroke quality.
 */
import { writeTextPdf } from './write-text-pdf.ts';

export const TEXT_COLUMNS = 80;
export const TEXT_LINES_PER_PAGE = 60;
const FONT_SIZE = 10;
const LEADING = 12;
const PAGE_WIDTH = 612;
const PAGE_HEIGHT = 792;
/** Courier advances 0.6 em, so 80 columns at 10 pt are 480 pt: centred on Letter. */
const LEFT = (PAGE_WIDTH - TEXT_COLUMNS * FONT_SIZE * 0.6) / 2;
const TOP_BASELINE = PAGE_HEIGHT - (PAGE_HEIGHT - TEXT_LINES_PER_PAGE * LEADING) / 2 - FONT_SIZE;

/** UTF-8 when valid (BOM dropped), else Latin-1, which every byte sequence is. */
export function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

function wrap(line: string): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > TEXT_COLUMNS) {
    const space = rest.lastIndexOf(' ', TEXT_COLUMNS);
    const cut = space > TEXT_COLUMNS / 2 ? space : TEXT_COLUMNS;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^ /, '');
  }
  out.push(rest);
  return out;
}

/** Pages of at most 60 lines of at most 80 characters. */
export function layoutPlainText(text: string): string[][] {
  const pages: string[][] = [[]];
  const sections = text.replace(/\r\n?/g, '\n').split('\f');
  sections.forEach((section, s) => {
    if (s > 0 && pages[pages.length - 1].length > 0) pages.push([]);
    const lines = section.split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    for (const raw of lines) {
      const clean = expandTabs(raw).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
      for (const line of wrap(clean)) {
        if (pages[pages.length - 1].length === TEXT_LINES_PER_PAGE) pages.push([]);
        pages[pages.length - 1].push(line);
      }
    }
  });
  return pages;
}

export function plainTextToPdf(text: string): { pdf: Uint8Array; pageCount: number } {
  const pages = layoutPlainText(text);
  const pdf = writeTextPdf(
    pages.map((lines) => ({
      widthPt: PAGE_WIDTH,
      heightPt: PAGE_HEIGHT,
      runs: lines
        .map((line, i) => ({
          font: 'Courier' as const,
          sizePt: FONT_SIZE,
          x: LEFT,
          y: TOP_BASELINE - i * LEADING,
          text: line,
        }))
        .filter((r) => r.text.length > 0),
    })),
  );
  return { pdf, pageCount: pages.length };
}
