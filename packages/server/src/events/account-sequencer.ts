/**
 * @module events/account-sequencer
 * Hands out account stream positions (`fax_events.account_seq`) after the events commit, on
 * PostgreSQL. An event-writing transaction there leaves the position empty instead of taking it from
 * the account row, whose lock it would otherwise hold through its commit (every write of an account
 * one after another, each waiting for the WAL flush of the one before). The sequencer then numbers
 * whatever committed without a position, many events in one short transaction: it locks the accounts
 * concerned (sequencers of other processes wait there and then find those events done), reads their
 * events still without a position — every committed one, since under READ COMMITTED each statement
 * sees all commits before it — and numbers them from the account's last position on, keeping each
 * fax's events in their own order. Positions so stay gap-free and never reused, and a position
 * handed out is durable before any stream shows it.
 *
 * After the commit the events are published again, with their positions, for the account streams
 * only (`BusEvent.positionOnly`). `writeWithEvents` waits for the run that follows its commit, so a
 * read of the account's log after a write sees it; a run that fails leaves the events to the next
 * one, which the periodic sweep guarantees even after a crash between a commit and its run.
 */
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/database.ts';
import { perDatabase } from '../store/per-database.ts';
import type { FaxEventsTable } from '../store/schema.ts';
import { eventBusOf } from './event-bus.ts';
import { eventFromRow } from './fax-event.ts';

/** Waiting events taken per transaction (with the rest of their faxes'); more wait for the next, at once. */
const BATCH = 1000;

export class AccountSequencer {
  readonly #database: Database;
  #running: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  #sweep: NodeJS.Timeout | null = null;
  #logger: Logger | undefined;

  readonly #batch: number;

  constructor(database: Database, options: { batch?: number } = {}) {
    this.#database = database;
    this.#batch = options.batch ?? BATCH;
  }

  /**
   * Numbers every event committed before this call (and any others waiting). Resolves when done, or
   * when the run failed (logged; the next run or sweep numbers them); never rejects, since the write
   * whose events these are has committed already.
   */
  sequence(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#startRun();
    // The run in progress may have read before this caller's commit: one more after it, shared by
    // every caller that arrives meanwhile.
    this.#queued = this.#running.then(() => {
      this.#queued = null;
      return this.#startRun();
    });
    return this.#queued;
  }

  /** Numbers leftovers now and every `intervalMs` (events of a process that died after its commit). */
  startSweeps(options: { intervalMs?: number; logger?: Logger } = {}): void {
    this.#logger = options.logger;
    if (this.#sweep) return;
    void this.sequence();
    this.#sweep = setInterval(() => void this.sequence(), options.intervalMs ?? 5_000);
    this.#sweep.unref();
  }

  /** Stops the sweeps and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
    await this.#queued;
    await this.#running;
  }

  #startRun(): Promise<void> {
    const run = this.#runAll()
      .catch((error: unknown) => {
        this.#logger?.warn({ err: error }, 'numbering account events failed; the next run retries');
      })
      .finally(() => {
        if (this.#running === run) this.#running = null;
      });
    this.#running = run;
    return run;
  }

  async #runAll(): Promise<void> {
    while (await this.#runOnce()) {}
  }

  /**
   * One transaction: numbers the events of up to BATCH waiting ones' faxes, then publishes them.
   * @returns whether more may be waiting.
   */
  async #runOnce(): Promise<boolean> {
    const database = this.#database;
    let more = false;
    const numbered = await database.writeTransaction(
      async (trx) => {
        const waiting = await trx
          .selectFrom('fax_events')
          .select(['account_id', 'fax_id'])
          .where('account_seq', 'is', null)
          .where('account_id', 'is not', null)
          .orderBy('created_at')
          .limit(this.#batch)
          .execute();
        more = waiting.length === this.#batch;
        const accountIds = [...new Set(waiting.map((r) => r.account_id!))].sort();
        if (accountIds.length === 0) return [];
        let lockAccounts = trx
          .selectFrom('accounts')
          .select(['id', 'event_seq'])
          .where('id', 'in', accountIds)
          .orderBy('id');
        if (database.engine === 'postgres') lockAccounts = lockAccounts.forUpdate();
        const accounts = await lockAccounts.execute();
        // Read again under the locks: another sequencer may have numbered some meanwhile. Every
        // unnumbered event of those faxes, so none of a fax's events is left for a later batch while a
        // later one of the same fax is numbered now (created_at comes from the writers' clocks).
        const events = await trx
          .selectFrom('fax_events')
          .selectAll()
          .where('account_seq', 'is', null)
          .where('fax_id', 'in', [...new Set(waiting.map((r) => r.fax_id))])
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        if (events.length === 0) return [];
        const last = new Map(accounts.map((a) => [a.id, a.event_seq]));
        const rows = numberEvents(events, last);
        const values = (pairs: [string, number][]) =>
          sql.join(pairs.map(([id, n]) => sql`(${id}, cast(${n} as integer))`));
        await sql`with v(id, n) as (values ${values(rows.map((r) => [r.id, r.account_seq!]))})
          update fax_events set account_seq = v.n from v where fax_events.id = v.id`.execute(trx);
        await sql`with v(id, n) as (values ${values([...last])})
          update accounts set event_seq = v.n from v where accounts.id = v.id`.execute(trx);
        return rows;
      },
      { priority: true },
    );
    const bus = eventBusOf(database);
    for (const row of numbered) bus.publish({ ...eventFromRow(row), positionOnly: true });
    return more;
  }
}

/**
 * Numbers `events` (in the order they should appear) per account after the positions in `last`,
 * which it moves on; a fax's events take the positions its events got in that order, sorted by their
 * sequence, so a fax never appears out of its own order. @returns the events, numbered, by position.
 */
export function numberEvents(events: readonly FaxEventsTable[], last: Map<string, number>): FaxEventsTable[] {
  const slots = new Map<string, number[]>();
  const ofFax = new Map<string, FaxEventsTable[]>();
  for (const event of events) {
    const account = event.account_id!;
    const position = (last.get(account) ?? 0) + 1;
    last.set(account, position);
    (slots.get(event.fax_id) ?? slots.set(event.fax_id, []).get(event.fax_id)!).push(position);
    (ofFax.get(event.fax_id) ?? ofFax.set(event.fax_id, []).get(event.fax_id)!).push(event);
  }
  const numbered: FaxEventsTable[] = [];
  for (const [faxId, faxEvents] of ofFax) {
    const positions = slots.get(faxId)!;
    const inOrder = [...faxEvents].sort((a, b) => a.sequence - b.sequence);
    for (const [i, event] of inOrder.entries()) numbered.push({ ...event, account_seq: positions[i]! });
  }
  return numbered.sort((a, b) => a.account_seq! - b.account_seq!);
}

const sequencers = perDatabase((database) => new AccountSequencer(database));

/** The sequencer of `database` (one per database handle, so runs in a process are shared). */
export function accountSequencerOf(database: Database): AccountSequencer {
  return sequencers.of(database);
}

/**
 * Resolves once every event committed through `database` before the call has its account position
 * (on SQLite at once: there positions come with the transaction).
 */
export async function accountPositionsSettled(database: Database): Promise<void> {
  if (database.engine === 'postgres') await accountSequencerOf(database).sequence();
}
