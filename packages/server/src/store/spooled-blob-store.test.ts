/**
 * @module store/spooled-blob-store.test
 * Blobs spooled in a write transaction: durable with the commit, gone with a rollback, readable at
 * every moment (spool first, then the store behind), moved on by the flusher, sealed at rest when the
 * store behind encrypts, and flushed again after a crash left them spooled.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobNotFoundError, type BlobStore, readBlob } from './blob-store.ts';
import { EncryptedBlobStore } from './encrypted-blob-store.ts';
import { LocalBlobStore } from './local-blob-store.ts';
import { SpooledBlobStore } from './spooled-blob-store.ts';
import { TEST_ENGINES, type TestDatabase } from './test-databases.ts';

for (const engine of TEST_ENGINES) {
  describe(`spooled blob store (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    const root = mkdtempSync(join(tmpdir(), 'faxwire-spool-'));
    before(async () => {
      t = await engine.open();
    });
    after(async () => {
      await t.dispose();
      rmSync(root, { recursive: true, force: true });
    });

    const spooledKeys = async () =>
      (await t.database.db.selectFrom('blob_spool').select('key').execute()).map((r) => r.key);

    it('makes a blob durable with its transaction, readable at once, and moves it on when flushed', async () => {
      const inner = new LocalBlobStore(join(root, 'plain'));
      const blobs = new SpooledBlobStore(t.database, inner);
      const bytes = randomBytes(5000);
      await t.database.writeTransaction((trx) => blobs.putInTransaction(trx, 'media/w/fax_a.p0001', bytes));
      assert.deepEqual(await spooledKeys(), ['media/w/fax_a.p0001']);
      assert.deepEqual(await readBlob(blobs, 'media/w/fax_a.p0001'), bytes);
      await assert.rejects(inner.get('media/w/fax_a.p0001'), BlobNotFoundError);

      await blobs.flush();
      assert.deepEqual(await spooledKeys(), []);
      assert.deepEqual(await readBlob(inner, 'media/w/fax_a.p0001'), bytes);
      assert.deepEqual(await readBlob(blobs, 'media/w/fax_a.p0001'), bytes);
      const listed: string[] = [];
      for await (const key of blobs.list('media/w/fax_a.')) listed.push(key);
      assert.deepEqual(listed, ['media/w/fax_a.p0001']);
      await blobs.delete('media/w/fax_a.p0001');
      await assert.rejects(blobs.get('media/w/fax_a.p0001'), BlobNotFoundError);
    });

    it('leaves nothing when the transaction rolls back', async () => {
      const blobs = new SpooledBlobStore(t.database, new LocalBlobStore(join(root, 'rollback')));
      await assert.rejects(
        t.database.writeTransaction(async (trx) => {
          await blobs.putInTransaction(trx, 'media/w/fax_b.p0001', randomBytes(10));
          throw new Error('the page row could not be written');
        }),
        /page row/,
      );
      assert.deepEqual(await spooledKeys(), []);
      await assert.rejects(blobs.get('media/w/fax_b.p0001'), BlobNotFoundError);
    });

    it('flushes what an earlier run left spooled as soon as it starts, and after each spooled write', async () => {
      const inner = new LocalBlobStore(join(root, 'restart'));
      const crashed = new SpooledBlobStore(t.database, inner);
      const left = randomBytes(300);
      await t.database.writeTransaction((trx) => crashed.putInTransaction(trx, 'media/w/fax_c.p0001', left));
      // A flush cut short by the crash: the bytes reached the store behind, the row stayed.
      await inner.put('media/w/fax_c.p0001', left.subarray(0, 100), { fresh: true });

      const restarted = new SpooledBlobStore(t.database, inner, { sweepIntervalMs: 60_000 });
      restarted.start();
      try {
        const later = randomBytes(400);
        await t.database.writeTransaction((trx) =>
          restarted.putInTransaction(trx, 'media/w/fax_c.p0002', later),
        );
        for (let i = 0; i < 200 && (await spooledKeys()).length > 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.deepEqual(await spooledKeys(), []);
        assert.deepEqual(await readBlob(inner, 'media/w/fax_c.p0001'), left);
        assert.deepEqual(await readBlob(inner, 'media/w/fax_c.p0002'), later);
      } finally {
        await restarted.stop();
      }
    });

    it('keeps spooled bytes sealed when the store behind encrypts, and reads them back in the clear', async () => {
      const local = new LocalBlobStore(join(root, 'sealed'));
      const encrypted = new EncryptedBlobStore(local, randomBytes(32));
      const blobs = new SpooledBlobStore(t.database, encrypted, { sealing: encrypted });
      const text = Buffer.from('Patient: Jane Example, referral to cardiology '.repeat(20));
      await t.database.writeTransaction((trx) => blobs.putInTransaction(trx, 'media/w/fax_d.doc', text));
      const row = await t.database.db
        .selectFrom('blob_spool')
        .select('bytes')
        .where('key', '=', 'media/w/fax_d.doc')
        .executeTakeFirstOrThrow();
      assert.ok(!Buffer.from(row.bytes).includes('Patient'), 'the spool holds the plain text');
      assert.deepEqual(await readBlob(blobs, 'media/w/fax_d.doc'), text);
      await blobs.flush();
      assert.ok(!readFileSync(join(root, 'sealed', 'media/w/fax_d.doc')).includes('Patient'));
      assert.deepEqual(await readBlob(blobs, 'media/w/fax_d.doc'), text);
    });

    it('deletes a blob for good while a flush is writing it to the store behind', async () => {
      const local = new LocalBlobStore(join(root, 'race'));
      let release!: () => void;
      const writing = new Promise<void>((resolve) => {
        release = resolve;
      });
      let putStarted!: () => void;
      const started = new Promise<void>((resolve) => {
        putStarted = resolve;
      });
      // The store behind takes its time over the flusher's put.
      const slow: BlobStore = {
        put: async (...args) => {
          putStarted();
          await writing;
          return local.put(...args);
        },
        get: (key) => local.get(key),
        delete: (key) => local.delete(key),
        list: (prefix) => local.list(prefix),
        scan: (prefix) => local.scan(prefix),
      };
      const blobs = new SpooledBlobStore(t.database, slow);
      await t.database.writeTransaction((trx) =>
        blobs.putInTransaction(trx, 'media/w/fax_f.p0001', randomBytes(64)),
      );
      const flushed = blobs.flush();
      await started;
      const deleted = blobs.delete('media/w/fax_f.p0001');
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await Promise.all([flushed, deleted]);
      assert.deepEqual(await spooledKeys(), []);
      await assert.rejects(local.get('media/w/fax_f.p0001'), BlobNotFoundError);
      await assert.rejects(blobs.get('media/w/fax_f.p0001'), BlobNotFoundError);
    });

    it('refuses to spool a blob over its limit', async () => {
      const blobs = new SpooledBlobStore(t.database, new LocalBlobStore(join(root, 'limit')), {
        maxSpoolBytes: 1000,
      });
      assert.equal(blobs.canSpool(1000), true);
      assert.equal(blobs.canSpool(1001), false);
      await assert.rejects(
        t.database.writeTransaction((trx) =>
          blobs.putInTransaction(trx, 'media/w/fax_e.doc', randomBytes(1001)),
        ),
        RangeError,
      );
    });
  });
}
