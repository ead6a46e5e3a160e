/**
 * @module webhooks/webhook-tables
 * Row types of the webhook tables (migration 0002-webhooks), merged into the store's schema so the
 * same Kysely instance types them. Conventions as in store/schema: text ids, integer milliseconds,
 * 0/1 booleans, JSON as text.
 */

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  description: string | null;
  /** Event types the endpoint wants; `[]` means every type. */
  event_types_json: string;
  /** Our numbers the endpoint wants events of (either side of the fax); `[]` means all. */
  numbers_json: string;
  secret: string;
  /** The secret before the last rotation; still signed with until `previous_secret_until`. */
  previous_secret: string | null;
  previous_secret_until: number | null;
  enabled: number;
  disabled_reason: string | null;
  /** Since when every attempt has failed; null after a success. */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookFaxCursorsTable {
  fax_id: string;
  sequence: number;
  updated_at: number;
}

export interface WebhookFanoutStateTable {
  id: number;
  watermark: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  fax_id: string | null;
  sequence: number | null;
  ordered: number;
  dedupe_key: string | null;
  /** The exact bytes sent on every attempt, so a retry's signature covers the same body. */
  body: string;
  state: WebhookDeliveryState;
  attempts: number;
  next_attempt_at: number;
  locked_by: string | null;
  locked_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  outcome: string;
  status: number | null;
  response_body: string | null;
  error: string | null;
}

declare module '../store/schema.ts' {
  interface DatabaseSchema {
    webhook_endpoints: WebhookEndpointsTable;
    webhook_fax_cursors: WebhookFaxCursorsTable;
    webhook_fanout_state: WebhookFanoutStateTable;
    webhook_deliveries: WebhookDeliveriesTable;
    webhook_attempts: WebhookAttemptsTable;
  }
}
