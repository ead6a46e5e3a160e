/**
 * @module
 * What every state handler of a session shares: the port, options, timers, the state of the call, and the
 * primitives to send frames and to wait for the far end's frames and image data.
 */

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { BilevelPage } from '../image/bilevel-page.ts';
import type { DcsParameters, FaxCapabilities, FaxCompression } from './dis-dcs.ts';
import { type FaxFailureReason, type NegotiatedLine, T30Failure, type T30Phase } from './fax-outcome.ts';
import { Fcf, fcfName } from './fcf.ts';
import { buildFrame, type HdlcFrame, parseFrame } from './hdlc-frame.ts';
import { decodeIdent } from './ident.ts';
import type { DecodedPage, PageCodec } from './page-codec.ts';
import type { OutgoingPage, PageFeed } from './page-feed.ts';
import type { PageProgressTracker } from './page-progress-tracker.ts';
import {
  type CtcCount,
  type RateFallbackCounts,
  type RateFallbackPolicy,
  resolveRateFallback,
  type VerdictCounts,
} from './rate-fallback.ts';
import type { LineMedium, PortEvent, T30Port } from './t30-port.ts';
import type { T30Timers } from './timers.ts';

/** Facts about one received page handed to the onPage hook. */
export interface ReceivedPageInfo {
  /** 1-based number of the page within the call. */
  readonly pageNumber: number;
  readonly rows: number;
  /** Rows that failed to decode, plus the rows estimated lost with image data that never arrived. */
  readonly badRows: number;
  /** Non-ECM: octets of the page's data lost on the way (reported by the transport); 0 when all arrived. */
  readonly lostOctets: number;
  /**
   * The response the page gets once stored: MCF, or RTP for a page of poor but usable quality (also any page
   * with lost data, however little: MCF confirms only a page that arrived whole).
   */
  readonly quality: 'good' | 'poor';
  readonly line: NegotiatedLine;
}

/** A page still arriving, handed to the onPageProgress hook. */
export interface PageProgress {
  /** 1-based number of the page within the call. */
  readonly pageNumber: number;
  /** Rows decoded so far. */
  readonly rows: number;
  readonly width: number;
  /**
   * The rows so far (`height` = `rows`). Its data is a view of the buffer the page is decoded into: valid until
   * the hook returns; copy what must be kept.
   */
  readonly page: BilevelPage;
}

/** A trace entry: one frame or signal that went out ('tx') or came in ('rx'). */
export interface T30TraceEntry {
  readonly dir: 'tx' | 'rx';
  readonly what: string;
  readonly bytes?: Uint8Array;
  readonly atMs: number;
}

/** Events the state handlers raise; the session forwards them to its listeners. */
export interface SessionEvents {
  phaseB(line: NegotiatedLine): void;
  pageSent(pageNumber: number): void;
  pageReceived(page: BilevelPage, info: ReceivedPageInfo): void;
}

export interface T30SessionOptions {
  readonly port: T30Port;
  /** Which way the document goes. */
  readonly direction: 'send' | 'receive';
  /** We placed the call (CNG, wait for DIS) rather than answered it (CED, DIS). */
  readonly calling: boolean;
  readonly ident?: string;
  /** Sending: the pages; the next one may still be rendering while the current one goes out. */
  readonly pages?: AsyncIterable<OutgoingPage> | Iterable<OutgoingPage>;
  /** Receiving: called for each accepted page before MCF is sent; a throw ends the call with storage_failed. */
  readonly onPage?: (page: BilevelPage, info: ReceivedPageInfo) => Promise<void> | void;
  /**
   * Receiving: the rows of the page arriving so far, called while its data comes in (non-ECM: as it streams;
   * ECM: as frames arrive in order), after 64 new rows or 250 ms, whichever comes first; the last call has all
   * the page's rows and comes before onPage. Synchronous and best effort: not awaited, a throw is ignored.
   */
  readonly onPageProgress?: (progress: PageProgress) => void;
  /** Allow ECM (default true). */
  readonly ecm?: boolean;
  /** Best compression to use (default 'mmr'; MMR needs ECM, lower ones are used when the far end lacks it). */
  readonly compression?: FaxCompression;
  /** Highest signalling rate (default 14400). */
  readonly maxBitRate?: number;
  /**
   * Sending: when RTP, RTN (PIP/PIN) and FTT make the next training step one rate down, and whether a CTC (ECM)
   * names a lower rate (rate-fallback.ts). 'audio': at once, every time (spandsp's rule). 'packet': never after
   * RTP, on the second RTN or FTT at one rate, from the second CTC for a block on. Or counts per verdict.
   * Default: by the port's medium ('packet' for T.38, 'audio' otherwise).
   */
  readonly rateFallback?: LineMedium | RateFallbackCounts;
  readonly capabilities?: Partial<FaxCapabilities>;
  readonly timers?: Partial<T30Timers>;
  readonly signal?: AbortSignal;
  /** Sending: SUB and SID frames sent with DCS. */
  readonly subaddress?: string;
  readonly senderId?: string;
  /** Page coding (default: telefax/codec). */
  readonly codec?: PageCodec;
  /** Backstop for the whole call, however lively the far end (default 3 hours). */
  readonly maxCallMs?: number;
  /** Every frame in and out, for debugging and conformance checks. */
  readonly onTrace?: (entry: T30TraceEntry) => void;
}

/**
 * The session's states, named after the nodes of the T.30 flow charts (T.30 Figure 5-2, Annex A Figures A.7/A.8)
 * as spandsp names them: T and R enter phase B, D sends DCS and TCF, F_* are the receiver's states, I/II the
 * non-ECM transmitter's, I_ECM/IV the ECM transmitter's.
 */
export type T30State =
  | 'T'
  | 'R'
  | 'D'
  | 'D_POST_TCF'
  | 'F_TCF'
  | 'I'
  | 'II_Q'
  | 'I_ECM'
  | 'IV'
  | 'F_DOC_NON_ECM'
  | 'F_POST_DOC_NON_ECM'
  | 'F_DOC_ECM'
  | 'F_POST_EOP'
  | 'CALL_FINISHED';

export type StateHandler = (ctx: T30Context) => Promise<T30State>;

/** The transmitting side's state of the document. */
export interface TransmitState {
  feed: PageFeed | null;
  /** The page being sent (kept until confirmed, for retransmission after RTN). */
  page: BilevelPage | null;
  /** Its coded data for the current DCS. */
  pageData: Uint8Array | null;
  /** Pages started, 0-based, for the ECM page counter of PPS (T.30 §A.4.1). */
  ecmPageCounter: number;
  /** The page as ECM frames (each frameSize octets), blocks of 256. */
  ecmFrames: Uint8Array[];
  ecmBlock: number;
  /** Frames of the current block to (re)send; null = all. */
  ecmResend: number[] | null;
  pprCount: number;
  /** Times DCS/TCF was sent without an answer, or a post-page command was repeated. */
  tries: number;
  /** RTN/PIN responses for the current page. */
  rejections: number;
  /** RTP/RTN/FTT at the current rate, for the rate fallback policy. */
  verdicts: VerdictCounts;
  /** CTCs sent for the block being corrected, for the rate fallback policy. */
  ctc: CtcCount;
  /** Negotiate a new DCS for the next page (different resolution or width, after EOM). */
  renegotiate: boolean;
  sentCng: boolean;
}

/** The receiving side's state. */
export interface ReceiveState {
  sentCed: boolean;
  /** The frames DIS or DTC is sent with, set when phase B starts. */
  capsFrames: Uint8Array[] | null;
  /** Skip the first (re)send of capsFrames in state R: we just answered FTT or sent DTC. */
  waitBeforeSend: boolean;
  /** End of T1 for the phase B in progress. */
  t1At: number;
  /** The last post-message response sent, repeated when the command is repeated (our response was lost). */
  lastResponse: Uint8Array | null;
  /** RTN/PIN sent for the page being received (it has not been accepted yet). */
  rejections: number;
  /** Non-ECM: decoded page waiting for the post-page command. */
  decoded: DecodedPage | null;
  /** Non-ECM: data of that page lost on the way (octets) and the rows it is estimated to have held. */
  decodedLoss: { readonly octets: number; readonly rows: number };
  /** ECM: frames of the current block by frame number. */
  ecmFrames: Map<number, Uint8Array>;
  /** ECM: data of the completed blocks of the current page. */
  ecmPageChunks: Uint8Array[];
  /** The page arriving, decoded for onPageProgress; null when none is or nobody listens. */
  progress: PageProgressTracker | null;
  /** ECM: the last block confirmed, "page:block", so a repeated PPS is not taken twice. */
  ecmLastBlock: string | null;
  /** ECM: the block being corrected, "page:block", and its frame count from its first PPS. */
  ecmBlockInProgress: { readonly key: string; readonly frames: number } | null;
  /** EOP answered: the document is complete. */
  done: boolean;
}

/** A sequence of frames the far end sent in one carrier, up to and including the final frame. */
export type FramesResult =
  | { readonly kind: 'frames'; readonly frames: readonly HdlcFrame[] }
  | { readonly kind: 'timeout' };

/** Gap allowed between frames of one sequence, and the longest wait for a frame once flags are seen (T.30 §5.4.3.2). */
const MAX_FRAME_GAP_MS = 3_000;
/** Gap between modulations (T.30 §5.3.2.3 / Table B: 75 ± 20 ms). */
export const MODULATION_GAP_MS = 75;
/** A fax call longer than this is stuck, whatever T.30's timers say (a 100-page fax takes about 30 minutes). */
const DEFAULT_MAX_CALL_MS = 3 * 60 * 60 * 1000;
/** Waits are cut in slices this long so cancellation is noticed promptly. */
const WAIT_SLICE_MS = 200;

export class T30Context {
  readonly port: T30Port;
  readonly options: T30SessionOptions;
  readonly timers: T30Timers;
  readonly codec: PageCodec;
  readonly local: FaxCapabilities;
  readonly rateFallback: RateFallbackPolicy;
  readonly startedAt = Date.now();
  phase: T30Phase = 'A';

  /** We received DIS (so we set the X bit, T.30 §5.3.6.1.3). */
  receivedDis = false;
  remoteCaps: FaxCapabilities | null = null;
  remoteIdent: string | null = null;
  remoteSubaddress: string | null = null;
  remoteSenderId: string | null = null;
  dcs: DcsParameters | null = null;
  /** Pages confirmed so far. */
  pages = 0;
  pageDoneMs: number[] = [];
  /** Anything (tone, carrier, frame) heard from the far end: tells no_answer from fax_not_detected. */
  heardAnything = false;
  heardFrame = false;
  /** Frames received with a bad FCS (a live line even when no command got through). */
  damagedFrames = 0;
  /** The far end sent DCN: do not send our own. */
  remoteSentDcn = false;
  closed = false;
  readonly tx: TransmitState = {
    feed: null,
    page: null,
    pageData: null,
    ecmPageCounter: 0,
    ecmFrames: [],
    ecmBlock: 0,
    ecmResend: null,
    pprCount: 0,
    tries: 0,
    rejections: 0,
    verdicts: { modem: null, rtp: 0, rtn: 0, ftt: 0 },
    ctc: { block: null, count: 0 },
    renegotiate: false,
    sentCng: false,
  };
  readonly rx: ReceiveState = {
    sentCed: false,
    capsFrames: null,
    waitBeforeSend: false,
    t1At: 0,
    lastResponse: null,
    rejections: 0,
    decoded: null,
    decodedLoss: { octets: 0, rows: 0 },
    ecmFrames: new Map(),
    ecmPageChunks: [],
    ecmLastBlock: null,
    ecmBlockInProgress: null,
    progress: null,
    done: false,
  };
  /** Event sink of the session. */
  events: SessionEvents = { phaseB() {}, pageSent() {}, pageReceived() {} };
  /** Events read ahead by a handler and handed back to the next wait. */
  private readonly pushedBack: PortEvent[] = [];

  constructor(options: T30SessionOptions, timers: T30Timers, codec: PageCodec, local: FaxCapabilities) {
    this.port = options.port;
    this.options = options;
    this.timers = timers;
    this.codec = codec;
    this.local = local;
    this.rateFallback = resolveRateFallback(options.rateFallback, options.port);
  }

  fail(reason: FaxFailureReason, message: string): never {
    throw new T30Failure(reason, this.phase, message);
  }

  checkAborted(): void {
    if (this.options.signal?.aborted) this.fail('canceled', 'canceled by the caller');
  }

  elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  trace(dir: 'tx' | 'rx', what: string, bytes?: Uint8Array): void {
    this.options.onTrace?.({ dir, what, bytes, atMs: this.elapsedMs() });
  }

  line(): NegotiatedLine | null {
    const d = this.dcs;
    if (!d) return null;
    return {
      modem: d.modem,
      bitRate: d.bitRate,
      ecm: d.ecm,
      compression: d.compression,
      resolution: d.resolution,
      width: d.width,
    };
  }

  /** One frame for us to send, X bit set when we received DIS. */
  frame(fcf: number, fif?: Uint8Array, final = true): Uint8Array {
    return buildFrame(fcf, fif, { final, x: this.receivedDis });
  }

  /** Sends V.21 frames in one carrier after the gap between modulations. */
  async sendFrames(frames: readonly Uint8Array[]): Promise<void> {
    this.checkAborted();
    await this.transmitFrames(frames);
  }

  private async transmitFrames(frames: readonly Uint8Array[]): Promise<void> {
    if (this.closed) this.fail('transport_closed', 'the transport is closed');
    for (const f of frames) this.trace('tx', fcfName(f[2]), f);
    await this.port.sendSilence(MODULATION_GAP_MS);
    await this.port.sendHdlc('v21', frames);
  }

  /** Sends one final frame. */
  async send(fcf: number, fif?: Uint8Array): Promise<void> {
    await this.sendFrames([this.frame(fcf, fif)]);
  }

  /**
   * Drops what the far end sent before we issue a new command: in T.30's command/response exchange nothing queued
   * then can answer the command still to come (e.g. a CFR repeated for a DCS that crossed a repeated DIS).
   */
  async discardStale(): Promise<void> {
    for (;;) {
      const event = await this.port.receive(0);
      if (event === null) return;
      if (event.type === 'closed') {
        this.closed = true;
        this.fail('transport_closed', `transport closed: ${event.reason}`);
      }
      this.heardAnything = true;
      if (event.type === 'hdlc') {
        this.heardFrame = true;
        this.trace(
          'rx',
          `stale ${event.frame.length > 2 ? fcfName(event.frame[2]) : 'frame'} ignored`,
          event.frame,
        );
      }
    }
  }

  pushBack(event: PortEvent): void {
    this.pushedBack.push(event);
  }

  /** The next event before the deadline (ms since epoch), or null. Throws on cancel and on a closed transport. */
  async nextEvent(deadlineAt: number): Promise<PortEvent | null> {
    for (;;) {
      this.checkAborted();
      if (this.elapsedMs() > (this.options.maxCallMs ?? DEFAULT_MAX_CALL_MS)) {
        this.fail('call_timeout', 'the call exceeded its maximum duration');
      }
      const pushed = this.pushedBack.shift();
      const remaining = deadlineAt - Date.now();
      let event =
        pushed ?? (remaining > 0 ? await this.port.receive(Math.min(remaining, WAIT_SLICE_MS)) : null);
      if (event === null && Date.now() >= deadlineAt) {
        // The deadline may have passed while the event loop was busy elsewhere (a long decode, a page being
        // stored, other calls in the process), with the far end's datagrams already waiting to be read or
        // queued in the port: the timeout is real only if nothing arrived in time. Let pending I/O be read,
        // then take what is queued before giving up.
        await yieldToLoop();
        event = await this.port.receive(0);
        if (event === null) return null;
      }
      if (event === null) continue;
      if (event.type === 'closed') {
        this.closed = true;
        this.fail('transport_closed', `transport closed: ${event.reason}`);
      }
      if (!pushed) this.heardAnything = true;
      return event;
    }
  }

  /**
   * Waits up to timeoutMs for the far end to start a frame sequence, then reads it to its final frame. Frames with
   * a bad FCS are dropped (T.30 §5.4.2: a damaged command is not answered, the sender repeats it); image data and
   * tones in between are skipped.
   */
  async receiveFrames(timeoutMs: number): Promise<FramesResult> {
    const frames: HdlcFrame[] = [];
    let deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.nextEvent(deadline);
      if (event === null) return frames.length > 0 ? { kind: 'frames', frames } : { kind: 'timeout' };
      if (event.type === 'hdlc') {
        deadline = Math.max(deadline, Date.now() + Math.min(MAX_FRAME_GAP_MS, this.timers.t4));
        if (!event.fcsOk) {
          this.damagedFrames++;
          this.trace('rx', 'bad FCS', event.frame);
          continue;
        }
        const frame = parseFrame(event.frame);
        if (!frame) {
          this.trace('rx', 'not a T.30 frame', event.frame);
          continue;
        }
        this.heardFrame = true;
        this.trace('rx', fcfName(frame.rawFcf), event.frame);
        frames.push(frame);
        if (frame.final) return { kind: 'frames', frames };
      } else if (event.type === 'carrier-up' && event.modem === 'v21') {
        deadline = Math.max(deadline, Date.now() + Math.min(MAX_FRAME_GAP_MS, this.timers.t4));
      } else if (event.type === 'carrier-down' && frames.length > 0) {
        // A sequence cut short: use what arrived (some stations omit the final bit on their last frame).
        return { kind: 'frames', frames };
      } else if (event.type === 'tone') {
        this.trace('rx', event.tone);
      }
    }
  }

  /**
   * The command of a frame sequence: the last frame whose FCF is not an optional identification/info frame.
   * Also records the far end's ident, subaddress and sender id carried with it.
   */
  commandOf(frames: readonly HdlcFrame[]): HdlcFrame | null {
    let command: HdlcFrame | null = null;
    for (const f of frames) {
      if (OPTIONAL_FRAMES.has(f.command)) this.absorbOptional(f);
      else command = f;
    }
    if (command?.command === Fcf.DCN) this.remoteSentDcn = true;
    return command;
  }

  private absorbOptional(f: HdlcFrame): void {
    const text = () => decodeIdent(f.fif);
    switch (f.command) {
      case Fcf.CSI:
      case Fcf.TSI:
      case Fcf.CIG:
        this.remoteIdent = text();
        break;
      case Fcf.SUB:
        this.remoteSubaddress = text();
        break;
      case Fcf.SID:
        this.remoteSenderId = text();
        break;
    }
  }

  /** Sends DCN unless the far end already hung up or the transport is gone. */
  async sendDcn(): Promise<void> {
    if (this.remoteSentDcn || this.closed) return;
    try {
      // Also when canceled: DCN is how a cancellation reaches the far end.
      await this.transmitFrames([this.frame(Fcf.DCN)]);
    } catch {
      // The call is ending anyway.
    }
  }
}

/** Frames that accompany a command rather than being one (T.30 §5.3.6.2). */
const OPTIONAL_FRAMES = new Set<number>([
  Fcf.NSF,
  Fcf.NSC,
  Fcf.NSS,
  Fcf.CSI,
  Fcf.CIG,
  Fcf.TSI,
  Fcf.SUB,
  Fcf.SID,
  Fcf.PWD_POLL,
  Fcf.SEP,
  Fcf.PSA,
  Fcf.CIA,
  Fcf.ISP,
  Fcf.TSA,
  Fcf.IRA,
  Fcf.CSA,
]);
