/**
 * @module store/local-blob-store
 * Blobs as files under one directory. A put writes a temporary file, fsyncs it, renames it into
 * place and fsyncs the directory, so a reader sees the old blob or the whole new one, and a blob
 * whose put resolved survives a crash.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { assertBlobKey, BlobNotFoundError, type BlobStore } from './blob-store.ts';

const TMP = '.tmp';

export class LocalBlobStore implements BlobStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async put(key: string, body: Readable | Uint8Array): Promise<{ size: number }> {
    assertBlobKey(key);
    const target = join(this.#root, key);
    const tmpDir = join(this.#root, TMP);
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomBytes(12).toString('hex'));
    const handle = await open(tmp, 'w', 0o600);
    let size = 0;
    try {
      const source = body instanceof Uint8Array ? [body] : body;
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        for (let offset = 0; offset < chunk.length; ) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
          offset += bytesWritten;
        }
        size += chunk.length;
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(tmp, { force: true });
      throw error;
    }
    await handle.close();
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
    await syncDirectory(dirname(target));
    return { size };
  }

  async get(key: string): Promise<Readable> {
    assertBlobKey(key);
    const path = join(this.#root, key);
    try {
      if (!(await stat(path)).isFile()) throw new BlobNotFoundError(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw error;
    }
    return createReadStream(path);
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    await rm(join(this.#root, key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<string> {
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    if (base !== '') assertBlobKey(base);
    yield* this.#walk(base, prefix);
  }

  async *#walk(relDir: string, prefix: string): AsyncIterable<string> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(this.#root, relDir), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (relDir === '' && entry.name === TMP) continue;
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (rel.startsWith(prefix) || prefix.startsWith(`${rel}/`)) yield* this.#walk(rel, prefix);
      } else if (rel.startsWith(prefix)) {
        yield rel;
      }
    }
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
