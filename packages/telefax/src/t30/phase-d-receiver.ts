/**
 * @module
 * Phase D on the receiving side: judge the page, make it durable through the onPage hook, then answer the
 * post-message command (MCF/RTP/RTN; ECM: MCF/PPR/RNR/CTR/ERR). A repeated command whose response was lost is
 * answered again without taking the page twice (T.30 §5.3.6.1.5, Annex A §A.4).
 */

import type { BilevelPage } from '../image/bilevel-page.ts';
import { decodeCtc, withModem } from './dis-dcs.ts';
import { T30Failure } from './fax-outcome.ts';
import { Fcf, fcfName } from './fcf.ts';
import type { HdlcFrame } from './hdlc-frame.ts';
import type { DecodedPage } from './page-codec.ts';
import { acceptDcs } from './phase-b-receiver.ts';
import { restartPhaseB } from './phase-c-non-ecm.ts';
import type { T30Context, T30State } from './t30-context.ts';
import { MAX_PAGE_REJECTIONS } from './timers.ts';

/** Copy quality thresholds on bad rows (TSB-85, as spandsp applies them): < 5 % MCF, ≤ 15 % RTP, else RTN. */
export const GOOD_PAGE_MAX_BAD_RATIO = 0.05;
export const POOR_PAGE_MAX_BAD_RATIO = 0.15;

/** Largest ECM page we collect (256 blocks of 64 KiB); real pages are well below 1 MiB. */
const MAX_ECM_PAGE_BYTES = 16 * 1024 * 1024;

export type CopyQuality = 'good' | 'poor' | 'bad';

/**
 * The copy quality of a page of `rows` decoded rows, `badRows` of them bad, when image data estimated to hold
 * `lostRows` rows never arrived (non-ECM over a lossy transport). Lost rows count as bad rows of the page, on top
 * of the rows decoded, and the ratio thresholds above apply to the whole. A page with any lost data is never
 * 'good': MCF would tell the sender the page arrived whole when we know it did not. Such a page is at best
 * 'poor' (RTP: kept, reported with its bad rows and lost octets, the sender retrains), and 'bad' (RTN: sent
 * again) past the 15 % limit.
 */
export function copyQuality(rows: number, badRows: number, lostRows = 0): CopyQuality {
  if (rows === 0) return 'bad';
  const ratio = (badRows + lostRows) / (rows + lostRows);
  if (ratio < GOOD_PAGE_MAX_BAD_RATIO && lostRows === 0) return 'good';
  if (ratio <= POOR_PAGE_MAX_BAD_RATIO) return 'poor';
  return 'bad';
}

const isPostPage = (c: number) =>
  c === Fcf.MPS ||
  c === Fcf.EOP ||
  c === Fcf.EOM ||
  c === Fcf.PRI_MPS ||
  c === Fcf.PRI_EOP ||
  c === Fcf.PRI_EOM;
const isEop = (c: number) => c === Fcf.EOP || c === Fcf.PRI_EOP;
const isEom = (c: number) => c === Fcf.EOM || c === Fcf.PRI_EOM;

/** Hands the page to the hook and counts it; a failing hook ends the call (the page must not be confirmed). */
async function deliverPage(
  ctx: T30Context,
  page: BilevelPage,
  rows: number,
  badRows: number,
  quality: CopyQuality,
  lostOctets = 0,
) {
  const info = {
    pageNumber: ctx.pages + 1,
    rows,
    badRows,
    lostOctets,
    quality: quality === 'good' ? ('good' as const) : ('poor' as const),
    line: ctx.line()!,
  };
  try {
    await ctx.options.onPage?.(page, info);
  } catch (err) {
    if (err instanceof T30Failure) throw err;
    return ctx.fail(
      'storage_failed',
      `page ${info.pageNumber} could not be stored: ${(err as Error).message}`,
    );
  }
  ctx.pages++;
  ctx.pageDoneMs.push(ctx.elapsedMs());
  ctx.rx.rejections = 0;
  ctx.events.pageReceived(page, info);
}

/**
 * Rejects the page (RTN, or PIN in ECM) so that the sender retrains and sends it again. A page rejected
 * MAX_PAGE_REJECTIONS times and bad once more ends the call instead (page_rejected, and the session's DCN as the
 * answer): our sender gives a page up at its third rejection, and without a limit of ours a sender that keeps
 * sending it would be stopped only by the timers and maxCallMs. A good copy is taken whenever it comes.
 */
export async function rejectPage(ctx: T30Context, fcf: number): Promise<void> {
  if (ctx.rx.rejections >= MAX_PAGE_REJECTIONS) {
    ctx.fail(
      'page_rejected',
      `page ${ctx.pages + 1} rejected ${ctx.rx.rejections} times (${fcfName(fcf)}) and bad again: the sender ` +
        'does not give it up',
    );
  }
  ctx.rx.rejections++;
  await respond(ctx, fcf);
}

/** Our last response to a post-page command rejected the page (RTN/PIN): a repeated command does not confirm it. */
export function lastResponseRejected(ctx: T30Context): boolean {
  const fcf = ctx.rx.lastResponse?.[2];
  if (fcf === undefined) return false;
  const command = fcf & 0xfe;
  return command === Fcf.RTN || command === Fcf.PIN;
}

/** The state after answering a post-page command. */
function afterResponse(ctx: T30Context, command: number, ecm: boolean): T30State {
  if (isEop(command)) {
    ctx.rx.done = true;
    return 'F_POST_EOP';
  }
  if (isEom(command)) return restartPhaseB(ctx);
  return ecm ? 'F_DOC_ECM' : 'F_DOC_NON_ECM';
}

async function respond(ctx: T30Context, fcf: number, fif?: Uint8Array): Promise<void> {
  const frame = ctx.frame(fcf, fif);
  ctx.rx.lastResponse = frame;
  await ctx.sendFrames([frame]);
}

/** Node F (post-document, non-ECM): wait for MPS/EOM/EOP, judge the page, answer. */
export async function stateFPostDocNonEcm(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'D';
  for (;;) {
    const damagedBefore = ctx.damagedFrames;
    const r = await ctx.receiveFrames(ctx.timers.t2);
    // T2 runs again while damaged frames keep arriving: the sender is repeating its command (TSB-85 MRGN17).
    if (r.kind === 'timeout' && ctx.damagedFrames > damagedBefore) continue;
    if (r.kind === 'timeout') return ctx.fail('timeout_t2', 'no post-page command within T2');
    const cmd = ctx.commandOf(r.frames);
    if (!cmd) continue;
    if (isPostPage(cmd.command)) {
      const decoded = ctx.rx.decoded as DecodedPage;
      const lost = ctx.rx.decodedLoss;
      ctx.rx.decoded = null;
      ctx.rx.decodedLoss = { octets: 0, rows: 0 };
      const quality = copyQuality(decoded.rows, decoded.badRows, lost.rows);
      ctx.trace(
        'rx',
        `page quality ${quality} (${decoded.badRows}/${decoded.rows} bad rows` +
          (lost.octets > 0 ? `, ${lost.rows} rows lost with ${lost.octets} octets)` : ')'),
      );
      if (quality === 'bad') {
        // RTN: the page is not kept; the sender retrains and sends it again (T.30 §5.3.6.1.7).
        await rejectPage(ctx, Fcf.RTN);
        // After EOM phase B starts again whatever the response (T.30 Figure 5-2).
        return isEom(cmd.command) ? restartPhaseB(ctx) : 'F_DOC_NON_ECM';
      }
      await deliverPage(ctx, decoded.page, decoded.rows, decoded.badRows + lost.rows, quality, lost.octets);
      await respond(ctx, quality === 'good' ? Fcf.MCF : Fcf.RTP);
      return afterResponse(ctx, cmd.command, false);
    }
    if (cmd.command === Fcf.DCN)
      return ctx.fail('remote_disconnected', 'the far end sent DCN after the page');
    if (cmd.command === Fcf.CRP && ctx.rx.lastResponse) await ctx.sendFrames([ctx.rx.lastResponse]);
  }
}

/** After MCF to EOP: wait for DCN (T2); a repeated EOP means our MCF was lost. */
export async function stateFPostEop(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'E';
  for (;;) {
    const r = await ctx.receiveFrames(ctx.timers.t2);
    // T.30 §5.3.4: DCN may be lost; the document is complete either way.
    if (r.kind === 'timeout') return 'CALL_FINISHED';
    const cmd = ctx.commandOf(r.frames);
    if (!cmd) continue;
    if (cmd.command === Fcf.DCN) return 'CALL_FINISHED';
    if ((isEop(cmd.command) || cmd.command === Fcf.PPS || cmd.command === Fcf.CRP) && ctx.rx.lastResponse) {
      await ctx.sendFrames([ctx.rx.lastResponse]);
    }
  }
}

/** PPR FIF: 256-bit map, bit set = frame of the block to send again (T.30 §A.4.2.2). */
export function pprFif(missing: readonly number[]): Uint8Array {
  const map = new Uint8Array(32);
  for (const n of missing) map[n >> 3] |= 1 << (n & 7);
  return map;
}

/** How long to wait for the page hook before answering RNR (T.30 §A.4.3 flow control). */
function busyWaitMs(ctx: T30Context): number {
  return Math.min(1_000, ctx.timers.t4 / 2);
}

/** A control frame during ECM reception. Returns the next state, or null to keep collecting frames. */
export async function onEcmCommand(ctx: T30Context, cmd: HdlcFrame): Promise<T30State | null> {
  switch (cmd.command) {
    case Fcf.PPS:
      return onPps(ctx, cmd);
    case Fcf.EOR: {
      // The sender gives the block up (T.30 §A.4.2.2): acknowledge, drop it; the page is lost.
      ctx.rx.ecmFrames.clear();
      ctx.rx.ecmPageChunks = [];
      ctx.rx.progress = null;
      await respond(ctx, Fcf.ERR);
      const fcf2 = cmd.fif.length > 0 ? cmd.fif[0] & 0xfe : 0;
      return fcf2 === 0 ? null : afterResponse(ctx, fcf2, true);
    }
    case Fcf.CTC: {
      const modem = decodeCtc(cmd.fif);
      if (modem && ctx.dcs) ctx.dcs = withModem(ctx.dcs, modem);
      await respond(ctx, Fcf.CTR);
      return null;
    }
    case Fcf.RR:
    case Fcf.CRP:
      if (ctx.rx.lastResponse) await ctx.sendFrames([ctx.rx.lastResponse]);
      return null;
    case Fcf.DCS:
      ctx.dcs = acceptDcs(ctx, cmd);
      return 'F_TCF';
    case Fcf.DCN:
      if (ctx.rx.done) return 'CALL_FINISHED';
      return ctx.fail('remote_disconnected', 'the far end sent DCN before the end of the document');
    default:
      ctx.trace('rx', `ignored ${fcfName(cmd.rawFcf)} in ECM reception`);
      return null;
  }
}

async function onPps(ctx: T30Context, cmd: HdlcFrame): Promise<T30State | null> {
  if (cmd.fif.length < 4) return null;
  const fcf2 = cmd.fif[0] === 0 ? 0 : cmd.fif[0] & 0xfe;
  const blockKey = `${cmd.fif[1]}:${cmd.fif[2]}`;
  if (blockKey === ctx.rx.ecmLastBlock && ctx.rx.lastResponse) {
    // PPS repeated after our MCF was lost: the block (and page) is already taken; answer again only.
    await ctx.sendFrames([ctx.rx.lastResponse]);
    return fcf2 === 0 ? null : afterResponse(ctx, fcf2, true);
  }
  let count = cmd.fif[3] + 1;
  const current = ctx.rx.ecmBlockInProgress;
  if (current?.key === blockKey) {
    // After a PPR, some transmitters (spandsp) count only the frames of the retransmission burst in PPS: the
    // block is as long as its first PPS said.
    count = Math.max(count, current.frames);
  } else {
    ctx.rx.ecmBlockInProgress = { key: blockKey, frames: count };
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!ctx.rx.ecmFrames.has(i)) missing.push(i);
  if (missing.length > 0) {
    ctx.trace('rx', `PPS: ${missing.length}/${count} frames missing`);
    await respond(ctx, Fcf.PPR, pprFif(missing));
    return null;
  }
  let length = 0;
  for (let i = 0; i < count; i++) length += ctx.rx.ecmFrames.get(i)!.length;
  const block = new Uint8Array(length);
  for (let i = 0, at = 0; i < count; i++) {
    const f = ctx.rx.ecmFrames.get(i)!;
    block.set(f, at);
    at += f.length;
  }
  ctx.rx.ecmFrames.clear();
  if (ctx.rx.progress) ctx.rx.progress.ecmNext = 0;
  const pageBytes = ctx.rx.ecmPageChunks.reduce((n, c) => n + c.length, block.length);
  if (pageBytes > MAX_ECM_PAGE_BYTES) {
    return ctx.fail('invalid_response', `ECM page larger than ${MAX_ECM_PAGE_BYTES} octets`);
  }
  ctx.rx.ecmPageChunks.push(block);
  ctx.rx.ecmLastBlock = blockKey;
  ctx.rx.ecmBlockInProgress = null;
  if (fcf2 === 0) {
    await respond(ctx, Fcf.MCF);
    return null;
  }
  if (!isPostPage(fcf2))
    return ctx.fail('invalid_response', `PPS with unknown post-page command 0x${fcf2.toString(16)}`);
  const accepted = await completeEcmPage(ctx);
  return accepted ? afterResponse(ctx, fcf2, true) : null;
}

/** All blocks of the page are in: decode, store (answering RNR to RR while the hook runs), then MCF. */
async function completeEcmPage(ctx: T30Context): Promise<boolean> {
  const chunks = ctx.rx.ecmPageChunks;
  ctx.rx.ecmPageChunks = [];
  const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  const dcs = ctx.dcs!;
  const y = dcs.resolution === 'superfine' ? 391 : dcs.resolution === 'fine' ? 196 : 98;
  const decoded = ctx.codec.decode(data, {
    compression: dcs.compression,
    width: dcs.width,
    xDpi: 204,
    yDpi: y,
  });
  ctx.trace('rx', `ECM page ${data.length} octets, ${decoded.rows} rows, ${decoded.badRows} bad`);
  ctx.rx.progress?.finish(decoded.page);
  ctx.rx.progress = null;
  const quality = copyQuality(decoded.rows, decoded.badRows);
  if (quality === 'bad') {
    // ECM delivered the data intact, so a page that does not decode is the sender's coding fault: PIN would ask
    // for an operator; we reject it like a bad page instead. The page may come again with the same numbers.
    await rejectPage(ctx, Fcf.PIN);
    ctx.rx.ecmLastBlock = null;
    ctx.rx.ecmBlockInProgress = null;
    return false;
  }
  let done = false;
  let failure: unknown = null;
  const store = deliverPage(ctx, decoded.page, decoded.rows, decoded.badRows, quality).then(
    () => {
      done = true;
    },
    (err) => {
      done = true;
      failure = err;
    },
  );
  await Promise.race([store, sleep(busyWaitMs(ctx))]);
  if (!done) {
    await respond(ctx, Fcf.RNR);
    const t5At = Date.now() + ctx.timers.t5;
    while (!done) {
      const r = await ctx.receiveFrames(Math.max(1, t5At - Date.now()));
      if (Date.now() >= t5At && !done) return ctx.fail('timeout_t5', 'storing the page took longer than T5');
      const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
      if (!cmd) continue;
      if (cmd.command === Fcf.DCN)
        return ctx.fail('remote_disconnected', 'the far end sent DCN while we were busy');
      if (cmd.command !== Fcf.RR && cmd.command !== Fcf.PPS) continue;
      await Promise.race([store, sleep(busyWaitMs(ctx))]);
      if (!done) await ctx.sendFrames([ctx.rx.lastResponse!]);
    }
  }
  await store;
  if (failure) throw failure;
  await respond(ctx, Fcf.MCF);
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
