/**
 * @module
 * Phase D on the sending side: the post-message command after each page (MPS/EOM/EOP, T.30 §5.3.6.1.5) and its
 * response (MCF/RTP/RTN/PIP/PIN), repeated on T4 up to three times; node II (non-ECM) and node IV (ECM: PPS,
 * PPR, RNR/RR, CTC/CTR, EOR/ERR — T.30 Annex A §A.4).
 */

import { encodeCtc, nextLowerModem, withModem } from './dis-dcs.ts';
import { Fcf, fcfName } from './fcf.ts';
import type { HdlcFrame } from './hdlc-frame.ts';
import { sendResolution } from './page-mode.ts';
import { ecmBlockCount, ecmBlockFrames } from './phase-c-ecm.ts';
import { clearVerdicts, countCtc, countVerdict } from './rate-fallback.ts';
import type { T30Context, T30State } from './t30-context.ts';
import { MAX_COMMAND_TRIES, MAX_PAGE_REJECTIONS, PPR_LIMIT } from './timers.ts';

/** MPS when another page of the same mode follows, EOM when the next page needs a new DCS, EOP at the end. */
export async function postPageCommand(ctx: T30Context): Promise<number> {
  let next: Awaited<ReturnType<NonNullable<typeof ctx.tx.feed>['peek']>>;
  try {
    next = (await ctx.tx.feed?.peek()) ?? null;
  } catch (err) {
    return ctx.fail('document_error', `the page source failed: ${(err as Error).message}`);
  }
  if (!next) return Fcf.EOP;
  if (next.newDocument) return Fcf.EOM;
  const dcs = ctx.dcs!;
  return next.width === dcs.width && sendResolution(next, ctx.remoteCaps!) === dcs.resolution
    ? Fcf.MPS
    : Fcf.EOM;
}

/**
 * RTP/RTN (PIP/PIN) ask for training again. Whether it is one step down the fallback table or at the same rate is
 * the rate fallback policy's call (rate-fallback.ts: on an audio line always down, as spandsp does and TSB-85
 * MTGN24, MTGN27, OTGC10 expect; over T.38 not for RTP, and for RTN only when repeated at one rate). At the
 * lowest rate, train again at it.
 */
function retrainRate(ctx: T30Context, verdict: 'rtp' | 'rtn'): void {
  if (!countVerdict(ctx, verdict)) return;
  const lower = nextLowerModem(ctx.dcs!.modem, ctx.local, ctx.remoteCaps!, ctx.options.maxBitRate ?? 14400);
  if (lower) {
    ctx.dcs = withModem(ctx.dcs!, lower);
    ctx.tx.pageData = null;
  }
}

/** The page was confirmed (MCF, RTP or PIP): count it and go on. */
async function pageConfirmed(ctx: T30Context, ppm: number, needsRetrain: boolean): Promise<T30State> {
  ctx.pages++;
  ctx.pageDoneMs.push(ctx.elapsedMs());
  ctx.tx.page = null;
  ctx.tx.pageData = null;
  ctx.tx.ecmPageCounter++;
  ctx.tx.tries = 0;
  if (!needsRetrain) clearVerdicts(ctx, 'MCF');
  ctx.events.pageSent(ctx.pages);
  if (ppm === Fcf.EOP) {
    ctx.phase = 'E';
    await ctx.sendDcn();
    return 'CALL_FINISHED';
  }
  if (ppm === Fcf.EOM) {
    ctx.tx.renegotiate = true;
    return 'T';
  }
  if (needsRetrain) {
    retrainRate(ctx, 'rtp');
    return 'D';
  }
  return ctx.dcs!.ecm ? 'I_ECM' : 'I';
}

/** The page was rejected (RTN/PIN): train again and send it again, a bounded number of times. */
function pageRejected(ctx: T30Context, response: HdlcFrame, ppm: number): T30State {
  ctx.tx.rejections++;
  ctx.tx.tries = 0;
  if (ctx.tx.rejections >= MAX_PAGE_REJECTIONS) {
    ctx.fail(
      'page_rejected',
      `page ${ctx.pages + 1} rejected ${ctx.tx.rejections} times (${fcfName(response.rawFcf)})`,
    );
  }
  retrainRate(ctx, 'rtn');
  // After EOM, phase B starts again whatever the response (T.30 Figure 5-2): wait for DIS, then resend the page.
  if (ppm === Fcf.EOM) {
    ctx.tx.renegotiate = true;
    return 'T';
  }
  return 'D';
}

/** Node II: send the post-page command, wait for the response (T4), repeat up to 3 times. */
export async function stateIIQ(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'D';
  const ppm = await postPageCommand(ctx);
  for (let attempt = 1; attempt <= MAX_COMMAND_TRIES; attempt++) {
    await ctx.discardStale();
    await ctx.send(ppm);
    const r = await ctx.receiveFrames(ctx.timers.t4);
    const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
    if (!cmd) continue;
    switch (cmd.command) {
      case Fcf.MCF:
        return pageConfirmed(ctx, ppm, false);
      case Fcf.RTP:
      case Fcf.PIP:
        return pageConfirmed(ctx, ppm, true);
      case Fcf.RTN:
      case Fcf.PIN:
        return pageRejected(ctx, cmd, ppm);
      case Fcf.CRP:
        continue;
      case Fcf.DIS:
        // After EOM the receiver may have gone straight back to phase B: its DIS implies our EOM got through.
        if (ppm === Fcf.EOM) {
          ctx.pushBack({ type: 'hdlc', modem: 'v21', frame: rebuild(cmd), fcsOk: true });
          return pageConfirmed(ctx, ppm, false);
        }
        continue;
      case Fcf.DCN:
        return ctx.fail('remote_disconnected', `the far end sent DCN after ${fcfName(ppm)}`);
      default:
        return ctx.fail('invalid_response', `unexpected response to ${fcfName(ppm)}: ${fcfName(cmd.rawFcf)}`);
    }
  }
  return ctx.fail('no_response', `no response to ${fcfName(ppm)} after ${MAX_COMMAND_TRIES} tries`);
}

function rebuild(frame: HdlcFrame): Uint8Array {
  const bytes = new Uint8Array(3 + frame.fif.length);
  bytes[0] = 0xff;
  bytes[1] = frame.final ? 0x13 : 0x03;
  bytes[2] = frame.rawFcf;
  bytes.set(frame.fif, 3);
  return bytes;
}

/** Frames of the block flagged in a PPR's 256-bit map (bit set = frame to send again, T.30 §A.4.2.2). */
export function framesFromPpr(fif: Uint8Array, frameCount: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < frameCount && i >> 3 < fif.length; i++) {
    if (fif[i >> 3] & (1 << (i & 7))) out.push(i);
  }
  return out;
}

/** Node IV: PPS after each ECM block, and everything that can answer it. */
export async function stateIV(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'D';
  const dcs = ctx.dcs!;
  const blocks = ecmBlockCount(ctx);
  const lastBlock = ctx.tx.ecmBlock >= blocks - 1;
  const ppm = lastBlock ? await postPageCommand(ctx) : 0x00;
  const frames = ecmBlockFrames(ctx);
  const ppsFif = Uint8Array.of(
    ppm === 0 ? 0 : ppm | (ctx.receivedDis ? 1 : 0),
    ctx.tx.ecmPageCounter & 0xff,
    ctx.tx.ecmBlock & 0xff,
    frames.length - 1,
  );
  let command: number = Fcf.PPS;
  let t5At = 0;
  for (let attempt = 1; attempt <= MAX_COMMAND_TRIES; ) {
    await ctx.discardStale();
    await ctx.send(command, command === Fcf.RR ? undefined : ppsFif);
    const r = await ctx.receiveFrames(ctx.timers.t4);
    const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
    if (!cmd || cmd.command === Fcf.CRP) {
      attempt++;
      continue;
    }
    attempt = 1;
    switch (cmd.command) {
      case Fcf.MCF:
        ctx.tx.pprCount = 0;
        ctx.tx.ecmResend = null;
        if (!lastBlock) {
          ctx.tx.ecmBlock++;
          ctx.tx.tries = 0;
          return 'I_ECM';
        }
        return pageConfirmed(ctx, ppm, false);
      case Fcf.PIP:
        return pageConfirmed(ctx, ppm, true);
      case Fcf.PIN:
        return pageRejected(ctx, cmd, ppm);
      case Fcf.PPR: {
        const resend = framesFromPpr(cmd.fif, frames.length);
        ctx.tx.pprCount++;
        ctx.tx.ecmResend = resend.length > 0 ? resend : [];
        if (ctx.tx.pprCount >= PPR_LIMIT) return continueOrEnd(ctx, ppsFif);
        return 'I_ECM';
      }
      case Fcf.RNR:
        // The receiver is busy (storing the page): poll with RR until it answers, bounded by T5 (T.30 §A.4.3).
        if (t5At === 0) t5At = Date.now() + ctx.timers.t5;
        if (Date.now() >= t5At) return ctx.fail('timeout_t5', 'the receiver stayed not ready beyond T5');
        command = Fcf.RR;
        continue;
      case Fcf.DCN:
        return ctx.fail('remote_disconnected', `the far end sent DCN after PPS (${dcs.modem})`);
      default:
        return ctx.fail('invalid_response', `unexpected response to PPS: ${fcfName(cmd.rawFcf)}`);
    }
  }
  return ctx.fail('no_response', `no response to ${fcfName(command)} after ${MAX_COMMAND_TRIES} tries`);
}

/**
 * Four PPRs for one block: continue to correct (CTC/CTR) or give the block up (EOR/ERR), T.30 Annex A §A.4.2.2
 * and Figure A.8. The rate CTC names, the same or one step down, is the rate fallback policy's call
 * (rate-fallback.ts: on an audio line always down, as spandsp does and TSB-85 expects; over T.38 the first CTC
 * for a block keeps the rate); a lower rate due with none left gives the block up.
 */
async function continueOrEnd(ctx: T30Context, ppsFif: Uint8Array): Promise<T30State> {
  const dcs = ctx.dcs!;
  const modem = countCtc(ctx);
  if (modem) {
    const next = modem === dcs.modem ? dcs : withModem(dcs, modem);
    for (let attempt = 1; attempt <= MAX_COMMAND_TRIES; attempt++) {
      await ctx.discardStale();
      await ctx.send(Fcf.CTC, encodeCtc(next.modem));
      const r = await ctx.receiveFrames(ctx.timers.t4);
      const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
      if (!cmd) continue;
      if (cmd.command === Fcf.CTR) {
        ctx.dcs = next;
        ctx.tx.pprCount = 0;
        return 'I_ECM';
      }
      if (cmd.command === Fcf.DCN) return ctx.fail('remote_disconnected', 'the far end sent DCN after CTC');
      return ctx.fail('invalid_response', `unexpected response to CTC: ${fcfName(cmd.rawFcf)}`);
    }
    return ctx.fail('no_response', `no response to CTC after ${MAX_COMMAND_TRIES} tries`);
  }
  for (let attempt = 1; attempt <= MAX_COMMAND_TRIES; attempt++) {
    await ctx.discardStale();
    await ctx.send(Fcf.EOR, ppsFif.subarray(0, 1));
    const r = await ctx.receiveFrames(ctx.timers.t4);
    const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
    if (!cmd) continue;
    if (cmd.command === Fcf.ERR) break;
    if (cmd.command === Fcf.DCN) break;
  }
  return ctx.fail('ecm_failed', `block ${ctx.tx.ecmBlock} of page ${ctx.pages + 1} could not be corrected`);
}
