/**
 * @module store/blob-store.test
 * The blob store contract, run on every implementation.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import {
  type BlobEntry,
  BlobNotFoundError,
  type BlobStore,
  InvalidBlobKeyError,
  readBlob,
} from './blob-store.ts';
import { BlobIntegrityError, EncryptedBlobStore } from './encrypted-blob-store.ts';
import { LocalBlobStore } from './local-blob-store.ts';

const IMPLEMENTATIONS: { name: string; make(root: string): BlobStore }[] = [
  { name: 'local', make: (root) => new LocalBlobStore(root) },
  {
    name: 'encrypted local',
    make: (root) => new EncryptedBlobStore(new LocalBlobStore(root), randomBytes(32)),
  },
];

for (const impl of IMPLEMENTATIONS) {
  describe(`blob store contract (${impl.name})`, () => {
    const root = mkdtempSync(join(tmpdir(), 'faxwire-blobs-'));
    const store = impl.make(root);
    after(() => rmSync(root, { recursive: true, force: true }));

    it('round-trips bytes and streams', async () => {
      const bytes = randomBytes(300_000);
      assert.deepEqual(await store.put('faxes/a/doc-1', bytes), { size: bytes.length });
      assert.deepEqual(await readBlob(store, 'faxes/a/doc-1'), bytes);
      const chunks = [randomBytes(10), randomBytes(70_000), randomBytes(1)];
      assert.deepEqual(await store.put('faxes/a/doc-2', Readable.from(chunks)), { size: 70_011 });
      assert.deepEqual(await readBlob(store, 'faxes/a/doc-2'), Buffer.concat(chunks));
    });

    it('replaces a blob whole', async () => {
      await store.put('replace/x', Buffer.from('first version, longer'));
      await store.put('replace/x', Buffer.from('second'));
      assert.equal((await readBlob(store, 'replace/x')).toString(), 'second');
    });

    it('stores many blobs at once, in new, nested and shared directories', async () => {
      const keys = Array.from({ length: 24 }, (_, i) =>
        i % 3 === 0 ? `burst/shared/b${i}` : `burst/f${i}/${i % 2 ? 'deep/er/' : ''}b${i}`,
      );
      const bodies = keys.map(() => randomBytes(1 + Math.floor(Math.random() * 5000)));
      const sizes = await Promise.all(keys.map((k, i) => store.put(k, bodies[i]!)));
      assert.deepEqual(
        sizes,
        bodies.map((b) => ({ size: b.length })),
      );
      for (const [i, k] of keys.entries()) assert.deepEqual(await readBlob(store, k), bodies[i]);
      const listed: string[] = [];
      for await (const k of store.list('burst/')) listed.push(k);
      assert.deepEqual(listed.sort(), [...keys].sort());
    });

    it('stores fresh keys in place, in shared and new directories, bytes and streams', async () => {
      const keys = Array.from({ length: 16 }, (_, i) => (i % 2 ? `fresh/shared/k${i}` : `fresh/n${i}/k${i}`));
      const bodies = keys.map((_, i) => randomBytes(i * 997));
      await Promise.all(
        keys.map((k, i) =>
          store.put(k, i % 4 === 1 ? Readable.from([bodies[i]!]) : bodies[i]!, { fresh: true }),
        ),
      );
      for (const [i, k] of keys.entries()) assert.deepEqual(await readBlob(store, k), bodies[i]);
    });

    it('a fresh put of a key that exists (a repeated write) replaces it whole', async () => {
      await store.put('fresh-again/x', Buffer.from('first version, longer'), { fresh: true });
      await store.put('fresh-again/x', Buffer.from('second'), { fresh: true });
      assert.equal((await readBlob(store, 'fresh-again/x')).toString(), 'second');
      const listed: string[] = [];
      for await (const k of store.list('fresh-again/')) listed.push(k);
      assert.deepEqual(listed, ['fresh-again/x']);
    });

    it('makes a directory again when it was removed between puts', async () => {
      await store.put('swept/a/x', Buffer.from('x'), { fresh: true });
      rmSync(join(root, 'swept'), { recursive: true, force: true });
      await store.put('swept/a/y', Buffer.from('y'), { fresh: true });
      rmSync(join(root, 'swept'), { recursive: true, force: true });
      await store.put('swept/a/z', Buffer.from('z'));
      assert.equal((await readBlob(store, 'swept/a/z')).toString(), 'z');
    });

    it('stores an empty blob', async () => {
      await store.put('empty', new Uint8Array(0));
      assert.equal((await readBlob(store, 'empty')).length, 0);
    });

    it('lists by prefix and deletes idempotently', async () => {
      await store.put('list/p1/a', Buffer.from('a'));
      await store.put('list/p1/b', Buffer.from('b'));
      await store.put('list/p2/c', Buffer.from('c'));
      const keys: string[] = [];
      for await (const key of store.list('list/p1')) keys.push(key);
      assert.deepEqual(keys.sort(), ['list/p1/a', 'list/p1/b']);
      await store.delete('list/p1/a');
      await store.delete('list/p1/a');
      const left: string[] = [];
      for await (const key of store.list('list/')) left.push(key);
      assert.deepEqual(left.sort(), ['list/p1/b', 'list/p2/c']);
      const none: string[] = [];
      for await (const key of store.list('nothing/here')) none.push(key);
      assert.deepEqual(none, []);
    });

    it("scans by prefix with the time of each blob's last write", async () => {
      const before = Date.now();
      await store.put('scan/a/1', Buffer.from('1'));
      await store.put('scan/a/2', Buffer.from('2'));
      await store.put('scan/b/3', Buffer.from('3'));
      // An old write, as a sweep would meet it; these stores keep a blob as the file of its key.
      const old = new Date('2020-01-02T03:04:05Z');
      utimesSync(join(root, 'scan/a/2'), old, old);
      const entries: BlobEntry[] = [];
      for await (const entry of store.scan('scan/a/')) entries.push(entry);
      entries.sort((x, y) => x.key.localeCompare(y.key));
      assert.deepEqual(
        entries.map((e) => e.key),
        ['scan/a/1', 'scan/a/2'],
      );
      // File times may be coarser than milliseconds, hence the second of slack below `before`.
      assert.ok(entries[0]!.modifiedAt >= before - 1000 && entries[0]!.modifiedAt <= Date.now() + 1000);
      assert.equal(entries[1]!.modifiedAt, old.getTime());
      const none: BlobEntry[] = [];
      for await (const entry of store.scan('scan/none/')) none.push(entry);
      assert.deepEqual(none, []);
    });

    it('reports a missing blob with its key', async () => {
      await assert.rejects(store.get('missing/blob'), (e: unknown) => e instanceof BlobNotFoundError);
    });

    it('refuses keys that could leave the root', async () => {
      for (const key of ['../x', '/etc/passwd', 'a/../../b', '', 'a//b', 'a/./b']) {
        await assert.rejects(store.put(key, Buffer.from('x')), InvalidBlobKeyError, key);
      }
    });

    it('leaves no temporary file behind when the source stream fails', async () => {
      const failing = new Readable({
        read() {
          this.destroy(new Error('source broke'));
        },
      });
      await assert.rejects(store.put('broken', failing), /source broke/);
      await assert.rejects(store.get('broken'), BlobNotFoundError);
      const tmp = join(root, '.tmp');
      assert.deepEqual(readdirSync(tmp), []);
    });
  });
}

describe('encrypted blob store', () => {
  const root = mkdtempSync(join(tmpdir(), 'faxwire-blobs-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const key = randomBytes(32);
  const store = new EncryptedBlobStore(new LocalBlobStore(root), key);

  it('keeps no plaintext on disk, and detects tampering, a wrong key and a moved blob', async () => {
    const secret = Buffer.from('PATIENT RECORD '.repeat(100));
    await store.put('doc', secret);
    const onDisk = readFileSync(join(root, 'doc'));
    assert.equal(onDisk.includes(Buffer.from('PATIENT')), false);
    onDisk[40] ^= 1;
    writeFileSync(join(root, 'doc-tampered'), onDisk);
    await assert.rejects(store.get('doc-tampered'), BlobIntegrityError);
    await assert.rejects(
      new EncryptedBlobStore(new LocalBlobStore(root), randomBytes(32)).get('doc'),
      BlobIntegrityError,
    );
    writeFileSync(join(root, 'moved'), readFileSync(join(root, 'doc')));
    await assert.rejects(store.get('moved'), BlobIntegrityError);
    assert.deepEqual(await readBlob(store, 'doc'), secret);
  });
});
