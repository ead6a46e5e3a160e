/**
 * @module store/sweep-orphan-blobs.test
 * The orphan sweep on real files and a real database, on every engine and with blobs in clear and
 * encrypted: blobs no row names and older than the grace period go; named blobs, fresh writes and the
 * rows themselves stay; a deleted fax whose blob removal was cut short ends with nothing stored.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../config/config.ts';
import { bootstrapAccount } from '../domain/accounts.ts';
import { createOutboundFax, type OutboundFaxRequest } from '../domain/create-outbound-fax.ts';
import { deleteFax } from '../domain/delete-fax.ts';
import { type BlobStore, readBlob } from './blob-store.ts';
import { EncryptedBlobStore } from './encrypted-blob-store.ts';
import { LocalBlobStore } from './local-blob-store.ts';
import {
  ORPHAN_GRACE_MS,
  removeEmptyDirectories,
  startStorageSweeps,
  sweepOrphanBlobs,
  sweepStaleFiles,
} from './sweep-orphan-blobs.ts';
import { TEST_ENGINES, type TestDatabase } from './test-databases.ts';

const RANGE = { first: '+14155550100', last: '+14155550109' };
const REQUEST: Omit<OutboundFaxRequest, 'from'> = {
  to: '+14155550190',
  resolution: 'fine',
  priority: 'normal',
  headerText: null,
  cover: null,
  retries: { count: 0, delaySeconds: 60 },
  sendAt: null,
  metadata: {},
};
const STORES: { name: string; make(root: string): BlobStore }[] = [
  { name: 'clear', make: (root) => new LocalBlobStore(root) },
  { name: 'encrypted', make: (root) => new EncryptedBlobStore(new LocalBlobStore(root), randomBytes(32)) },
];

/** Sets a file's times back, as if it had been written `ageMs` ago. */
function age(path: string, ageMs: number): void {
  const then = new Date(Date.now() - ageMs);
  utimesSync(path, then, then);
}

async function keys(blobs: BlobStore): Promise<string[]> {
  const all: string[] = [];
  for await (const key of blobs.list('')) all.push(key);
  return all.sort();
}

for (const engine of TEST_ENGINES) {
  for (const storeKind of STORES) {
    describe(`orphan blob sweep (${engine.name}, ${storeKind.name})`, { skip: engine.skip }, () => {
      let t: TestDatabase;
      let root: string;
      let blobs: BlobStore;
      let accountId: string;
      let from: string;
      before(async () => {
        t = await engine.open();
        root = mkdtempSync(join(tmpdir(), 'faxwire-sweep-'));
        blobs = storeKind.make(join(root, 'blobs'));
        const boot = (await bootstrapAccount(t.database, RANGE))!;
        accountId = boot.accountId;
        from = boot.numbers[0]!.e164;
      });
      after(async () => {
        await t.dispose();
        rmSync(root, { recursive: true, force: true });
      });

      const blobPath = (key: string) => join(root, 'blobs', key);
      const sendFax = async () =>
        createOutboundFax(
          { database: t.database, blobs, config: loadConfig({}) },
          accountId,
          { ...REQUEST, from },
          [
            {
              contentType: 'application/pdf',
              byteSize: 5,
              sha256: '0'.repeat(64),
              filename: 'a.pdf',
              pageCount: 1,
              source: Buffer.from('%PDF-'),
            },
          ],
        );

      it('removes old unreferenced blobs and keeps referenced ones and fresh writes', async () => {
        // A live fax: its document, and a page under the older per-fax layout, both written long ago.
        const live = await sendFax();
        const documentKey = live.documents[0]!.blob_key!;
        const pageKey = `faxes/${live.fax.id}/pages/0001`;
        await blobs.put(pageKey, Buffer.from('page'));
        await t.database.db
          .insertInto('fax_pages')
          .values({
            fax_id: live.fax.id,
            n: 1,
            blob_key: pageKey,
            rows: 1,
            bad_rows: 0,
            received_at: Date.now(),
          })
          .execute();
        // Written before a crash kept their rows from committing: one long ago, one a moment ago.
        const oldOrphan = `${documentKey}-lost-in-a-crash`;
        const freshOrphan = `${documentKey}-still-being-written`;
        await blobs.put(oldOrphan, Buffer.from('orphan'));
        await blobs.put(freshOrphan, Buffer.from('in flight'));
        for (const key of [documentKey, pageKey, oldOrphan]) age(blobPath(key), ORPHAN_GRACE_MS + 60_000);

        const result = await sweepOrphanBlobs(t.database, blobs);
        assert.deepEqual(result.deleted, [oldOrphan]);
        assert.equal(result.examined, 3, 'fresh blobs are not even looked up');
        assert.deepEqual(await keys(blobs), [documentKey, freshOrphan, pageKey].sort());
        assert.equal(
          (await readBlob(blobs, documentKey)).toString(),
          '%PDF-',
          'the live fax can still be sent',
        );

        // Once the fresh one has aged past the grace period, it goes too.
        age(blobPath(freshOrphan), ORPHAN_GRACE_MS + 1000);
        assert.deepEqual((await sweepOrphanBlobs(t.database, blobs)).deleted, [freshOrphan]);
        assert.deepEqual(await keys(blobs), [documentKey, pageKey].sort());
      });

      it('looks only under the prefixes it is given', async () => {
        const inside = 'media/recent/fax_x.lost';
        const outside = 'media/older/fax_y.lost';
        for (const key of [inside, outside]) {
          await blobs.put(key, Buffer.from('orphan'));
          age(blobPath(key), ORPHAN_GRACE_MS + 60_000);
        }
        const recent = await sweepOrphanBlobs(t.database, blobs, { prefixes: ['media/recent/'] });
        assert.deepEqual([recent.examined, recent.deleted], [1, [inside]]);
        assert.ok((await keys(blobs)).includes(outside));
        const whole = await sweepOrphanBlobs(t.database, blobs);
        assert.ok(whole.deleted.includes(outside));
      });

      it('leaves nothing of a deleted fax whose blob removal a crash cut short', async () => {
        const doomed = await sendFax();
        const documentKey = doomed.documents[0]!.blob_key!;
        await t.database.db
          .updateTable('faxes')
          .set({ status: 'failed' })
          .where('id', '=', doomed.fax.id)
          .execute();
        // The tombstone commits, then the process dies before the bytes are removed.
        const crashing: BlobStore = {
          put: (key, body, options) => blobs.put(key, body, options),
          get: (key) => blobs.get(key),
          list: (prefix) => blobs.list(prefix),
          scan: (prefix) => blobs.scan(prefix),
          delete: () => Promise.reject(new Error('killed')),
        };
        await assert.rejects(
          deleteFax({ database: t.database, blobs: crashing }, accountId, doomed.fax.id),
          /killed/,
        );
        assert.ok(existsSync(blobPath(documentKey)), 'the crash left the document behind');
        const tombstone = await t.database.db
          .selectFrom('fax_documents')
          .select('blob_key')
          .where('fax_id', '=', doomed.fax.id)
          .execute();
        assert.deepEqual(tombstone, [{ blob_key: null }]);

        age(blobPath(documentKey), ORPHAN_GRACE_MS + 1000);
        const { deleted } = await sweepOrphanBlobs(t.database, blobs);
        assert.deepEqual(deleted, [documentKey]);
        assert.equal((await keys(blobs)).filter((k) => k.includes(doomed.fax.id)).length, 0);
        const row = await t.database.db
          .selectFrom('faxes')
          .select(['id', 'deleted_at'])
          .where('id', '=', doomed.fax.id)
          .executeTakeFirstOrThrow();
        assert.notEqual(row.deleted_at, null, 'the tombstone row stays');
      });

      it('clears stale scratch files, at start and on demand, and stops cleanly', async () => {
        const scratch = join(root, 'tmp');
        mkdirSync(scratch, { recursive: true });
        writeFileSync(join(scratch, 'upload-old'), 'a cut-off upload');
        writeFileSync(join(scratch, 'upload-new'), 'an upload being read');
        mkdirSync(join(scratch, 'a-directory'));
        age(join(scratch, 'upload-old'), ORPHAN_GRACE_MS + 1000);
        age(join(scratch, 'a-directory'), ORPHAN_GRACE_MS + 1000);
        const orphan = 'media/zz/left-behind';
        await blobs.put(orphan, Buffer.from('x'));
        age(blobPath(orphan), ORPHAN_GRACE_MS + 1000);

        const sweeps = startStorageSweeps({ database: t.database, blobs, scratchDirectories: [scratch] });
        await sweeps.runNow();
        await sweeps.stop();
        assert.equal(existsSync(join(scratch, 'upload-old')), false);
        assert.equal(existsSync(join(scratch, 'upload-new')), true);
        assert.equal(existsSync(join(scratch, 'a-directory')), true, 'only files are scratch');
        assert.equal((await keys(blobs)).includes(orphan), false);
        assert.equal(await sweepStaleFiles(join(root, 'no-such-dir')), 0);
      });

      it('removes empty media directories left long enough, and a put makes a removed one again', async () => {
        const key = 'media/emptied/fax_x.p0001';
        await blobs.put(key, Buffer.from('page'), { fresh: true });
        await blobs.delete(key);
        mkdirSync(blobPath('media/deep/er'), { recursive: true });
        mkdirSync(blobPath('media/recent'), { recursive: true });
        mkdirSync(blobPath('.tmp'), { recursive: true });
        const kept = 'media/full/fax_y.p0001';
        await blobs.put(kept, Buffer.from('page'), { fresh: true });
        for (const dir of ['media/emptied', 'media/deep/er', 'media/deep', 'media/full', '.tmp']) {
          age(blobPath(dir), ORPHAN_GRACE_MS + 1000);
        }

        const sweeps = startStorageSweeps({
          database: t.database,
          blobs,
          scratchDirectories: [],
          blobRoot: join(root, 'blobs'),
          keepDirectories: ['.tmp'],
        });
        await sweeps.runNow();
        await sweeps.stop();
        assert.equal(existsSync(blobPath('media/emptied')), false);
        assert.equal(existsSync(blobPath('media/deep')), false, 'emptied from the bottom up');
        assert.equal(existsSync(blobPath('media/recent')), true, 'changed within the grace period');
        assert.equal(existsSync(blobPath('media/full')), true);
        assert.equal(existsSync(blobPath('.tmp')), true);
        assert.equal(await removeEmptyDirectories(join(root, 'no-such-dir')), 0);

        // The store made media/emptied earlier and remembers it; it makes it again.
        await blobs.put(key, Buffer.from('again'), { fresh: true });
        assert.equal(readFileSync(blobPath(key)).length > 0, true);
        await blobs.delete(key);
      });
    });
  }
}
