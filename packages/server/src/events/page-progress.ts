/**
 * @module events/page-progress
 * Pages still arriving, in memory: the rows decoded so far of each page a line is receiving, for the
 * partial preview (`GET …/pages/{n}?format=png` while the page arrives) and the transient
 * `fax.page.progress` event, published at most once per `minIntervalMs` per page.
 *
 * `report` is synchronous and allocation-light, because the line calls it between rows: it keeps a
 * reference to the caller's page (no copy), and the one database read it needs (the fax's numbers for
 * the event) happens once per fax, off the line's path. Bounded: at most `maxPages` pages are kept
 * (oldest dropped), a page is dropped when it completes (`pageDone`) or its fax ends (`faxDone`), and
 * an entry not updated for `staleMs` is dropped on the next report.
 */
import type { BilevelPage } from 'telefax/image/bilevel-page';
import { resolutionOf } from 'telefax/image/bilevel-page';
import type { Database } from '../store/database.ts';
import { perDatabase } from '../store/per-database.ts';
import { eventBusOf } from './event-bus.ts';
import { type BusEvent, type FaxEventData, pageUrl } from './fax-event.ts';

export interface PageProgressOptions {
  readonly minIntervalMs?: number;
  readonly maxPages?: number;
  readonly staleMs?: number;
  readonly now?: () => number;
}

/** A page's rows so far; `rows` of `page.data` are valid. */
export interface PartialPage {
  readonly faxId: string;
  readonly pageNumber: number;
  readonly rows: number;
  readonly page: BilevelPage;
  readonly updatedAt: number;
}

interface Entry {
  faxId: string;
  pageNumber: number;
  page: BilevelPage;
  updatedAt: number;
  lastPublishedAt: number;
  publishPending: boolean;
}

interface FaxFacts {
  readonly accountId: string;
  readonly base: Omit<FaxEventData, 'sequence'>;
  sequence: number;
}

const key = (faxId: string, n: number) => `${faxId}#${n}`;

export class PageProgress {
  readonly #database: Database;
  readonly #minIntervalMs: number;
  readonly #maxPages: number;
  readonly #staleMs: number;
  readonly #now: () => number;
  // Insertion order is age order: a Map iterates oldest first.
  readonly #pages = new Map<string, Entry>();
  readonly #faxes = new Map<string, FaxFacts | Promise<FaxFacts | null> | null>();
  published = 0;

  constructor(database: Database, options: PageProgressOptions = {}) {
    this.#database = database;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
    this.#maxPages = options.maxPages ?? 256;
    this.#staleMs = options.staleMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#pages.size;
  }

  report(faxId: string, pageNumber: number, page: BilevelPage): void {
    const now = this.#now();
    const k = key(faxId, pageNumber);
    let entry = this.#pages.get(k);
    if (entry) {
      entry.page = page;
      entry.updatedAt = now;
    } else {
      this.#dropStale(now);
      while (this.#pages.size >= this.#maxPages) {
        this.#pages.delete(this.#pages.keys().next().value!);
      }
      entry = {
        faxId,
        pageNumber,
        page,
        updatedAt: now,
        lastPublishedAt: Number.NEGATIVE_INFINITY,
        publishPending: false,
      };
      this.#pages.set(k, entry);
    }
    if (now - entry.lastPublishedAt >= this.#minIntervalMs && !entry.publishPending) {
      entry.lastPublishedAt = now;
      this.#publish(entry);
    }
  }

  get(faxId: string, pageNumber: number): PartialPage | undefined {
    const entry = this.#pages.get(key(faxId, pageNumber));
    if (!entry) return undefined;
    return { faxId, pageNumber, rows: entry.page.height, page: entry.page, updatedAt: entry.updatedAt };
  }

  /** The page is stored; `sequence` is that of its `fax.page.received`, which later progress repeats. */
  pageDone(faxId: string, pageNumber: number, sequence?: number): void {
    this.#pages.delete(key(faxId, pageNumber));
    const facts = this.#faxes.get(faxId);
    if (facts && !(facts instanceof Promise) && sequence !== undefined) {
      facts.sequence = Math.max(facts.sequence, sequence);
    }
  }

  faxDone(faxId: string): void {
    for (const [k, entry] of this.#pages) if (entry.faxId === faxId) this.#pages.delete(k);
    this.#faxes.delete(faxId);
  }

  #dropStale(now: number): void {
    for (const [k, entry] of this.#pages) {
      if (now - entry.updatedAt > this.#staleMs) {
        this.#pages.delete(k);
        this.#faxes.delete(entry.faxId);
      }
    }
  }

  #publish(entry: Entry): void {
    const cached = this.#faxes.get(entry.faxId);
    if (cached === null) return;
    if (cached && !(cached instanceof Promise)) {
      this.#emit(cached, entry);
      return;
    }
    entry.publishPending = true;
    const loading = cached ?? this.#loadFax(entry.faxId);
    this.#faxes.set(entry.faxId, loading);
    loading.then(
      (facts) => {
        entry.publishPending = false;
        if (this.#faxes.get(entry.faxId) === loading) this.#faxes.set(entry.faxId, facts);
        if (facts && this.#pages.get(key(entry.faxId, entry.pageNumber)) === entry) this.#emit(facts, entry);
      },
      () => {
        entry.publishPending = false;
        if (this.#faxes.get(entry.faxId) === loading) this.#faxes.delete(entry.faxId);
      },
    );
  }

  async #loadFax(faxId: string): Promise<FaxFacts | null> {
    const fax = await this.#database.db
      .selectFrom('faxes')
      .select(['account_id', 'direction', 'status', 'from_number', 'to_number', 'metadata_json', 'event_seq'])
      .where('id', '=', faxId)
      .executeTakeFirst();
    if (!fax) return null;
    return {
      accountId: fax.account_id,
      sequence: fax.event_seq,
      base: {
        faxId,
        status: fax.status,
        direction: fax.direction,
        from: fax.from_number,
        to: fax.to_number,
        metadata: JSON.parse(fax.metadata_json),
      },
    };
  }

  #emit(facts: FaxFacts, entry: Entry): void {
    const now = this.#now();
    const event: BusEvent = {
      accountId: facts.accountId,
      faxId: entry.faxId,
      accountSequence: null,
      envelope: {
        id: `prg_${entry.faxId.slice(4)}_${entry.pageNumber}_${entry.page.height}`,
        type: 'fax.page.progress',
        timestamp: new Date(now).toISOString(),
        data: {
          ...facts.base,
          sequence: facts.sequence,
          page: entry.pageNumber,
          rows: entry.page.height,
          width: entry.page.width,
          resolution: resolutionOf(entry.page),
          partial: true,
          pageUrl: pageUrl(entry.faxId, entry.pageNumber),
        },
      },
    };
    this.published++;
    eventBusOf(this.#database).publish(event);
  }
}

const stores = perDatabase((database) => new PageProgress(database));

/** The pages in progress of everything received through `database`, in this process. */
export function pageProgressOf(database: Database): PageProgress {
  return stores.of(database);
}

/** Replaces the store of `database` (tests use it to set the interval and clock). */
export function setPageProgress(database: Database, store: PageProgress): void {
  stores.set(database, store);
}
