/**
 * @module
 * Lookup tables for the decoder, built once from the code words of T.4 Tables 2–4. Run tables are indexed by
 * the next 13 bits of the stream (the longest run code); the mode table by the next 7 bits (the longest mode code
 * short of EOL). An entry of 0 means no code word starts with those bits: an error, or fill/EOL.
 */

import { MODE_CODES, runCodesOf } from './t4-codes.ts';

export const RUN_LOOKUP_BITS = 13;
export const MODE_LOOKUP_BITS = 7;

/** Run table entry: `run << 8 | MAKEUP_FLAG? | code length`. */
export const RUN_LENGTH_MASK = 0x1f;
export const MAKEUP_FLAG = 0x20;

function buildRunTable(color: 'white' | 'black'): Int32Array {
  const table = new Int32Array(1 << RUN_LOOKUP_BITS);
  for (const { run, bits } of runCodesOf(color)) {
    const free = RUN_LOOKUP_BITS - bits.length;
    const base = Number.parseInt(bits, 2) << free;
    const entry = (run << 8) | (run >= 64 ? MAKEUP_FLAG : 0) | bits.length;
    table.fill(entry, base, base + (1 << free));
  }
  return table;
}

export const WHITE_DECODE: Int32Array = buildRunTable('white');
export const BLACK_DECODE: Int32Array = buildRunTable('black');

/** Mode table entry: `mode << 4 | code length`. */
export const MODE_DECODE: Uint8Array = (() => {
  const table = new Uint8Array(1 << MODE_LOOKUP_BITS);
  for (const [mode, bits] of MODE_CODES) {
    const free = MODE_LOOKUP_BITS - bits.length;
    const base = Number.parseInt(bits, 2) << free;
    table.fill((mode << 4) | bits.length, base, base + (1 << free));
  }
  return table;
})();
