/**
 * @module
 * The code words of T.4 §4.1 and §4.2 as bit strings, the single source for the encoder's tables and the
 * decoder's lookup tables: terminating codes (Table 2), make-up codes (Table 3a, 3b: shared 1792–2560),
 * two-dimensional mode codes (Table 4) and EOL (§4.1.2).
 */

/** Terminating codes for runs 0–63 of white (T.4 Table 2). */
// biome-ignore format: a dense table reads better than one code per line
const WHITE_TERMINATING = [
  '00110101', '000111', '0111', '1000', '1011', '1100', '1110', '1111',
  '10011', '10100', '00111', '01000', '001000', '000011', '110100', '110101',
  '101010', '101011', '0100111', '0001100', '0001000', '0010111', '0000011', '0000100',
  '0101000', '0101011', '0010011', '0100100', '0011000', '00000010', '00000011', '00011010',
  '00011011', '00010010', '00010011', '00010100', '00010101', '00010110', '00010111', '00101000',
  '00101001', '00101010', '00101011', '00101100', '00101101', '00000100', '00000101', '00001010',
  '00001011', '01010010', '01010011', '01010100', '01010101', '00100100', '00100101', '01011000',
  '01011001', '01011010', '01011011', '01001010', '01001011', '00110010', '00110011', '00110100',
];

/** Terminating codes for runs 0–63 of black (T.4 Table 2). */
// biome-ignore format: a dense table reads better than one code per line
const BLACK_TERMINATING = [
  '0000110111', '010', '11', '10', '011', '0011', '0010', '00011',
  '000101', '000100', '0000100', '0000101', '0000111', '00000100', '00000111', '000011000',
  '0000010111', '0000011000', '0000001000', '00001100111', '00001101000', '00001101100', '00000110111', '00000101000',
  '00000010111', '00000011000', '000011001010', '000011001011', '000011001100', '000011001101', '000001101000', '000001101001',
  '000001101010', '000001101011', '000011010010', '000011010011', '000011010100', '000011010101', '000011010110', '000011010111',
  '000001101100', '000001101101', '000011011010', '000011011011', '000001010100', '000001010101', '000001010110', '000001010111',
  '000001100100', '000001100101', '000001010010', '000001010011', '000000100100', '000000110111', '000000111000', '000000100111',
  '000000101000', '000001011000', '000001011001', '000000101011', '000000101100', '000001011010', '000001100110', '000001100111',
];

/** Make-up codes for white runs 64, 128, … 1728 (T.4 Table 3a). */
// biome-ignore format: a dense table reads better than one code per line
const WHITE_MAKEUP = [
  '11011', '10010', '010111', '0110111', '00110110', '00110111', '01100100', '01100101',
  '01101000', '01100111', '011001100', '011001101', '011010010', '011010011', '011010100', '011010101',
  '011010110', '011010111', '011011000', '011011001', '011011010', '011011011', '010011000', '010011001',
  '010011010', '011000', '010011011',
];

/** Make-up codes for black runs 64, 128, … 1728 (T.4 Table 3a). */
// biome-ignore format: a dense table reads better than one code per line
const BLACK_MAKEUP = [
  '0000001111', '000011001000', '000011001001', '000001011011', '000000110011', '000000110100', '000000110101',
  '0000001101100', '0000001101101', '0000001001010', '0000001001011', '0000001001100', '0000001001101',
  '0000001110010', '0000001110011', '0000001110100', '0000001110101', '0000001110110', '0000001110111',
  '0000001010010', '0000001010011', '0000001010100', '0000001010101', '0000001011010', '0000001011011',
  '0000001100100', '0000001100101',
];

/** Make-up codes for runs 1792, 1856, … 2560 of either colour (T.4 Table 3b). */
// biome-ignore format: a dense table reads better than one code per line
const EXTENDED_MAKEUP = [
  '00000001000', '00000001100', '00000001101', '000000010010', '000000010011', '000000010100', '000000010101',
  '000000010110', '000000010111', '000000011100', '000000011101', '000000011110', '000000011111',
];

/** End of line (T.4 §4.1.2): eleven zeros and a one. No valid run of code words contains eleven zeros. */
export const EOL_CODE = 0b000000000001;
export const EOL_BITS = 12;

/** The largest run a single make-up code covers (T.4 Table 3b); longer runs repeat it (T.4 §4.1.1). */
export const MAX_MAKEUP_RUN = 2560;

/** Two-dimensional coding modes (T.4 §4.2.1.3.2, Table 4). */
export const Mode = {
  Invalid: 0,
  Pass: 1,
  Horizontal: 2,
  V0: 3,
  VR1: 4,
  VR2: 5,
  VR3: 6,
  VL1: 7,
  VL2: 8,
  VL3: 9,
  /** 0000001xxx: extension (e.g. uncompressed mode, T.4 §4.2.1.3.4), which we do not support. */
  Extension: 10,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** Bit strings of the mode codes (T.4 Table 4). */
export const MODE_CODES: ReadonlyArray<readonly [Mode, string]> = [
  [Mode.Pass, '0001'],
  [Mode.Horizontal, '001'],
  [Mode.V0, '1'],
  [Mode.VR1, '011'],
  [Mode.VR2, '000011'],
  [Mode.VR3, '0000011'],
  [Mode.VL1, '010'],
  [Mode.VL2, '000010'],
  [Mode.VL3, '0000010'],
  [Mode.Extension, '0000001'],
];

/** One code word: the run it stands for and its bits, most significant first. */
export interface RunCode {
  readonly run: number;
  readonly bits: string;
}

/** Every run-length code word of one colour: terminating, make-up and extended make-up. */
export function runCodesOf(color: 'white' | 'black'): RunCode[] {
  const term = color === 'white' ? WHITE_TERMINATING : BLACK_TERMINATING;
  const makeup = color === 'white' ? WHITE_MAKEUP : BLACK_MAKEUP;
  return [
    ...term.map((bits, run) => ({ run, bits })),
    ...makeup.map((bits, i) => ({ run: (i + 1) * 64, bits })),
    ...EXTENDED_MAKEUP.map((bits, i) => ({ run: 1792 + i * 64, bits })),
  ];
}
