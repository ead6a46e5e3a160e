/**
 * @module events/fax-event
 * What an event is, on every channel (webhooks, live streams, the JSON list): the envelope
 * `{ id, type, timestamp, data }` with camelCase `data` — the fax's ids, numbers, status and metadata
 * and, for page events, the page's facts and URL path; never page content or document names.
 * `fax.page.progress` is transient: published live while a page arrives, never stored, never a webhook.
 */
import './event-tables.ts';
import type { FaxEventsTable } from '../store/schema.ts';

export type StoredFaxEventType =
  | 'fax.queued'
  | 'fax.media.processed'
  | 'fax.sending.started'
  | 'fax.page.sent'
  | 'fax.delivered'
  | 'fax.failed'
  | 'fax.canceled'
  | 'fax.receiving.started'
  | 'fax.page.received'
  | 'fax.received';

export type FaxEventType = StoredFaxEventType | 'fax.page.progress';

export const STORED_FAX_EVENT_TYPES: readonly StoredFaxEventType[] = [
  'fax.queued',
  'fax.media.processed',
  'fax.sending.started',
  'fax.page.sent',
  'fax.delivered',
  'fax.failed',
  'fax.canceled',
  'fax.receiving.started',
  'fax.page.received',
  'fax.received',
];

export interface FaxEventData {
  readonly faxId: string;
  /** Per fax, from 1, gap-free. A transient event repeats the sequence of the fax's last stored event. */
  readonly sequence: number;
  readonly status: string;
  readonly direction: 'inbound' | 'outbound';
  readonly from: string;
  readonly to: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Page events: the page's facts (PageFacts); `fax.page.progress` has `rows` so far and `partial`. */
  readonly page?: number;
  readonly width?: number | null;
  readonly rows?: number;
  readonly resolution?: string | null;
  readonly badRows?: number;
  readonly size?: number | null;
  readonly pageUrl?: string;
  readonly partial?: boolean;
  /** `fax.media.processed`, `fax.delivered`, `fax.received`, `fax.failed`: pages rendered or transferred. */
  readonly pageCount?: number;
  /** `fax.sending.started`: this attempt; `fax.queued` after a retryable failure: the next one. */
  readonly attempt?: number;
  /** `fax.failed`, and `fax.queued` when it is a retry: why (an entry of the failure taxonomy). */
  readonly failure?: { readonly code: string; readonly retryable: boolean; readonly message: string };
}

/** The facts of one page, as page events carry them. */
export type PageFacts = {
  readonly page: number;
  readonly width: number | null;
  readonly rows: number;
  readonly resolution: string | null;
  readonly badRows: number;
  /** Bytes of the stored page (one-page TIFF). */
  readonly size: number | null;
  /** Path of the page on the API: GET it with `?format=tiff|png|pdf`. */
  readonly pageUrl: string;
};

export interface FaxEventEnvelope {
  /** `evt_…`; the same id on every channel and delivery attempt. */
  readonly id: string;
  readonly type: FaxEventType;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly data: FaxEventData;
}

/** An event as the bus and the streams carry it. */
export interface BusEvent {
  readonly accountId: string;
  readonly faxId: string;
  /**
   * Position in the account's stream (gap-free, commit-ordered); null for a transient event; 0 for a
   * stored event whose position is handed out after its commit (PostgreSQL: events/account-sequencer.ts).
   */
  readonly accountSequence: number | null;
  /**
   * A repeat of a stored event already published, now with its account position: only account
   * streams take it (EventFilter `accountPositions`).
   */
  readonly positionOnly?: boolean;
  readonly envelope: FaxEventEnvelope;
}

export function isTransient(event: BusEvent): boolean {
  return event.accountSequence === null;
}

export function pageUrl(faxId: string, page: number): string {
  return `/v1/faxes/${faxId}/pages/${page}`;
}

export function eventFromRow(row: FaxEventsTable): BusEvent {
  return {
    accountId: row.account_id ?? '',
    faxId: row.fax_id,
    accountSequence: row.account_seq ?? 0,
    envelope: {
      id: row.id,
      type: row.type as StoredFaxEventType,
      timestamp: new Date(row.created_at).toISOString(),
      data: JSON.parse(row.data_json),
    },
  };
}
