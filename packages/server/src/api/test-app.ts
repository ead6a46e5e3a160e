/**
 * @module api/test-app
 * A ready app for route tests: a fresh database (any test engine), a temporary blob directory, one
 * account with two numbers and a key, and a quick stand-in document inspector that needs no
 * rasterizer (the real one is exercised in rendering-document-inspector.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config/config.ts';
import { bootstrapAccount, createAccount } from '../domain/accounts.ts';
import { claimableLoopbackRange } from '../domain/claim-loopback-number.ts';
import {
  type DocumentInspector,
  DocumentRejection,
  type DocumentToInspect,
  type InspectedDocument,
} from '../domain/document-inspector.ts';
import { LocalBlobStore } from '../store/local-blob-store.ts';
import { TEST_ENGINES, type TestDatabase, type TestEngine } from '../store/test-databases.ts';
import { createApiMetrics } from './api-metrics.ts';
import type { AppDeps } from './app-deps.ts';
import { buildApp } from './build-app.ts';

/** Sniffs PDF and PNG by magic bytes; counts PDF pages by their /Type /Page objects. */
export class StubDocumentInspector implements DocumentInspector {
  async inspect(
    documents: readonly DocumentToInspect[],
    options: { maxPages: number; cover: boolean },
  ): Promise<InspectedDocument[]> {
    let total = options.cover ? 1 : 0;
    return documents.map((d, i) => {
      const bytes = 'bytes' in d ? d.bytes : readFileSync(d.file.path);
      const text = Buffer.from(bytes).toString('latin1');
      let result: InspectedDocument;
      if (text.startsWith('%PDF-')) {
        if (text.includes('/Encrypt'))
          throw new DocumentRejection('password_protected', 'the PDF is encrypted', i);
        const pages = text.match(/\/Type\s*\/Page(?!s)/g)?.length ?? 0;
        if (pages === 0) throw new DocumentRejection('invalid_document', 'the PDF has no pages', i);
        result = { contentType: 'application/pdf', pageCount: pages };
      } else if (text.startsWith('\x89PNG\r\n\x1a\n')) {
        result = { contentType: 'image/png', pageCount: 1 };
      } else {
        throw new DocumentRejection('unsupported_media_type', 'not a PDF or PNG', i);
      }
      total += result.pageCount ?? 0;
      if (total > options.maxPages) throw new DocumentRejection('too_many_pages', 'too many pages', i);
      return result;
    });
  }
}

/** A minimal valid PDF with `pages` empty letter pages. */
export function tinyPdf(pages = 1, extra = ''): Buffer {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`,
    ...Array.from({ length: pages }, () => '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>'),
  ];
  let body = `%PDF-1.4\n${extra}`;
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly deps: AppDeps;
  readonly db: TestDatabase;
  readonly key: string;
  readonly accountId: string;
  readonly numbers: string[];
  readonly auth: { authorization: string };
  /** Creates another account that owns `e164` (inbound enabled); returns its id. */
  addOtherAccount(e164: string): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(
  options: {
    engine?: TestEngine;
    env?: Record<string, string>;
    inspector?: DocumentInspector;
    onFaxQueued?: () => void;
  } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-api-'));
  const config = loadConfig({ FAXWIRE_DATA_DIR: dataDir, ...options.env });
  const db = await (options.engine ?? TEST_ENGINES[0]!).open();
  const boot = await bootstrapAccount(db.database, claimableLoopbackRange(config));
  const deps: AppDeps = {
    database: db.database,
    blobs: new LocalBlobStore(join(dataDir, 'blobs')),
    inspector: options.inspector ?? new StubDocumentInspector(),
    config,
    metrics: createApiMetrics({ defaultMetrics: false, database: db.database }),
    onFaxQueued: options.onFaxQueued,
  };
  const app = await buildApp(deps);
  return {
    app,
    deps,
    db,
    key: boot!.key,
    accountId: boot!.accountId,
    numbers: boot!.numbers.map((n) => n.e164),
    auth: { authorization: `Bearer ${boot!.key}` },
    async addOtherAccount(e164) {
      const accountId = await createAccount(db.database.db, 'other');
      await db.database.db
        .insertInto('numbers')
        .values({
          id: `num_${accountId}`,
          e164,
          account_id: accountId,
          inbound_enabled: 1,
          csi: null,
          label: null,
          created_at: 1,
          updated_at: 1,
        })
        .execute();
      return accountId;
    },
    async close() {
      await app.close();
      await db.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
