/**
 * @module store/blob-store
 * Where document and page bytes live. Implementations: a local directory (LocalBlobStore), the
 * same with AES-256-GCM at rest (EncryptedBlobStore), and later an S3-compatible store.
 * All pass one contract suite (blob-store.test.ts).
 */
import type { Readable } from 'node:stream';

export interface BlobStore {
  /** Stores `body` under `key`, replacing any blob there; durable when the promise resolves. */
  put(key: string, body: Readable | Uint8Array): Promise<{ size: number }>;
  /** Streams the blob. @throws BlobNotFoundError */
  get(key: string): Promise<Readable>;
  /** Removes the blob; removing a missing blob is not an error. */
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`, in no promised order. */
  list(prefix: string): AsyncIterable<string>;
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
