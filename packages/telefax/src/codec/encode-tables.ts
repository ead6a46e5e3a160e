/**
 * @module
 * The code words of T.4 Tables 2–4 as (code, length) pairs indexed the way the encoder looks them up.
 */

import { MAX_MAKEUP_RUN, MODE_CODES, Mode, runCodesOf } from './t4-codes.ts';

/** Code words of one colour: `termCode[run]` for runs 0–63, `makeupCode[run / 64]` for 64…2560. */
export interface RunEncodeTable {
  readonly termCode: Uint16Array;
  readonly termLen: Uint8Array;
  readonly makeupCode: Uint16Array;
  readonly makeupLen: Uint8Array;
}

function buildRunTable(color: 'white' | 'black'): RunEncodeTable {
  const table = {
    termCode: new Uint16Array(64),
    termLen: new Uint8Array(64),
    makeupCode: new Uint16Array(MAX_MAKEUP_RUN / 64 + 1),
    makeupLen: new Uint8Array(MAX_MAKEUP_RUN / 64 + 1),
  };
  for (const { run, bits } of runCodesOf(color)) {
    const code = Number.parseInt(bits, 2);
    if (run < 64) {
      table.termCode[run] = code;
      table.termLen[run] = bits.length;
    } else {
      table.makeupCode[run >> 6] = code;
      table.makeupLen[run >> 6] = bits.length;
    }
  }
  return table;
}

export const WHITE_ENCODE: RunEncodeTable = buildRunTable('white');
export const BLACK_ENCODE: RunEncodeTable = buildRunTable('black');

function modeCode(mode: Mode): { code: number; len: number } {
  const bits = MODE_CODES.find(([m]) => m === mode)![1];
  return { code: Number.parseInt(bits, 2), len: bits.length };
}

export const PASS_CODE = modeCode(Mode.Pass);
export const HORIZONTAL_CODE = modeCode(Mode.Horizontal);

/** Vertical mode code words indexed by a1 − b1 + 3 (VL3 … V0 … VR3). */
export const VERTICAL_CODE: Uint8Array = new Uint8Array(7);
export const VERTICAL_LEN: Uint8Array = new Uint8Array(7);
for (const [mode, delta] of [
  [Mode.VL3, -3],
  [Mode.VL2, -2],
  [Mode.VL1, -1],
  [Mode.V0, 0],
  [Mode.VR1, 1],
  [Mode.VR2, 2],
  [Mode.VR3, 3],
] as const) {
  const { code, len } = modeCode(mode);
  VERTICAL_CODE[delta + 3] = code;
  VERTICAL_LEN[delta + 3] = len;
}
