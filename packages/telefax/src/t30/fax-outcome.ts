/**
 * @module
 * How a fax call ends: one typed outcome and one failure taxonomy for every T.30 failure.
 */

import type { FaxResolution } from '../image/bilevel-page.ts';
import type { FaxCompression, PageWidth } from './dis-dcs.ts';
import type { FaxModem } from './t30-port.ts';

export type FaxFailureReason =
  /** Nothing at all came from the far end during T1. */
  | 'no_answer'
  /** The far end sent something, but never a T.30 frame. */
  | 'fax_not_detected'
  /** No common mode (modems, resolution, width), or the remote chose a mode we do not support. */
  | 'negotiation_failed'
  /** TCF failed at every rate both sides have. */
  | 'training_failed'
  /**
   * A page was rejected (RTN/PIN) too often: sending, the receiver rejected it 3 times; receiving, the sender
   * sent it again, bad, after we had rejected it 3 times.
   */
  | 'page_rejected'
  /** The far end sent DCN before the transfer was complete. */
  | 'remote_disconnected'
  /** A command was sent three times without any response (T4). */
  | 'no_response'
  | 'timeout_t1'
  | 'timeout_t2'
  | 'timeout_t5'
  /** ECM could not deliver a block (EOR/ERR, or retransmissions exhausted). */
  | 'ecm_failed'
  /** A response or command that makes no sense in the current state. */
  | 'invalid_response'
  /** The page source failed, or a page cannot be coded or sent with the negotiated mode. */
  | 'document_error'
  /** The onPage hook failed: the page could not be made durable, so it must not be confirmed. */
  | 'storage_failed'
  /** The call ran past its backstop (maxCallMs) without ending: a far end that never stops talking. */
  | 'call_timeout'
  | 'canceled'
  | 'transport_closed'
  /** A bug: an unexpected exception inside the engine. */
  | 'internal_error';

export type T30Phase = 'A' | 'B' | 'C' | 'D' | 'E';

/** The line parameters as negotiated (the last DCS in force). */
export interface NegotiatedLine {
  readonly modem: FaxModem;
  readonly bitRate: number;
  readonly ecm: boolean;
  readonly compression: FaxCompression;
  readonly resolution: FaxResolution;
  readonly width: PageWidth;
}

/** What both kinds of outcome report. */
export interface FaxOutcomeCommon {
  /** Pages confirmed: MCF/RTP received (sending) or pages accepted and stored (receiving). */
  readonly pages: number;
  readonly line: NegotiatedLine | null;
  /** CSI (when we called) or TSI (when we answered) of the far end. */
  readonly remoteIdent: string | null;
  /** SUB, SID and PWD the far end sent, if any. */
  readonly remoteSubaddress: string | null;
  readonly remoteSenderId: string | null;
  /** Milliseconds from the start of the call to each page's confirmation. */
  readonly pageDoneMs: readonly number[];
  readonly durationMs: number;
}

export type FaxOutcome =
  | ({ readonly ok: true } & FaxOutcomeCommon)
  | ({
      readonly ok: false;
      readonly reason: FaxFailureReason;
      readonly phase: T30Phase;
      readonly message: string;
    } & FaxOutcomeCommon);

/** Thrown inside the engine to end the call; the session turns it into a FaxOutcome. */
export class T30Failure extends Error {
  readonly reason: FaxFailureReason;
  readonly phase: T30Phase;
  constructor(reason: FaxFailureReason, phase: T30Phase, message: string) {
    super(message);
    this.name = 'T30Failure';
    this.reason = reason;
    this.phase = phase;
  }
}
