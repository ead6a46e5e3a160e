/**
 * @module
 * Two T30Ports joined in memory, for tests: what one sends, the other receives as port events, at once (unpaced).
 * Faults can be injected per direction: drop or corrupt the Nth HDLC frame, or alter image data.
 */

import type { FaxModem, FaxTone, PortEvent, SendHdlcOptions, T30Port } from './t30-port.ts';

/** What to do with one HDLC frame on its way: deliver, lose, deliver with a bad FCS, or deliver other bytes. */
export type FrameFault = 'pass' | 'drop' | 'bad-fcs' | Uint8Array;

export interface MemoryLinkFaults {
  /** Called for every HDLC frame in this direction, numbered from 1 (ECM frames included). */
  readonly frame?: (frame: Uint8Array, index: number, modem: FaxModem) => FrameFault;
  /**
   * Called for each block of image (non-ECM page or TCF) data; returns the data to deliver, or null to lose it
   * the way a packet transport does (the far end gets a 'loss' event in its place). `place` numbers the image
   * carrier (each TCF or page sent in this direction, from 1) and the block within it (from 1).
   */
  readonly image?: (data: Uint8Array, modem: FaxModem, place: ImageBlockPlace) => Uint8Array | null;
  /** Lose everything sent in this direction (a silent far end). */
  readonly mute?: boolean;
}

/** Where a block of image data is: its carrier (TCF or page) in this direction and its place in it, from 1. */
export interface ImageBlockPlace {
  readonly carrier: number;
  readonly block: number;
}

/** Image data goes over in chunks this long, like a transport would deliver it. */
const IMAGE_CHUNK = 1024;

export class MemoryPort implements T30Port {
  private readonly queue: PortEvent[] = [];
  private readonly waiters: Array<(event: PortEvent | null) => void> = [];
  private peer: MemoryPort | null = null;
  private frameCount = 0;
  private imageCarriers = 0;
  private closedReason: string | null = null;
  /** Every event this port sent, for assertions. */
  readonly sent: PortEvent[] = [];
  faults: MemoryLinkFaults;

  constructor(faults: MemoryLinkFaults = {}) {
    this.faults = faults;
  }

  connect(peer: MemoryPort): void {
    this.peer = peer;
  }

  /** Puts an event into this port's receive queue (tests script a far end this way). */
  deliver(event: PortEvent): void {
    if (this.closedReason !== null) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(event);
    else this.queue.push(event);
  }

  private transmit(event: PortEvent): void {
    this.sent.push(event);
    if (this.faults.mute || this.closedReason !== null) return;
    this.peer?.deliver(event);
  }

  async sendTone(tone: FaxTone, _durationMs: number): Promise<void> {
    this.transmit({ type: 'tone', tone });
  }

  async sendHdlc(modem: FaxModem, frames: readonly Uint8Array[], _options?: SendHdlcOptions): Promise<void> {
    this.transmit({ type: 'carrier-up', modem });
    for (const frame of frames) {
      this.frameCount++;
      const fault = this.faults.frame?.(frame, this.frameCount, modem) ?? 'pass';
      if (fault === 'drop') continue;
      if (fault === 'bad-fcs') this.transmit({ type: 'hdlc', modem, frame: frame.slice(), fcsOk: false });
      else
        this.transmit({ type: 'hdlc', modem, frame: fault === 'pass' ? frame.slice() : fault, fcsOk: true });
    }
    this.transmit({ type: 'carrier-down' });
    await Promise.resolve();
  }

  async sendImage(
    modem: FaxModem,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    _options?: SendHdlcOptions,
  ): Promise<void> {
    this.transmit({ type: 'carrier-up', modem });
    const carrier = ++this.imageCarriers;
    let block = 0;
    const chunks = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) {
      for (let off = 0; off < chunk.length; off += IMAGE_CHUNK) {
        const part = chunk.slice(off, off + IMAGE_CHUNK);
        block++;
        const data = this.faults.image ? this.faults.image(part, modem, { carrier, block }) : part;
        this.transmit(
          data === null
            ? { type: 'loss', modem, packets: 1, octets: part.length }
            : { type: 'image', modem, data },
        );
      }
    }
    this.transmit({ type: 'carrier-down' });
    await Promise.resolve();
  }

  async sendSilence(_durationMs: number): Promise<void> {}

  receive(timeoutMs: number): Promise<PortEvent | null> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedReason !== null) return Promise.resolve({ type: 'closed', reason: this.closedReason });
    return new Promise((resolve) => {
      const waiter = (event: PortEvent | null) => {
        clearTimeout(timer);
        resolve(event);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.closedReason !== null) return;
    this.closedReason = 'closed locally';
    for (const waiter of this.waiters.splice(0)) waiter({ type: 'closed', reason: this.closedReason });
    this.peer?.peerClosed();
  }

  private peerClosed(): void {
    if (this.closedReason !== null) return;
    this.deliver({ type: 'closed', reason: 'far end closed' });
  }
}

/** Two connected ports: a is the calling side by convention, b the answering side. */
export function createMemoryPortPair(faults: { a?: MemoryLinkFaults; b?: MemoryLinkFaults } = {}) {
  const a = new MemoryPort(faults.a);
  const b = new MemoryPort(faults.b);
  a.connect(b);
  b.connect(a);
  return { a, b };
}
