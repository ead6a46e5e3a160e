/**
 * @module
 * Phase B on the side that receives DIS (or DTC) and chooses the mode: node T (wait for DIS), node D (send DCS and
 * TCF) and the response to TCF (CFR, or FTT and a lower rate). T.30 §5.3.2 and Figure 5-2.
 */

import {
  decodeDis,
  encodeDcs,
  encodeDis,
  negotiate,
  nextLowerModem,
  type PageWidth,
  withModem,
} from './dis-dcs.ts';
import { Fcf, fcfName } from './fcf.ts';
import { encodeIdent } from './ident.ts';
import { sendResolution } from './page-mode.ts';
import { clearVerdicts, countVerdict } from './rate-fallback.ts';
import { MODULATION_GAP_MS, type T30Context, type T30State } from './t30-context.ts';
import { MAX_COMMAND_TRIES } from './timers.ts';

/** CNG: 0.5 s of 1100 Hz (T.30 §5.1.2). */
const CNG_MS = 500;
/** TCF: 1.5 s ± 10 % of zeros at the chosen rate (T.30 §5.3.6.2.2 / §6.2.8). */
const TCF_SECONDS = 1.5;

/** Node T: the calling station waits up to T1 for DIS. */
export async function stateT(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'B';
  if (ctx.options.calling && !ctx.tx.sentCng) {
    ctx.tx.sentCng = true;
    ctx.phase = 'A';
    ctx.trace('tx', 'CNG');
    await ctx.port.sendTone('cng', CNG_MS);
    ctx.phase = 'B';
  }
  const t1At = Date.now() + ctx.timers.t1;
  for (;;) {
    const r = await ctx.receiveFrames(t1At - Date.now());
    if (r.kind === 'timeout') return failT1(ctx);
    const cmd = ctx.commandOf(r.frames);
    if (!cmd) continue;
    if (cmd.command === Fcf.DIS) return onDis(ctx, cmd.fif);
    // A polling station announces itself with DTC when phase B restarts after EOM.
    if (cmd.command === Fcf.DTC && ctx.options.direction === 'send') return onDis(ctx, cmd.fif);
    if (cmd.command === Fcf.DCN) ctx.fail('remote_disconnected', 'the far end sent DCN in phase B');
    // Anything else (e.g. a station that also believes it was called) is ignored until DIS or T1.
  }
}

/** The T1 failure that fits what was heard during it. */
export function failT1(ctx: T30Context): never {
  if (!ctx.heardAnything) {
    ctx.fail(ctx.options.calling ? 'no_answer' : 'timeout_t1', 'nothing received from the far end within T1');
  }
  if (!ctx.heardFrame) ctx.fail('fax_not_detected', 'no T.30 frame from the far end within T1');
  ctx.fail('timeout_t1', 'phase B did not complete within T1');
}

async function onDis(ctx: T30Context, fif: Uint8Array): Promise<T30State> {
  const caps = decodeDis(fif);
  ctx.remoteCaps = caps;
  ctx.receivedDis = true;
  if (ctx.options.direction === 'send') {
    if (!caps.canReceive) ctx.fail('negotiation_failed', 'the far end cannot receive (DIS bit 10 clear)');
    return 'D';
  }
  // We called to receive: poll with DTC (T.30 §5.3.6.1.1, bit 9 "ready to transmit").
  if (!caps.readyToTransmit)
    ctx.fail('negotiation_failed', 'the far end has no document to send (DIS bit 9)');
  const frames = [];
  if (ctx.options.ident) frames.push(ctx.frame(Fcf.CIG, encodeIdent(ctx.options.ident), false));
  frames.push(ctx.frame(Fcf.DTC, encodeDis({ ...ctx.local, readyToTransmit: false, canReceive: true })));
  ctx.rx.capsFrames = frames;
  ctx.rx.waitBeforeSend = false;
  ctx.rx.t1At = Date.now() + ctx.timers.t1;
  return 'R';
}

function widthOf(width: number): PageWidth | null {
  return width === 1728 || width === 2048 || width === 2432 ? width : null;
}

/** Node D: choose the mode (first time or after EOM), send TSI/SUB/SID/DCS, then TCF. */
export async function stateD(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'B';
  const remote = ctx.remoteCaps;
  if (!remote) return ctx.fail('invalid_response', 'DCS without DIS');
  if (!ctx.dcs || ctx.tx.renegotiate) {
    const page = ctx.tx.page ?? (await peekPage(ctx));
    if (!page) return ctx.fail('document_error', 'there are no pages to send');
    const width = widthOf(page.width);
    if (!width)
      return ctx.fail('document_error', `page width ${page.width} is not a fax width (1728/2048/2432)`);
    const result = negotiate(
      {
        local: ctx.local,
        maxBitRate: ctx.options.maxBitRate ?? 14400,
        resolution: sendResolution(page, remote),
        width,
        // The longest length the far end takes, as spandsp selects it (TSB-85 MRGP01 expects it in DCS).
        length: 'unlimited',
        ecm: ctx.options.ecm ?? true,
        compression: ctx.options.compression ?? 'mmr',
      },
      remote,
    );
    if (!result.ok) return ctx.fail('negotiation_failed', result.message);
    // Keep a rate already stepped down in this call (FTT/CTC) when renegotiating after EOM.
    const previous = ctx.dcs;
    ctx.dcs =
      previous && previous.bitRate < result.dcs.bitRate ? withModem(result.dcs, previous.modem) : result.dcs;
    ctx.tx.renegotiate = false;
    ctx.tx.pageData = null;
  }
  const dcs = ctx.dcs;
  const frames: Uint8Array[] = [];
  if (ctx.options.ident) frames.push(ctx.frame(Fcf.TSI, encodeIdent(ctx.options.ident), false));
  if (ctx.options.subaddress && remote.subaddress) {
    frames.push(ctx.frame(Fcf.SUB, encodeIdent(ctx.options.subaddress), false));
  }
  if (ctx.options.senderId && remote.password) {
    frames.push(ctx.frame(Fcf.SID, encodeIdent(ctx.options.senderId), false));
  }
  frames.push(ctx.frame(Fcf.DCS, encodeDcs(dcs)));
  await ctx.discardStale();
  await ctx.sendFrames(frames);
  ctx.trace('tx', `TCF ${dcs.modem}`);
  await ctx.port.sendSilence(MODULATION_GAP_MS);
  await ctx.port.sendImage(dcs.modem, new Uint8Array(Math.round((dcs.bitRate * TCF_SECONDS) / 8)), {
    longTraining: true,
  });
  return 'D_POST_TCF';
}

async function peekPage(ctx: T30Context) {
  try {
    return (await ctx.tx.feed?.peek()) ?? null;
  } catch (err) {
    return ctx.fail('document_error', `the page source failed: ${(err as Error).message}`);
  }
}

/**
 * After TCF: CFR starts phase C; FTT trains again, one step down the fallback table or, when the rate fallback
 * policy says so (over T.38 the first FTT at a rate: a lost packet fails a TCF as surely as a bad line), at the
 * same rate.
 */
export async function stateDPostTcf(ctx: T30Context): Promise<T30State> {
  const t4At = Date.now() + ctx.timers.t4;
  for (;;) {
    const r = await ctx.receiveFrames(Math.max(0, t4At - Date.now()));
    if (r.kind === 'timeout') {
      ctx.tx.tries++;
      if (ctx.tx.tries >= MAX_COMMAND_TRIES) {
        ctx.fail('no_response', `no response to DCS after ${MAX_COMMAND_TRIES} tries`);
      }
      return 'D';
    }
    const cmd = ctx.commandOf(r.frames);
    if (!cmd) continue;
    const dcs = ctx.dcs!;
    switch (cmd.command) {
      case Fcf.CFR: {
        ctx.tx.tries = 0;
        clearVerdicts(ctx, 'CFR');
        ctx.events.phaseB(ctx.line()!);
        return dcs.ecm ? 'I_ECM' : 'I';
      }
      case Fcf.FTT: {
        ctx.tx.tries = 0;
        if (!countVerdict(ctx, 'ftt')) return 'D';
        const lower = nextLowerModem(dcs.modem, ctx.local, ctx.remoteCaps!, ctx.options.maxBitRate ?? 14400);
        if (!lower) return ctx.fail('training_failed', `training failed down to ${dcs.bitRate} bit/s`);
        ctx.dcs = withModem(dcs, lower);
        ctx.tx.pageData = null;
        return 'D';
      }
      case Fcf.DIS:
      case Fcf.DTC:
        // A DIS repeated by the far end may have crossed our DCS: keep waiting for the response; if none comes
        // within T4, DCS goes out again (T.30 §5.3.2.2).
        continue;
      case Fcf.CRP:
        // The far end asks for the command again at once (T.30 §5.3.6.1.8).
        ctx.tx.tries++;
        if (ctx.tx.tries >= MAX_COMMAND_TRIES) ctx.fail('no_response', 'DCS not received after repeated CRP');
        return 'D';
      case Fcf.DCN:
        return ctx.fail('remote_disconnected', 'the far end sent DCN after DCS');
      default:
        return ctx.fail('invalid_response', `unexpected response to DCS: ${fcfName(cmd.rawFcf)}`);
    }
  }
}
