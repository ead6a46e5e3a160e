/**
 * @module
 * A minimal PDF writer for vector text and rules in the standard 14 fonts (ISO 32000-1 §9.6.2.2), which
 * every PDF reader, PDFium included, carries built in: nothing is embedded. Plain-text documents and cover
 * pages are drawn with it and then rasterized like any other PDF, so they get the same text quality.
 */

export type StandardFont = 'Courier' | 'Courier-Bold' | 'Helvetica' | 'Helvetica-Bold';

const FONTS: readonly StandardFont[] = ['Courier', 'Courier-Bold', 'Helvetica', 'Helvetica-Bold'];

export interface TextRun {
  readonly font: StandardFont;
  readonly sizePt: number;
  /** Baseline start in PDF user space (points, origin bottom-left). */
  readonly x: number;
  readonly y: number;
  readonly text: string;
}

export interface Rule {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly widthPt: number;
}

export interface TextPdfPage {
  readonly widthPt: number;
  readonly heightPt: number;
  readonly runs: readonly TextRun[];
  readonly rules?: readonly Rule[];
}

/** Characters outside WinAnsiEncoding's Latin-1 range become '?'. */
function pdfString(text: string): string {
  let out = '(';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0x28 || c === 0x29 || c === 0x5c) out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c >= 0xa0 && c <= 0xff) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += '?';
  }
  return `${out})`;
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function contentOf(page: TextPdfPage): string {
  const ops: string[] = [];
  for (const r of page.rules ?? []) {
    ops.push(`${num(r.widthPt)} w ${num(r.x1)} ${num(r.y1)} m ${num(r.x2)} ${num(r.y2)} l S`);
  }
  for (const run of page.runs) {
    const font = FONTS.indexOf(run.font) + 1;
    ops.push(
      `BT /F${font} ${num(run.sizePt)} Tf ${num(run.x)} ${num(run.y)} Td ${pdfString(run.text)} Tj ET`,
    );
  }
  return `${ops.join('\n')}\n`;
}

/** The whole file; pages share one font resource dictionary. */
export function writeTextPdf(pages: readonly TextPdfPage[]): Uint8Array {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body);
  // 1 catalog, 2 pages, 3 fonts dictionary, then per page: page, content.
  add('<< /Type /Catalog /Pages 2 0 R >>');
  const kids = pages.map((_, i) => `${4 + 2 * i} 0 R`).join(' ');
  add(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  const fontEntries = FONTS.map(
    (f, i) => `/F${i + 1} << /Type /Font /Subtype /Type1 /BaseFont /${f} /Encoding /WinAnsiEncoding >>`,
  );
  add(`<< ${fontEntries.join(' ')} >>`);
  for (const page of pages) {
    const pageObj = objects.length + 1;
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${num(page.widthPt)} ${num(page.heightPt)}] ` +
        `/Resources << /Font 3 0 R >> /Contents ${pageObj + 1} 0 R >>`,
    );
    const content = contentOf(page);
    add(`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}endstream`);
  }
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, 'latin1'));
}
