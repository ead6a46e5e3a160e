/**
 * @module
 * The pages to send, read one ahead: whether another page follows decides MPS/EOM versus EOP (T.30 §5.3.6.1.5),
 * and the next page may still be rendering while the current one goes out.
 */

import type { BilevelPage } from '../image/bilevel-page.ts';

/**
 * A page to send. `newDocument` starts a new document within the call: the page before it ends with EOM and
 * phase B runs again (T.30 §5.3.6.1.5), as when the resolution or width changes.
 */
export interface OutgoingPage extends BilevelPage {
  readonly newDocument?: boolean;
}

export class PageFeed {
  private readonly iterator: AsyncIterator<OutgoingPage> | Iterator<OutgoingPage>;
  private pending: Promise<OutgoingPage | null> | null = null;

  constructor(pages: AsyncIterable<OutgoingPage> | Iterable<OutgoingPage>) {
    this.iterator =
      Symbol.asyncIterator in pages
        ? (pages as AsyncIterable<OutgoingPage>)[Symbol.asyncIterator]()
        : (pages as Iterable<OutgoingPage>)[Symbol.iterator]();
  }

  /** Starts fetching the next page (if not already) and resolves to it, or null at the end of the document. */
  peek(): Promise<OutgoingPage | null> {
    if (!this.pending) {
      this.pending = Promise.resolve(this.iterator.next()).then((r) => (r.done ? null : r.value));
      // The failure is reported to whoever awaits peek()/take(); an early prefetch must not be unhandled.
      this.pending.catch(() => undefined);
    }
    return this.pending;
  }

  /** The next page, consumed. */
  async take(): Promise<OutgoingPage | null> {
    const page = await this.peek();
    this.pending = null;
    return page;
  }

  /** Lets the source release resources when the call ends early. */
  async close(): Promise<void> {
    try {
      await this.iterator.return?.();
    } catch {
      // The source's own cleanup failing does not change the call's outcome.
    }
  }
}
