/**
 * @module
 * T.30 HDLC frames as the port carries them: address 0xFF, control 0x03 (more frames follow) or 0x13 (final frame),
 * FCF, FIF; no FCS (T.30 §5.3.5–§5.3.6). Bit order is the port's in-memory form (first line bit = LSB).
 */

import { commandOf, X_BIT } from './fcf.ts';

export const HDLC_ADDRESS = 0xff;
export const CONTROL_NON_FINAL = 0x03;
export const CONTROL_FINAL = 0x13;

/** Longest FIF we accept: ECM frames carry 256 octets + frame number (T.4 Annex A), T.38 caps HDLC at 260. */
export const MAX_FIF_LENGTH = 260;

export interface HdlcFrame {
  /** FCF exactly as received. */
  readonly rawFcf: number;
  /** FCF with the X bit masked where it is one (see commandOf). */
  readonly command: number;
  /** True when the sender had received DIS (T.30 §5.3.6.1.3). */
  readonly xBit: boolean;
  /** True when the control field says this is the last frame of the sequence. */
  readonly final: boolean;
  readonly fif: Uint8Array;
}

export interface BuildFrameOptions {
  /** Final frame of the sequence (control 0x13); default true. */
  readonly final?: boolean;
  /** Sets the X bit; the caller decides per T.30 §5.3.6.1.3 (ignored for FCFs without one). */
  readonly x?: boolean;
}

export function buildFrame(
  fcf: number,
  fif: Uint8Array = new Uint8Array(0),
  options: BuildFrameOptions = {},
) {
  const frame = new Uint8Array(3 + fif.length);
  frame[0] = HDLC_ADDRESS;
  frame[1] = options.final === false ? CONTROL_NON_FINAL : CONTROL_FINAL;
  const hasXBit = commandOf(fcf | X_BIT) === (fcf & ~X_BIT);
  frame[2] = options.x && hasXBit ? fcf | X_BIT : fcf;
  frame.set(fif, 3);
  return frame;
}

/** Parses a frame; null when it is not a T.30 frame (short, wrong address or control, oversized). */
export function parseFrame(bytes: Uint8Array): HdlcFrame | null {
  if (bytes.length < 3 || bytes.length > 3 + MAX_FIF_LENGTH) return null;
  if (bytes[0] !== HDLC_ADDRESS) return null;
  const control = bytes[1];
  if (control !== CONTROL_FINAL && control !== CONTROL_NON_FINAL) return null;
  const rawFcf = bytes[2];
  const command = commandOf(rawFcf);
  return {
    rawFcf,
    command,
    xBit: command !== rawFcf,
    final: control === CONTROL_FINAL,
    fif: bytes.slice(3),
  };
}

/** Reverses the bits of one octet: converts between T.30 notation (first bit = MSB) and the port's form. */
export function reverseBits(byte: number): number {
  let b = byte & 0xff;
  b = ((b & 0xf0) >> 4) | ((b & 0x0f) << 4);
  b = ((b & 0xcc) >> 2) | ((b & 0x33) << 2);
  b = ((b & 0xaa) >> 1) | ((b & 0x55) << 1);
  return b;
}

/** Octets written in T.30 notation ("FF C8 41 00 50 00", as in TSB-85) in the port's bit order. */
export function fromT30Notation(hex: string): Uint8Array {
  const parts = hex
    .trim()
    .split(/\s+/)
    .filter((p) => p.length > 0);
  return Uint8Array.from(parts.map((p) => reverseBits(Number.parseInt(p, 16))));
}

/** The port's octets written in T.30 notation. */
export function toT30Notation(bytes: Uint8Array): string {
  return [...bytes].map((b) => reverseBits(b).toString(16).toUpperCase().padStart(2, '0')).join(' ');
}
