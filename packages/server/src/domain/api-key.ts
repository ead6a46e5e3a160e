/**
 * @module domain/api-key
 * API keys: `fw_` and 32 random bytes in base64url. Stored as a SHA-256 digest (a key has 256 bits
 * of entropy, so a slow password hash would add cost and no safety) plus a short display prefix.
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'fw_';
const DISPLAY_CHARS = 8;

export interface NewApiKey {
  /** The secret; shown once, never stored. */
  readonly key: string;
  readonly prefix: string;
  readonly hash: string;
}

export function generateApiKey(): NewApiKey {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: key.slice(0, API_KEY_PREFIX.length + DISPLAY_CHARS), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX) && value.length === API_KEY_PREFIX.length + 43;
}
