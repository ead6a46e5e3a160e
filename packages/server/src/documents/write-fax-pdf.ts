/**
 * @module
 * Fax pages → PDF, streamed a page at a time: each page is one image XObject holding the page's T.6 (G4)
 * coding unchanged, under /CCITTFaxDecode (ISO 32000-1 §7.4.6), and a MediaBox sized from the page's dpi,
 * so the PDF is as small as the fax and prints at its true size.
 *
 * Colour sense: the T.6 code words name white and black runs outright. Per Table 11 of ISO 32000-1,
 * /BlackIs1 true makes the filter deliver black pixels as 1 bits; a 1-bit DeviceGray image paints sample 1
 * as white, so /Decode [1 0] inverts it back and black prints black. Both keys are written explicitly, so
 * no reader falls back to a different default. /EncodedByteAlign stays false (the default): T.6 rows are not
 * padded to bytes, and the data ends with EOFB (/EndOfBlock true, the default).
 */

import { encodePage } from 'telefax/codec/index';
import type { BilevelPage } from 'telefax/image/bilevel-page';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '');
}

/** Physical page size in points (1/72 in). */
export function pageSizePt(page: BilevelPage): { width: number; height: number } {
  return { width: (page.width / page.xDpi) * 72, height: (page.height / page.yDpi) * 72 };
}

/**
 * The PDF as a sequence of chunks: the header, one chunk per page as soon as that page arrives, then the page
 * tree, cross-reference table and trailer. Object 1 is the catalog, 2 the page tree (written last, since
 * only then are its kids known), and each page takes three objects: page, content stream, image.
 */
export async function* writeFaxPdf(
  pages: AsyncIterable<BilevelPage> | Iterable<BilevelPage>,
): AsyncGenerator<Uint8Array> {
  const offsets: number[] = [];
  const kids: number[] = [];
  let position = 0;
  const emit = (parts: Uint8Array[]): Uint8Array => {
    const chunk = Buffer.concat(parts);
    position += chunk.length;
    return chunk;
  };
  const object = (id: number, body: Uint8Array[], at: number): Uint8Array[] => {
    offsets[id] = at;
    return [latin1(`${id} 0 obj\n`), ...body, latin1('\nendobj\n')];
  };
  yield emit([latin1('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n')]);
  {
    const parts = object(1, [latin1('<< /Type /Catalog /Pages 2 0 R >>')], position);
    yield emit(parts);
  }
  let nextId = 3;
  for await (const page of pages) {
    const pageId = nextId;
    const contentId = nextId + 1;
    const imageId = nextId + 2;
    nextId += 3;
    kids.push(pageId);
    const { width, height } = pageSizePt(page);
    const g4 = encodePage(page, { compression: 'mmr', bitOrder: 'msb-first', rtc: true });
    const content = `q ${num(width)} 0 0 ${num(height)} 0 0 cm /Im0 Do Q\n`;
    const parts: Uint8Array[] = [];
    let at = position;
    const pushObject = (id: number, body: Uint8Array[]) => {
      const o = object(id, body, at);
      for (const p of o) at += p.length;
      parts.push(...o);
    };
    pushObject(pageId, [
      latin1(
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${num(width)} ${num(height)}] ` +
          `/Resources << /XObject << /Im0 ${imageId} 0 R >> >> /Contents ${contentId} 0 R >>`,
      ),
    ]);
    pushObject(contentId, [latin1(`<< /Length ${content.length} >>\nstream\n${content}endstream`)]);
    pushObject(imageId, [
      latin1(
        `<< /Type /XObject /Subtype /Image /Width ${page.width} /Height ${page.height} ` +
          '/ColorSpace /DeviceGray /BitsPerComponent 1 /Decode [1 0] /Filter /CCITTFaxDecode ' +
          `/DecodeParms << /K -1 /Columns ${page.width} /Rows ${page.height} /BlackIs1 true ` +
          `/EncodedByteAlign false >> /Length ${g4.length} >>\nstream\n`,
      ),
      g4,
      latin1('\nendstream'),
    ]);
    yield emit(parts);
  }
  if (kids.length === 0) throw new RangeError('a fax PDF needs at least one page');
  const tail: Uint8Array[] = object(
    2,
    [latin1(`<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`)],
    position,
  );
  let xrefAt = position;
  for (const p of tail) xrefAt += p.length;
  let xref = `xref\n0 ${nextId}\n0000000000 65535 f \n`;
  for (let id = 1; id < nextId; id++) xref += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  xref += `trailer\n<< /Size ${nextId} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  tail.push(latin1(xref));
  yield emit(tail);
}

/** All chunks of a stream joined; for callers that want the file in memory. */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}
