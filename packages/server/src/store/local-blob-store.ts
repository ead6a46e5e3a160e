/**
 * @module store/local-blob-store
 * Blobs as files under one directory. A put writes a temporary file, fsyncs it, renames it into
 * place and fsyncs the directory (and the parents of directories it created), so a reader sees the
 * old blob or the whole new one, and a blob whose put resolved survives a crash. A fresh put (a key
 * nobody reads before the put resolves) writes in place and fsyncs the file and its directory at once.
 */
import { randomBytes } from 'node:crypto';
import { close, createReadStream, fsync, open, write } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  assertBlobKey,
  type BlobEntry,
  BlobNotFoundError,
  type BlobStore,
  type PutOptions,
} from './blob-store.ts';

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
  readonly #directories = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.#root = root;
  }

  async put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<{ size: number }> {
    assertBlobKey(key);
    const target = join(this.#root, key);
    const directory = dirname(target);
    if (options?.fresh) {
      await this.#directory(directory);
      let written = await this.#writeInPlace(target, body, directory);
      if (written === 'gone') {
        // Removed since this process made it (a clean-up of empty directories): make it again.
        this.#directories.delete(directory);
        await this.#directory(directory);
        written = await this.#writeInPlace(target, body, directory);
      }
      if (written !== 'exists' && written !== 'gone') return written;
      return this.put(key, body);
    }
    // The directory is made while the bytes are written; both are needed before the rename.
    const made = this.#directory(directory).then(
      () => ({}),
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
      await rename(tmp, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        // Removed since this process made it: make it again.
        this.#directories.delete(directory);
        await this.#directory(directory);
        await rename(tmp, target);
      });
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    await this.#syncDirectory(directory);
    return { size };
  }

  /**
   * Makes `path` and whatever parents it lacks, durably: a directory this creates is on disk (its
   * parent fsynced) before any put into it resolves. Remembered, so the blobs of a busy directory
   * cost no mkdir each.
   */
  #directory(path: string): Promise<void> {
    let ready = this.#directories.get(path);
    if (!ready) {
      if (this.#directories.size >= 10_000) this.#directories.clear();
      ready = (async () => {
        const first = await mkdir(path, { recursive: true });
        if (first === undefined) return;
        const syncs: Promise<void>[] = [];
        for (let d = path; d.length >= first.length; d = dirname(d))
          syncs.push(this.#syncDirectory(dirname(d)));
        await Promise.all(syncs);
      })();
      this.#directories.set(path, ready);
      ready.catch(() => this.#directories.delete(path));
    }
    return ready;
  }

  /**
   * A fresh key: the bytes go straight to their name (created exclusively), and the file and its
   * directory are fsynced together. A crash part-way leaves a partial file no row refers to.
   * @returns 'exists' when the key is already there (a repeated put), which takes the atomic path;
   * 'gone' when the directory is not there.
   */
  async #writeInPlace(
    target: string,
    body: Readable | Uint8Array,
    directory: string,
  ): Promise<{ size: number } | 'exists' | 'gone'> {
    let fd: number;
    try {
      fd = await openFd(target, 'wx', 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return 'exists';
      if (code === 'ENOENT') return 'gone';
      throw error;
    }
    try {
      const size = await writeAll(fd, body);
      await Promise.all([fsyncFd(fd), this.#syncDirectory(directory)]);
      return { size };
    } catch (error) {
      await rm(target, { force: true });
      throw error;
    } finally {
      await closeFd(fd);
    }
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
    let size: number;
    try {
      size = await writeAll(fd, body);
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

  async *scan(prefix: string): AsyncIterable<BlobEntry> {
    for await (const key of this.list(prefix)) {
      try {
        yield { key, modifiedAt: (await stat(join(this.#root, key))).mtimeMs };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
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

async function writeAll(fd: number, body: Readable | Uint8Array): Promise<number> {
  let size = 0;
  const source = body instanceof Uint8Array ? [body] : body;
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    for (let offset = 0; offset < chunk.length; ) {
      offset += (await writeFd(fd, chunk, offset, chunk.length - offset)).bytesWritten;
    }
    size += chunk.length;
  }
  return size;
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
