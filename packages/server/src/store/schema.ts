/**
 * @module store/schema
 * Row types of every table, as Kysely sees them. Dialect-neutral on purpose: ids are text, times are
 * integer milliseconds since the epoch, booleans are 0/1 integers and JSON is text, so one set of
 * queries runs on SQLite and PostgreSQL alike.
 */

export interface AccountsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  name: string;
  /** The first characters of the key, shown so people can tell keys apart; never enough to use. */
  prefix: string;
  /** SHA-256 of the whole key, hex. Keys are high-entropy, so a plain hash is enough. */
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface NumbersTable {
  id: string;
  e164: string;
  account_id: string;
  inbound_enabled: number;
  /** The called subscriber identification this number answers with (T.30 §5.3.6.2.4, CSI). */
  csi: string | null;
  label: string | null;
  created_at: number;
  updated_at: number;
}

export interface FaxesTable {
  id: string;
  account_id: string;
  direction: 'outbound' | 'inbound';
  status: string;
  to_number: string;
  from_number: string;
  page_count: number | null;
  pages_transferred: number;
  resolution: string;
  priority: string;
  header_text: string | null;
  cover_json: string | null;
  retry_count: number;
  retry_delay_s: number;
  attempts: number;
  send_at: number | null;
  failure_code: string | null;
  failure_retryable: number | null;
  failure_message: string | null;
  bit_rate: number | null;
  ecm: number | null;
  compression: string | null;
  line_resolution: string | null;
  remote_ident: string | null;
  metadata_json: string;
  idempotency_key: string | null;
  idempotency_hash: string | null;
  /** Last `fax_events.sequence` handed out; bumped in the same statement that reserves the next one. */
  event_seq: number;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  deleted_at: number | null;
}

export interface FaxDocumentsTable {
  id: string;
  fax_id: string;
  position: number;
  content_type: string;
  byte_size: number;
  sha256: string;
  filename: string | null;
  page_count: number | null;
  blob_key: string | null;
  created_at: number;
}

export interface FaxPagesTable {
  fax_id: string;
  n: number;
  blob_key: string | null;
  rows: number;
  bad_rows: number;
  received_at: number;
}

export interface FaxEventsTable {
  id: string;
  fax_id: string;
  sequence: number;
  type: string;
  data_json: string;
  created_at: number;
}

export interface JobsTable {
  id: string;
  kind: string;
  payload_json: string;
  /** 'pending' (waiting or running) or 'dead' (out of attempts, kept for inspection). */
  state: 'pending' | 'dead';
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: number | null;
  group_key: string | null;
  unique_key: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** A one-time setup step that has been done (migration 0004); `step` is unique. */
export interface BootstrapStepsTable {
  step: string;
  account_id: string | null;
  created_at: number;
}

/** Bytes of a blob written with the rows that name it, until the flusher moves them to the blob store. */
export interface BlobSpoolTable {
  key: string;
  /** As the blob store would keep them: sealed when blobs are encrypted at rest. */
  bytes: Uint8Array;
  created_at: number;
}

export interface DatabaseSchema {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  numbers: NumbersTable;
  faxes: FaxesTable;
  fax_documents: FaxDocumentsTable;
  fax_pages: FaxPagesTable;
  fax_events: FaxEventsTable;
  jobs: JobsTable;
  bootstrap_steps: BootstrapStepsTable;
  blob_spool: BlobSpoolTable;
}
