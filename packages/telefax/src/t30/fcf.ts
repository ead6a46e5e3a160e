/**
 * @module
 * T.30 facsimile control fields (T.30 §5.3.6.1, Table 2) in the port's in-memory bit order: the first bit on the
 * line is the least significant bit, so the X bit (T.30 §5.3.6.1.3, first transmitted bit of the FCF) is 0x01.
 */

/** The FCF values with the X bit clear. */
export const Fcf = Object.freeze({
  // Initial identification (first bit distinguishes DIS from DTC, CSI from CIG, NSF from NSC: no X bit).
  DIS: 0x80,
  CSI: 0x40,
  NSF: 0x20,
  DTC: 0x81,
  CIG: 0x41,
  NSC: 0x21,
  PWD_POLL: 0xc1,
  SEP: 0xa1,
  PSA: 0x61,
  CIA: 0xe1,
  ISP: 0x11,
  // Commands to send.
  DCS: 0x82,
  TSI: 0x42,
  NSS: 0x22,
  SUB: 0xc2,
  SID: 0xa2,
  CTC: 0x12,
  TSA: 0x62,
  IRA: 0xe2,
  // Pre-message responses.
  CFR: 0x84,
  FTT: 0x44,
  CTR: 0xc4,
  CSA: 0x24,
  // Post-message commands.
  EOM: 0x8e,
  MPS: 0x4e,
  EOP: 0x2e,
  PRI_EOM: 0x9e,
  PRI_MPS: 0x5e,
  PRI_EOP: 0x3e,
  EOS: 0x1e,
  PPS: 0xbe,
  EOR: 0xce,
  RR: 0x6e,
  // Post-message responses.
  MCF: 0x8c,
  RTP: 0xcc,
  RTN: 0x4c,
  PIP: 0xac,
  PIN: 0x2c,
  PPR: 0xbc,
  RNR: 0xec,
  ERR: 0x1c,
  FDM: 0xfc,
  // Other line control.
  DCN: 0xfa,
  CRP: 0x1a,
  FNV: 0xca,
  TNR: 0xea,
  TR: 0x6a,
  PID: 0x6c,
  DNK: 0x9a,
  // T.4 Annex A ECM frames (high-speed modem).
  FCD: 0x06,
  CCD: 0x46,
  RCP: 0x86,
} as const);

export type FcfName = keyof typeof Fcf;

/** The X bit: set by the station that received a valid DIS (T.30 §5.3.6.1.3). */
export const X_BIT = 0x01;

/**
 * Initial identification frames carry no X bit: their first bit tells DIS from DTC, CSI from CIG, NSF from NSC
 * (T.30 Table 2), so it is part of the code.
 */
const UNMASKED = new Set<number>([
  Fcf.DIS,
  Fcf.CSI,
  Fcf.NSF,
  Fcf.DTC,
  Fcf.CIG,
  Fcf.NSC,
  Fcf.PWD_POLL,
  Fcf.SEP,
  Fcf.PSA,
  Fcf.CIA,
  Fcf.ISP,
]);

/** The FCF as a command code: X bit masked, except for the initial identification frames where it is the code. */
export function commandOf(rawFcf: number): number {
  const fcf = rawFcf & 0xff;
  return UNMASKED.has(fcf) ? fcf : fcf & ~X_BIT & 0xff;
}

const NAMES = new Map<number, FcfName>(
  (Object.entries(Fcf) as [FcfName, number][]).map(([name, value]) => [value, name]),
);

/** A readable name for logs and errors ("DCS", "MCF", or "FCF 0x…" when unknown). */
export function fcfName(rawFcf: number): string {
  const name = NAMES.get(commandOf(rawFcf));
  return name ?? `FCF 0x${(rawFcf & 0xff).toString(16).padStart(2, '0')}`;
}
