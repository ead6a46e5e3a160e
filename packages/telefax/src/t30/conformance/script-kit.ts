/**
 * @module
 * Building blocks for conformance scripts: capabilities and modes coded as frames, TCF, coded pages, ECM frames,
 * and the common phase B openings for each role.
 */

import { samplePage } from '../../codec/sample-pages.ts';
import type { BilevelPage } from '../../image/bilevel-page.ts';
import {
  type DcsParameters,
  decodeDcs,
  defaultCapabilities,
  encodeDcs,
  encodeDis,
  type FaxCapabilities,
} from '../dis-dcs.ts';
import { Fcf } from '../fcf.ts';
import { buildFrame } from '../hdlc-frame.ts';
import { encodeIdent } from '../ident.ts';
import { kFactorFor } from '../page-codec.ts';
import { standardPageCodec } from '../standard-page-codec.ts';
import { MODEM_BIT_RATE } from '../t30-port.ts';
import type { T30Timers } from '../timers.ts';
import type { ScriptedPeer } from './scripted-peer.ts';

export class ScriptKit {
  readonly timers: T30Timers;
  /** Pages the engine was given to send. */
  readonly pages: readonly BilevelPage[];
  /** Pages the engine stored (its onPage hook). */
  readonly received: BilevelPage[] = [];

  constructor(timers: T30Timers, pages: readonly BilevelPage[]) {
    this.timers = timers;
    this.pages = pages;
  }

  /** Long enough for any single response of the engine. */
  get wait(): number {
    return this.timers.t4 * 4 + 500;
  }

  static testPage(n: number, yDpi = 196): BilevelPage {
    return { ...samplePage(n % 2 ? 'random' : 'text', 1728, 80, n + 1), yDpi };
  }

  dis(overrides: Partial<FaxCapabilities> = {}): Uint8Array {
    return buildFrame(Fcf.DIS, encodeDis(defaultCapabilities(overrides)));
  }

  csi(ident: string): Uint8Array {
    return buildFrame(Fcf.CSI, encodeIdent(ident), { final: false });
  }

  dcs(overrides: Partial<DcsParameters> = {}): DcsParameters {
    return {
      modem: 'v17-14400',
      bitRate: 14400,
      resolution: 'fine',
      width: 1728,
      length: 'a4',
      compression: 'mh',
      ecm: false,
      ecmFrameSize: 256,
      minScanLineMs: 0,
      ...overrides,
      ...(overrides.modem ? { bitRate: MODEM_BIT_RATE[overrides.modem] } : {}),
    };
  }

  dcsFrame(dcs: DcsParameters, x = true): Uint8Array {
    return buildFrame(Fcf.DCS, encodeDcs(dcs), { x });
  }

  tcf(dcs: DcsParameters): Uint8Array {
    return new Uint8Array(Math.round((dcs.bitRate * 1.5) / 8));
  }

  coded(page: BilevelPage, dcs: DcsParameters): Uint8Array {
    return standardPageCodec.encode(page, {
      compression: dcs.compression,
      kFactor: kFactorFor(page.yDpi),
      minBitsPerRow: 0,
    });
  }

  decoded(data: Uint8Array, dcs: DcsParameters) {
    return standardPageCodec.decode(data, {
      compression: dcs.compression,
      width: dcs.width,
      xDpi: 204,
      yDpi: 196,
    });
  }

  /** Coded page data cut into ECM frames. */
  ecmFrames(data: Uint8Array, size = 256): Map<number, Uint8Array> {
    const frames = new Map<number, Uint8Array>();
    for (let i = 0, off = 0; off < data.length || i === 0; i++, off += size) {
      const f = new Uint8Array(size);
      f.set(data.subarray(off, off + size));
      frames.set(i, f);
    }
    return frames;
  }

  /** PPS FIF: post-page FCF (0 = NULL), page, block, frame count − 1. */
  pps(fcf2: number, page: number, block: number, frames: number): Uint8Array {
    return Uint8Array.of(fcf2 === 0 ? 0 : fcf2 | 1, page, block, frames - 1);
  }

  /** The engine calls to send: we answer, announce DIS, take its DCS and TCF; returns the DCS it chose. */
  async answerEngineSending(peer: ScriptedPeer, dis: Uint8Array = this.dis(), response: number = Fcf.CFR) {
    await peer.expectTone('cng', this.wait);
    await peer.tone('ced');
    await peer.frames([this.csi('+1 555 0001'), dis]);
    const dcs = await peer.expect(Fcf.DCS, this.wait, [Fcf.TSI, Fcf.SUB, Fcf.SID, Fcf.NSS]);
    const tcf = await peer.expectImage(this.wait);
    peer.x = false;
    await peer.send(response);
    return { dcs: decodeDcs(dcs.frame.fif), tcf };
  }

  /** The engine answers to receive: we call, wait for its DIS, send DCS and TCF, expect CFR. */
  async callEngineReceiving(peer: ScriptedPeer, dcs: DcsParameters) {
    await peer.tone('cng');
    await peer.expectTone('ced', this.wait);
    await peer.expect(Fcf.DIS, this.wait, [Fcf.CSI, Fcf.NSF]);
    await peer.frames([this.dcsFrame(dcs)]);
    await peer.image(dcs.modem, this.tcf(dcs));
    await peer.expect(Fcf.CFR, this.wait);
  }
}
