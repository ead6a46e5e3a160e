/**
 * @module events/event-tables
 * The columns migration 0003-event-streams adds, merged into the store's row types so the same Kysely
 * instance types them. Nullable where rows written before the migration may lack them.
 */
import type { Generated } from 'kysely';

declare module '../store/schema.ts' {
  interface AccountsTable {
    /** Last `fax_events.account_seq` handed out in this account. */
    event_seq: Generated<number>;
  }
  interface FaxEventsTable {
    account_id: string | null;
    /** Gap-free and commit-ordered within the account: the live stream's resume point. */
    account_seq: number | null;
  }
  interface FaxPagesTable {
    /** Pixels per row. */
    width: number | null;
    resolution: string | null;
    /** Bytes of the stored one-page TIFF. */
    byte_size: number | null;
    /** Outbound: when the receiver confirmed the page (MCF); `received_at` is when it was rendered. */
    sent_at: number | null;
  }
}
