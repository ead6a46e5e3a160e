/**
 * @module
 * The events Faxwire emits, as webhooks and on live streams. Payloads are thin: ids, numbers, statuses, your
 * metadata and page facts, never page content or document names; fetch the page itself from `data.pageUrl`.
 * `fax.page.progress` is sent on live streams only (never as a webhook), has no id and is not stored.
 */

export type FaxEventType =
  | 'fax.queued'
  | 'fax.media.processed'
  | 'fax.sending.started'
  | 'fax.page.sent'
  | 'fax.delivered'
  | 'fax.failed'
  | 'fax.canceled'
  | 'fax.receiving.started'
  | 'fax.page.received'
  | 'fax.received'
  | 'fax.page.progress';

export interface FaxEventData {
  readonly faxId: string;
  /** Gap-free, per fax, starting at 1: order events of one fax by it. Progress repeats the last one. */
  readonly sequence: number;
  readonly status: string;
  readonly direction: 'inbound' | 'outbound';
  readonly from: string;
  readonly to: string;
  /** The metadata you gave the fax (empty for inbound faxes and once a fax is deleted). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Page events (`fax.page.sent`, `fax.page.received`, `fax.page.progress`): the page number, from 1. */
  readonly page?: number;
  /** Path of the page on the API (`GET` it with `?format=tiff|png|pdf`). */
  readonly pageUrl?: string;
  /** Pixels per row. */
  readonly width?: number | null;
  /** Rows of the page; for `fax.page.progress`, the rows received so far. */
  readonly rows?: number;
  readonly resolution?: 'standard' | 'fine' | 'superfine' | null;
  /** Rows that failed to decode and were repaired (T.4 error recovery); 0 with ECM. */
  readonly badRows?: number;
  /** Bytes of the stored page (TIFF). */
  readonly size?: number | null;
  /** `fax.page.progress`: always true, the page is still arriving. */
  readonly partial?: boolean;
  /** `fax.media.processed`, `fax.delivered`, `fax.received`, `fax.failed`: pages rendered or transferred. */
  readonly pageCount?: number;
  /** `fax.sending.started`: this attempt; `fax.queued` after a retryable failure: the next attempt. */
  readonly attempt?: number;
  /** `fax.failed`, and `fax.queued` when it is a retry: why. */
  readonly failure?: { readonly code: string; readonly retryable: boolean; readonly message: string };
}

export interface FaxwireEvent {
  readonly id: string;
  readonly type: FaxEventType;
  readonly timestamp: string;
  readonly data: FaxEventData;
}
