/**
 * @module webhooks/account-endpoint-presence
 * Whether an account has an enabled webhook endpoint, remembered per process for a few seconds, so the
 * event transaction of an account without webhooks skips the fan-out step altogether. A stale answer
 * never loses an event: a skipped event keeps its fax's cursor behind, and the dispatcher's sweeps fan
 * it out from the store's current endpoints (an endpoint only takes events created after it, as
 * before). Changes made through webhook-endpoints in this process forget the account's entry at once;
 * changes made by another process are seen when the entry expires.
 */
import type { Database, Db } from '../store/database.ts';
import { perDatabase } from '../store/per-database.ts';

const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

export class AccountEndpointPresence {
  readonly #entries = new Map<string, { readonly has: boolean; readonly until: number }>();
  /** Bumped by every invalidation, so a lookup that raced one does not store its older answer. */
  #generation = 0;

  /** The cached answer, if fresh. */
  peek(accountId: string, now: number = Date.now()): boolean | undefined {
    const entry = this.#entries.get(accountId);
    return entry && entry.until > now ? entry.has : undefined;
  }

  /** Whether `accountId` has an enabled endpoint; reads through `db` when the cache has no fresh answer. */
  async has(db: Db, accountId: string, now: number = Date.now()): Promise<boolean> {
    const cached = this.peek(accountId, now);
    if (cached !== undefined) return cached;
    const generation = this.#generation;
    const row = await db
      .selectFrom('webhook_endpoints')
      .select('id')
      .where('account_id', '=', accountId)
      .where('enabled', '=', 1)
      .limit(1)
      .executeTakeFirst();
    const has = row !== undefined;
    if (generation === this.#generation) {
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
      this.#entries.set(accountId, { has, until: now + TTL_MS });
    }
    return has;
  }

  /** After an endpoint of `accountId` was created, changed or deleted (and committed). */
  invalidate(accountId: string): void {
    this.#generation++;
    this.#entries.delete(accountId);
  }
}

const byDatabase = perDatabase(() => new AccountEndpointPresence());

/** The one cache of `database` in this process, shared by the API and the dispatcher. */
export function accountEndpointPresence(database: Database): AccountEndpointPresence {
  return byDatabase.of(database);
}
