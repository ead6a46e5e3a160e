/**
 * @module events/live-event-stream
 * One Server-Sent Events connection (WHATWG HTML §9.2): the stored events after a position, then the
 * new ones as they commit, each with `id:` = the event id so a reconnect resumes with `Last-Event-ID`.
 *
 * Memory per connection is bounded whatever the client does: the log is the buffer. Bus events are
 * only hints — up to `maxPending` of them are held between wake-ups, and on overflow, on a gap in the
 * positions, when the bus may have missed some (it reconnected) or at each keep-alive the stream reads
 * the log instead. Writes wait for the socket to drain; a client that has not taken its bytes within
 * `slowClientMs` is disconnected and can resume. Transient events (`fax.page.progress`) carry no `id:`
 * and are dropped, not queued, when the client lags: the next one supersedes them.
 */
import type { ServerResponse } from 'node:http';
import type { BusEvent } from './fax-event.ts';

export interface EventFeed {
  subscribe(listener: (event: BusEvent) => void): () => void;
  /** Calls `listener` when the bus may have lost events (see EventBus.onMaybeMissed). */
  onMaybeMissed?(listener: () => void): () => void;
  /** Stored events after `position`, oldest first, at most `limit`. */
  readAfter(position: number, limit: number): Promise<BusEvent[]>;
  /** The event's position in this feed; null for a transient event. */
  positionOf(event: BusEvent): number | null;
  /** Whether the stream ends once this event is written (a fax's final event). */
  isLast?(event: BusEvent): boolean;
}

export interface LiveStreamOptions {
  readonly keepAliveMs?: number;
  readonly slowClientMs?: number;
  /** Bytes waiting in the socket beyond which the stream stops writing until it drains. */
  readonly maxBufferedBytes?: number;
  readonly batchSize?: number;
  /** Reconnection delay advertised to EventSource clients (`retry:`). */
  readonly retryMs?: number;
  readonly maxPending?: number;
}

export type StreamEndReason = 'client_closed' | 'server_closing' | 'finished' | 'slow_client' | 'error';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Reverse proxies (nginx) would otherwise buffer the stream.
  'x-accel-buffering': 'no',
} as const;

export function formatServerSentEvent(event: BusEvent): string {
  const id = event.accountSequence === null ? '' : `id: ${event.envelope.id}\n`;
  return `${id}event: ${event.envelope.type}\ndata: ${JSON.stringify(event.envelope)}\n\n`;
}

export class LiveEventStream {
  readonly #res: ServerResponse;
  readonly #feed: EventFeed;
  readonly #keepAliveMs: number;
  readonly #slowClientMs: number;
  readonly #maxBufferedBytes: number;
  readonly #batchSize: number;
  readonly #retryMs: number;
  readonly #maxPending: number;
  #position: number;
  #pending: BusEvent[] = [];
  #dirty = true;
  #wake: (() => void) | null = null;
  #endReason: StreamEndReason | null = null;
  eventsWritten = 0;

  constructor(res: ServerResponse, feed: EventFeed, position: number, options: LiveStreamOptions = {}) {
    this.#res = res;
    this.#feed = feed;
    this.#position = position;
    this.#keepAliveMs = options.keepAliveMs ?? 15_000;
    this.#slowClientMs = options.slowClientMs ?? 30_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#batchSize = options.batchSize ?? 100;
    this.#retryMs = options.retryMs ?? 2000;
    this.#maxPending = options.maxPending ?? 64;
  }

  get position(): number {
    return this.#position;
  }

  /** Bus events held for the next write; never more than `maxPending`. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  get endReason(): StreamEndReason | null {
    return this.#endReason;
  }

  /** Ends the stream (e.g. the server is closing); `run()` then resolves. */
  close(reason: StreamEndReason = 'server_closing'): void {
    if (this.#endReason) return;
    this.#endReason = reason;
    this.#wakeUp();
    if (reason === 'slow_client' || reason === 'error') this.#res.destroy();
    else if (!this.#res.writableEnded) this.#res.end();
  }

  /** Writes the stream until it ends; resolves with why it ended. */
  async run(): Promise<StreamEndReason> {
    const res = this.#res;
    const onClose = () => this.close('client_closed');
    res.on('close', onClose);
    const unsubscribe = this.#feed.subscribe((event) => this.#onEvent(event));
    const stopResync = this.#feed.onMaybeMissed?.(() => this.#onMaybeMissed());
    try {
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      await this.#write(`retry: ${this.#retryMs}\n\n`);
      while (!this.#endReason) {
        if (this.#dirty) {
          this.#dirty = false;
          // The log has every stored event; only transient ones are worth keeping.
          this.#pending = this.#pending.filter((e) => this.#feed.positionOf(e) === null);
          await this.#catchUp();
        } else {
          await this.#writePending();
        }
        if (this.#endReason || this.#dirty || this.#pending.length > 0) continue;
        const woken = await this.#sleep();
        if (!woken && !this.#endReason) {
          await this.#write(': keep-alive\n\n');
          // Events written by another process reach this one only through the log.
          this.#dirty = true;
        }
      }
    } catch {
      this.close('error');
    } finally {
      unsubscribe();
      stopResync?.();
      res.off('close', onClose);
    }
    return this.#endReason ?? 'error';
  }

  #onEvent(event: BusEvent): void {
    if (this.#endReason) return;
    if (this.#pending.length >= this.#maxPending) {
      // Past the bound the hints are worthless: the log has every stored event, transients are stale.
      this.#pending = [];
      this.#dirty = true;
    } else {
      this.#pending.push(event);
    }
    this.#wakeUp();
  }

  #onMaybeMissed(): void {
    if (this.#endReason) return;
    this.#dirty = true;
    this.#wakeUp();
  }

  async #catchUp(): Promise<void> {
    for (;;) {
      const events = await this.#feed.readAfter(this.#position, this.#batchSize);
      for (const event of events) {
        if (this.#endReason) return;
        await this.#writeEvent(event);
      }
      if (events.length < this.#batchSize || this.#endReason) return;
    }
  }

  async #writePending(): Promise<void> {
    while (this.#pending.length > 0 && !this.#endReason && !this.#dirty) {
      const event = this.#pending.shift()!;
      const position = this.#feed.positionOf(event);
      if (position === null) {
        await this.#write(formatServerSentEvent(event));
        continue;
      }
      if (position <= this.#position) continue;
      if (position !== this.#position + 1) {
        // Published out of commit order, or from a position we never saw: the log knows the order.
        this.#dirty = true;
        return;
      }
      await this.#writeEvent(event);
    }
  }

  async #writeEvent(event: BusEvent): Promise<void> {
    const position = this.#feed.positionOf(event);
    await this.#write(formatServerSentEvent(event));
    if (position !== null) this.#position = position;
    this.eventsWritten++;
    if (this.#feed.isLast?.(event)) this.close('finished');
  }

  async #write(text: string): Promise<void> {
    if (this.#endReason) return;
    const res = this.#res;
    const accepted = res.write(text);
    if (accepted && res.writableLength <= this.#maxBufferedBytes) return;
    const drained = await new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onGone);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onGone = () => done(false);
      const timer = setTimeout(() => done(false), this.#slowClientMs);
      res.on('drain', onDrain);
      res.on('close', onGone);
    });
    if (!drained && !this.#endReason) this.close('slow_client');
  }

  #sleep(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve(false);
      }, this.#keepAliveMs);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve(true);
      };
    });
  }

  #wakeUp(): void {
    this.#wake?.();
  }
}
