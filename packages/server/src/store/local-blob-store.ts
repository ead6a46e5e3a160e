/**
 * @module store/local-blob-store
 * Blobs as files under one directory. A put writes a temporary file, fsyncs it, renames it into
 * place and fsyncs the directory (and the parents of directories it created), so a reader sees the
 * old blob or the whole new one, and a blob whose put resolved survives a crash.
 */
import { randomBytes } from 'node:crypto';
import { close, createReadStream, fsync, open, write } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { assertBlobKey, BlobNotFoundError, type BlobStore } from './blob-store.ts';

const TMP = '.tmp';

// Plain descriptors rather than FileHandles: a put is a handful of calls, and each FileHandle call
// costs the event loop noticeably more than the bare one.
const openFd = promisify(open);
const writeFd = promisify(write);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

export class LocalBlobStore implements BlobStore {
  readonly #root: string;
  #tmpDir: Promise<unknown> | undefined;
  readonly #directorySyncs = new Map<string, { request(): Promise<void> }>();

  constructor(root: string) {
    this.#root = root;
  }

  async put(key: string, body: Readable | Uint8Array): Promise<{ size: number }> {
    assertBlobKey(key);
    const target = join(this.#root, key);
    const directory = dirname(target);
    // The directory is made while the bytes are written; both are needed before the rename.
    const made = mkdir(directory, { recursive: true }).then(
      (first) => ({ first }),
      (error: unknown) => ({ error }),
    );
    let tmp: string;
    let size: number;
    try {
      ({ tmp, size } = await this.#writeTemporary(body));
    } catch (error) {
      await made;
      throw error;
    }
    try {
      const dir = await made;
      if ('error' in dir) throw dir.error;
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    // The new name must be on disk, and so must every directory this put created on the way.
    const syncs = [this.#syncDirectory(directory)];
    const dir = await made;
    if ('first' in dir && dir.first !== undefined) {
      for (let d = directory; d.length >= dir.first.length; d = dirname(d)) {
        syncs.push(this.#syncDirectory(dirname(d)));
      }
    }
    await Promise.all(syncs);
    return { size };
  }

  /** Writes the bytes to a new file under .tmp and fsyncs it. */
  async #writeTemporary(body: Readable | Uint8Array): Promise<{ tmp: string; size: number }> {
    this.#tmpDir ??= mkdir(join(this.#root, TMP), { recursive: true });
    await this.#tmpDir.catch((error: unknown) => {
      this.#tmpDir = undefined;
      throw error;
    });
    const tmp = join(this.#root, TMP, randomBytes(12).toString('hex'));
    const fd = await openFd(tmp, 'w', 0o600);
    let size = 0;
    try {
      const source = body instanceof Uint8Array ? [body] : body;
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        for (let offset = 0; offset < chunk.length; ) {
          offset += (await writeFd(fd, chunk, offset, chunk.length - offset)).bytesWritten;
        }
        size += chunk.length;
      }
      await fsyncFd(fd);
    } catch (error) {
      await closeFd(fd);
      await rm(tmp, { force: true });
      throw error;
    }
    await closeFd(fd);
    return { tmp, size };
  }

  /**
   * A directory gained an entry: fsync it. Puts that add entries to the same directory at the same
   * time (a new fax directory each under `faxes/`, pages of one fax) share an fsync that starts
   * after all of them.
   */
  #syncDirectory(path: string): Promise<void> {
    let sync = this.#directorySyncs.get(path);
    if (!sync) {
      sync = coalescedSync(path, () => this.#directorySyncs.delete(path));
      this.#directorySyncs.set(path, sync);
    }
    return sync.request();
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
  const fd = await openFd(path, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/**
 * fsync of one directory shared by concurrent requests: each is answered by an fsync that started
 * after it asked, so the entries made before it asked are on disk. `idle` runs when none is pending.
 */
function coalescedSync(path: string, idle: () => void): { request(): Promise<void> } {
  let waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = false;
  const run = async () => {
    running = true;
    while (waiting.length > 0) {
      const round = waiting;
      waiting = [];
      try {
        await syncDirectory(path);
        for (const w of round) w.resolve();
      } catch (error) {
        for (const w of round) w.reject(error);
      }
    }
    running = false;
    idle();
  };
  return {
    request: () =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        if (!running) void run();
      }),
  };
}
