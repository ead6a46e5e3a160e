/**
 * @module store/spooled-blob-store
 * A blob store in front of another that can also take a small blob inside a write transaction: the
 * bytes go into the `blob_spool` table with the rows that name them, so the one commit (one WAL fsync
 * on SQLite, shared by every transaction of its group) makes both durable, instead of an fsync of the
 * blob file and then one of the commit. That is the write on the way to a fax's 202 and the one
 * between a received page and its MCF.
 *
 * A flusher then moves spooled bytes to the store behind (a fresh put, durable), and only after that
 * removes the spool row, so a reader always finds the bytes in one place or the other: `get` looks in
 * the spool first. A crash at any point leaves the row to be flushed again; a flush repeated for a key
 * already in the store behind replaces it with the same bytes. With encryption at rest the spool
 * holds the bytes sealed as the store behind would.
 */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { assertBlobKey, type BlobEntry, type BlobStore, type PutOptions } from './blob-store.ts';
import type { Database, Db } from './database.ts';

/** What keeps spooled bytes unreadable at rest (the EncryptedBlobStore's own sealing). */
export interface SpoolSealing {
  sealBytes(key: string, plain: Uint8Array): Uint8Array;
  openBytes(key: string, sealed: Uint8Array): Uint8Array;
}

export interface SpooledBlobStoreOptions {
  /** Larger blobs are not spooled: their bytes would cost the database more than a file's fsync. */
  readonly maxSpoolBytes?: number;
  readonly sealing?: SpoolSealing;
  /** How often leftovers (of a crash, or of a flush that failed) are looked for. */
  readonly sweepIntervalMs?: number;
  readonly logger?: Logger;
}

/** Blobs that can be written inside a write transaction (see module comment). */
export interface TransactionalBlobs {
  /** Whether `putInTransaction` takes a blob of this size. */
  canSpool(size: number): boolean;
  /**
   * Spools `bytes` under `key` in `trx`: durable with its commit, gone with its rollback. The key must
   * be fresh (nothing reads it before the commit).
   */
  putInTransaction(trx: Db, key: string, bytes: Uint8Array, now?: number): Promise<{ size: number }>;
}

export function isTransactional(blobs: BlobStore): blobs is BlobStore & TransactionalBlobs {
  return typeof (blobs as Partial<TransactionalBlobs>).putInTransaction === 'function';
}

const FLUSH_BATCH = 32;

export class SpooledBlobStore implements BlobStore, TransactionalBlobs {
  readonly #database: Database;
  readonly #inner: BlobStore;
  readonly #maxSpoolBytes: number;
  readonly #sealing: SpoolSealing | undefined;
  readonly #logger: Logger | undefined;
  readonly #sweepIntervalMs: number;
  #flushing: Promise<void> | null = null;
  #again = false;
  #soon: NodeJS.Timeout | null = null;
  #sweep: NodeJS.Timeout | null = null;
  #stopped = true;

  constructor(database: Database, inner: BlobStore, options: SpooledBlobStoreOptions = {}) {
    this.#database = database;
    this.#inner = inner;
    this.#maxSpoolBytes = options.maxSpoolBytes ?? 1024 * 1024;
    this.#sealing = options.sealing;
    this.#logger = options.logger;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
  }

  /** Starts flushing: now (leftovers of an earlier run), after each spooled write, and periodically. */
  start(): void {
    this.#stopped = false;
    this.#sweep = setInterval(() => this.#flushSoon(), this.#sweepIntervalMs);
    this.#sweep.unref();
    this.#flushSoon();
  }

  /** Stops flushing and waits for a flush in progress; what is still spooled waits for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#sweep) clearInterval(this.#sweep);
    if (this.#soon) clearTimeout(this.#soon);
    this.#sweep = this.#soon = null;
    await this.#flushing;
  }

  canSpool(size: number): boolean {
    return size <= this.#maxSpoolBytes;
  }

  async putInTransaction(
    trx: Db,
    key: string,
    bytes: Uint8Array,
    now = Date.now(),
  ): Promise<{ size: number }> {
    assertBlobKey(key);
    if (!this.canSpool(bytes.length))
      throw new RangeError(`a ${bytes.length}-byte blob is too large to spool`);
    const stored = this.#sealing ? this.#sealing.sealBytes(key, bytes) : bytes;
    await trx.insertInto('blob_spool').values({ key, bytes: stored, created_at: now }).execute();
    // Flushed after the commit: the flusher's reads wait for the writer's connection (SQLite) or do
    // not see the row before the commit (PostgreSQL); the periodic sweep catches what this misses.
    this.#flushSoon();
    return { size: bytes.length };
  }

  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<{ size: number }> {
    return this.#inner.put(key, body, options);
  }

  async get(key: string): Promise<Readable> {
    const spooled = await this.#spooled(key);
    if (spooled) return Readable.from([spooled]);
    return this.#inner.get(key);
  }

  async delete(key: string): Promise<void> {
    await this.#database.db.deleteFrom('blob_spool').where('key', '=', key).execute();
    // A flush that read the row before it went may still be writing it to the store behind; the
    // blob is deleted there once that flush is over, so an erased fax leaves no copy. (A flusher of
    // another process sharing the database can still put it back; the orphan sweep removes that.)
    await this.#flushing?.catch(() => {});
    await this.#inner.delete(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const entry of this.scan(prefix)) yield entry.key;
  }

  async *scan(prefix: string): AsyncIterable<BlobEntry> {
    const spooled = await this.#database.db
      .selectFrom('blob_spool')
      .select(['key', 'created_at'])
      .where('key', '>=', prefix)
      .where('key', '<', `${prefix}\uffff`)
      .execute();
    const seen = new Set<string>();
    for (const row of spooled) {
      seen.add(row.key);
      yield { key: row.key, modifiedAt: row.created_at };
    }
    for await (const entry of this.#inner.scan(prefix)) if (!seen.has(entry.key)) yield entry;
  }

  /** Moves everything spooled now to the store behind. */
  async flush(): Promise<void> {
    if (this.#flushing) {
      this.#again = true;
      return this.#flushing;
    }
    this.#flushing = this.#flushAll().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #spooled(key: string): Promise<Uint8Array | null> {
    const row = await this.#database.db
      .selectFrom('blob_spool')
      .select('bytes')
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return null;
    return this.#sealing ? this.#sealing.openBytes(key, row.bytes) : row.bytes;
  }

  #flushSoon(): void {
    if (this.#stopped || this.#soon) return;
    this.#soon = setTimeout(() => {
      this.#soon = null;
      this.flush().catch((error: unknown) => {
        this.#logger?.warn({ err: error }, 'moving spooled blobs to the blob store failed; retrying later');
      });
    }, 2);
  }

  async #flushAll(): Promise<void> {
    do {
      this.#again = false;
      for (;;) {
        const rows = await this.#database.db
          .selectFrom('blob_spool')
          .select(['key', 'bytes'])
          .orderBy('created_at')
          .limit(FLUSH_BATCH)
          .execute();
        if (rows.length === 0) break;
        await Promise.all(
          rows.map((row) => {
            const plain = this.#sealing ? this.#sealing.openBytes(row.key, row.bytes) : row.bytes;
            return this.#inner.put(row.key, plain, { fresh: true });
          }),
        );
        // The bytes are durable in the store behind; losing this delete in a crash only means one
        // more flush of the same bytes.
        await this.#database.writeTransaction(
          (trx) =>
            trx
              .deleteFrom('blob_spool')
              .where(
                'key',
                'in',
                rows.map((r) => r.key),
              )
              .execute(),
          { durable: false },
        );
        if (rows.length < FLUSH_BATCH || this.#stopped) break;
      }
    } while (this.#again && !this.#stopped);
  }
}
