/**
 * @module store/new-id
 * Ids that say what they name (`fax_…`, `evt_…`) and sort by creation time, so the primary key
 * doubles as the cursor for newest-first pagination.
 */
import { randomBytes } from 'node:crypto';

export type IdKind = 'acct' | 'fax' | 'doc' | 'evt' | 'whk' | 'key' | 'num' | 'job';

// Crockford base32: no I, L, O, U, so ids survive being read aloud or retyped.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A new id: kind, underscore, 10 characters of millisecond time, 16 random characters. Within one
 * millisecond the random part counts up (as ULIDs do), so ids made by one process keep their order.
 */
export function newId(kind: IdKind, now: number = Date.now()): string {
  let random: number[];
  if (now <= lastTime) {
    now = lastTime;
    random = lastRandom.slice();
    for (let i = random.length - 1; i >= 0; i--) {
      random[i] = (random[i]! + 1) % 32;
      if (random[i] !== 0) break;
    }
  } else {
    random = [...randomBytes(16)].map((b) => b & 31);
    // Leave headroom so counting up within a millisecond practically never carries out of the field.
    random[0] = random[0]! & 15;
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${kind}_${time}${random.map((d) => ALPHABET[d]).join('')}`;
}
