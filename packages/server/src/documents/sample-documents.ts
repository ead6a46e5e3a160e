/**
 * @module
 * Sample PDFs for tests and the benchmark, drawn by small PostScript programs and distilled by Ghostscript's
 * pdfwrite (fonts embedded, as in real-world files). Ghostscript is a test oracle only, never a runtime
 * dependency.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A page exactly 1728 px wide at 204 dpi and Letter-high, so Ghostscript and our pipeline share one grid. */
export const FAX_GRID_PAGE_PT = { width: (1728 / 204) * 72, height: 792 } as const;

/** A page size in PostScript points. */
export interface PageSizePt {
  readonly width: number;
  readonly height: number;
}

const WORDS =
  'are were here there where every the quick brown fox jumps over lazy dog facsimile transmission ' +
  'received pages line resolution standard fine superfine encoded decoded';

function psString(s: string): string {
  return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/** PostScript for `pages` pages of body text in Times, Helvetica and Courier at 8–12 pt. */
export function textPagesPostScript(pages: number, pageSize: PageSizePt = FAX_GRID_PAGE_PT): string {
  const words = WORDS.split(' ');
  const out = [`%!PS\n<< /PageSize [${pageSize.width.toFixed(3)} ${pageSize.height}] >> setpagedevice`];
  const fonts = ['Times-Roman', 'Helvetica', 'Courier'];
  let w = 0;
  for (let p = 0; p < pages; p++) {
    let y = pageSize.height - 60;
    let line = 0;
    while (y > 60) {
      const size = 8 + (line % 5);
      const font = fonts[line % 3];
      let text = '';
      while (text.length < 70 - size * 2) text += `${words[w++ % words.length]} `;
      out.push(`/${font} findfont ${size} scalefont setfont 60 ${y} moveto ${psString(text.trim())} show`);
      y -= size + 5;
      line++;
    }
    out.push('showpage');
  }
  return out.join('\n');
}

/**
 * PostScript for a mixed document: page 1 text, rules and a grey ramp; page 2 a photo-like image (a smooth
 * radial pattern sampled by the `image` operator) with a caption; page 3 landscape with a black mark at its
 * top-left corner.
 */
export function mixedPostScript(pageSize: PageSizePt = FAX_GRID_PAGE_PT): string {
  const { width, height } = pageSize;
  return `%!PS
<< /PageSize [${width.toFixed(3)} ${height}] >> setpagedevice
/Helvetica findfont 12 scalefont setfont 60 ${height - 60} moveto (Mixed document: text, lines, grey) show
/Times-Roman findfont 9 scalefont setfont 60 ${height - 80} moveto (are were here there where every fine line) show
0.3 setlinewidth 60 ${height - 100} moveto ${width - 60} ${height - 100} lineto stroke
2 setlinewidth 60 ${height - 110} moveto ${width - 60} ${height - 110} lineto stroke
0 1 99 { dup 100 div setgray 60 exch 4 mul 200 add 200 4 rectfill } for
0 setgray
showpage
<< /PageSize [${width.toFixed(3)} ${height}] >> setpagedevice
gsave 60 300 translate 480 360 scale
256 192 8 [256 0 0 -192 0 192]
{ /row where { pop } { /row 0 def } ifelse
  256 string dup 0 1 255 { dup 128 sub dup mul row 96 sub dup mul add sqrt 1.6 mul 255 exch sub
  dup 0 lt { pop 0 } if cvi 3 copy put pop pop } for pop /row row 1 add def }
image grestore
/Helvetica findfont 10 scalefont setfont 60 270 moveto (Figure 1: a smooth radial tone) show
showpage
<< /PageSize [${height} ${width.toFixed(3)}] >> setpagedevice
0 setgray 0 ${(width - 100).toFixed(3)} 100 100 rectfill
/Helvetica findfont 14 scalefont setfont 200 300 moveto (Landscape page) show
showpage
`;
}

function runGs(args: string[]): void {
  const r = spawnSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`gs failed: ${r.stderr || r.error?.message}`);
}

/** Distils PostScript to PDF; extra pdfwrite options (e.g. passwords) may be given. */
export function postScriptToPdf(postScript: string, extraArgs: readonly string[] = []): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'faxwire-ps-'));
  try {
    writeFileSync(join(dir, 'in.ps'), postScript);
    runGs(['-sDEVICE=pdfwrite', ...extraArgs, `-sOutputFile=${join(dir, 'out.pdf')}`, join(dir, 'in.ps')]);
    return new Uint8Array(readFileSync(join(dir, 'out.pdf')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Ghostscript's own bilevel rendering of a PDF as a multi-page G4 TIFF. */
export function ghostscriptTiffG4(pdf: Uint8Array, xDpi: number, yDpi: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'faxwire-gs-'));
  try {
    writeFileSync(join(dir, 'in.pdf'), pdf);
    runGs([
      '-sDEVICE=tiffg4',
      `-r${xDpi}x${yDpi}`,
      `-sOutputFile=${join(dir, 'out.tif')}`,
      join(dir, 'in.pdf'),
    ]);
    return new Uint8Array(readFileSync(join(dir, 'out.tif')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
