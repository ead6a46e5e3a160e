/**
 * @module domain/fax-line
 * The seam to the lines (src/lines/, the loopback carrier and SIP trunks): the `fax.send` job hands a
 * fax and its pages to a FaxLine and gets back how the call ended. A server started without a line
 * registers no `fax.send` handler, so outbound faxes stay `queued` until a process with a line runs.
 */
import type { BilevelPage } from 'telefax/image/bilevel-page';
import type { FailureCode } from './failure-taxonomy.ts';

export interface OutboundFaxCall {
  readonly faxId: string;
  readonly accountId: string;
  readonly to: string;
  readonly from: string;
  readonly resolution: 'standard' | 'fine' | 'superfine';
  /** Text of the page header line (T.30 sends TSI separately; this is printed on each page). */
  readonly headerText: string | null;
  /** Total pages, when the renderer knows it before the first page is ready. */
  readonly pageCount: number | null;
  /** 1 for the first attempt, counting retries. */
  readonly attempt: number;
}

/** What a line learnt about the session (T.30 §5.3.6, DCS), for the fax record. */
export interface NegotiatedLine {
  readonly bitRate?: number;
  readonly ecm?: boolean;
  readonly compression?: 'mh' | 'mr' | 'mmr';
  readonly resolution?: 'standard' | 'fine' | 'superfine';
  /** The far end's CSI, as it sent it. */
  readonly remoteIdent?: string;
}

export type SendOutcome =
  | ({ readonly status: 'delivered'; readonly pagesSent: number } & NegotiatedLine)
  | ({
      readonly status: 'failed';
      readonly failure: FailureCode;
      /** A more specific message than the taxonomy's; never page content or numbers. */
      readonly message?: string;
      readonly pagesSent: number;
    } & NegotiatedLine);

export interface FaxLineProgress {
  /** Called when the receiver confirmed a page (MCF, T.30 §5.3.6.1.7). */
  pageSent(pageNumber: number): Promise<void> | void;
  /** Called once the call is answered and negotiation is done. */
  sendingStarted(line: NegotiatedLine): Promise<void> | void;
}

export interface FaxLine {
  /**
   * Places the call and sends `pages` as they come. Must resolve (not throw) for every failure the
   * taxonomy knows; a thrown error counts as `internal_error`. Stops promptly when `signal` aborts.
   */
  send(
    call: OutboundFaxCall,
    pages: AsyncIterable<BilevelPage>,
    progress: FaxLineProgress,
    signal: AbortSignal,
  ): Promise<SendOutcome>;
}
