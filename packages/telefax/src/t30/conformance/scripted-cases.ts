/**
 * @module
 * Hand-written conformance cases for the exchanges real lines get wrong: lost responses and repeated commands,
 * lost or clipped DCN, silent far ends, invalid modes, RTN/RTP, FTT fallback, PPR/CTC and RNR in ECM (after the
 * extra cases of spandsp's fax-tests.xml and T.30's own repeat rules).
 */

import { samePixels } from '../../image/bilevel-page.ts';
import { type DcsParameters, decodeCtc } from '../dis-dcs.ts';
import { Fcf } from '../fcf.ts';
import { pprFif } from '../phase-d-receiver.ts';
import type { ConformanceCase } from './conformance-case.ts';
import { ScriptKit } from './script-kit.ts';
import { ConformanceError, type ScriptedPeer } from './scripted-peer.ts';

const receiveNonEcm = { direction: 'receive', calling: false, ecm: false } as const;
const receiveEcm = { direction: 'receive', calling: false, ecm: true } as const;
const sendNonEcm = { direction: 'send', calling: true, ecm: false, compression: 'mr' } as const;
const sendEcm = { direction: 'send', calling: true, ecm: true, compression: 'mmr' } as const;

function assertThat(condition: boolean, message: string): void {
  if (!condition) throw new ConformanceError(message);
}

/** Sends one non-ECM page and its post-page command; returns the engine's response. */
async function sendPage(peer: ScriptedPeer, kit: ScriptKit, dcs: DcsParameters, n: number, ppm: number) {
  await peer.image(dcs.modem, kit.coded(ScriptKit.testPage(n), dcs));
  await peer.send(ppm);
  return (await peer.anyFrame(kit.wait)).frame.command;
}

/** Sends one ECM page as one block and its PPS; returns the engine's response. */
async function sendEcmPage(peer: ScriptedPeer, kit: ScriptKit, dcs: DcsParameters, n: number, ppm: number) {
  const frames = kit.ecmFrames(kit.coded(ScriptKit.testPage(n), dcs));
  await peer.ecmBurst(dcs.modem, frames);
  await peer.send(Fcf.PPS, kit.pps(ppm, n, 0, frames.size));
  return (await peer.anyFrame(kit.wait)).frame.command;
}

/** Takes the engine's non-ECM pages after CFR, answering MCF, to EOP and DCN. */
async function takeNonEcmPages(peer: ScriptedPeer, kit: ScriptKit, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await peer.expectImage(kit.wait);
    await peer.expect(i === count ? Fcf.EOP : Fcf.MPS, kit.wait);
    await peer.send(Fcf.MCF);
  }
  await peer.expect(Fcf.DCN, kit.wait);
}

/**
 * Test page 0 coded for the DCS with single octets damaged, spread over the page, so that the share of rows that
 * fail to decode lies in [min, max] (bad rows as the receiver counts them, as TSB-85's 4.9 %/15.1 % pages do).
 */
function damagedPage(kit: ScriptKit, dcs: DcsParameters, min: number, max: number): Uint8Array {
  const data = kit.coded(ScriptKit.testPage(0), dcs);
  for (let hits = 1; hits < 200; hits++) {
    const copy = data.slice();
    for (let k = 1; k <= hits; k++) copy[Math.floor((copy.length * k) / (hits + 1))] ^= 0xff;
    const d = kit.decoded(copy, dcs);
    const ratio = d.badRows / Math.max(1, d.rows);
    if (ratio >= min && ratio <= max) return copy;
  }
  throw new ConformanceError(`could not build a page with ${min * 100}–${max * 100} % bad rows`);
}

/** After RTN/PIN: DCS and TCF again, CFR expected. */
async function retrain(peer: ScriptedPeer, kit: ScriptKit, dcs: DcsParameters): Promise<void> {
  await peer.frames([kit.dcsFrame(dcs)]);
  await peer.image(dcs.modem, kit.tcf(dcs));
  await peer.expect(Fcf.CFR, kit.wait);
}

/**
 * The same bad copy of a page sent again and again (`sendCopy` sends it with its post-page command): the
 * engine must answer `rejection` to the first three copies and DCN to the fourth, storing nothing.
 */
async function rejectedFourTimes(
  peer: ScriptedPeer,
  kit: ScriptKit,
  dcs: DcsParameters,
  rejection: number,
  sendCopy: () => Promise<void>,
): Promise<void> {
  for (let copy = 1; copy <= 4; copy++) {
    await sendCopy();
    const answer = (await peer.anyFrame(kit.wait)).frame.command;
    const expected = copy < 4 ? rejection : Fcf.DCN;
    assertThat(
      answer === expected,
      `copy ${copy}: expected 0x${expected.toString(16)}, got 0x${answer.toString(16)}`,
    );
    if (copy < 4) await retrain(peer, kit, dcs);
  }
  assertThat(kit.received.length === 0, 'a rejected page must not be stored');
}

/**
 * The engine sends an ECM block and we answer each of its PPSs with PPR for frame 0, four times: the block burst
 * (then frame 0 alone) must come at `modem` each time. Then the engine sends CTC or EOR.
 */
async function fourPprs(peer: ScriptedPeer, kit: ScriptKit, modem: string): Promise<void> {
  for (let ppr = 1; ppr <= 4; ppr++) {
    const burst = await peer.expectEcmBurst(kit.wait);
    assertThat(burst.modem === modem, `burst ${ppr} at ${burst.modem}, expected ${modem}`);
    await peer.expect(Fcf.PPS, kit.wait);
    await peer.send(Fcf.PPR, pprFif([0]));
  }
}

/** CTC naming `modem` expected; CTR sent. */
async function expectCtc(peer: ScriptedPeer, kit: ScriptKit, modem: string): Promise<void> {
  const ctc = await peer.expect(Fcf.CTC, kit.wait);
  assertThat(
    decodeCtc(ctc.frame.fif) === modem,
    `CTC asks for ${decodeCtc(ctc.frame.fif)}, expected ${modem}`,
  );
  await peer.send(Fcf.CTR);
}

function expectReceived(kit: ScriptKit, count: number): void {
  assertThat(
    kit.received.length === count,
    `engine stored ${kit.received.length} page(s), expected ${count}`,
  );
  for (let i = 0; i < kit.received.length; i++) {
    assertThat(
      samePixels(kit.received[i], ScriptKit.testPage(i)),
      `stored page ${i + 1} differs from what was sent`,
    );
  }
}

export const SCRIPTED_CASES: readonly ConformanceCase[] = [
  {
    name: 'MPS-repeated-after-lost-MCF',
    description: 'receiver: MPS repeated (our MCF lost) is answered again and the page is stored once',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      assertThat((await sendPage(peer, kit, dcs, 0, Fcf.MPS)) === Fcf.MCF, 'MCF to MPS');
      await peer.send(Fcf.MPS);
      await peer.expect(Fcf.MCF, kit.wait);
      assertThat((await sendPage(peer, kit, dcs, 1, Fcf.EOP)) === Fcf.MCF, 'MCF to EOP');
      await peer.send(Fcf.DCN);
      expectReceived(kit, 2);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'MPS-repeated-on-T4',
    description: 'sender: no response to MPS → MPS repeated after T4, then the call goes on',
    engine: sendNonEcm,
    async script(peer, kit) {
      await kit.answerEngineSending(peer, kit.dis({ ecm: false }));
      await peer.expectImage(kit.wait);
      await peer.expect(Fcf.MPS, kit.wait);
      await peer.expect(Fcf.MPS, kit.wait);
      await peer.send(Fcf.MCF);
      await takeNonEcmPages(peer, kit, 1);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'PPS-MPS-lost-PPS',
    description: 'ECM receiver: PPS-MPS repeated after a lost MCF is answered MCF, page not taken twice',
    engine: receiveEcm,
    async script(peer, kit) {
      const dcs = kit.dcs({ ecm: true, compression: 'mmr' });
      await kit.callEngineReceiving(peer, dcs);
      const frames = kit.ecmFrames(kit.coded(ScriptKit.testPage(0), dcs));
      await peer.ecmBurst(dcs.modem, frames);
      await peer.send(Fcf.PPS, kit.pps(Fcf.MPS, 0, 0, frames.size));
      await peer.expect(Fcf.MCF, kit.wait);
      await peer.send(Fcf.PPS, kit.pps(Fcf.MPS, 0, 0, frames.size));
      await peer.expect(Fcf.MCF, kit.wait);
      assertThat((await sendEcmPage(peer, kit, dcs, 1, Fcf.EOP)) === Fcf.MCF, 'MCF to PPS-EOP');
      await peer.send(Fcf.DCN);
      expectReceived(kit, 2);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'ECM-PPR-selective-retransmission',
    description:
      'ECM receiver: frames with a bad FCS are listed in PPR (256-bit map) and only those are resent',
    engine: receiveEcm,
    async script(peer, kit) {
      const dcs = kit.dcs({ ecm: true, compression: 'mr' });
      await kit.callEngineReceiving(peer, dcs);
      const frames = kit.ecmFrames(kit.coded(ScriptKit.testPage(1), dcs));
      assertThat(frames.size >= 4, 'test page needs at least 4 ECM frames');
      await peer.ecmBurst(dcs.modem, frames, new Set([1, 3]));
      await peer.send(Fcf.PPS, kit.pps(Fcf.EOP, 0, 0, frames.size));
      const ppr = await peer.expect(Fcf.PPR, kit.wait);
      assertThat(ppr.frame.fif.length === 32, `PPR FIF is ${ppr.frame.fif.length} octets, not 32`);
      assertThat(
        ppr.frame.fif.every((b, i) => b === pprFif([1, 3])[i]),
        'PPR must flag exactly frames 1 and 3',
      );
      await peer.ecmBurst(dcs.modem, new Map([1, 3].map((n) => [n, frames.get(n)!])));
      await peer.send(Fcf.PPS, kit.pps(Fcf.EOP, 0, 0, frames.size));
      await peer.expect(Fcf.MCF, kit.wait);
      await peer.send(Fcf.DCN);
      assertThat(
        kit.received.length === 1 && samePixels(kit.received[0], ScriptKit.testPage(1)),
        'page intact',
      );
    },
    expect: { ok: true, pages: 1 },
  },
  {
    name: 'ECM-PPR-x4-CTC',
    description:
      'ECM sender: after the 4th PPR for a block, CTC asks for the next lower rate; CTR; resend at it',
    engine: sendEcm,
    async script(peer, kit) {
      await kit.answerEngineSending(peer);
      const first = await peer.expectEcmBurst(kit.wait);
      assertThat(first.rcp === 3, `expected 3 RCP, got ${first.rcp}`);
      for (let ppr = 1; ppr <= 4; ppr++) {
        await peer.expect(Fcf.PPS, kit.wait);
        await peer.send(Fcf.PPR, pprFif([0]));
        if (ppr < 4) {
          const again = await peer.expectEcmBurst(kit.wait);
          assertThat(again.frames.size === 1 && again.frames.has(0), 'only frame 0 is resent');
        }
      }
      const ctc = await peer.expect(Fcf.CTC, kit.wait);
      assertThat(decodeCtc(ctc.frame.fif) === 'v17-12000', `CTC asks for ${decodeCtc(ctc.frame.fif)}`);
      await peer.send(Fcf.CTR);
      const resent = await peer.expectEcmBurst(kit.wait);
      assertThat(resent.modem === 'v17-12000', `resent at ${resent.modem}`);
      await peer.expect(Fcf.PPS, kit.wait);
      await peer.send(Fcf.MCF);
      await peer.expectEcmBurst(kit.wait);
      await peer.expect(Fcf.PPS, kit.wait);
      await peer.send(Fcf.MCF);
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'ECM-PPR-CTC-EOR',
    description: 'ECM sender: PPRs at the lowest rate left → EOR, ERR, then DCN (ecm_failed)',
    engine: sendEcm,
    async script(peer, kit) {
      await kit.answerEngineSending(peer, kit.dis({ modems: ['v27ter'] }));
      await peer.expectEcmBurst(kit.wait);
      for (const rate of ['v27ter-4800', 'v27ter-2400']) {
        for (let ppr = 1; ppr <= 4; ppr++) {
          await peer.expect(Fcf.PPS, kit.wait);
          await peer.send(Fcf.PPR, pprFif([0]));
          if (ppr < 4) {
            const again = await peer.expectEcmBurst(kit.wait);
            assertThat(again.modem === rate, `resent at ${again.modem}, expected ${rate}`);
          }
        }
        if (rate === 'v27ter-4800') {
          await peer.expect(Fcf.CTC, kit.wait);
          await peer.send(Fcf.CTR);
          await peer.expectEcmBurst(kit.wait);
        }
      }
      await peer.expect(Fcf.EOR, kit.wait);
      await peer.send(Fcf.ERR);
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: false, reason: 'ecm_failed', pages: 0 },
  },
  {
    name: 'ECM-PPR-x4-CTC-packet-line',
    description:
      "ECM sender, rateFallback 'packet': the first CTC for a block keeps the rate, the second steps down; a new block counts again",
    engine: { ...sendEcm, rateFallback: 'packet' },
    async script(peer, kit) {
      await kit.answerEngineSending(peer);
      // Page 1: one CTC, at the same rate; the block is then corrected.
      await fourPprs(peer, kit, 'v17-14400');
      await expectCtc(peer, kit, 'v17-14400');
      const resent = await peer.expectEcmBurst(kit.wait);
      assertThat(resent.modem === 'v17-14400', `resent at ${resent.modem}`);
      await peer.expect(Fcf.PPS, kit.wait);
      await peer.send(Fcf.MCF);
      // Page 2 (a new block): the first CTC keeps the rate again, the second for the block steps down.
      await fourPprs(peer, kit, 'v17-14400');
      await expectCtc(peer, kit, 'v17-14400');
      await fourPprs(peer, kit, 'v17-14400');
      await expectCtc(peer, kit, 'v17-12000');
      const lower = await peer.expectEcmBurst(kit.wait);
      assertThat(lower.modem === 'v17-12000', `resent at ${lower.modem}`);
      await peer.expect(Fcf.PPS, kit.wait);
      await peer.send(Fcf.MCF);
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'ECM-PPR-CTC-EOR-packet-line',
    description:
      "ECM sender, rateFallback 'packet', V.27ter only: CTC 4800, CTC 2400, then EOR at the lowest rate (ecm_failed)",
    engine: { ...sendEcm, rateFallback: 'packet' },
    async script(peer, kit) {
      await kit.answerEngineSending(peer, kit.dis({ modems: ['v27ter'] }));
      await fourPprs(peer, kit, 'v27ter-4800');
      await expectCtc(peer, kit, 'v27ter-4800');
      await fourPprs(peer, kit, 'v27ter-4800');
      await expectCtc(peer, kit, 'v27ter-2400');
      // The third CTC for the block would step down again: none is left, so the block is given up.
      await fourPprs(peer, kit, 'v27ter-2400');
      await peer.expect(Fcf.EOR, kit.wait);
      await peer.send(Fcf.ERR);
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: false, reason: 'ecm_failed', pages: 0 },
  },
  {
    name: 'ECM-RNR-RR',
    description: 'ECM sender: RNR to PPS → RR polls until the receiver answers MCF',
    engine: sendEcm,
    async script(peer, kit) {
      await kit.answerEngineSending(peer);
      await peer.expectEcmBurst(kit.wait);
      await peer.expect(Fcf.PPS, kit.wait);
      await peer.send(Fcf.RNR);
      await peer.expect(Fcf.RR, kit.wait);
      await peer.send(Fcf.RNR);
      await peer.expect(Fcf.RR, kit.wait);
      await peer.send(Fcf.MCF);
      await peer.expectEcmBurst(kit.wait);
      await peer.expect(Fcf.PPS, kit.wait);
      await peer.send(Fcf.MCF);
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'ECM-RNR-T5',
    description: 'ECM sender: a receiver that stays not ready ends the call at T5',
    engine: sendEcm,
    async script(peer, kit) {
      await kit.answerEngineSending(peer);
      await peer.expectEcmBurst(kit.wait);
      await peer.expect(Fcf.PPS, kit.wait);
      await peer.send(Fcf.RNR);
      for (;;) {
        const f = await peer.anyFrame(kit.timers.t5 + kit.wait);
        if (f.frame.command === Fcf.DCN) return;
        assertThat(f.frame.command === Fcf.RR, 'expected RR or DCN');
        await peer.send(Fcf.RNR);
      }
    },
    expect: { ok: false, reason: 'timeout_t5', pages: 0 },
  },
  {
    name: 'RTN-retrain-resend',
    description: 'sender: RTN → DCS and TCF again, the same page again; MCF then continues',
    engine: sendNonEcm,
    async script(peer, kit) {
      await kit.answerEngineSending(peer, kit.dis({ ecm: false }));
      const first = await peer.expectImage(kit.wait);
      await peer.expect(Fcf.MPS, kit.wait);
      await peer.send(Fcf.RTN);
      await peer.expect(Fcf.DCS, kit.wait, [Fcf.TSI]);
      await peer.expectImage(kit.wait);
      await peer.send(Fcf.CFR);
      const again = await peer.expectImage(kit.wait);
      assertThat(again.data.length === first.data.length, 'the same page is sent again');
      await peer.expect(Fcf.MPS, kit.wait);
      await peer.send(Fcf.MCF);
      await takeNonEcmPages(peer, kit, 1);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'RTN-bad-page',
    description:
      'receiver: a page with more than 15 % bad rows gets RTN and is not stored; the resent page is',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      const bad = damagedPage(kit, dcs, 0.2, 0.5);
      await peer.image(dcs.modem, bad);
      await peer.send(Fcf.MPS);
      await peer.expect(Fcf.RTN, kit.wait);
      assertThat(kit.received.length === 0, 'a rejected page must not be stored');
      await peer.frames([kit.dcsFrame(dcs)]);
      await peer.image(dcs.modem, kit.tcf(dcs));
      await peer.expect(Fcf.CFR, kit.wait);
      assertThat((await sendPage(peer, kit, dcs, 0, Fcf.EOP)) === Fcf.MCF, 'MCF for the good page');
      await peer.send(Fcf.DCN);
      expectReceived(kit, 1);
    },
    expect: { ok: true, pages: 1 },
  },
  {
    name: 'RTN-limit-receiver',
    description:
      'receiver: a sender that keeps sending a bad page gets RTN 3 times, then DCN instead of a 4th (page_rejected)',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      const bad = damagedPage(kit, dcs, 0.2, 0.5);
      await rejectedFourTimes(peer, kit, dcs, Fcf.RTN, async () => {
        await peer.image(dcs.modem, bad);
        await peer.send(Fcf.MPS);
      });
    },
    expect: { ok: false, reason: 'page_rejected', pages: 0 },
  },
  {
    name: 'RTN-limit-per-page',
    description:
      'receiver: RTNs count per page (2 for page 1, 3 for page 2), and a good copy is taken after 3 RTNs',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      const bad = damagedPage(kit, dcs, 0.2, 0.5);
      for (const [n, badCopies] of [
        [0, 2],
        [1, 3],
      ] as const) {
        for (let copy = 1; copy <= badCopies; copy++) {
          await peer.image(dcs.modem, bad);
          await peer.send(Fcf.MPS);
          await peer.expect(Fcf.RTN, kit.wait);
          await retrain(peer, kit, dcs);
        }
        const answer = await sendPage(peer, kit, dcs, n, n === 1 ? Fcf.EOP : Fcf.MPS);
        assertThat(answer === Fcf.MCF, `page ${n + 1}: expected MCF, got 0x${answer.toString(16)}`);
      }
      await peer.send(Fcf.DCN);
      expectReceived(kit, 2);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'PIN-limit-receiver-ECM',
    description: 'ECM receiver: a page that never decodes gets PIN 3 times, then DCN (page_rejected)',
    engine: receiveEcm,
    async script(peer, kit) {
      const dcs = kit.dcs({ ecm: true, compression: 'mr' });
      await kit.callEngineReceiving(peer, dcs);
      const frames = kit.ecmFrames(damagedPage(kit, dcs, 0.2, 0.5));
      await rejectedFourTimes(peer, kit, dcs, Fcf.PIN, async () => {
        await peer.ecmBurst(dcs.modem, frames);
        await peer.send(Fcf.PPS, kit.pps(Fcf.EOP, 0, 0, frames.size));
      });
    },
    expect: { ok: false, reason: 'page_rejected', pages: 0 },
  },
  {
    name: 'EOP-repeated-after-lost-RTN',
    description:
      'receiver: EOP repeated after our RTN was lost gets RTN again and the page is still awaited (not the end)',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      await peer.image(dcs.modem, damagedPage(kit, dcs, 0.2, 0.5));
      await peer.send(Fcf.EOP);
      await peer.expect(Fcf.RTN, kit.wait);
      await peer.send(Fcf.EOP);
      await peer.expect(Fcf.RTN, kit.wait);
      await retrain(peer, kit, dcs);
      assertThat((await sendPage(peer, kit, dcs, 0, Fcf.EOP)) === Fcf.MCF, 'MCF for the good page');
      await peer.send(Fcf.DCN);
      expectReceived(kit, 1);
    },
    expect: { ok: true, pages: 1 },
  },
  {
    name: 'RTP-poor-page',
    description: 'receiver: 5–15 % bad rows → RTP, and the page is kept',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      await peer.image(dcs.modem, damagedPage(kit, dcs, 0.06, 0.14));
      await peer.send(Fcf.EOP);
      await peer.expect(Fcf.RTP, kit.wait);
      await peer.send(Fcf.DCN);
      assertThat(kit.received.length === 1, 'an RTP page is kept');
    },
    expect: { ok: true, pages: 1 },
  },
  {
    name: 'FTT-fallback',
    description: 'sender: FTT → DCS at the next rate of the fallback table (V.17 14400 → 12000)',
    engine: sendNonEcm,
    async script(peer, kit) {
      const first = await kit.answerEngineSending(peer, kit.dis({ ecm: false }), Fcf.FTT);
      assertThat(first.dcs.modem === 'v17-14400', `first DCS at ${first.dcs.modem}`);
      peer.x = true;
      await peer.expect(Fcf.DCS, kit.wait, [Fcf.TSI]);
      const tcf = await peer.expectImage(kit.wait);
      assertThat(tcf.modem === 'v17-12000', `second TCF at ${tcf.modem}`);
      assertThat(tcf.data.length === 2250, `TCF at 12000 is 2250 octets, got ${tcf.data.length}`);
      peer.x = false;
      await peer.send(Fcf.CFR);
      await takeNonEcmPages(peer, kit, 2);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'No-answerer-response',
    description: 'sender: DIS, then silence → DCS+TCF three times, then DCN (no_response)',
    engine: sendNonEcm,
    async script(peer, kit) {
      await peer.expectTone('cng', kit.wait);
      await peer.frames([kit.dis({ ecm: false })]);
      for (let i = 0; i < 3; i++) {
        await peer.expect(Fcf.DCS, kit.wait, [Fcf.TSI]);
        await peer.expectImage(kit.wait);
      }
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: false, reason: 'no_response', pages: 0 },
  },
  {
    name: 'No-caller-response',
    description: 'receiver (answering): nobody there → DIS every T4 until T1, then DCN (timeout_t1)',
    engine: receiveNonEcm,
    async script(peer, kit) {
      await peer.expectTone('ced', kit.wait);
      await peer.expect(Fcf.DIS, kit.wait, [Fcf.CSI]);
      await peer.expect(Fcf.DIS, kit.wait, [Fcf.CSI]);
      await peer.expect(Fcf.DCN, kit.timers.t1 + kit.wait, [Fcf.CSI, Fcf.DIS]);
    },
    expect: { ok: false, reason: 'timeout_t1', pages: 0 },
  },
  {
    name: 'Silent-line-calling',
    description: 'sender (calling): nothing at all comes back → no_answer after T1',
    engine: sendNonEcm,
    async script(peer, kit) {
      await peer.expectTone('cng', kit.wait);
      await peer.expect(Fcf.DCN, kit.timers.t1 + kit.wait);
    },
    expect: { ok: false, reason: 'no_answer', pages: 0 },
  },
  {
    name: 'Invalid-signalling-rate',
    description: 'receiver: DCS with an undefined rate code (bits 11–14) → DCN, negotiation_failed',
    engine: receiveNonEcm,
    async script(peer, kit) {
      await peer.tone('cng');
      await peer.expect(Fcf.DIS, kit.wait, [Fcf.CSI]);
      await peer.send(Fcf.DCS, Uint8Array.of(0x00, 0x12, 0x00));
      await peer.expect(Fcf.DCN, kit.wait, [Fcf.CSI, Fcf.DIS]);
    },
    expect: { ok: false, reason: 'negotiation_failed', pages: 0 },
  },
  {
    name: 'DCS-T6-without-ECM',
    description: 'receiver: DCS selecting T.6 without ECM is nonsense → DCN, negotiation_failed',
    engine: receiveEcm,
    async script(peer, kit) {
      await peer.tone('cng');
      await peer.expect(Fcf.DIS, kit.wait, [Fcf.CSI]);
      await peer.send(Fcf.DCS, Uint8Array.of(0x00, 0x22, 0x80, 0x40));
      await peer.expect(Fcf.DCN, kit.wait, [Fcf.CSI, Fcf.DIS]);
    },
    expect: { ok: false, reason: 'negotiation_failed', pages: 0 },
  },
  {
    name: 'DCS-mode-not-offered',
    description: 'receiver with ECM off: a DCS selecting ECM is refused (negotiation_failed)',
    engine: receiveNonEcm,
    async script(peer, kit) {
      await peer.tone('cng');
      await peer.expect(Fcf.DIS, kit.wait, [Fcf.CSI]);
      await peer.frames([kit.dcsFrame(kit.dcs({ ecm: true, compression: 'mmr' }))]);
      await peer.expect(Fcf.DCN, kit.wait, [Fcf.CSI, Fcf.DIS]);
    },
    expect: { ok: false, reason: 'negotiation_failed', pages: 0 },
  },
  {
    name: 'DCN-after-CFR',
    description: 'receiver: the caller hangs up (DCN) right after CFR → remote_disconnected',
    engine: receiveNonEcm,
    async script(peer, kit) {
      await kit.callEngineReceiving(peer, kit.dcs());
      await peer.send(Fcf.DCN);
      await peer.expectSilence(kit.timers.t4);
    },
    expect: { ok: false, reason: 'remote_disconnected', pages: 0 },
  },
  {
    name: 'Non-ECM-DCN-clipped',
    description: 'receiver: DCN after EOP/MCF never arrives → the call still ends well after T2',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      assertThat((await sendPage(peer, kit, dcs, 0, Fcf.EOP)) === Fcf.MCF, 'MCF to EOP');
    },
    expect: { ok: true, pages: 1 },
  },
  {
    name: 'ECM-DCN-clipped',
    description: 'ECM receiver: DCN after PPS-EOP/MCF never arrives → the call still ends well after T2',
    engine: receiveEcm,
    async script(peer, kit) {
      const dcs = kit.dcs({ ecm: true, compression: 'mmr' });
      await kit.callEngineReceiving(peer, dcs);
      assertThat((await sendEcmPage(peer, kit, dcs, 0, Fcf.EOP)) === Fcf.MCF, 'MCF to PPS-EOP');
    },
    expect: { ok: true, pages: 1 },
  },
  {
    name: 'EOP-repeated-after-lost-MCF',
    description: 'receiver: EOP repeated after our MCF was lost → MCF again, DCN, one page',
    engine: receiveNonEcm,
    async script(peer, kit) {
      const dcs = kit.dcs();
      await kit.callEngineReceiving(peer, dcs);
      assertThat((await sendPage(peer, kit, dcs, 0, Fcf.EOP)) === Fcf.MCF, 'MCF to EOP');
      await peer.send(Fcf.EOP);
      await peer.expect(Fcf.MCF, kit.wait);
      await peer.send(Fcf.DCN);
      expectReceived(kit, 1);
    },
    expect: { ok: true, pages: 1 },
  },
  {
    name: 'DIS-crossing-DCS',
    description: 'sender: a DIS repeated while our DCS was on its way does not make us train twice',
    engine: sendNonEcm,
    async script(peer, kit) {
      await peer.expectTone('cng', kit.wait);
      await peer.frames([kit.dis({ ecm: false })]);
      await peer.expect(Fcf.DCS, kit.wait, [Fcf.TSI]);
      await peer.frames([kit.dis({ ecm: false })]);
      await peer.expectImage(kit.wait);
      await peer.send(Fcf.CFR);
      await takeNonEcmPages(peer, kit, 2);
    },
    expect: { ok: true, pages: 2 },
  },
  {
    name: 'Invalid-response-to-DCS',
    description: 'sender: MCF where CFR/FTT belongs → invalid_response, DCN',
    engine: sendNonEcm,
    async script(peer, kit) {
      await kit.answerEngineSending(peer, kit.dis({ ecm: false }), Fcf.MCF);
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: false, reason: 'invalid_response', pages: 0 },
  },
  {
    name: 'V27ter-only-receiver',
    description: 'sender: a V.27ter-only DIS (TSB-85 "00 50 00") gets DCS V.27ter 4800, MH, 20 ms scan lines',
    engine: sendNonEcm,
    pages: [ScriptKit.testPage(0, 98)],
    async script(peer, kit) {
      const { dcs } = await kit.answerEngineSending(peer, Uint8Array.of(0xff, 0x13, 0x80, 0x00, 0x0a, 0x00));
      assertThat(dcs.modem === 'v27ter-4800', `DCS modem ${dcs.modem}`);
      assertThat(dcs.compression === 'mh' && dcs.resolution === 'standard', 'MH standard');
      assertThat(dcs.minScanLineMs === 20, 'honours the 20 ms minimum scan line time');
      const page = await peer.expectImage(kit.wait);
      const decoded = kit.decoded(page.data, dcs);
      assertThat(decoded.badRows === 0 && decoded.rows === 80, `page decodes (${decoded.rows} rows)`);
      // 20 ms at 4800 bit/s = 96 bits per row at least.
      assertThat(page.data.length * 8 >= 80 * 96, 'rows padded to the minimum scan line time');
      await peer.expect(Fcf.EOP, kit.wait);
      await peer.send(Fcf.MCF);
      await peer.expect(Fcf.DCN, kit.wait);
    },
    expect: { ok: true, pages: 1 },
  },
];
