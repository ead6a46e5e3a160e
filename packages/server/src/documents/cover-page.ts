/**
 * @module
 * The cover sheet: recipient, sender, subject, page count, date and a message, laid out as vector text on
 * Letter and rasterized through the PDF path like the documents behind it.
 */
import { type TextRun, writeTextPdf } from './write-text-pdf.ts';

export interface CoverPage {
  readonly to?: string;
  readonly from?: string;
  readonly subject?: string;
  readonly message?: string;
  /** Shown as given when a string; a Date is shown as UTC. Defaults to now. */
  readonly date?: Date | string;
}

const PAGE_WIDTH = 612;
const PAGE_HEIGHT = 792;
const LEFT = 72;
const MESSAGE_COLUMNS = 78;
const MESSAGE_SIZE = 10;
const MESSAGE_LEADING = 13;

function formatDate(date: Date | string | undefined): string {
  if (typeof date === 'string') return date;
  const d = date ?? new Date();
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function wrapMessage(message: string): string[] {
  const lines: string[] = [];
  for (const paragraph of message.replace(/\r\n?/g, '\n').split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      let w = word;
      while (w.length > MESSAGE_COLUMNS) {
        if (line) lines.push(line);
        lines.push(w.slice(0, MESSAGE_COLUMNS));
        w = w.slice(MESSAGE_COLUMNS);
        line = '';
      }
      if (!line) line = w;
      else if (line.length + 1 + w.length <= MESSAGE_COLUMNS) line += ` ${w}`;
      else {
        lines.push(line);
        line = w;
      }
    }
    lines.push(line);
  }
  return lines;
}

/**
 * @param pageCount pages of the whole fax, this cover included
 */
export function coverPageToPdf(cover: CoverPage, pageCount: number): Uint8Array {
  const runs: TextRun[] = [{ font: 'Helvetica-Bold', sizePt: 40, x: LEFT, y: 690, text: 'FAX' }];
  const fields: [string, string][] = [
    ['To:', cover.to ?? ''],
    ['From:', cover.from ?? ''],
    ['Subject:', cover.subject ?? ''],
    ['Pages:', `${pageCount} (including this cover)`],
    ['Date:', formatDate(cover.date)],
  ];
  let y = 630;
  for (const [label, value] of fields) {
    runs.push({ font: 'Helvetica-Bold', sizePt: 13, x: LEFT, y, text: label });
    runs.push({
      font: 'Helvetica',
      sizePt: 13,
      x: LEFT + 80,
      y,
      text: value.replace(/\s+/g, ' ').slice(0, 70),
    });
    y -= 24;
  }
  y -= 16;
  const ruleY = y + 10;
  const bottom = 60;
  const maxLines = Math.floor((y - bottom) / MESSAGE_LEADING);
  const lines = wrapMessage(cover.message ?? '');
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = `${lines[maxLines - 1].slice(0, MESSAGE_COLUMNS - 3)}...`;
  }
  for (const line of lines) {
    y -= MESSAGE_LEADING;
    if (line) runs.push({ font: 'Courier', sizePt: MESSAGE_SIZE, x: LEFT, y, text: line });
  }
  return writeTextPdf([
    {
      widthPt: PAGE_WIDTH,
      heightPt: PAGE_HEIGHT,
      runs,
      rules: [
        { x1: LEFT, y1: 675, x2: PAGE_WIDTH - LEFT, y2: 675, widthPt: 2 },
        { x1: LEFT, y1: ruleY, x2: PAGE_WIDTH - LEFT, y2: ruleY, widthPt: 1 },
      ],
    },
  ]);
}
