/**
 * @module store/encrypted-blob-store
 * Encryption at rest over any BlobStore: AES-256-GCM per blob with a fresh 96-bit IV, the blob's key
 * as additional data (so a blob moved to another key fails to open), and the tag at the end.
 * Layout: "FWE1" | IV (12) | ciphertext | tag (16).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type BlobEntry, type BlobStore, type PutOptions, readBlob } from './blob-store.ts';

const MAGIC = Buffer.from('FWE1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class BlobIntegrityError extends Error {
  constructor(key: string) {
    super(`blob ${key} failed authentication (wrong key, or the data was altered)`);
    this.name = 'BlobIntegrityError';
  }
}

export class EncryptedBlobStore implements BlobStore {
  readonly #inner: BlobStore;
  readonly #key: Buffer;

  constructor(inner: BlobStore, key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('AES-256-GCM needs a 32-byte key');
    this.#inner = inner;
    this.#key = Buffer.from(key);
  }

  async put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<{ size: number }> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(key));
    let size = 0;
    const source = body instanceof Uint8Array ? [body] : (body as AsyncIterable<Uint8Array>);
    async function* seal(): AsyncIterable<Buffer> {
      yield Buffer.concat([MAGIC, iv]);
      for await (const chunk of source) {
        size += chunk.length;
        yield cipher.update(chunk);
      }
      yield cipher.final();
      yield cipher.getAuthTag();
    }
    await this.#inner.put(key, Readable.from(seal()), options);
    return { size };
  }

  /** Buffers the blob: GCM only authenticates at the end, and nothing unauthenticated may leave. */
  async get(key: string): Promise<Readable> {
    return Readable.from([this.openBytes(key, await readBlob(this.#inner, key))]);
  }

  /** The bytes sealed as `put` stores them under `key`, for keeping them elsewhere at rest. */
  sealBytes(key: string, plain: Uint8Array): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(key));
    return Buffer.concat([MAGIC, iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }

  /** @throws BlobIntegrityError when `sealed` was not sealed for `key` with this key, or was altered. */
  openBytes(key: string, sealed: Uint8Array): Buffer {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.length < MAGIC.length + IV_BYTES + TAG_BYTES || !bytes.subarray(0, 4).equals(MAGIC)) {
      throw new BlobIntegrityError(key);
    }
    const iv = bytes.subarray(4, 4 + IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
    decipher.setAAD(Buffer.from(key));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(4 + IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new BlobIntegrityError(key);
    }
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key);
  }

  list(prefix: string): AsyncIterable<string> {
    return this.#inner.list(prefix);
  }

  scan(prefix: string): AsyncIterable<BlobEntry> {
    return this.#inner.scan(prefix);
  }
}
