/**
 * @module
 * G.711 companding between 16-bit linear PCM and 8-bit µ-law (PCMU) or A-law (PCMA) (ITU-T G.711 tables 1a/2a,
 * with the linear side scaled to 16 bits). µ-law codes are sent with all bits inverted and A-law codes with the
 * even bits inverted (G.711 §2 and §3), which is why silence is 0xFF and 0xD5 on the wire.
 */

export type G711Codec = 'PCMU' | 'PCMA';

/** µ-law works on a 14-bit magnitude; 16-bit input is biased by 33 in that scale (132 in 16-bit units). */
const MU_BIAS = 0x84;
const MU_CLIP = 32635;

/** The 3-bit segment (exponent) of a magnitude: the position of its highest set bit above `base`. */
function segmentOf(magnitude: number, base: number): number {
  let segment = 0;
  for (let limit = base << 1; segment < 7 && magnitude >= limit; limit <<= 1) segment++;
  return segment;
}

export function encodeMuLaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  const magnitude = Math.min(s, MU_CLIP) + MU_BIAS;
  const segment = segmentOf(magnitude, 0x80);
  const mantissa = (magnitude >> (segment + 3)) & 0x0f;
  return ~(sign | (segment << 4) | mantissa) & 0xff;
}

export function decodeMuLaw(code: number): number {
  const u = ~code & 0xff;
  const segment = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MU_BIAS) << segment) - MU_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

export function encodeALaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  // Positive values have the sign bit set on the line; both then have the even bits inverted.
  const mask = s >= 0 ? 0xd5 : 0x55;
  if (s < 0) s = -s - 1;
  s = Math.min(s, 32767);
  if (s < 256) return ((s >> 4) & 0x0f) ^ mask;
  const segment = segmentOf(s, 0x80);
  const mantissa = (s >> (segment + 3)) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

export function decodeALaw(code: number): number {
  const a = (code ^ 0x55) & 0xff;
  const segment = (a >> 4) & 0x07;
  let magnitude = ((a & 0x0f) << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/** Encodes PCM samples into G.711 codes, one byte per sample. */
export function encodeG711(samples: ArrayLike<number>, codec: G711Codec): Uint8Array {
  const encode = codec === 'PCMU' ? encodeMuLaw : encodeALaw;
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = encode(samples[i]!);
  return out;
}

/** Decodes G.711 codes into 16-bit linear PCM. */
export function decodeG711(codes: Uint8Array, codec: G711Codec): Int16Array {
  const decode = codec === 'PCMU' ? decodeMuLaw : decodeALaw;
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = decode(codes[i]!);
  return out;
}
