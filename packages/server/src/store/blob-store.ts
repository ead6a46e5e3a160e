/**
 * @module store/blob-store
 * Where document and page bytes live. Implementations: a local directory (LocalBlobStore), the
 * same with AES-256-GCM at rest (EncryptedBlobStore), and later an S3-compatible store.
 * All pass one contract suite (blob-store.test.ts).
 */
import type { Readable } from 'node:stream';

export interface BlobStore {
  /**
   * Stores `body` under `key`, replacing any blob there; durable when the promise resolves.
   * With `fresh`, the caller promises that nothing reads `key` before this put resolves (a new
   * document or page, referenced by a row written afterwards): the store may then write the bytes in
   * place instead of writing a copy and renaming it, which saves a round of file-system work.
   */
  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<{ size: number }>;
  /** Streams the blob. @throws BlobNotFoundError */
  get(key: string): Promise<Readable>;
  /** Removes the blob; removing a missing blob is not an error. */
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`, in no promised order. */
  list(prefix: string): AsyncIterable<string>;
  /**
   * Like `list`, with when each blob was last written, so a sweep can leave writes in progress alone.
   * A blob deleted while the scan runs may or may not appear.
   */
  scan(prefix: string): AsyncIterable<BlobEntry>;
}

export interface BlobEntry {
  readonly key: string;
  /** Millisecond time of the blob's last write. */
  readonly modifiedAt: number;
}

export interface PutOptions {
  readonly fresh?: boolean;
}

export class BlobNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
    this.key = key;
  }
}

export class InvalidBlobKeyError extends Error {
  constructor(key: string) {
    super(`invalid blob key: ${JSON.stringify(key)}`);
    this.name = 'InvalidBlobKeyError';
  }
}

const KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;

/** Keys are relative slash-separated paths of safe characters; nothing can climb out with `..`. */
export function assertBlobKey(key: string): void {
  if (key.length > 512 || !KEY.test(key)) throw new InvalidBlobKeyError(key);
}

/** Reads a whole blob into memory; for blobs known to be small (bounded by the document limits). */
export async function readBlob(store: BlobStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
