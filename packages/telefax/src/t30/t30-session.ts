/**
 * @module
 * One T.30 call (phases A–E) over a T30Port, in any of the four roles: calling or called, sending or receiving
 * (the calling receiver polls with DTC). A loop runs one handler per state (see T30State) until the call ends, and
 * every ending becomes one typed FaxOutcome.
 */

import { EventEmitter } from 'node:events';
import type { BilevelPage } from '../image/bilevel-page.ts';
import {
  defaultCapabilities,
  type FaxCapabilities,
  type FaxCompression,
  type ModemFamily,
} from './dis-dcs.ts';
import { type FaxOutcome, type NegotiatedLine, T30Failure } from './fax-outcome.ts';
import type { PageCodec } from './page-codec.ts';
import { PageFeed } from './page-feed.ts';
import { stateFTcf, stateR } from './phase-b-receiver.ts';
import { stateD, stateDPostTcf, stateT } from './phase-b-transmitter.ts';
import { stateFDocEcm, stateIEcm } from './phase-c-ecm.ts';
import { stateFDocNonEcm, stateI } from './phase-c-non-ecm.ts';
import { stateFPostDocNonEcm, stateFPostEop } from './phase-d-receiver.ts';
import { stateIIQ, stateIV } from './phase-d-transmitter.ts';
import { standardPageCodec } from './standard-page-codec.ts';
import {
  type ReceivedPageInfo,
  type StateHandler,
  T30Context,
  type T30SessionOptions,
  type T30State,
} from './t30-context.ts';
import { resolveTimers } from './timers.ts';

export type { ReceivedPageInfo, T30SessionOptions } from './t30-context.ts';

export interface T30SessionEvents {
  phaseB: [line: NegotiatedLine];
  pageSent: [pageNumber: number];
  pageReceived: [page: BilevelPage, info: ReceivedPageInfo];
  phaseE: [outcome: FaxOutcome];
}

const HANDLERS: Readonly<Record<Exclude<T30State, 'CALL_FINISHED'>, StateHandler>> = {
  T: stateT,
  R: stateR,
  D: stateD,
  D_POST_TCF: stateDPostTcf,
  F_TCF: stateFTcf,
  I: stateI,
  II_Q: stateIIQ,
  I_ECM: stateIEcm,
  IV: stateIV,
  F_DOC_NON_ECM: stateFDocNonEcm,
  F_POST_DOC_NON_ECM: stateFPostDocNonEcm,
  F_DOC_ECM: stateFDocEcm,
  F_POST_EOP: stateFPostEop,
};

/**
 * What maxBitRate and compression mean for the DIS/DTC we announce. DIS names modem families, not rates
 * (T.30 Table 2, bits 11–14), so a family is offered only when its top rate fits under maxBitRate: otherwise
 * the far end may rightly choose a rate we would then refuse. V.27 ter is always offered (the fallback of last
 * resort). Compression offers the chosen scheme and the simpler ones (MMR ⊃ MR ⊃ MH), subject to ECM.
 */
function limitsAsCapabilities(options: T30SessionOptions): Partial<FaxCapabilities> {
  const limits: { modems?: ModemFamily[]; compressions?: FaxCompression[] } = {};
  const maxBitRate = options.maxBitRate ?? 14400;
  if (maxBitRate < 14400) limits.modems = maxBitRate >= 9600 ? ['v27ter', 'v29'] : ['v27ter'];
  if (options.compression === 'mh') limits.compressions = ['mh'];
  else if (options.compression === 'mr') limits.compressions = ['mh', 'mr'];
  return limits;
}

/** Highest number of state transitions in one call: a guard against a protocol loop never ending. */
const MAX_TRANSITIONS = 200_000;

export class T30Session extends EventEmitter<T30SessionEvents> {
  private readonly ctx: T30Context;
  private running: Promise<FaxOutcome> | null = null;

  constructor(options: T30SessionOptions) {
    super();
    if (options.direction === 'send' && !options.pages) throw new TypeError('a sending session needs pages');
    const local: FaxCapabilities = defaultCapabilities({
      ...(options.ecm === false ? { ecm: false, compressions: ['mh', 'mr'] } : {}),
      ...limitsAsCapabilities(options),
      ...options.capabilities,
    });
    const codec: PageCodec = options.codec ?? standardPageCodec;
    this.ctx = new T30Context(options, resolveTimers(options.timers), codec, local);
    this.ctx.events = {
      phaseB: (line) => this.emit('phaseB', line),
      pageSent: (n) => this.emit('pageSent', n),
      pageReceived: (page, info) => this.emit('pageReceived', page, info),
    };
  }

  /** Runs the call to its end; resolves (never rejects) with the outcome. Calling it again returns the same one. */
  run(): Promise<FaxOutcome> {
    this.running ??= this.execute();
    return this.running;
  }

  private async execute(): Promise<FaxOutcome> {
    const ctx = this.ctx;
    if (ctx.options.pages) ctx.tx.feed = new PageFeed(ctx.options.pages);
    let state: T30State = initialState(ctx.options);
    let failure: T30Failure | null = null;
    try {
      for (let n = 0; state !== 'CALL_FINISHED'; n++) {
        if (n > MAX_TRANSITIONS) ctx.fail('internal_error', 'too many state transitions');
        state = await HANDLERS[state](ctx);
      }
    } catch (err) {
      failure = err instanceof T30Failure ? err : await classifyError(ctx, err);
      await ctx.sendDcn();
    }
    // The far end hanging up without DCN once the document is complete ends the call normally (T.30 §5.3.4).
    if (failure?.reason === 'transport_closed' && ctx.rx.done) failure = null;
    if (failure && ctx.tx.feed) await ctx.tx.feed.close();
    const common = {
      pages: ctx.pages,
      line: ctx.line(),
      remoteIdent: ctx.remoteIdent,
      remoteSubaddress: ctx.remoteSubaddress,
      remoteSenderId: ctx.remoteSenderId,
      pageDoneMs: ctx.pageDoneMs,
      durationMs: ctx.elapsedMs(),
    };
    const outcome: FaxOutcome = failure
      ? { ok: false, reason: failure.reason, phase: failure.phase, message: failure.message, ...common }
      : { ok: true, ...common };
    this.emit('phaseE', outcome);
    return outcome;
  }
}

/** An exception from outside the engine: a port that failed to send because it closed, or a bug. */
async function classifyError(ctx: T30Context, err: unknown): Promise<T30Failure> {
  const message = (err as Error)?.message ?? String(err);
  const probe = await ctx.port.receive(0).catch(() => null);
  if (ctx.closed || probe?.type === 'closed') {
    ctx.closed = true;
    return new T30Failure('transport_closed', ctx.phase, `transport closed: ${message}`);
  }
  return new T30Failure('internal_error', ctx.phase, `unexpected error: ${message}`);
}

function initialState(options: T30SessionOptions): T30State {
  // The called station announces capabilities (DIS); the calling one waits for them (T.30 §5.3.2).
  return options.calling ? 'T' : 'R';
}

/** Runs one call and returns its outcome. */
export function runT30Session(options: T30SessionOptions): Promise<FaxOutcome> {
  return new T30Session(options).run();
}
