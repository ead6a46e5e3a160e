/**
 * @module
 * The T.30 engine: one fax call over a T30Port (T.38, or a memory pair in tests), its frames and its outcome.
 */

export type {
  DcsParameters,
  EcmFrameSize,
  FaxCapabilities,
  FaxCompression,
  ModemFamily,
  PageLength,
  PageWidth,
} from './dis-dcs.ts';
export { decodeDcs, decodeDis, defaultCapabilities, encodeDcs, encodeDis, negotiate } from './dis-dcs.ts';
export type { FaxFailureReason, FaxOutcome, NegotiatedLine, T30Phase } from './fax-outcome.ts';
export { Fcf, fcfName } from './fcf.ts';
export { buildFrame, type HdlcFrame, parseFrame } from './hdlc-frame.ts';
export { decodeIdent, encodeIdent } from './ident.ts';
export { createMemoryPortPair, MemoryPort } from './memory-port-pair.ts';
export type { PageCodec, PageStreamDecoder } from './page-codec.ts';
export type { OutgoingPage } from './page-feed.ts';
export {
  AUDIO_RATE_FALLBACK,
  PACKET_RATE_FALLBACK,
  type RateFallbackCounts,
  type RateFallbackPolicy,
} from './rate-fallback.ts';
export type { PageProgress, ReceivedPageInfo, T30TraceEntry } from './t30-context.ts';
export type { FaxModem, FaxTone, LineMedium, PortEvent, T30Port } from './t30-port.ts';
export { runT30Session, T30Session, type T30SessionEvents, type T30SessionOptions } from './t30-session.ts';
export { DEFAULT_TIMERS, type T30Timers } from './timers.ts';
