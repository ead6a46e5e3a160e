/**
 * @module
 * DIS/DTC (capabilities) and DCS (the chosen mode) as typed values, their FIF coding (T.30 Table 2, bit n in FIF
 * octet (n−1)/8 at mask 1 << ((n−1) mod 8)) and the negotiation of one mode from both stations' capabilities.
 */

import type { FaxResolution } from '../image/bilevel-page.ts';
import { type FaxModem, MODEM_BIT_RATE } from './t30-port.ts';

export type ModemFamily = 'v27ter' | 'v29' | 'v17';
export type FaxCompression = 'mh' | 'mr' | 'mmr';
export type PageWidth = 1728 | 2048 | 2432;
export type PageLength = 'a4' | 'b4' | 'unlimited';
export type EcmFrameSize = 256 | 64;

/** What a station can do, as DIS (answering/called side) or DTC (polling side) announce it. */
export interface FaxCapabilities {
  readonly modems: readonly ModemFamily[];
  /** DIS bit 9: has a document to send (polling). */
  readonly readyToTransmit: boolean;
  /** DIS bit 10: can receive. */
  readonly canReceive: boolean;
  readonly resolutions: readonly FaxResolution[];
  readonly compressions: readonly FaxCompression[];
  readonly ecm: boolean;
  /** DIS bit 7: prefers 64-octet ECM frames. */
  readonly ecm64Preferred: boolean;
  /** Widest page the station accepts (T.30 bits 17–18; wider implies the narrower ones). */
  readonly maxWidth: PageWidth;
  readonly maxLength: PageLength;
  /** Minimum scan line time at standard resolution, ms (bits 21–23). */
  readonly minScanLineMs: number;
  /** Minimum scan line time at fine and superfine when the "half" codes are used, ms. */
  readonly minScanLineFineMs: number;
  /** Bit 49/50: accepts SUB, and SID/PWD. */
  readonly subaddress: boolean;
  readonly password: boolean;
}

/** The mode of one document transfer, as DCS selects it. */
export interface DcsParameters {
  readonly modem: FaxModem;
  readonly bitRate: number;
  readonly resolution: FaxResolution;
  readonly width: PageWidth;
  readonly length: PageLength;
  readonly compression: FaxCompression;
  readonly ecm: boolean;
  readonly ecmFrameSize: EcmFrameSize;
  /** Minimum transmission time of one coded scan line (0 in ECM, T.30 §5.3.6.2.1 note). */
  readonly minScanLineMs: number;
}

const bitIndex = (n: number) => ({ byte: (n - 1) >> 3, mask: 1 << ((n - 1) & 7) });

function getBit(fif: Uint8Array, n: number): boolean {
  const { byte, mask } = bitIndex(n);
  return byte < fif.length && (fif[byte] & mask) !== 0;
}

/** FIF octets being assembled; `finish` prunes trailing empty octets and sets the extension bits. */
class FifBuilder {
  readonly bytes = new Uint8Array(16);
  set(n: number, on = true): void {
    if (!on) return;
    const { byte, mask } = bitIndex(n);
    this.bytes[byte] |= mask;
  }
  /** Octets 1–3 are mandatory; each later octet exists only if its extension bit in the octet before is set. */
  finish(): Uint8Array {
    let last = 2;
    for (let i = this.bytes.length - 1; i > 2; i--) {
      if (this.bytes[i] !== 0) {
        last = i;
        break;
      }
    }
    for (let i = 2; i < last; i++) this.bytes[i] |= 0x80;
    return this.bytes.slice(0, last + 1);
  }
}

/** Octets that count: T.30 §5.3.6.2: an octet follows only when bit 8 of the previous one (from octet 3) is set. */
function validPrefix(fif: Uint8Array): Uint8Array {
  let end = Math.min(fif.length, 3);
  while (end < fif.length && end >= 3 && (fif[end - 1] & 0x80) !== 0) end++;
  return fif.subarray(0, end);
}

// Bits 21–23 (b21 b22 b23) → [standard, fine] minimum scan line time in ms (T.30 Table 2).
const SCAN_TIME_CODES: ReadonlyArray<readonly [number, number]> = [
  [20, 20], // 000
  [5, 5], // 100 (b21)
  [10, 10], // 010 (b22)
  [20, 10], // 110
  [40, 40], // 001 (b23)
  [40, 20], // 101
  [10, 5], // 011
  [0, 0], // 111
];

function scanCodeOf(fif: Uint8Array): number {
  return (getBit(fif, 21) ? 1 : 0) | (getBit(fif, 22) ? 2 : 0) | (getBit(fif, 23) ? 4 : 0);
}

function setScanCode(b: FifBuilder, code: number): void {
  b.set(21, (code & 1) !== 0);
  b.set(22, (code & 2) !== 0);
  b.set(23, (code & 4) !== 0);
}

/** DIS/DTC FIF for our capabilities. */
export function encodeDis(caps: FaxCapabilities): Uint8Array {
  const b = new FifBuilder();
  b.set(7, caps.ecm && caps.ecm64Preferred);
  b.set(9, caps.readyToTransmit);
  b.set(10, caps.canReceive);
  // Bits 11–14: 0100 V.27ter, 1000 V.29, 1100 V.27ter+V.29, 1101 V.27ter+V.29+V.17.
  const v17 = caps.modems.includes('v17');
  b.set(11, caps.modems.includes('v29') || v17);
  b.set(12, caps.modems.includes('v27ter') || v17);
  b.set(14, v17);
  b.set(15, caps.resolutions.includes('fine') || caps.resolutions.includes('superfine'));
  b.set(16, caps.compressions.includes('mr'));
  if (caps.maxWidth === 2048) b.set(17);
  if (caps.maxWidth === 2432) b.set(18);
  if (caps.maxLength === 'b4') b.set(19);
  if (caps.maxLength === 'unlimited') b.set(20);
  const code = SCAN_TIME_CODES.findIndex(
    ([std, fine]) => std === caps.minScanLineMs && fine === caps.minScanLineFineMs,
  );
  setScanCode(b, code < 0 ? 0 : code);
  b.set(27, caps.ecm);
  // T.6 needs ECM (T.30 §5.3.6.2.1, bit 31 note).
  b.set(31, caps.ecm && caps.compressions.includes('mmr'));
  b.set(41, caps.resolutions.includes('superfine'));
  // Bit 45: metric-based resolution preferred; only meaningful with the extra resolutions of octet 6.
  b.set(45, caps.resolutions.includes('superfine'));
  b.set(49, caps.subaddress);
  b.set(50, caps.password);
  return b.finish();
}

/** Capabilities from a received DIS/DTC FIF; tolerant of short frames and unknown bits. */
export function decodeDis(raw: Uint8Array): FaxCapabilities {
  const fif = validPrefix(raw);
  const b11 = getBit(fif, 11);
  const b14 = getBit(fif, 14);
  const modems: ModemFamily[] = [];
  // 0000 is the V.27ter fall-back mode (2400 only); V.27ter is mandatory whenever V.29 or V.17 is offered.
  modems.push('v27ter');
  if (b11) modems.push('v29');
  if (b14) modems.push('v17');
  const resolutions: FaxResolution[] = ['standard'];
  if (getBit(fif, 15)) resolutions.push('fine');
  if (getBit(fif, 41)) resolutions.push('superfine');
  const ecm = getBit(fif, 27);
  const compressions: FaxCompression[] = ['mh'];
  if (getBit(fif, 16)) compressions.push('mr');
  if (ecm && getBit(fif, 31)) compressions.push('mmr');
  const maxWidth: PageWidth = getBit(fif, 18) ? 2432 : getBit(fif, 17) ? 2048 : 1728;
  const maxLength: PageLength = getBit(fif, 20) ? 'unlimited' : getBit(fif, 19) ? 'b4' : 'a4';
  const [minScanLineMs, minScanLineFineMs] = SCAN_TIME_CODES[scanCodeOf(fif)];
  return {
    modems,
    readyToTransmit: getBit(fif, 9),
    canReceive: getBit(fif, 10),
    resolutions,
    compressions,
    ecm,
    ecm64Preferred: getBit(fif, 7),
    maxWidth,
    maxLength,
    minScanLineMs,
    minScanLineFineMs,
    subaddress: getBit(fif, 49),
    password: getBit(fif, 50),
  };
}

// DCS bits 11–14 (b11 b12 b13 b14) for each modem and rate (T.30 Table 2).
const DCS_RATE_BITS: Readonly<Record<FaxModem, number>> = {
  'v27ter-2400': 0b0000,
  'v27ter-4800': 0b0010,
  'v29-9600': 0b0001,
  'v29-7200': 0b0011,
  'v17-14400': 0b1000,
  'v17-12000': 0b1010,
  'v17-9600': 0b1001,
  'v17-7200': 0b1011,
  v21: -1,
};

function modemFromDcsBits(bits: number): FaxModem | null {
  for (const [modem, code] of Object.entries(DCS_RATE_BITS) as [FaxModem, number][]) {
    if (code === bits) return modem;
  }
  return null;
}

/** CTC FIF: DCS octets 1–2 with the new signalling rate in bits 11–14 (T.30 §5.3.6.2.9). */
export function encodeCtc(modem: FaxModem): Uint8Array {
  const rate = DCS_RATE_BITS[modem];
  if (rate < 0) throw new RangeError(`${modem} is not a document modem`);
  return Uint8Array.of(0x00, rate << 2);
}

/** The modem a CTC asks for, or null when its FIF names none. */
export function decodeCtc(fif: Uint8Array): FaxModem | null {
  if (fif.length < 2) return null;
  return modemFromDcsBits((fif[1] >> 2) & 0x0f);
}

const SCAN_MS_TO_DCS_CODE: Readonly<Record<number, number>> = { 20: 0, 5: 1, 10: 2, 40: 4, 0: 7 };

/** DCS FIF for a chosen mode. */
export function encodeDcs(dcs: DcsParameters): Uint8Array {
  const b = new FifBuilder();
  b.set(10);
  const rate = DCS_RATE_BITS[dcs.modem];
  if (rate < 0) throw new RangeError(`${dcs.modem} is not a document modem`);
  b.set(11, (rate & 1) !== 0);
  b.set(12, (rate & 2) !== 0);
  b.set(13, (rate & 4) !== 0);
  b.set(14, (rate & 8) !== 0);
  b.set(15, dcs.resolution === 'fine');
  b.set(16, dcs.compression === 'mr');
  if (dcs.width === 2048) b.set(17);
  if (dcs.width === 2432) b.set(18);
  if (dcs.length === 'b4') b.set(19);
  if (dcs.length === 'unlimited') b.set(20);
  setScanCode(b, dcs.ecm ? 7 : (SCAN_MS_TO_DCS_CODE[dcs.minScanLineMs] ?? 0));
  b.set(27, dcs.ecm);
  b.set(28, dcs.ecm && dcs.ecmFrameSize === 64);
  b.set(31, dcs.compression === 'mmr');
  b.set(41, dcs.resolution === 'superfine');
  return b.finish();
}

/** Error from decodeDcs: the DCS names a mode that does not exist. */
export class InvalidDcsError extends Error {
  readonly code = 'invalid_dcs';
}

/** The mode a received DCS selects; throws InvalidDcsError for impossible combinations. */
export function decodeDcs(raw: Uint8Array): DcsParameters {
  const fif = validPrefix(raw);
  if (fif.length < 3) throw new InvalidDcsError(`DCS too short (${raw.length} octets)`);
  const bits =
    (getBit(fif, 11) ? 1 : 0) |
    (getBit(fif, 12) ? 2 : 0) |
    (getBit(fif, 13) ? 4 : 0) |
    (getBit(fif, 14) ? 8 : 0);
  const modem = modemFromDcsBits(bits);
  if (!modem) throw new InvalidDcsError(`DCS names no valid signalling rate (bits 11–14 = ${bits})`);
  const ecm = getBit(fif, 27);
  const mmr = getBit(fif, 31);
  const mr = getBit(fif, 16);
  if (mmr && !ecm) throw new InvalidDcsError('DCS selects T.6 without ECM');
  if (mmr && mr) throw new InvalidDcsError('DCS selects both T.4 2-D and T.6');
  const superfine = getBit(fif, 41);
  const fine = getBit(fif, 15);
  if (getBit(fif, 17) && getBit(fif, 18)) throw new InvalidDcsError('DCS selects an invalid width');
  const [scanMs, fineScanMs] = SCAN_TIME_CODES[scanCodeOf(fif)];
  return {
    modem,
    bitRate: MODEM_BIT_RATE[modem],
    resolution: superfine ? 'superfine' : fine ? 'fine' : 'standard',
    width: getBit(fif, 18) ? 2432 : getBit(fif, 17) ? 2048 : 1728,
    length: getBit(fif, 20) ? 'unlimited' : getBit(fif, 19) ? 'b4' : 'a4',
    compression: mmr ? 'mmr' : mr ? 'mr' : 'mh',
    ecm,
    ecmFrameSize: getBit(fif, 28) ? 64 : 256,
    minScanLineMs: ecm ? 0 : fine || superfine ? fineScanMs : scanMs,
  };
}

/** Rates in the order T.30 steps down through them on FTT or CTC (fax-engines.md §1.2). */
export const FALLBACK_ORDER: readonly FaxModem[] = [
  'v17-14400',
  'v17-12000',
  'v17-9600',
  'v29-9600',
  'v17-7200',
  'v29-7200',
  'v27ter-4800',
  'v27ter-2400',
];

export function familyOf(modem: FaxModem): ModemFamily | null {
  if (modem.startsWith('v17')) return 'v17';
  if (modem.startsWith('v29')) return 'v29';
  if (modem.startsWith('v27ter')) return 'v27ter';
  return null;
}

/** What the sending side asks for; negotiation picks the best mode both stations allow. */
export interface ModeRequest {
  readonly local: FaxCapabilities;
  readonly maxBitRate: number;
  readonly resolution: FaxResolution;
  readonly width: PageWidth;
  readonly length?: PageLength;
  /** Allow ECM (when both sides have it). */
  readonly ecm: boolean;
  /** Preferred (highest allowed) compression; lower ones are used when the remote lacks it. */
  readonly compression: FaxCompression;
}

/** The modems both stations have, from the fastest, at or below maxBitRate. */
export function commonModems(
  local: FaxCapabilities,
  remote: FaxCapabilities,
  maxBitRate: number,
): FaxModem[] {
  return FALLBACK_ORDER.filter((m) => {
    const family = familyOf(m);
    return (
      family !== null &&
      local.modems.includes(family) &&
      remote.modems.includes(family) &&
      MODEM_BIT_RATE[m] <= maxBitRate
    );
  });
}

const WIDTH_ORDER: readonly PageWidth[] = [1728, 2048, 2432];
const LENGTH_ORDER: readonly PageLength[] = ['a4', 'b4', 'unlimited'];

export type NegotiationResult =
  | { readonly ok: true; readonly dcs: DcsParameters }
  | { readonly ok: false; readonly message: string };

/** Picks the DCS for a document: fastest common modem, MMR > MR > MH (MMR only with ECM), the page's resolution. */
export function negotiate(request: ModeRequest, remote: FaxCapabilities): NegotiationResult {
  if (!remote.canReceive)
    return { ok: false, message: 'remote station is not ready to receive (DIS bit 10)' };
  const modems = commonModems(request.local, remote, request.maxBitRate);
  if (modems.length === 0) return { ok: false, message: 'no common modem at or below the maximum rate' };
  if (!remote.resolutions.includes(request.resolution)) {
    return { ok: false, message: `remote does not accept ${request.resolution} resolution` };
  }
  if (WIDTH_ORDER.indexOf(request.width) > WIDTH_ORDER.indexOf(remote.maxWidth)) {
    return { ok: false, message: `remote does not accept ${request.width}-pixel pages` };
  }
  const ecm = request.ecm && request.local.ecm && remote.ecm;
  const allowed: FaxCompression[] = ['mh'];
  const wantRank = request.compression === 'mmr' ? 2 : request.compression === 'mr' ? 1 : 0;
  if (wantRank >= 1 && remote.compressions.includes('mr') && request.local.compressions.includes('mr')) {
    allowed.push('mr');
  }
  if (
    wantRank >= 2 &&
    ecm &&
    remote.compressions.includes('mmr') &&
    request.local.compressions.includes('mmr')
  ) {
    allowed.push('mmr');
  }
  const wantedLength = request.length ?? 'a4';
  const length =
    LENGTH_ORDER.indexOf(wantedLength) <= LENGTH_ORDER.indexOf(remote.maxLength)
      ? wantedLength
      : remote.maxLength;
  const fineScan = request.resolution !== 'standard';
  return {
    ok: true,
    dcs: {
      modem: modems[0],
      bitRate: MODEM_BIT_RATE[modems[0]],
      resolution: request.resolution,
      width: request.width,
      length,
      compression: allowed[allowed.length - 1],
      ecm,
      ecmFrameSize: 256,
      minScanLineMs: ecm ? 0 : fineScan ? remote.minScanLineFineMs : remote.minScanLineMs,
    },
  };
}

/** The next lower modem both sides have, after an FTT or for a CTC; null when none is left. */
export function nextLowerModem(
  current: FaxModem,
  local: FaxCapabilities,
  remote: FaxCapabilities,
  maxBitRate: number,
): FaxModem | null {
  const modems = commonModems(local, remote, maxBitRate);
  const i = FALLBACK_ORDER.indexOf(current);
  return modems.find((m) => FALLBACK_ORDER.indexOf(m) > i) ?? null;
}

/** A DCS for a new modem, everything else unchanged. */
export function withModem(dcs: DcsParameters, modem: FaxModem): DcsParameters {
  return { ...dcs, modem, bitRate: MODEM_BIT_RATE[modem] };
}

/** Default capabilities of this engine. */
export function defaultCapabilities(overrides: Partial<FaxCapabilities> = {}): FaxCapabilities {
  return {
    modems: ['v27ter', 'v29', 'v17'],
    readyToTransmit: false,
    canReceive: true,
    resolutions: ['standard', 'fine', 'superfine'],
    compressions: ['mh', 'mr', 'mmr'],
    ecm: true,
    ecm64Preferred: false,
    maxWidth: 2432,
    maxLength: 'unlimited',
    minScanLineMs: 0,
    minScanLineFineMs: 0,
    subaddress: true,
    password: true,
    ...overrides,
  };
}
