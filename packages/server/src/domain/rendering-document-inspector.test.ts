/**
 * @module domain/rendering-document-inspector.test
 * The inspector backed by the real renderer: types come from content, pages are counted, and bad
 * documents are refused with the catalogue's codes and their index.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { tinyPdf } from '../api/test-app.ts';
import { postScriptToPdf, textPagesPostScript } from '../documents/sample-documents.ts';
import { DocumentRejection, type DocumentToInspect } from './document-inspector.ts';
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

  it('gives a document in a file the verdict its bytes get, page count, type, code and message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faxwire-inspect-'));
    try {
      const image = sharp({ create: { width: 120, height: 80, channels: 3, background: '#fff' } });
      const png = await image.clone().png().toBuffer();
      const jpeg = await image.clone().jpeg().toBuffer();
      const tiff = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } })
        .tiff()
        .toBuffer();
      const locked = postScriptToPdf(textPagesPostScript(1), ['-sOwnerPassword=o', '-sUserPassword=u']);
      const cases: [string, Uint8Array, string | undefined][] = [
        ['pdf', tinyPdf(3), 'application/pdf'],
        ['png', png, 'image/png'],
        ['jpeg', jpeg, undefined],
        ['tiff', tiff, 'application/octet-stream'],
        ['text', Buffer.from('Hello fax\f\nsecond page\n'), 'text/plain'],
        ['corrupt pdf', Buffer.from('%PDF-1.7\n garbage'), 'application/pdf'],
        ['locked pdf', locked, 'application/pdf'],
        ['truncated png', png.subarray(0, 40), 'image/png'],
        ['not a pdf', Buffer.from('just words'), 'application/pdf'],
        ['zip', Buffer.from([0, 1, 2, 3, 4, 5]), 'application/zip'],
        ['empty', Buffer.alloc(0), undefined],
        ['too large', Buffer.alloc(2_000_000, 0x41), 'text/plain'],
        ['too many pages', tinyPdf(11), 'application/pdf'],
      ];
      const verdict = (document: DocumentToInspect) =>
        inspector.inspect([document], limits).then(
          (docs) => docs,
          (e: unknown) =>
            e instanceof DocumentRejection ? `${e.code}@${e.document}: ${e.message}` : String(e),
        );
      const fromFiles: unknown[] = [];
      for (const [i, [name, bytes, contentType]] of cases.entries()) {
        const path = join(dir, `document-${i}`);
        writeFileSync(path, bytes);
        const file = { path, byteSize: bytes.length, sha256: '' };
        const [inFile, inMemory] = await Promise.all([
          verdict({ file, contentType, filename: null }),
          verdict({ bytes, contentType, filename: null }),
        ]);
        assert.deepEqual(inFile, inMemory, name);
        fromFiles.push(inFile);
      }
      assert.deepEqual(fromFiles.slice(0, 5), [
        [{ contentType: 'application/pdf', pageCount: 3 }],
        [{ contentType: 'image/png', pageCount: 1 }],
        [{ contentType: 'image/jpeg', pageCount: 1 }],
        [{ contentType: 'image/tiff', pageCount: 1 }],
        [{ contentType: 'text/plain', pageCount: 2 }],
      ]);
      assert.deepEqual(
        fromFiles.slice(5).map((v) => String(v).split(':')[0]),
        [
          'invalid_document@0',
          'password_protected@0',
          'invalid_document@0',
          'invalid_document@0',
          'unsupported_media_type@0',
          'invalid_document@0',
          'document_too_large@0',
          'too_many_pages@0',
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts PDFs in files and in memory together, each with its own answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faxwire-inspect-'));
    try {
      const broken = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n');
      const faxes = Array.from({ length: 12 }, (_, i) => {
        const bytes = i % 4 === 3 ? broken : tinyPdf(1 + (i % 5));
        const path = join(dir, `fax-${i}.pdf`);
        writeFileSync(path, bytes);
        const inFile = i % 2 === 0;
        const document: DocumentToInspect = inFile
          ? {
              file: { path, byteSize: bytes.length, sha256: '' },
              contentType: 'application/pdf',
              filename: null,
            }
          : { bytes, contentType: 'application/pdf', filename: null };
        return { document, expect: i % 4 === 3 ? 'invalid_document' : 1 + (i % 5) };
      });
      const verdicts = await Promise.all(
        faxes.map((f) =>
          inspector.inspect([f.document], limits).then(
            (docs) => docs[0]!.pageCount,
            (e: unknown) => (e instanceof DocumentRejection ? e.code : String(e)),
          ),
        ),
      );
      assert.deepEqual(
        verdicts,
        faxes.map((f) => f.expect),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
