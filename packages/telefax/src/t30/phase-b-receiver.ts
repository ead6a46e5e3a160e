/**
 * @module
 * Phase B on the side that announces capabilities: node R (CED, then CSI/DIS repeated every T4 within T1, or DTC
 * when polling), the check of DCS against what we offered, and the TCF check answered by CFR or FTT.
 * T.30 §5.3.2, Figure 5-2.
 */

import { type DcsParameters, decodeDcs, decodeDis, encodeDis, familyOf, InvalidDcsError } from './dis-dcs.ts';
import { Fcf } from './fcf.ts';
import type { HdlcFrame } from './hdlc-frame.ts';
import { encodeIdent } from './ident.ts';
import { failT1 } from './phase-b-transmitter.ts';
import type { T30Context, T30State } from './t30-context.ts';

/** CED: 2100 Hz for 2.6–4 s (T.30 §5.2.1). */
const CED_MS = 3_000;
/** TCF is 1.5 s; more than this much data is not a TCF any more. */
const MAX_TCF_SECONDS = 4;

/** The frames we announce ourselves with: CSI + DIS (answering) unless DTC frames were set for polling. */
function capsFrames(ctx: T30Context): Uint8Array[] {
  if (!ctx.rx.capsFrames) {
    const frames: Uint8Array[] = [];
    if (ctx.options.ident) frames.push(ctx.frame(Fcf.CSI, encodeIdent(ctx.options.ident), false));
    const sending = ctx.options.direction === 'send';
    frames.push(
      ctx.frame(Fcf.DIS, encodeDis({ ...ctx.local, readyToTransmit: sending, canReceive: !sending })),
    );
    ctx.rx.capsFrames = frames;
  }
  return ctx.rx.capsFrames;
}

/** Node R: announce capabilities and wait for DCS (or DTC when the caller polls us). */
export async function stateR(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'B';
  if (!ctx.options.calling && !ctx.rx.sentCed) {
    ctx.rx.sentCed = true;
    ctx.phase = 'A';
    ctx.trace('tx', 'CED');
    await ctx.port.sendTone('ced', CED_MS);
    ctx.phase = 'B';
  }
  if (ctx.rx.t1At === 0) ctx.rx.t1At = Date.now() + ctx.timers.t1;
  for (;;) {
    if (Date.now() >= ctx.rx.t1At) return failT1(ctx);
    if (!ctx.rx.waitBeforeSend) await ctx.sendFrames(capsFrames(ctx));
    ctx.rx.waitBeforeSend = false;
    const r = await ctx.receiveFrames(Math.min(ctx.timers.t4, Math.max(0, ctx.rx.t1At - Date.now())));
    if (r.kind === 'timeout') continue;
    const cmd = ctx.commandOf(r.frames);
    if (!cmd) continue;
    switch (cmd.command) {
      case Fcf.DCS:
        return onDcs(ctx, cmd);
      case Fcf.DTC:
        if (ctx.options.direction !== 'send') {
          return ctx.fail('negotiation_failed', 'the far end polls (DTC) but we have nothing to send');
        }
        ctx.remoteCaps = decodeDis(cmd.fif);
        ctx.rx.t1At = 0;
        return 'D';
      case Fcf.DCN:
        return ctx.fail('remote_disconnected', 'the far end sent DCN in phase B');
      case Fcf.DIS:
        // We hold a document for polling and the caller answers our DIS with its own: it can receive, so we
        // transmit, as if it had polled (TSB-85 MRGP06).
        if (ctx.options.direction === 'send' && !ctx.options.calling) {
          ctx.remoteCaps = decodeDis(cmd.fif);
          ctx.receivedDis = true;
          ctx.rx.t1At = 0;
          return 'D';
        }
        // The caller answers our DIS with its own: it cannot send, and we have nothing to send (TSB-85 MRGP08).
        if (!ctx.options.calling) {
          ctx.receivedDis = true;
          return ctx.fail('negotiation_failed', 'the far end sent DIS: neither side has a document to send');
        }
        // We are the caller polling and our DTC was lost; resend.
        continue;
      case Fcf.EOM:
      case Fcf.PRI_EOM:
      case Fcf.PPS:
        // The EOM (or PPS-EOM) we just answered, repeated: our response was lost.
        if (ctx.rx.lastResponse) {
          await ctx.sendFrames([ctx.rx.lastResponse]);
          ctx.rx.waitBeforeSend = true;
        }
        continue;
      default:
        continue;
    }
  }
}

/**
 * Takes a received DCS after checking that it selects a mode we offered (T.30 §5.3.6.2.1); the far end's choice
 * is binding, so a mode we cannot do ends the call.
 */
export function acceptDcs(ctx: T30Context, frame: HdlcFrame): DcsParameters {
  let dcs: DcsParameters;
  try {
    dcs = decodeDcs(frame.fif);
  } catch (err) {
    if (err instanceof InvalidDcsError) return ctx.fail('negotiation_failed', `invalid DCS: ${err.message}`);
    throw err;
  }
  const local = ctx.local;
  const family = familyOf(dcs.modem);
  const problems: string[] = [];
  if (!family || !local.modems.includes(family)) problems.push(`modem ${dcs.modem}`);
  if (dcs.bitRate > (ctx.options.maxBitRate ?? 14400)) problems.push(`rate ${dcs.bitRate}`);
  if (!local.compressions.includes(dcs.compression)) problems.push(`compression ${dcs.compression}`);
  if (dcs.ecm && !(local.ecm && (ctx.options.ecm ?? true))) problems.push('ECM');
  if (!local.resolutions.includes(dcs.resolution)) problems.push(`resolution ${dcs.resolution}`);
  if (dcs.width > local.maxWidth) problems.push(`width ${dcs.width}`);
  if (problems.length > 0)
    return ctx.fail('negotiation_failed', `DCS selects what we did not offer: ${problems}`);
  // A new DCS starts a new exchange: earlier responses and PPS numbers no longer mark repeats.
  ctx.rx.lastResponse = null;
  ctx.rx.ecmLastBlock = null;
  ctx.rx.ecmBlockInProgress = null;
  return dcs;
}

function onDcs(ctx: T30Context, frame: HdlcFrame): T30State {
  ctx.dcs = acceptDcs(ctx, frame);
  ctx.rx.t1At = 0;
  return 'F_TCF';
}

/**
 * The TCF check: 1.5 s of zeros were sent; the longest run of zero octets must last at least 1 s at the chosen
 * rate (the rule spandsp uses; T.30 leaves the criterion to the receiver, §5.3.6.2.2 note).
 */
export function tcfIsGood(data: Uint8Array, bitRate: number): boolean {
  let run = 0;
  let longest = 0;
  for (const byte of data) {
    run = byte === 0 ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest * 8 >= bitRate;
}

/**
 * Node F (TCF): receive TCF, answer CFR or FTT. TCF data the transport reports lost (a `loss` event: T.38 packets
 * that neither redundancy nor FEC restored) fails the check whatever arrived: the zeros that did arrive cannot
 * vouch for the line, and a page trained on it would be judged against data we never saw. The sender trains again
 * (over T.38 at the same rate first, rate-fallback.ts).
 */
export async function stateFTcf(ctx: T30Context): Promise<T30State> {
  ctx.phase = 'B';
  const dcs = ctx.dcs!;
  const maxBytes = Math.ceil((dcs.bitRate * MAX_TCF_SECONDS) / 8);
  const chunks: Uint8Array[] = [];
  let length = 0;
  let started = false;
  let lostOctets = 0;
  let deadline = Date.now() + ctx.timers.t2;
  for (;;) {
    const event = await ctx.nextEvent(deadline);
    if (event === null) break;
    if (event.type === 'carrier-up' && event.modem !== 'v21') {
      started = true;
      deadline = Date.now() + ctx.timers.t2;
    } else if (event.type === 'loss' && event.modem !== 'v21') {
      started = true;
      lostOctets += event.octets;
    } else if (event.type === 'image') {
      started = true;
      if (length < maxBytes) {
        chunks.push(event.data);
        length += event.data.length;
      }
    } else if (event.type === 'carrier-down' && started) {
      break;
    } else if (event.type === 'hdlc' && !started) {
      // DCS repeated before TCF (the sender missed our response): read it again.
      ctx.pushBack(event);
      const r = await ctx.receiveFrames(ctx.timers.t2);
      const cmd = r.kind === 'frames' ? ctx.commandOf(r.frames) : null;
      if (cmd?.command === Fcf.DCS) {
        ctx.dcs = acceptDcs(ctx, cmd);
        return 'F_TCF';
      }
      if (cmd?.command === Fcf.DCN) ctx.fail('remote_disconnected', 'the far end sent DCN before TCF');
    }
  }
  const data = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    data.set(c.subarray(0, length - at), at);
    at += c.length;
  }
  const good = started && lostOctets === 0 && tcfIsGood(data, dcs.bitRate);
  ctx.trace(
    'rx',
    `TCF ${length} octets${lostOctets > 0 ? `, about ${lostOctets} lost` : ''} ${good ? 'good' : 'bad'}`,
  );
  if (good) {
    await ctx.send(Fcf.CFR);
    ctx.events.phaseB(ctx.line()!);
    return dcs.ecm ? 'F_DOC_ECM' : 'F_DOC_NON_ECM';
  }
  await ctx.send(Fcf.FTT);
  ctx.rx.waitBeforeSend = true;
  ctx.rx.t1At = Date.now() + ctx.timers.t1;
  return 'R';
}
