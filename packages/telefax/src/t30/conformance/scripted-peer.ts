/**
 * @module
 * The far end of a conformance exchange: a script drives one MemoryPort directly, sending frames, TCF, page data
 * and ECM bursts, and expecting what the engine under test sends back, each within a timeout.
 */

import { Fcf, fcfName } from '../fcf.ts';
import { buildFrame, type HdlcFrame, parseFrame } from '../hdlc-frame.ts';
import type { MemoryPort } from '../memory-port-pair.ts';
import type { FaxModem, FaxTone, PortEvent } from '../t30-port.ts';

/** A script expectation that was not met. */
export class ConformanceError extends Error {
  readonly code = 'conformance_failed';
}

export interface ExpectedFrame {
  readonly frame: HdlcFrame;
  readonly bytes: Uint8Array;
  readonly modem: FaxModem;
}

export class ScriptedPeer {
  readonly port: MemoryPort;
  /** Everything received, for the failure report. */
  readonly log: string[] = [];
  private buffered: PortEvent[] = [];
  /** We received DIS, so our commands carry the X bit (T.30 §5.3.6.1.3). */
  x = false;

  constructor(port: MemoryPort) {
    this.port = port;
  }

  private async next(timeoutMs: number): Promise<PortEvent | null> {
    const b = this.buffered.shift();
    if (b) return b;
    const e = await this.port.receive(timeoutMs);
    if (e) this.log.push(describe(e));
    return e;
  }

  /** Puts an event back to be read again (a script looking ahead). */
  unread(e: PortEvent): void {
    this.buffered.unshift(e);
  }

  // ---- sending ----

  async tone(tone: FaxTone): Promise<void> {
    await this.port.sendTone(tone, tone === 'ced' ? 3000 : 500);
  }

  /** Sends V.21 frames in one carrier; `badFcs` lists indexes delivered with a bad FCS. */
  async frames(frames: readonly Uint8Array[], badFcs: readonly number[] = []): Promise<void> {
    const saved = this.port.faults;
    let i = 0;
    this.port.faults = { ...saved, frame: () => (badFcs.includes(i++) ? 'bad-fcs' : 'pass') };
    try {
      await this.port.sendHdlc('v21', frames);
    } finally {
      this.port.faults = saved;
    }
  }

  /** Sends one final frame built from an FCF (X bit per `this.x`) and FIF. */
  async send(fcf: number, fif?: Uint8Array): Promise<void> {
    await this.frames([buildFrame(fcf, fif, { x: this.x })]);
  }

  async image(modem: FaxModem, data: Uint8Array): Promise<void> {
    await this.port.sendImage(modem, data);
  }

  /** An ECM burst: FCD frames (numbers → data) then RCP ×3; `corrupt` frames arrive with a bad FCS. */
  async ecmBurst(
    modem: FaxModem,
    frames: ReadonlyMap<number, Uint8Array>,
    corrupt: ReadonlySet<number> = new Set(),
  ) {
    const out: Uint8Array[] = [];
    const bad: number[] = [];
    for (const [n, data] of frames) {
      if (corrupt.has(n)) bad.push(out.length);
      const f = new Uint8Array(4 + data.length);
      f.set([0xff, 0x03, Fcf.FCD, n]);
      f.set(data, 4);
      out.push(f);
    }
    const rcp = buildFrame(Fcf.RCP, undefined, { final: false });
    out.push(rcp, rcp, rcp);
    const saved = this.port.faults;
    let i = 0;
    this.port.faults = { ...saved, frame: () => (bad.includes(i++) ? 'bad-fcs' : 'pass') };
    try {
      await this.port.sendHdlc(modem, out);
    } finally {
      this.port.faults = saved;
    }
  }

  // ---- expecting ----

  async expectTone(tone: FaxTone, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) throw new ConformanceError(`expected ${tone}, got nothing in ${timeoutMs} ms`);
      if (e.type === 'tone' && e.tone === tone) return;
      if (e.type === 'hdlc' || e.type === 'image')
        throw new ConformanceError(`expected ${tone}, got ${describe(e)}`);
    }
  }

  /** Puts a frame read by anyFrame back. */
  unreadFrame(f: ExpectedFrame): void {
    this.unread({ type: 'hdlc', modem: f.modem, frame: f.bytes, fcsOk: true });
  }

  /** The next V.21 frame (any kind). */
  async anyFrame(timeoutMs: number): Promise<ExpectedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) throw new ConformanceError(`expected a frame, got nothing in ${timeoutMs} ms`);
      if (e.type === 'closed') throw new ConformanceError('expected a frame, the engine closed the line');
      if (e.type === 'image') throw new ConformanceError(`expected a frame, got image data (${e.modem})`);
      if (e.type !== 'hdlc') continue;
      const frame = parseFrame(e.frame);
      if (!frame) throw new ConformanceError(`the engine sent a malformed frame ${hex(e.frame)}`);
      return { frame, bytes: e.frame, modem: e.modem };
    }
  }

  /** The next frame must carry this command (X bit masked); optional frames before it are skipped if allowed. */
  async expect(fcf: number, timeoutMs: number, skip: readonly number[] = []): Promise<ExpectedFrame> {
    for (;;) {
      const got = await this.anyFrame(timeoutMs);
      if (got.frame.command === fcf) {
        if (got.frame.command === Fcf.DIS || got.frame.command === Fcf.DTC) this.x = true;
        return got;
      }
      if (skip.includes(got.frame.command)) continue;
      throw new ConformanceError(
        `expected ${fcfName(fcf)}, got ${fcfName(got.frame.rawFcf)} (${hex(got.bytes)})`,
      );
    }
  }

  /** A high-speed carrier with image data (TCF or a non-ECM page), returned whole. */
  async expectImage(timeoutMs: number): Promise<{ modem: FaxModem; data: Uint8Array }> {
    const deadline = Date.now() + timeoutMs;
    const chunks: Uint8Array[] = [];
    let modem: FaxModem | null = null;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) throw new ConformanceError(`expected image data, got ${modem ? 'no carrier end' : 'nothing'}`);
      if (e.type === 'image') {
        modem = e.modem;
        chunks.push(e.data);
      } else if (e.type === 'carrier-down' && modem) {
        break;
      } else if (e.type === 'hdlc') {
        throw new ConformanceError(`expected image data, got frame ${hex(e.frame)}`);
      } else if (e.type === 'closed') {
        throw new ConformanceError('expected image data, the engine closed the line');
      }
    }
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    return { modem: modem!, data };
  }

  /** An ECM burst: FCD frames by number, up to the carrier's end (RCPs counted). */
  async expectEcmBurst(
    timeoutMs: number,
  ): Promise<{ modem: FaxModem; frames: Map<number, Uint8Array>; rcp: number }> {
    const deadline = Date.now() + timeoutMs;
    const frames = new Map<number, Uint8Array>();
    let rcp = 0;
    let modem: FaxModem | null = null;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) throw new ConformanceError('expected an ECM burst, got nothing');
      if (e.type === 'closed')
        throw new ConformanceError('expected an ECM burst, the engine closed the line');
      if (e.type === 'carrier-down' && modem) return { modem, frames, rcp };
      if (e.type !== 'hdlc') continue;
      const f = parseFrame(e.frame);
      if (e.modem === 'v21') {
        this.unread(e);
        throw new ConformanceError(`expected an ECM burst, got ${f ? fcfName(f.rawFcf) : hex(e.frame)}`);
      }
      modem = e.modem;
      if (f?.command === Fcf.FCD) frames.set(f.fif[0], f.fif.subarray(1));
      else if (f?.command === Fcf.RCP) rcp++;
    }
  }

  /** Nothing but silence (no frame, no data) for this long. */
  async expectSilence(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      const e = await this.next(left);
      if (!e) return;
      if (e.type === 'hdlc' || e.type === 'image')
        throw new ConformanceError(`expected silence, got ${describe(e)}`);
    }
  }
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function describe(e: PortEvent): string {
  switch (e.type) {
    case 'hdlc': {
      const f = parseFrame(e.frame);
      return `${e.modem} ${f ? fcfName(f.rawFcf) : 'frame'}${e.fcsOk ? '' : ' (bad FCS)'}`;
    }
    case 'image':
      return `image ${e.data.length} octets (${e.modem})`;
    case 'tone':
      return e.tone;
    case 'carrier-up':
      return `carrier-up ${e.modem}`;
    default:
      return e.type;
  }
}
