/**
 * @module
 * The RTP fixed header (RFC 3550 §5.1): version 2, padding, extension, CSRC list, marker, payload type, sequence
 * number, timestamp and SSRC. Parsing skips CSRCs, a header extension (§5.3.1) and padding, and rejects what is
 * not RTP version 2 with undefined, since a media port also sees stray datagrams.
 */
import type { G711Codec } from './g711.ts';

/** Static payload types of the audio/video profile (RFC 3551 §6, table 4). */
export const G711_PAYLOAD_TYPE: Readonly<Record<G711Codec, number>> = { PCMU: 0, PCMA: 8 };

export interface RtpPacket {
  readonly payloadType: number;
  /** Set on the first packet of a talkspurt (RFC 3551 §4.1). */
  readonly marker: boolean;
  /** 16 bits, wraps. */
  readonly sequenceNumber: number;
  /** 32 bits, in sampling periods (8000 Hz for G.711), wraps. */
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcs?: readonly number[];
  readonly payload: Uint8Array;
}

const FIXED_HEADER_BYTES = 12;

export function serializeRtpPacket(packet: RtpPacket): Buffer {
  const csrcs = packet.csrcs ?? [];
  const header = FIXED_HEADER_BYTES + 4 * csrcs.length;
  const out = Buffer.alloc(header + packet.payload.length);
  out[0] = 0x80 | (csrcs.length & 0x0f);
  out[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  out.writeUInt16BE(packet.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(packet.timestamp >>> 0, 4);
  out.writeUInt32BE(packet.ssrc >>> 0, 8);
  csrcs.forEach((csrc, i) => {
    out.writeUInt32BE(csrc >>> 0, FIXED_HEADER_BYTES + 4 * i);
  });
  out.set(packet.payload, header);
  return out;
}

/** Reads an RTP packet; undefined when the datagram is not a well-formed RTP version 2 packet. */
export function parseRtpPacket(datagram: Uint8Array): RtpPacket | undefined {
  if (datagram.length < FIXED_HEADER_BYTES || datagram[0]! >> 6 !== 2) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const csrcCount = datagram[0]! & 0x0f;
  let offset = FIXED_HEADER_BYTES + 4 * csrcCount;
  if (datagram.length < offset) return undefined;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(view.getUint32(FIXED_HEADER_BYTES + 4 * i));
  if (datagram[0]! & 0x10) {
    if (datagram.length < offset + 4) return undefined;
    offset += 4 + 4 * view.getUint16(offset + 2);
    if (datagram.length < offset) return undefined;
  }
  let end = datagram.length;
  if (datagram[0]! & 0x20) {
    const padding = datagram[end - 1]!;
    if (padding === 0 || end - padding < offset) return undefined;
    end -= padding;
  }
  return {
    payloadType: datagram[1]! & 0x7f,
    marker: (datagram[1]! & 0x80) !== 0,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    ...(csrcCount > 0 ? { csrcs } : {}),
    payload: datagram.subarray(offset, end),
  };
}
