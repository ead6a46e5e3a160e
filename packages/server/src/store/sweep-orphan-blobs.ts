/**
 * @module store/sweep-orphan-blobs
 * Removes what a crash can leave behind in storage. Documents and pages are written to the blob store
 * before the row that names them commits, and a deleted fax's blobs go after its row is scrubbed; a crash
 * in between leaves blobs no row refers to. Scratch directories (multipart uploads being read, blobs being
 * written) keep the files of requests and writes a crash cut off.
 *
 * A blob is an orphan when no document or page row holds its key. Only blobs last written longer ago than
 * the grace period are considered: a write in flight has a recent time, and its row follows within
 * moments. Before a blob goes its time is read again, so one written again meanwhile (a retried attempt
 * rendering the same page) is kept.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { assertBlobKey, type BlobEntry, type BlobStore } from './blob-store.ts';
import type { Database } from './database.ts';

/** Far longer than any write takes from the blob to its committed row. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** Keys looked up per query. */
const BATCH = 500;

export interface SweepOptions {
  /** Blobs and files written more recently than this are left alone; default one hour. */
  readonly graceMs?: number;
  readonly now?: number;
  /** Stops the sweep between blobs, e.g. when the server shuts down. */
  readonly signal?: AbortSignal;
  /** Only blobs under these prefixes; default the whole store. */
  readonly prefixes?: readonly string[];
}

export interface SweepResult {
  /** Blobs old enough to be considered. */
  readonly examined: number;
  readonly deleted: readonly string[];
}

export async function sweepOrphanBlobs(
  database: Database,
  blobs: BlobStore,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const cutoff = (options.now ?? Date.now()) - (options.graceMs ?? ORPHAN_GRACE_MS);
  let examined = 0;
  const deleted: string[] = [];
  let batch: BlobEntry[] = [];
  const settle = async () => {
    const referenced = await referencedKeys(
      database,
      batch.map((b) => b.key),
    );
    for (const { key } of batch) {
      if (options.signal?.aborted) return;
      if (referenced.has(key) || !(await stillOlderThan(blobs, key, cutoff))) continue;
      await blobs.delete(key);
      deleted.push(key);
    }
    batch = [];
  };
  for (const prefix of options.prefixes ?? ['']) {
    for await (const entry of blobs.scan(prefix)) {
      if (options.signal?.aborted) break;
      // A file under a name no put could have made is not ours to judge.
      if (entry.modifiedAt >= cutoff || !isBlobKey(entry.key)) continue;
      examined++;
      batch.push(entry);
      if (batch.length >= BATCH) await settle();
    }
  }
  if (batch.length > 0 && !options.signal?.aborted) await settle();
  return { examined, deleted };
}

function isBlobKey(key: string): boolean {
  try {
    assertBlobKey(key);
    return true;
  } catch {
    return false;
  }
}

async function referencedKeys(database: Database, keys: readonly string[]): Promise<Set<string>> {
  const [documents, pages] = await Promise.all([
    database.db.selectFrom('fax_documents').select('blob_key').where('blob_key', 'in', keys).execute(),
    database.db.selectFrom('fax_pages').select('blob_key').where('blob_key', 'in', keys).execute(),
  ]);
  return new Set([...documents, ...pages].map((r) => r.blob_key!));
}

async function stillOlderThan(blobs: BlobStore, key: string, cutoff: number): Promise<boolean> {
  for await (const entry of blobs.scan(key)) {
    if (entry.key === key) return entry.modifiedAt < cutoff;
  }
  return false;
}

/** Removes the files directly in `directory` last written before the grace period; returns how many. */
export async function sweepStaleFiles(directory: string, options: SweepOptions = {}): Promise<number> {
  const cutoff = (options.now ?? Date.now()) - (options.graceMs ?? ORPHAN_GRACE_MS);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    if (options.signal?.aborted) break;
    const path = join(directory, name);
    try {
      const info = await stat(path);
      if (!info.isFile() || info.mtimeMs >= cutoff) continue;
      await rm(path, { force: true });
      removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return removed;
}

/**
 * Removes the directories under `root` (not `root` itself, and not the ones named in `keep`) that are
 * empty and unchanged for the grace period, deepest first, so that a store whose faxes were deleted
 * or expired does not keep a directory per media window forever. A put into a directory removed
 * meanwhile makes it again (LocalBlobStore), and a directory written to at that moment is not empty:
 * `rmdir` refuses it. Returns how many went.
 */
export async function removeEmptyDirectories(
  root: string,
  options: SweepOptions & { readonly keep?: readonly string[] } = {},
): Promise<number> {
  const cutoff = (options.now ?? Date.now()) - (options.graceMs ?? ORPHAN_GRACE_MS);
  const keep = new Set(options.keep ?? []);
  let removed = 0;
  // Returns whether `directory` is left with entries.
  const visit = async (directory: string, top: boolean): Promise<boolean> => {
    let entries: import('node:fs').Dirent[];
    let changedAt: number;
    try {
      // Its time before this sweep removes anything in it (which makes the time now).
      changedAt = (await stat(directory)).mtimeMs;
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    let left = 0;
    for (const entry of entries) {
      if (options.signal?.aborted) return true;
      if (entry.isDirectory() && !(top && keep.has(entry.name))) {
        if (await visit(join(directory, entry.name), false)) left++;
      } else {
        left++;
      }
    }
    if (top || left > 0 || changedAt >= cutoff) return true;
    try {
      await rmdir(directory);
      removed++;
      return false;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return true;
      throw error;
    }
  };
  await visit(root, true);
  return removed;
}

export interface StorageSweepOptions {
  readonly database: Database;
  readonly blobs: BlobStore;
  /** Directories of scratch files to clear of stale ones (not recursive). */
  readonly scratchDirectories: readonly string[];
  readonly graceMs?: number;
  readonly intervalMs?: number;
  /**
   * Where blobs written lately live (for media keys, the directories of the last windows). Given, the
   * periodic sweeps look only there — a crash leaves orphans next to what was being written — and the
   * whole store is scanned at start and once every `fullEvery` sweeps; without it every sweep is whole.
   */
  readonly recentPrefixes?: (now: number) => readonly string[];
  readonly fullEvery?: number;
  /**
   * The directory a local blob store keeps its files in: whole sweeps also remove its empty
   * directories (see `removeEmptyDirectories`), except the top-level ones named in `keepDirectories`.
   */
  readonly blobRoot?: string;
  readonly keepDirectories?: readonly string[];
  readonly logger?: Logger;
}

export interface StorageSweeps {
  /** Resolves once a sweep in progress has stopped. */
  stop(): Promise<void>;
  /** Sweeps now, unless a sweep is in progress; resolves when that sweep ends. */
  runNow(): Promise<void>;
}

/**
 * Sweeps at once (in the background: a large store must not delay the start) and then every interval,
 * the whole store now and then and the recently written part in between (see `recentPrefixes`).
 * Several processes sweeping one store do no harm: a blob is deleted only when nothing refers to it.
 */
export function startStorageSweeps(options: StorageSweepOptions): StorageSweeps {
  const stopping = new AbortController();
  let running: Promise<void> | null = null;
  let sweeps = 0;
  const sweep = async () => {
    const signal = stopping.signal;
    const graceMs = options.graceMs;
    const whole = options.recentPrefixes === undefined || sweeps % (options.fullEvery ?? 24) === 0;
    sweeps++;
    try {
      const { examined, deleted } = await sweepOrphanBlobs(options.database, options.blobs, {
        graceMs,
        signal,
        ...(whole ? {} : { prefixes: options.recentPrefixes!(Date.now()) }),
      });
      let stale = 0;
      for (const directory of options.scratchDirectories) {
        stale += await sweepStaleFiles(directory, { graceMs, signal });
      }
      const emptyDirectories =
        whole && options.blobRoot !== undefined
          ? await removeEmptyDirectories(options.blobRoot, {
              graceMs,
              signal,
              ...(options.keepDirectories ? { keep: options.keepDirectories } : {}),
            })
          : 0;
      if (deleted.length > 0 || stale > 0 || emptyDirectories > 0) {
        options.logger?.info(
          { examined, orphanBlobs: deleted.length, staleFiles: stale, emptyDirectories },
          'removed orphan blobs, stale scratch files and empty directories',
        );
      }
    } catch (error) {
      if (!signal.aborted) options.logger?.error({ err: error }, 'storage sweep failed');
    }
  };
  // A sweep still going when the next is due (a very large store) is not doubled.
  const runNow = () => {
    if (running === null && !stopping.signal.aborted) {
      running = sweep().finally(() => {
        running = null;
      });
    }
    return running ?? Promise.resolve();
  };
  void runNow();
  const timer = setInterval(() => void runNow(), options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    runNow,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
