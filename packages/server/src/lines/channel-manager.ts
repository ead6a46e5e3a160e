/**
 * @module lines/channel-manager
 * Runs fax sessions on the carriers: outbound for `fax.send` jobs (it is their FaxLine) and inbound for calls to
 * our numbers. It holds each carrier's channel count — a call in either direction takes one — and gives the
 * queue a group key per carrier so no more jobs run than its channels allow. An inbound page is made durable
 * (blob, row and event committed) inside T.30's onPage hook, i.e. before MCF leaves (T.30 §5.3.6.1.7).
 */
import type { Logger } from 'pino';
import { type BilevelPage, resolutionOf } from 'telefax/image/bilevel-page';
import { FaxCallError } from 'telefax/sip/fax-call';
import { writeFaxTiff } from '../documents/index.ts';
import type {
  FaxLine,
  FaxLineProgress,
  NegotiatedLine,
  OutboundFaxCall,
  SendOutcome,
} from '../domain/fax-line.ts';
import {
  finishInboundFax,
  recordReceivedPage,
  reportPageProgress,
  startInboundFax,
} from '../domain/inbound-fax.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Database } from '../store/database.ts';
import type { Carrier, CarrierCall, InboundCallHandler, InboundCallOffer } from './carrier.ts';
import { callFailure, negotiatedLine, sessionFailure } from './fax-failure.ts';
import { runT30OverCall } from './run-t30-over-call.ts';

export interface ChannelManagerOptions {
  readonly database: Database;
  readonly blobs: BlobStore;
  /** The carrier whose `routes(to)` is highest places the call (ties: the first listed). */
  readonly carriers: readonly Carrier[];
  readonly logger?: Logger;
  /** How long an outbound call waits for a free channel before failing with line_unavailable. Default 10 s. */
  readonly channelWaitMs?: number;
  /** Backstop for one call's T.30 session. Default 3 h. */
  readonly maxCallMs?: number;
}

/** Simultaneous calls on one carrier, both directions. */
class Channels {
  inUse = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(readonly limit: number) {}

  tryTake(): boolean {
    if (this.inUse >= this.limit) return false;
    this.inUse++;
    return true;
  }

  /** Resolves true once a channel is ours, false when the wait ran out or was aborted. */
  take(waitMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.tryTake()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(ok);
      };
      const wake = () => done(this.tryTake());
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(wake);
    });
  }

  release(): void {
    this.inUse = Math.max(0, this.inUse - 1);
    this.waiters.shift()?.();
  }
}

/**
 * The pages as the session reads them: a pending read gives up when `signal` aborts (T.30 then ends the call
 * with DCN), and a failure of the source is remembered so the job sees the original error (e.g. DocumentError).
 */
function pagesUntil(
  source: AsyncIterable<BilevelPage>,
  signal: AbortSignal,
  onSourceError: (error: unknown) => void,
): AsyncIterable<BilevelPage> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = source[Symbol.asyncIterator]();
      return {
        next: () =>
          new Promise<IteratorResult<BilevelPage>>((resolve, reject) => {
            if (signal.aborted) {
              reject(new Error('sending stopped'));
              return;
            }
            const onAbort = () => reject(new Error('sending stopped'));
            signal.addEventListener('abort', onAbort, { once: true });
            iterator.next().then(
              (result) => {
                signal.removeEventListener('abort', onAbort);
                resolve(result);
              },
              (error: unknown) => {
                signal.removeEventListener('abort', onAbort);
                onSourceError(error);
                reject(error);
              },
            );
          }),
        // The source may be stuck in a read; ending it must not wait for that.
        return: async () => {
          void Promise.resolve(iterator.return?.()).catch(() => {});
          return { done: true, value: undefined };
        },
      };
    },
  };
}

export class ChannelManager implements FaxLine {
  readonly #options: ChannelManagerOptions;
  readonly #channels = new Map<string, Channels>();
  readonly #inbound = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly #log: Logger | undefined;
  #closed = false;

  constructor(options: ChannelManagerOptions) {
    this.#options = options;
    this.#log = options.logger;
    for (const c of options.carriers) this.#channels.set(c.id, new Channels(c.channels));
  }

  get carriers(): readonly Carrier[] {
    return this.#options.carriers;
  }

  /** Starts inbound calls on every carrier. */
  async listen(): Promise<void> {
    for (const carrier of this.#options.carriers) await carrier.listen(this.inboundHandler(carrier));
  }

  /** The carrier that would place a call to `to`, if any. */
  carrierFor(to: string): Carrier | undefined {
    let best: Carrier | undefined;
    let score = 0;
    for (const carrier of this.#options.carriers) {
      const s = carrier.routes(to);
      if (s > score) {
        best = carrier;
        score = s;
      }
    }
    return best;
  }

  /** Queue group of a `fax.send` job to `to`: its carrier, so groupConcurrency can apply channel limits. */
  groupKeyFor(to: string): string | null {
    return this.carrierFor(to)?.id ?? null;
  }

  /** For the worker: the job concurrency of a group (a carrier's channels); undefined means unlimited. */
  groupConcurrency = (groupKey: string): number | undefined => {
    const limit = this.#channels.get(groupKey)?.limit;
    return limit === undefined || !Number.isFinite(limit) ? undefined : limit;
  };

  /** Calls in progress on a carrier. */
  channelsInUse(carrierId: string): number {
    return this.#channels.get(carrierId)?.inUse ?? 0;
  }

  async send(
    call: OutboundFaxCall,
    pages: AsyncIterable<BilevelPage>,
    progress: FaxLineProgress,
    signal: AbortSignal,
  ): Promise<SendOutcome> {
    const log = this.#log?.child({ fax_id: call.faxId, attempt: call.attempt });
    const interrupted = (pagesSent: number, line: NegotiatedLine = {}): SendOutcome => ({
      status: 'failed',
      failure: 'call_dropped',
      message: 'Sending stopped before the fax was complete; it will be tried again.',
      pagesSent,
      ...line,
    });
    const carrier = this.carrierFor(call.to);
    if (!carrier) {
      return {
        status: 'failed',
        failure: 'invalid_number',
        message: 'No configured carrier reaches this number.',
        pagesSent: 0,
      };
    }
    if (this.#closed || signal.aborted) return interrupted(0);
    const channels = this.#channels.get(carrier.id)!;
    if (!(await channels.take(this.#options.channelWaitMs ?? 10_000, signal))) {
      if (signal.aborted) return interrupted(0);
      return {
        status: 'failed',
        failure: 'line_unavailable',
        message: 'Every channel of the carrier was busy.',
        pagesSent: 0,
      };
    }
    try {
      let carrierCall: CarrierCall;
      try {
        carrierCall = await carrier.placeCall({ to: call.to, from: call.from, signal });
      } catch (error) {
        if (signal.aborted) return interrupted(0);
        if (!(error instanceof FaxCallError)) throw error;
        const failure = callFailure(error);
        log?.info({ carrier: carrier.id, reason: error.reason, status: error.status }, 'fax call failed');
        return { status: 'failed', failure: failure.code, message: failure.message, pagesSent: 0 };
      }
      log?.debug({ carrier: carrier.id, call_id: carrierCall.call.callId }, 'fax call answered');

      let chain: Promise<void> = Promise.resolve();
      let progressError: unknown = null;
      const later = (step: () => Promise<void> | void) => {
        chain = chain.then(step).catch((error: unknown) => {
          progressError ??= error;
        });
      };
      let sourceError: unknown = null;
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      // T.30 reads the next page before the post-page command (T.30 §5.3.6.1.5); a hang-up meanwhile ends the read.
      void carrierCall.call.ended.then(() => stop.abort());
      let started = false;
      let result: Awaited<ReturnType<typeof runT30OverCall>>;
      try {
        result = await runT30OverCall(
          carrierCall,
          {
            direction: 'send',
            ident: call.from,
            pages: pagesUntil(pages, stop.signal, (error) => {
              sourceError ??= error;
            }),
            signal: stop.signal,
            maxCallMs: this.#options.maxCallMs ?? 3 * 3600_000,
          },
          (session) => {
            session.on('phaseB', (line) => {
              if (started) return;
              started = true;
              const negotiated: NegotiatedLine = {
                bitRate: line.bitRate,
                ecm: line.ecm,
                compression: line.compression,
                resolution: line.resolution,
              };
              later(() => progress.sendingStarted(negotiated));
            });
            session.on('pageSent', (n) => later(() => progress.pageSent(n)));
          },
        );
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      await chain;
      const { outcome, remoteHungUp } = result;
      const line = negotiatedLine(outcome);
      log?.info(
        {
          carrier: carrier.id,
          ok: outcome.ok,
          pages: outcome.pages,
          reason: outcome.ok ? null : outcome.reason,
        },
        'fax call ended',
      );
      if (sourceError !== null) throw sourceError;
      if (progressError !== null) throw progressError;
      if (signal.aborted) return interrupted(outcome.pages, line);
      if (outcome.ok) return { status: 'delivered', pagesSent: outcome.pages, ...line };
      const failure = sessionFailure(outcome, 'send', remoteHungUp);
      return {
        status: 'failed',
        failure: failure.code,
        message: failure.message,
        pagesSent: outcome.pages,
        ...line,
      };
    } finally {
      channels.release();
    }
  }

  private inboundHandler(carrier: Carrier): InboundCallHandler {
    const channels = this.#channels.get(carrier.id)!;
    const { database } = this.#options;
    return {
      offer: async (offer) => {
        if (this.#closed) return 503;
        if (offer.to === null) return 404;
        const number = await database.db
          .selectFrom('numbers')
          .select('inbound_enabled')
          .where('e164', '=', offer.to)
          .executeTakeFirst();
        if (!number) return 404;
        if (number.inbound_enabled !== 1) return 480;
        return channels.tryTake() ? true : 486;
      },
      answered: (offer, call) => {
        const controller = new AbortController();
        const done = this.receive(offer, call, controller.signal)
          .catch((error: unknown) =>
            this.#log?.error({ err: error, call_id: offer.callId }, 'inbound fax failed'),
          )
          .finally(() => {
            this.#inbound.delete(offer.callId);
            channels.release();
          });
        this.#inbound.set(offer.callId, { controller, done });
      },
      failed: (offer, reason) => {
        channels.release();
        this.#log?.info(
          { carrier: carrier.id, call_id: offer.callId, reason },
          'inbound call ended before T.38',
        );
      },
    };
  }

  private async receive(
    offer: InboundCallOffer,
    carrierCall: CarrierCall,
    signal: AbortSignal,
  ): Promise<void> {
    const { database, blobs } = this.#options;
    let faxId: string;
    try {
      faxId = (await startInboundFax(database, { to: offer.to!, from: offer.from })).id;
    } catch (error) {
      await carrierCall.call.hangup().catch(() => {});
      await carrierCall.udptl.close();
      throw error;
    }
    const log = this.#log?.child({ fax_id: faxId, call_id: offer.callId });
    log?.info({ carrier: offer.carrierId }, 'receiving a fax');
    let outcome: Awaited<ReturnType<typeof runT30OverCall>>;
    try {
      outcome = await runT30OverCall(carrierCall, {
        direction: 'receive',
        ident: offer.to!,
        signal,
        maxCallMs: this.#options.maxCallMs ?? 3 * 3600_000,
        onPage: async (page, info) => {
          const bytes = await writeFaxTiff([page]);
          await recordReceivedPage({ database, blobs }, faxId, {
            n: info.pageNumber,
            bytes,
            rows: info.rows,
            badRows: info.badRows,
            width: page.width,
            resolution: resolutionOf(page),
          });
        },
        onPageProgress: (progress) => {
          reportPageProgress(database, faxId, progress.pageNumber, progress.page);
        },
      });
    } finally {
      await carrierCall.udptl.close();
    }
    const line = negotiatedLine(outcome.outcome);
    if (signal.aborted && !outcome.outcome.ok) {
      await finishInboundFax(database, faxId, {
        status: 'failed',
        failure: 'call_dropped',
        message: 'The server stopped during the call.',
        ...line,
      });
    } else if (outcome.outcome.ok) {
      await finishInboundFax(database, faxId, { status: 'received', ...line });
    } else {
      const failure = sessionFailure(outcome.outcome, 'receive', outcome.remoteHungUp);
      await finishInboundFax(database, faxId, {
        status: 'failed',
        failure: failure.code,
        message: failure.message,
        ...line,
      });
    }
    log?.info({ ok: outcome.outcome.ok, pages: outcome.outcome.pages }, 'fax reception ended');
  }

  /** Ends inbound calls in progress (DCN, BYE; their faxes fail as dropped) and closes every carrier. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#inbound.values()];
    for (const r of running) r.controller.abort();
    await Promise.all(running.map((r) => r.done));
    for (const carrier of this.#options.carriers) await carrier.close();
  }
}
