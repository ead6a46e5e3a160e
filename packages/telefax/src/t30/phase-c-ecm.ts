/**
 * @module
 * Phase C with ECM (T.4 Annex A, T.30 Annex A): the coded page cut into 256- (or 64-) octet FCD frames numbered
 * 0–255 within blocks of up to 256 frames, each burst closed by three RCP frames; on the receiving side the frames
 * are collected by number until PPS asks for the block's status.
 */

import { Fcf } from './fcf.ts';
import { buildFrame, parseFrame } from './hdlc-frame.ts';
import { codedPage, currentPage, startProgress } from './phase-c-non-ecm.ts';
import { onEcmCommand } from './phase-d-receiver.ts';
import { MODULATION_GAP_MS, type T30Context, type T30State } from './t30-context.ts';

/** Frames per block (T.30 §A.4.1: frame numbers are one octet). */
export const FRAMES_PER_BLOCK = 256;
/** RCP is sent three times at the end of each burst (T.4 §A.3.6.3). */
const RCP_REPEATS = 3;

/** The page's ECM frames (each exactly the frame size; the last one zero-padded), built once per page. */
function pageFrames(ctx: T30Context): Uint8Array[] {
  if (ctx.tx.pageData && ctx.tx.ecmFrames.length > 0) return ctx.tx.ecmFrames;
  throw new Error('ECM frames requested before the page was coded');
}

export function ecmBlockCount(ctx: T30Context): number {
  return Math.max(1, Math.ceil(pageFrames(ctx).length / FRAMES_PER_BLOCK));
}

/** The frames of the current block. */
export function ecmBlockFrames(ctx: T30Context): Uint8Array[] {
  const start = ctx.tx.ecmBlock * FRAMES_PER_BLOCK;
  return pageFrames(ctx).slice(start, start + FRAMES_PER_BLOCK);
}

/** Splits coded data into frames of frameSize octets; the last frame is padded with zeros (fill after RTC/EOFB). */
export function splitIntoFrames(data: Uint8Array, frameSize: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let off = 0; off < data.length || frames.length === 0; off += frameSize) {
    const f = new Uint8Array(frameSize);
    f.set(data.subarray(off, off + frameSize));
    frames.push(f);
  }
  return frames;
}

/** Node I (ECM): send the current block, or the frames a PPR asked for, then RCP ×3. */
export async function stateIEcm(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'C';
  const page = await currentPage(ctx);
  const dcs = ctx.dcs!;
  if (!ctx.tx.pageData) {
    const data = codedPage(ctx, page, true);
    ctx.tx.ecmFrames = splitIntoFrames(data, dcs.ecmFrameSize);
    ctx.tx.ecmBlock = 0;
    ctx.tx.ecmResend = null;
    ctx.tx.pprCount = 0;
  }
  const block = ecmBlockFrames(ctx);
  const numbers = ctx.tx.ecmResend ?? block.map((_, i) => i);
  const hdlc: Uint8Array[] = [];
  for (const n of numbers) {
    const frame = new Uint8Array(4 + block[n].length);
    frame.set([0xff, 0x03, Fcf.FCD, n]);
    frame.set(block[n], 4);
    hdlc.push(frame);
  }
  const rcp = buildFrame(Fcf.RCP, undefined, { final: false });
  for (let i = 0; i < RCP_REPEATS; i++) hdlc.push(rcp);
  ctx.trace(
    'tx',
    `ECM page ${ctx.pages + 1} block ${ctx.tx.ecmBlock}: ${numbers.length}/${block.length} frames at ${dcs.modem}`,
  );
  await ctx.port.sendSilence(MODULATION_GAP_MS);
  await ctx.port.sendHdlc(dcs.modem, hdlc);
  return 'IV';
}

/** Feeds the frames of the current block that are now in order (T.4 Annex A: frame n of a block carries its octets n·size…). */
function feedProgress(ctx: T30Context): void {
  if (!ctx.options.onPageProgress) return;
  ctx.rx.progress ??= startProgress(ctx);
  const progress = ctx.rx.progress;
  if (!progress) return;
  for (;;) {
    const data = ctx.rx.ecmFrames.get(progress.ecmNext);
    if (!data) return;
    progress.ecmNext++;
    progress.push(data);
  }
}

/** Node F (document, ECM): collect FCD frames; control frames (PPS, RR, CTC, EOR…) go to phase D handling. */
export async function stateFDocEcm(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'C';
  let deadline = Date.now() + ctx.timers.t2;
  for (;;) {
    const event = await ctx.nextEvent(deadline);
    if (event === null) return ctx.fail('timeout_t2', 'no ECM frames or command within T2');
    if (event.type !== 'hdlc') continue;
    deadline = Date.now() + ctx.timers.t2;
    const frame = event.fcsOk ? parseFrame(event.frame) : null;
    if (frame?.command === Fcf.FCD) {
      if (frame.fif.length >= 2) {
        ctx.rx.ecmFrames.set(frame.fif[0], frame.fif.subarray(1));
        feedProgress(ctx);
      }
      continue;
    }
    if (frame?.command === Fcf.RCP || frame?.command === Fcf.CCD) continue;
    if (!frame) {
      ctx.trace('rx', event.fcsOk ? 'not a T.30 frame' : 'frame with bad FCS');
      continue;
    }
    ctx.pushBack(event);
    const r = await ctx.receiveFrames(ctx.timers.t2);
    const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
    if (!cmd) continue;
    ctx.phase = 'D';
    const next = await onEcmCommand(ctx, cmd);
    if (next) return next;
    ctx.phase = 'C';
  }
}
