/**
 * @module
 * Phase C without ECM: the page as T.4/T.6 coded data on the high-speed modem, the minimum scan line time padded
 * in with fill bits, RTC at the end (T.4 §4.1, T.30 §5.3.3). Node I sends; node F (document) receives.
 */

import type { BilevelPage } from '../image/bilevel-page.ts';
import { Fcf } from './fcf.ts';
import { kFactorFor } from './page-codec.ts';
import { pageForResolution } from './page-mode.ts';
import { PageProgressTracker } from './page-progress-tracker.ts';
import { acceptDcs } from './phase-b-receiver.ts';
import { lastResponseRejected, rejectPage } from './phase-d-receiver.ts';
import { MODULATION_GAP_MS, type T30Context, type T30State } from './t30-context.ts';

/** Largest non-ECM page we buffer: 16 MiB is ~2.5 hours at 14400 bit/s, far beyond any real page. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** The page to send next: the one kept for retransmission, or the next from the source. */
export async function currentPage(ctx: T30Context): Promise<BilevelPage> {
  if (!ctx.tx.page) {
    let page: BilevelPage | null;
    try {
      page = (await ctx.tx.feed?.take()) ?? null;
    } catch (err) {
      return ctx.fail('document_error', `the page source failed: ${(err as Error).message}`);
    }
    if (!page) return ctx.fail('document_error', 'the page source ended unexpectedly');
    ctx.tx.page = page;
    ctx.tx.pageData = null;
    ctx.tx.rejections = 0;
    // Start rendering the next page while this one goes out.
    void ctx.tx.feed?.peek();
  }
  return ctx.tx.page;
}

/** The current page coded for the current DCS. */
export function codedPage(ctx: T30Context, page: BilevelPage, forEcm: boolean): Uint8Array {
  if (ctx.tx.pageData) return ctx.tx.pageData;
  const dcs = ctx.dcs!;
  const minBitsPerRow = forEcm ? 0 : Math.ceil((dcs.bitRate * dcs.minScanLineMs) / 1000);
  try {
    const sent = pageForResolution(page, dcs.resolution);
    ctx.tx.pageData = ctx.codec.encode(sent, {
      compression: dcs.compression,
      kFactor: kFactorFor(sent.yDpi),
      minBitsPerRow,
    });
  } catch (err) {
    return ctx.fail('document_error', `page ${ctx.pages + 1} cannot be coded: ${(err as Error).message}`);
  }
  return ctx.tx.pageData;
}

/** Node I: send one page. */
export async function stateI(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'C';
  const page = await currentPage(ctx);
  const data = codedPage(ctx, page, false);
  const dcs = ctx.dcs!;
  ctx.trace('tx', `page ${ctx.pages + 1}: ${data.length} octets at ${dcs.modem}`);
  await ctx.port.sendSilence(MODULATION_GAP_MS);
  await ctx.port.sendImage(dcs.modem, data);
  return 'II_Q';
}

/** Node F (document, non-ECM): receive the page data up to carrier loss, then decode it. */
export async function stateFDocNonEcm(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'C';
  const chunks: Uint8Array[] = [];
  let length = 0;
  let started = false;
  let deadline = Date.now() + ctx.timers.t2;
  const progress = startProgress(ctx);
  /** Data lost on the way: where it was missing (octets received before it) and how much. */
  const gaps: PageDataGap[] = [];
  for (;;) {
    const event = await ctx.nextEvent(deadline);
    if (event === null) {
      if (started) break;
      return ctx.fail('timeout_t2', 'no page data within T2');
    }
    if (event.type === 'carrier-up' && event.modem !== 'v21') {
      started = true;
      deadline = Date.now() + ctx.timers.t2;
    } else if (event.type === 'image') {
      started = true;
      deadline = Date.now() + ctx.timers.t2;
      if (length + event.data.length <= MAX_PAGE_BYTES) {
        chunks.push(event.data);
        length += event.data.length;
        progress?.push(event.data);
      }
    } else if (event.type === 'loss' && started) {
      gaps.push({ at: length, octets: event.octets });
      ctx.trace(
        'rx',
        `page data lost: ${event.packets} packets, about ${event.octets} octets after ${length}`,
      );
    } else if (event.type === 'carrier-down' && started) {
      break;
    } else if (event.type === 'hdlc') {
      ctx.pushBack(event);
      if (started) break;
      const next = await commandInsteadOfPage(ctx);
      if (next) return next;
      deadline = Date.now() + ctx.timers.t2;
    }
  }
  const data = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  const dcs = ctx.dcs!;
  const dpi = dpiOf(dcs.resolution);
  ctx.rx.decoded = ctx.codec.decode(data, {
    compression: dcs.compression,
    width: dcs.width,
    xDpi: dpi.x,
    yDpi: dpi.y,
  });
  ctx.rx.decodedLoss = lostRows(gaps, length, ctx.rx.decoded.rows, dcs.compression, dpi.y);
  ctx.trace(
    'rx',
    `page data ${length} octets, ${ctx.rx.decoded.rows} rows, ${ctx.rx.decoded.badRows} bad` +
      (gaps.length > 0
        ? `, ${ctx.rx.decodedLoss.octets} octets lost (about ${ctx.rx.decodedLoss.rows} rows)`
        : ''),
  );
  progress?.finish(ctx.rx.decoded.page);
  return 'F_POST_DOC_NON_ECM';
}

/** Non-ECM page data the transport reported lost: `octets` missing after the first `at` octets received. */
export interface PageDataGap {
  readonly at: number;
  readonly octets: number;
}

/**
 * The rows lost data held, to be judged as bad rows (T.30 copy quality): each gap costs the rows its octets held
 * at the page's mean coded row length (fill to the minimum scan line time included, so it holds for sparse rows
 * too), at least one. In MR the gap also spoils the 2-D rows after it up to the next 1-D row (K − 1 rows,
 * T.4 §4.2.1.3.4): they are coded against a reference row that may not have arrived, and can decode without error
 * into the wrong pixels, which the decoder cannot notice when the gap falls between two rows.
 */
export function lostRows(
  gaps: readonly PageDataGap[],
  receivedOctets: number,
  decodedRows: number,
  compression: 'mh' | 'mr' | 'mmr',
  yDpi: number,
): { readonly octets: number; readonly rows: number } {
  if (gaps.length === 0) return { octets: 0, rows: 0 };
  const rowOctets = decodedRows > 0 ? receivedOctets / decodedRows : 0;
  const spoiled = compression === 'mr' ? kFactorFor(yDpi) - 1 : 0;
  let octets = 0;
  let rows = 0;
  for (const gap of gaps) {
    octets += gap.octets;
    rows += Math.max(1, rowOctets > 0 ? Math.ceil(gap.octets / rowOctets) : 1) + spoiled;
  }
  return { octets, rows };
}

/** A tracker for the page about to arrive, when someone listens for progress. */
export function startProgress(ctx: T30Context): PageProgressTracker | null {
  const hook = ctx.options.onPageProgress;
  const dcs = ctx.dcs;
  if (!hook || !dcs) return null;
  const dpi = dpiOf(dcs.resolution);
  return new PageProgressTracker(hook, ctx.pages + 1, ctx.codec, {
    compression: dcs.compression,
    width: dcs.width,
    xDpi: dpi.x,
    yDpi: dpi.y,
  });
}

function dpiOf(resolution: 'standard' | 'fine' | 'superfine') {
  return resolution === 'superfine'
    ? { x: 204, y: 391 }
    : resolution === 'fine'
      ? { x: 204, y: 196 }
      : { x: 204, y: 98 };
}

/**
 * Frames arrived where page data was expected: the sender retrains (DCS, after our CFR was lost or after RTP/RTN),
 * or repeats a post-page command whose response was lost. Returns the next state, or null to keep waiting.
 */
async function commandInsteadOfPage(ctx: T30Context): Promise<T30State | null> {
  const r = await ctx.receiveFrames(ctx.timers.t2);
  const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
  if (!cmd) return null;
  switch (cmd.command) {
    case Fcf.DCS:
      ctx.dcs = acceptDcs(ctx, cmd);
      return 'F_TCF';
    case Fcf.MPS:
    case Fcf.EOP:
    case Fcf.EOM:
    case Fcf.PRI_MPS:
    case Fcf.PRI_EOP:
    case Fcf.PRI_EOM:
      if (ctx.rx.lastResponse) {
        // Our response was lost: answer again. After MCF/RTP the page is already stored and is not taken twice;
        // after RTN it is still to come, whatever the command (EOM after RTN went back to phase B already).
        await ctx.sendFrames([ctx.rx.lastResponse]);
        if (lastResponseRejected(ctx)) return null;
        if (cmd.command === Fcf.EOP || cmd.command === Fcf.PRI_EOP) return 'F_POST_EOP';
        if (cmd.command === Fcf.EOM || cmd.command === Fcf.PRI_EOM) return restartPhaseB(ctx);
        return null;
      }
      // A post-page command with no page before it: the page was lost.
      await rejectPage(ctx, Fcf.RTN);
      return null;
    case Fcf.CRP:
      if (ctx.rx.lastResponse) await ctx.sendFrames([ctx.rx.lastResponse]);
      return null;
    case Fcf.DCN:
      if (ctx.rx.done) return 'CALL_FINISHED';
      return ctx.fail('remote_disconnected', 'the far end sent DCN before the end of the document');
    default:
      return null;
  }
}

/**
 * After EOM: back to node R; the sender waits for our DIS (T.30 Figure 5-2). We listen for T4 before the first
 * DIS, so an EOM repeated because our MCF was lost is answered again instead of being talked over (TSB-85 MRGN16).
 */
export function restartPhaseB(ctx: T30Context): T30State {
  ctx.rx.t1At = 0;
  ctx.rx.waitBeforeSend = true;
  return 'R';
}
