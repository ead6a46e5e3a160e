/**
 * @module
 * The events Faxwire emits, as webhooks and on live streams. Payloads are thin: ids, numbers, statuses and page
 * facts, never page content or document names; fetch the page itself from `data.pageUrl`.
 */

export type FaxEventType =
  | 'fax.queued'
  | 'fax.media.processed'
  | 'fax.sending.started'
  | 'fax.page.sent'
  | 'fax.delivered'
  | 'fax.failed'
  | 'fax.receiving.started'
  | 'fax.page.received'
  | 'fax.received'
  | 'fax.page.progress';

export interface FaxEventData {
  readonly faxId: string;
  /** Gap-free, per fax, starting at 1: order events of one fax by it. */
  readonly sequence: number;
  readonly status: string;
  readonly direction: 'inbound' | 'outbound';
  readonly from: string;
  readonly to: string;
  readonly metadata?: Record<string, unknown>;
  readonly page?: number;
  readonly pageUrl?: string;
  readonly width?: number;
  readonly rows?: number;
  readonly resolution?: 'standard' | 'fine' | 'superfine';
  readonly badRows?: number;
  readonly failure?: { readonly code: string; readonly retryable: boolean; readonly message: string };
}

export interface FaxwireEvent {
  readonly id: string;
  readonly type: FaxEventType;
  readonly timestamp: string;
  readonly data: FaxEventData;
}
