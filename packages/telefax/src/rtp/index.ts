/**
 * @module
 * RTP for the audio phase of fax calls: the RFC 3550 packet, G.711 µ-law/A-law, the fax tones CNG and CED,
 * Goertzel tone measurement and detection, and a paced G.711 RTP stream over UDP.
 */

export { type FaxTone, FaxToneDetector, type FaxToneDetectorOptions } from './fax-tone-detector.ts';
export {
  CED_FREQUENCY_HZ,
  CNG_FREQUENCY_HZ,
  FaxToneGenerator,
  type FaxToneOptions,
  type FaxToneRole,
} from './fax-tones.ts';
export {
  decodeALaw,
  decodeG711,
  decodeMuLaw,
  encodeALaw,
  encodeG711,
  encodeMuLaw,
  type G711Codec,
} from './g711.ts';
export { goertzelPower, levelDbm0, toneShare } from './goertzel.ts';
export {
  type RtpAudioPeer,
  RtpAudioSession,
  type RtpAudioSessionOptions,
  type RtpSampleSource,
} from './rtp-audio-session.ts';
export { G711_PAYLOAD_TYPE, parseRtpPacket, type RtpPacket, serializeRtpPacket } from './rtp-packet.ts';
