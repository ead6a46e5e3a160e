/**
 * @module webhooks/webhook-payload
 * The body of a webhook: a thin envelope `{ id, type, timestamp, data }` (Standard Webhooks'
 * recommended shape) whose `data` says which fax, where it is in the fax's event sequence, its status
 * and parties, the client's metadata and, for page events, facts about the page. Never page content.
 * Built from the stored event and fax row, so it reads the same whether the log stores `data` in
 * snake_case or camelCase.
 */
import type { FaxEventsTable, FaxesTable } from '../store/schema.ts';

export interface WebhookEnvelope {
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type PayloadFax = Pick<FaxesTable, 'id' | 'direction' | 'from_number' | 'to_number' | 'metadata_json'>;
export type PayloadEvent = Pick<FaxEventsTable, 'id' | 'type' | 'sequence' | 'data_json' | 'created_at'>;

/** What the store knows about a received page, merged into page events that do not carry it yet. */
export interface PageFacts {
  readonly rows: number;
  readonly badRows: number;
}

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const BASE_FIELDS = new Set(['faxId', 'sequence', 'status']);

export function faxEventEnvelope(event: PayloadEvent, fax: PayloadFax, page?: PageFacts): WebhookEnvelope {
  const stored = JSON.parse(event.data_json) as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stored)) {
    const name = camel(key);
    if (!BASE_FIELDS.has(name)) extra[name] = value;
  }
  if (page) {
    extra.rows ??= page.rows;
    extra.badRows ??= page.badRows;
  }
  return {
    id: event.id,
    type: event.type,
    timestamp: new Date(event.created_at).toISOString(),
    data: {
      faxId: fax.id,
      sequence: event.sequence,
      status: stored.status ?? null,
      direction: fax.direction,
      from: fax.from_number,
      to: fax.to_number,
      metadata: JSON.parse(fax.metadata_json),
      ...extra,
    },
  };
}
