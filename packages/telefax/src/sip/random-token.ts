/**
 * @module
 * Random identifiers for branches, tags and Call-IDs: RFC 3261 §8.1.1.4 and §19.3 ask for cryptographically random
 * values of at least 32 bits; base-36 keeps them within the token grammar.
 */
import { randomBytes } from 'node:crypto';

export function randomToken(length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += (b % 36).toString(36);
  return out;
}
