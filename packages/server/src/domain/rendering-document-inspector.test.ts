/**
 * @module domain/rendering-document-inspector.test
 * The inspector backed by the real renderer: types come from content, pages are counted, and bad
 * documents are refused with the catalogue's codes and their index.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { tinyPdf } from '../api/test-app.ts';
import { postScriptToPdf, textPagesPostScript } from '../documents/sample-documents.ts';
import { DocumentRejection } from './document-inspector.ts';
import { RenderingDocumentInspector } from './rendering-document-inspector.ts';

describe('RenderingDocumentInspector', () => {
  const inspector = new RenderingDocumentInspector();
  after(() => inspector.close());
  const limits = { maxPages: 10, maxBytes: 1_000_000, cover: false };

  it('reports the real type and page count of PDF, PNG and text', async () => {
    const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const result = await inspector.inspect(
      [
        { bytes: tinyPdf(3), contentType: 'application/octet-stream', filename: 'a.pdf' },
        { bytes: png, contentType: 'image/png', filename: null },
        { bytes: Buffer.from('Hello fax\n'), contentType: 'text/plain', filename: null },
      ],
      limits,
    );
    assert.deepEqual(result, [
      { contentType: 'application/pdf', pageCount: 3 },
      { contentType: 'image/png', pageCount: 1 },
      { contentType: 'text/plain', pageCount: 1 },
    ]);
  });

  it('refuses bad documents with their code and index', async () => {
    const cases: [Uint8Array, string | undefined, string][] = [
      [Buffer.from('%PDF-1.7\n garbage'), 'application/pdf', 'invalid_document'],
      [Buffer.from([0, 1, 2, 3, 4, 5]), 'application/zip', 'unsupported_media_type'],
      [Buffer.alloc(2_000_000, 0x41), 'text/plain', 'document_too_large'],
    ];
    for (const [bytes, contentType, code] of cases) {
      await assert.rejects(
        inspector.inspect(
          [
            { bytes: tinyPdf(), contentType: 'application/pdf', filename: null },
            { bytes, contentType, filename: null },
          ],
          limits,
        ),
        (e: unknown) => e instanceof DocumentRejection && e.code === code && e.document === 1,
        code,
      );
    }
    await assert.rejects(
      inspector.inspect(
        [
          { bytes: tinyPdf(6), contentType: undefined, filename: null },
          { bytes: tinyPdf(5), contentType: undefined, filename: null },
        ],
        limits,
      ),
      (e: unknown) => e instanceof DocumentRejection && e.code === 'too_many_pages' && e.document === 1,
    );
  });

  it('gives each of many faxes inspected at once its own verdict', async () => {
    const locked = postScriptToPdf(textPagesPostScript(1), [
      '-sOwnerPassword=owner',
      '-sUserPassword=user',
      '-dEncryptionR=3',
      '-dKeyLength=128',
    ]);
    const broken = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n');
    const faxes: { documents: Uint8Array[]; expect: string | number[] }[] = [];
    for (let i = 0; i < 24; i++) {
      if (i % 6 === 1) faxes.push({ documents: [tinyPdf(1), locked], expect: 'password_protected@1' });
      else if (i % 6 === 3) faxes.push({ documents: [broken], expect: 'invalid_document@0' });
      else if (i % 6 === 5) faxes.push({ documents: [tinyPdf(4), tinyPdf(7)], expect: 'too_many_pages@1' });
      else faxes.push({ documents: [tinyPdf(1 + (i % 4)), tinyPdf(2)], expect: [1 + (i % 4), 2] });
    }
    const verdicts = await Promise.all(
      faxes.map((f) =>
        inspector
          .inspect(
            f.documents.map((bytes) => ({ bytes, contentType: 'application/pdf', filename: null })),
            limits,
          )
          .then(
            (docs) => docs.map((d) => d.pageCount),
            (e: unknown) => (e instanceof DocumentRejection ? `${e.code}@${e.document}` : String(e)),
          ),
      ),
    );
    assert.deepEqual(
      verdicts,
      faxes.map((f) => f.expect),
    );
  });
});
