/**
 * @module store/write-private-file
 * Writes a small secret file (an API key) readable by its owner only (mode 0600), atomically and durably:
 * the bytes go to a new sibling file, are fsynced, renamed over the target and the directory is fsynced. A
 * reader finds the old file or the whole new one, never a half-written key; after a crash at any point the
 * target is either absent, the old file or the new one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writePrivateFile(path: string, content: string | Uint8Array): Promise<void> {
  const directory = dirname(path);
  const tmp = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(content);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  const dir = await open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
