/**
 * @module
 * A T.38 terminal (T.38 §7–9): the {@link T30Port} a T.30 engine drives, carried as IFPs over a UDPTL endpoint.
 *
 * Sending follows the order a line would have — indicator, preamble or training time, data, signal end, no-signal —
 * and, with `pace: 'realtime'`, its timing too: data leaves in 30 ms chunks at the modem's bit rate on a schedule
 * computed from the carrier's start (no drift), as spandsp's t38_terminal.c does. Indicators and the last packet of
 * each burst go out three times with the same sequence number. With `pace: 'none'` the same packets go out as fast
 * as the event loop turns.
 *
 * Bit order: T.38 carries HDLC and image octets with the first bit on the line in the most significant bit
 * (T.38 §7.1.1; spandsp bit-reverses its LSB-first buffers on the way in and out), while T30Port octets are LSB-first;
 * each octet is reversed here in both directions.
 */

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  type FaxModem,
  type FaxTone,
  MODEM_BIT_RATE,
  type PortEvent,
  type SendHdlcOptions,
  type T30Port,
} from '../t30/t30-port.ts';
import {
  decodeIfp,
  encodeIfpInto,
  type IfpField,
  type IfpPacket,
  maxEncodedIfpLength,
  type T38DataType,
  type T38FieldType,
  type T38Indicator,
} from './ifp.ts';
import { T38DecodeError } from './t38-decode-error.ts';
import { UdptlEndpoint, type UdptlEndpointOpenOptions, type UdptlEndpointStats } from './udptl-endpoint.ts';
import { WakeTimer } from './wake-timer.ts';

export interface T38TransportOptions {
  /** T38FaxVersion agreed in SDP (default 0). 0 uses the 1998 ASN.1 module, ≥ 1 the 2002 one. */
  readonly version?: number;
  /** 'realtime' sends at line speed (default); 'none' sends as fast as possible (tests, TCP-like peers). */
  readonly pace?: 'realtime' | 'none';
  /** The far end's T38FaxMaxIFP; the endpoint's datagram budget also bounds IFPs. */
  readonly maxIfpBytes?: number;
  /** Copies of each indicator packet (default 3, as spandsp sends over UDP). */
  readonly indicatorCopies?: number;
  /** Copies of the last packet of each HDLC or image burst (default 3). */
  readonly dataEndCopies?: number;
  /** Line time carried by one paced data packet (default 30 ms, spandsp's chunk). */
  readonly chunkMs?: number;
  /**
   * Zero octets appended to non-ECM data before the signal end, in ms of line time: some gateways cut the carrier
   * right after the signal end and lose the page's last rows (spandsp t38_manual "Living with real world T.38
   * entities"). Default 60 when paced, 0 unpaced.
   */
  readonly nonEcmPadMs?: number;
}

export interface T38TransportOpenOptions extends T38TransportOptions {
  /** How to bind the UDPTL socket and where to send. */
  readonly udptl?: UdptlEndpointOpenOptions;
}

export interface T38TransportStats extends UdptlEndpointStats {
  /** IFPs received in order (primary or recovered). */
  ifpIn: number;
  /** IFPs sent (copies not counted). */
  ifpOut: number;
  /** Received IFPs that did not decode. */
  badIfp: number;
  /** Received indicators or data types this terminal has no use for (V.8, V.34, V.33). */
  ignored: number;
}

const DATA_TYPE_OF: Readonly<Record<FaxModem, T38DataType>> = {
  v21: 'v21',
  'v27ter-2400': 'v27-2400',
  'v27ter-4800': 'v27-4800',
  'v29-7200': 'v29-7200',
  'v29-9600': 'v29-9600',
  'v17-7200': 'v17-7200',
  'v17-9600': 'v17-9600',
  'v17-12000': 'v17-12000',
  'v17-14400': 'v17-14400',
};

const MODEM_OF_DATA_TYPE: ReadonlyMap<T38DataType, FaxModem> = new Map(
  Object.entries(DATA_TYPE_OF).map(([modem, type]) => [type, modem as FaxModem]),
);

const MODEM_OF_INDICATOR: ReadonlyMap<T38Indicator, FaxModem> = new Map<T38Indicator, FaxModem>([
  ['v21-preamble', 'v21'],
  ['v27-2400-training', 'v27ter-2400'],
  ['v27-4800-training', 'v27ter-4800'],
  ['v29-7200-training', 'v29-7200'],
  ['v29-9600-training', 'v29-9600'],
  ['v17-7200-short-training', 'v17-7200'],
  ['v17-7200-long-training', 'v17-7200'],
  ['v17-9600-short-training', 'v17-9600'],
  ['v17-9600-long-training', 'v17-9600'],
  ['v17-12000-short-training', 'v17-12000'],
  ['v17-12000-long-training', 'v17-12000'],
  ['v17-14400-short-training', 'v17-14400'],
  ['v17-14400-long-training', 'v17-14400'],
]);

function trainingIndicator(modem: FaxModem, longTraining: boolean): T38Indicator {
  switch (modem) {
    case 'v21':
      return 'v21-preamble';
    case 'v27ter-2400':
      return 'v27-2400-training';
    case 'v27ter-4800':
      return 'v27-4800-training';
    case 'v29-7200':
    case 'v29-9600':
      return `${modem}-training`;
    default:
      return `${modem}-${longTraining ? 'long' : 'short'}-training` as T38Indicator;
  }
}

/**
 * Line time between an indicator and the first data (spandsp t38_core.c modem_startup_time): the training
 * sequence (V.27ter 943/708 ms, V.29 234 ms, V.17 long 1,393 / short 142 ms), plus for HDLC the flag preamble —
 * 200 ms for the high-speed modems, 1 s for V.21 (T.30 §5.3.1: 1 s ± 15 %; some ATAs fail on less than the full second).
 */
function startupMs(indicator: T38Indicator, hdlc: boolean): number {
  if (indicator === 'v21-preamble') return 1000;
  let training: number;
  if (indicator.startsWith('v27-2400')) training = 943;
  else if (indicator.startsWith('v27-4800')) training = 708;
  else if (indicator.startsWith('v29')) training = 234;
  else if (indicator.endsWith('long-training')) training = 1393;
  else training = 142;
  return training + (hdlc ? 200 : 0);
}

/** Bits an HDLC frame adds on the line beyond its octets: zero-bit stuffing, the 16-bit FCS and a closing flag. */
function hdlcOverheadBits(frame: Uint8Array): number {
  let ones = 0;
  let stuffed = 0;
  for (let i = 0; i < frame.length; i++) {
    let octet = frame[i];
    for (let b = 0; b < 8; b++, octet >>= 1) {
      if (octet & 1) {
        if (++ones === 5) {
          ones = 0;
          stuffed++;
        }
      } else {
        ones = 0;
      }
    }
  }
  return stuffed + 16 + 3 + 8;
}

const BIT_REVERSED = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let r = 0;
    for (let b = 0; b < 8; b++) if (i & (1 << b)) r |= 0x80 >> b;
    table[i] = r;
  }
  return table;
})();

function reverseInto(target: Uint8Array, at: number, source: Uint8Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) target[at + i] = BIT_REVERSED[source[from + i]];
}

function reversedCopy(source: Uint8Array): Uint8Array {
  const out = new Uint8Array(source.length);
  reverseInto(out, 0, source, 0, source.length);
  return out;
}

const ALLOW_TRAILING = Object.freeze({ allowTrailing: true });
const MAX_HDLC_FRAME = 65_536;

interface Waiter {
  resolve: (event: PortEvent | null) => void;
  deadline: number;
}

type RxState = 'idle' | 'tone' | 'carrier';

export class T38Transport implements T30Port {
  /** Modem rates only pace the IFP packets here: T.30 keeps its rate where a modem line would fall back. */
  readonly medium = 'packet';
  readonly endpoint: UdptlEndpoint;
  readonly version: number;
  readonly pace: 'realtime' | 'none';
  private readonly maxIfp: number;
  private readonly indicatorCopies: number;
  private readonly dataEndCopies: number;
  private readonly chunkMs: number;
  private readonly nonEcmPadMs: number;
  private readonly timer: WakeTimer;
  private readonly paceSlot: number;
  private readonly receiveSlot: number;
  private readonly counters = { ifpIn: 0, ifpOut: 0, badIfp: 0, ignored: 0 };

  // Sending
  private txChain: Promise<void> = Promise.resolve();
  private txIndicator: T38Indicator | null = null;
  private lineFreeAt = 0;
  private paceWake: (() => void) | null = null;
  private ifpBuffer: Uint8Array;
  private wireBuffer: Uint8Array;
  private readonly indicatorCache = new Map<T38Indicator, Uint8Array>();

  // Receiving
  private readonly events: PortEvent[] = [];
  private eventsHead = 0;
  private readonly waiters: Waiter[] = [];
  private rxState: RxState = 'idle';
  private rxModem: FaxModem | null = null;
  private rxTone: FaxTone | null = null;
  private hdlc = new Uint8Array(512);
  private hdlcLength = 0;
  private hdlcMissing = false;
  /** Octets of the largest non-ECM data field of the current carrier: what a lost packet of it held. */
  private imageChunk = 0;
  /** Packets lost where the octets they held are not known yet (before the first data of a carrier). */
  private lossPending = 0;
  private closedReason: string | null = null;

  /** Binds a UDPTL endpoint and wraps it. */
  static async open(options: T38TransportOpenOptions = {}): Promise<T38Transport> {
    const endpoint = await UdptlEndpoint.open(options.udptl);
    return new T38Transport(endpoint, options);
  }

  constructor(endpoint: UdptlEndpoint, options: T38TransportOptions = {}) {
    this.endpoint = endpoint;
    this.version = options.version ?? 0;
    this.pace = options.pace ?? 'realtime';
    this.maxIfp = Math.max(
      8,
      Math.min(options.maxIfpBytes ?? Number.POSITIVE_INFINITY, endpoint.maxIfpBytes),
    );
    this.indicatorCopies = options.indicatorCopies ?? 3;
    this.dataEndCopies = options.dataEndCopies ?? 3;
    this.chunkMs = options.chunkMs ?? 30;
    this.nonEcmPadMs = options.nonEcmPadMs ?? (this.pace === 'realtime' ? 60 : 0);
    this.timer = endpoint.timer;
    this.paceSlot = this.timer.slot();
    this.receiveSlot = this.timer.slot();
    this.ifpBuffer = new Uint8Array(this.maxIfp + 16);
    this.wireBuffer = new Uint8Array(this.maxIfp);
    endpoint.onIfp = (ifp, _seq, recovery) => this.handleIfp(ifp, recovery === 'fec');
    // A lost packet may have held part of the frame being assembled (or its start): that frame cannot be trusted.
    // The flag clears at the next frame end or carrier change, so a loss costs at most one frame a false "bad
    // FCS", never a corrupt frame reported good.
    endpoint.onLoss = (_firstSeq, count) => {
      this.hdlcMissing = true;
      this.imageLoss(count);
    };
    endpoint.onClose = (reason) => this.shutdown(reason);
  }

  get stats(): Readonly<T38TransportStats> {
    return { ...this.endpoint.stats, ...this.counters };
  }

  // ---- T30Port: sending ----

  sendTone(tone: FaxTone, durationMs: number): Promise<void> {
    return this.serialise(async () => {
      let t = this.lineStart();
      await this.waitUntil(t);
      this.sendIndicator(tone);
      t += durationMs;
      await this.waitUntil(t);
      this.sendIndicator('no-signal');
      this.lineFreeAt = t;
    });
  }

  sendSilence(durationMs: number): Promise<void> {
    return this.serialise(async () => {
      this.sendIndicator('no-signal');
      const t = this.lineStart() + durationMs;
      await this.waitUntil(t);
      this.lineFreeAt = t;
    });
  }

  sendHdlc(modem: FaxModem, frames: readonly Uint8Array[], options?: SendHdlcOptions): Promise<void> {
    return this.serialise(async () => {
      const indicator = trainingIndicator(modem, options?.longTraining ?? false);
      const dataType = DATA_TYPE_OF[modem];
      const msPerBit = 1000 / MODEM_BIT_RATE[modem];
      const chunk = this.chunkOctets(modem);
      let t = this.lineStart();
      await this.waitUntil(t);
      this.sendIndicator(indicator);
      t += this.pace === 'realtime' ? startupMs(indicator, true) : 0;
      for (let f = 0; f < frames.length; f++) {
        const frame = frames[f];
        const lastFrame = f === frames.length - 1;
        const end: T38FieldType = lastFrame ? 'hdlc-fcs-ok-sig-end' : 'hdlc-fcs-ok';
        let offset = 0;
        do {
          const n = Math.min(chunk, frame.length - offset);
          const lastChunk = offset + n >= frame.length;
          if (!(await this.waitUntil(t))) return;
          reverseInto(this.wireBuffer, 0, frame, offset, n);
          const data = this.wireBuffer.subarray(0, n);
          const fields: IfpField[] =
            n === 0
              ? [{ type: end }]
              : lastChunk
                ? [{ type: 'hdlc-data', data }, { type: end }]
                : [{ type: 'hdlc-data', data }];
          this.sendData(dataType, fields, lastChunk && lastFrame ? this.dataEndCopies : 1);
          t += n * 8 * msPerBit;
          offset += n;
        } while (offset < frame.length);
        t += hdlcOverheadBits(frame) * msPerBit;
      }
      if (!(await this.waitUntil(t))) return;
      this.sendIndicator('no-signal');
      this.lineFreeAt = t;
    });
  }

  sendImage(
    modem: FaxModem,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: SendHdlcOptions,
  ): Promise<void> {
    return this.serialise(async () => {
      const indicator = trainingIndicator(modem, options?.longTraining ?? false);
      const dataType = DATA_TYPE_OF[modem];
      const bitRate = MODEM_BIT_RATE[modem];
      const msPerOctet = 8000 / bitRate;
      const chunk = this.chunkOctets(modem);
      const wire = this.wireBuffer;
      let fill = 0;
      let t = this.lineStart();
      await this.waitUntil(t);
      this.sendIndicator(indicator);
      t += this.pace === 'realtime' ? startupMs(indicator, false) : 0;
      const flush = async (): Promise<boolean> => {
        // A producer that fell behind the line restarts the schedule instead of bursting to catch up.
        if (this.pace === 'realtime') t = Math.max(t, WakeTimer.now() - this.chunkMs);
        if (!(await this.waitUntil(t))) return false;
        this.sendData(dataType, [{ type: 't4-non-ecm-data', data: wire.subarray(0, fill) }], 1);
        t += fill * msPerOctet;
        fill = 0;
        return true;
      };
      const pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array> =
        data instanceof Uint8Array ? [data] : data;
      for await (const piece of pieces) {
        let offset = 0;
        while (offset < piece.length) {
          const n = Math.min(chunk - fill, piece.length - offset);
          reverseInto(wire, fill, piece, offset, n);
          fill += n;
          offset += n;
          if (fill === chunk && !(await flush())) return;
        }
      }
      let pad = Math.ceil((this.nonEcmPadMs * bitRate) / 8000);
      while (pad > 0) {
        const n = Math.min(chunk - fill, pad);
        wire.fill(0, fill, fill + n);
        fill += n;
        pad -= n;
        if (fill === chunk && pad > 0 && !(await flush())) return;
      }
      if (!(await this.waitUntil(t))) return;
      const fields: IfpField[] =
        fill > 0
          ? [{ type: 't4-non-ecm-data', data: wire.subarray(0, fill) }, { type: 't4-non-ecm-sig-end' }]
          : [{ type: 't4-non-ecm-sig-end' }];
      this.sendData(dataType, fields, this.dataEndCopies);
      t += fill * msPerOctet;
      if (!(await this.waitUntil(t))) return;
      this.sendIndicator('no-signal');
      this.lineFreeAt = t;
    });
  }

  // ---- T30Port: receiving ----

  receive(timeoutMs: number): Promise<PortEvent | null> {
    if (this.eventsHead < this.events.length) return Promise.resolve(this.shiftEvent());
    if (this.closedReason !== null) return Promise.resolve({ type: 'closed', reason: this.closedReason });
    if (!(timeoutMs > 0)) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiters.push({ resolve, deadline: WakeTimer.now() + timeoutMs });
      this.armReceiveTimer();
    });
  }

  async close(): Promise<void> {
    if (this.closedReason === null) this.shutdown('closed');
    await this.endpoint.close();
  }

  // ---- sending internals ----

  private serialise(op: () => Promise<void>): Promise<void> {
    const guarded = async (): Promise<void> => {
      if (this.closedReason !== null) return;
      try {
        await op();
      } catch (error) {
        // A failed sender (e.g. the page producer threw) must not leave the far end's carrier up.
        this.sendIndicator('no-signal');
        throw error;
      }
    };
    const run = this.txChain.then(guarded);
    this.txChain = run.catch(() => undefined);
    return run;
  }

  private lineStart(): number {
    return this.pace === 'realtime' ? Math.max(WakeTimer.now(), this.lineFreeAt) : 0;
  }

  /** Octets per data packet: 30 ms of line time when paced (54 at 14,400 bit/s), else as many as an IFP holds. */
  private chunkOctets(modem: FaxModem): number {
    // Room in the IFP for its header: type octet, field count, two field headers and a field length.
    const room = Math.max(1, this.maxIfp - 6);
    if (this.pace === 'none') return room;
    return Math.max(1, Math.min(room, Math.floor((MODEM_BIT_RATE[modem] * this.chunkMs) / 8000)));
  }

  /** Waits for `atMs` on the line's schedule (paced) or lets the event loop turn (unpaced); false once closed. */
  private async waitUntil(atMs: number): Promise<boolean> {
    if (this.closedReason !== null) return false;
    if (this.pace === 'none') {
      await yieldToLoop();
    } else if (atMs > WakeTimer.now()) {
      await new Promise<void>((resolve) => {
        this.paceWake = resolve;
        this.timer.set(this.paceSlot, atMs, resolve);
      });
      this.paceWake = null;
    }
    return this.closedReason === null;
  }

  /** Sends an indicator when it changes the signal state (T.38 §7.3.1; repeats go out as copies of one packet, not as new packets). */
  private sendIndicator(indicator: T38Indicator): void {
    if (this.txIndicator === indicator || this.closedReason !== null) return;
    let ifp = this.indicatorCache.get(indicator);
    if (ifp === undefined) {
      const bytes = new Uint8Array(2);
      const n = encodeIfpInto({ kind: 'indicator', indicator }, this.version, bytes, 0);
      ifp = bytes.subarray(0, n);
      this.indicatorCache.set(indicator, ifp);
    }
    this.txIndicator = indicator;
    this.counters.ifpOut++;
    this.endpoint.send(ifp, this.indicatorCopies);
  }

  private sendData(dataType: T38DataType, fields: readonly IfpField[], copies: number): void {
    if (this.closedReason !== null) return;
    const packet: IfpPacket = { kind: 'data', dataType, fields };
    const need = maxEncodedIfpLength(packet);
    if (this.ifpBuffer.length < need) this.ifpBuffer = new Uint8Array(need);
    const n = encodeIfpInto(packet, this.version, this.ifpBuffer, 0);
    this.txIndicator = null;
    this.counters.ifpOut++;
    this.endpoint.send(this.ifpBuffer.subarray(0, n), copies);
  }

  // ---- receiving internals ----

  private handleIfp(bytes: Uint8Array, fecRecovered: boolean): void {
    let packet: IfpPacket;
    try {
      packet = decodeIfp(bytes, this.version, fecRecovered ? ALLOW_TRAILING : undefined);
    } catch (error) {
      if (!(error instanceof T38DecodeError)) throw error;
      this.counters.badIfp++;
      return;
    }
    this.counters.ifpIn++;
    if (packet.kind === 'indicator') this.handleIndicator(packet.indicator);
    else this.handleData(packet.dataType, packet.fields);
  }

  private handleIndicator(indicator: T38Indicator): void {
    if (indicator === 'no-signal') {
      this.carrierDown();
      return;
    }
    if (indicator === 'cng' || indicator === 'ced') {
      if (this.rxState === 'tone' && this.rxTone === indicator) return;
      if (this.rxState === 'carrier') this.carrierDown();
      this.rxState = 'tone';
      this.rxTone = indicator;
      this.push({ type: 'tone', tone: indicator });
      return;
    }
    const modem = MODEM_OF_INDICATOR.get(indicator);
    if (modem === undefined) {
      this.counters.ignored++;
      return;
    }
    // Some senders slip the preamble indicator in again between frames; it changes nothing (as in spandsp).
    if (this.rxState === 'carrier' && this.rxModem === modem) return;
    this.carrierUp(modem);
  }

  private handleData(dataType: T38DataType, fields: readonly IfpField[]): void {
    const modem = MODEM_OF_DATA_TYPE.get(dataType);
    if (modem === undefined) {
      this.counters.ignored++;
      return;
    }
    if (this.rxState !== 'carrier' || this.rxModem !== modem) {
      // Repeats of a signal-end packet (some peers resend it with new sequence numbers) must not raise a carrier.
      if (!fields.some((field) => field.data !== undefined && field.data.length > 0)) return;
      // Data without its indicator (lost, or never sent — some gateways skip it): the carrier is evidently up. A
      // loss reported just before may have taken the frame's start with the indicator, and every HDLC frame starts
      // with the 0xFF address octet, so anything else means octets are missing (as spandsp's t38_terminal.c judges).
      const missing = this.hdlcMissing;
      const lossPending = this.lossPending;
      this.carrierUp(modem);
      this.lossPending = lossPending;
      const first = fields[0];
      this.hdlcMissing =
        missing || (first.type === 'hdlc-data' && first.data !== undefined && first.data[0] !== 0xff);
    }
    for (const field of fields) {
      const data = field.data;
      switch (field.type) {
        case 'hdlc-data':
          if (data) this.appendHdlc(data);
          break;
        case 'hdlc-fcs-ok':
        case 'hdlc-fcs-bad':
          // Data inside an FCS field is not standard but Cisco sends it; spandsp accepts it too.
          if (data) this.appendHdlc(data);
          this.endFrame(field.type === 'hdlc-fcs-ok');
          break;
        case 'hdlc-fcs-ok-sig-end':
        case 'hdlc-fcs-bad-sig-end':
          if (data) this.appendHdlc(data);
          this.endFrame(field.type === 'hdlc-fcs-ok-sig-end');
          this.carrierDown();
          break;
        case 'hdlc-sig-end':
          this.carrierDown();
          break;
        case 't4-non-ecm-data':
          if (data) this.pushImage(modem, data);
          break;
        case 't4-non-ecm-sig-end':
          if (data) this.pushImage(modem, data);
          this.carrierDown();
          break;
        default:
          this.counters.ignored++;
      }
      if (this.rxState !== 'carrier') break;
    }
  }

  private carrierUp(modem: FaxModem): void {
    if (this.rxState === 'carrier') this.carrierDown();
    this.rxState = 'carrier';
    this.rxModem = modem;
    this.hdlcLength = 0;
    // Losses before a new carrier say nothing about its frames or its data.
    this.hdlcMissing = false;
    this.imageChunk = 0;
    this.lossPending = 0;
    this.push({ type: 'carrier-up', modem });
  }

  private carrierDown(): void {
    if (this.rxState === 'idle') return;
    this.rxState = 'idle';
    this.rxModem = null;
    this.rxTone = null;
    this.hdlcLength = 0;
    this.hdlcMissing = false;
    this.imageChunk = 0;
    this.lossPending = 0;
    this.push({ type: 'carrier-down' });
  }

  private pushImage(modem: FaxModem, data: Uint8Array): void {
    if (data.length > this.imageChunk) this.imageChunk = data.length;
    if (this.lossPending > 0) {
      const packets = this.lossPending;
      this.lossPending = 0;
      this.push({ type: 'loss', modem, packets, octets: packets * this.imageChunk });
    }
    this.push({ type: 'image', modem, data: reversedCopy(data) });
  }

  /**
   * UDPTL packets lost for good (T.38 §9.1: sequence numbers skipped that neither redundancy nor FEC restored).
   * Within non-ECM data each held about one data field, the size the sender uses for all but the last: the T.30
   * receiver counts the loss in its copy-quality judgement. A loss before the carrier's first data (its indicator
   * and first packets, say) is held until that data shows what the packets held; other losses (HDLC, tones)
   * concern no image data and are dealt with by the frame's FCS.
   */
  private imageLoss(packets: number): void {
    if (this.rxState === 'carrier' && this.imageChunk > 0 && this.rxModem !== null) {
      this.push({ type: 'loss', modem: this.rxModem, packets, octets: packets * this.imageChunk });
    } else if (this.rxModem !== 'v21') {
      this.lossPending += packets;
    }
  }

  private appendHdlc(data: Uint8Array): void {
    if (this.hdlcLength + data.length > MAX_HDLC_FRAME) {
      this.hdlcMissing = true;
      return;
    }
    if (this.hdlc.length < this.hdlcLength + data.length) {
      const bigger = new Uint8Array(Math.max(this.hdlc.length * 2, this.hdlcLength + data.length));
      bigger.set(this.hdlc.subarray(0, this.hdlcLength));
      this.hdlc = bigger;
    }
    reverseInto(this.hdlc, this.hdlcLength, data, 0, data.length);
    this.hdlcLength += data.length;
  }

  private endFrame(fcsOk: boolean): void {
    // FCS fields repeated under new sequence numbers find an empty buffer and report nothing.
    if (this.hdlcLength > 0 && this.rxModem !== null) {
      this.push({
        type: 'hdlc',
        modem: this.rxModem,
        frame: this.hdlc.slice(0, this.hdlcLength),
        fcsOk: fcsOk && !this.hdlcMissing,
      });
    }
    this.hdlcLength = 0;
    this.hdlcMissing = false;
  }

  private push(event: PortEvent): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.armReceiveTimer();
      waiter.resolve(event);
      return;
    }
    this.events.push(event);
  }

  private shiftEvent(): PortEvent {
    const event = this.events[this.eventsHead++];
    if (this.eventsHead === this.events.length) {
      this.events.length = 0;
      this.eventsHead = 0;
    } else if (this.eventsHead > 1024) {
      this.events.splice(0, this.eventsHead);
      this.eventsHead = 0;
    }
    return event;
  }

  private armReceiveTimer(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const waiter of this.waiters) if (waiter.deadline < earliest) earliest = waiter.deadline;
    if (earliest === Number.POSITIVE_INFINITY) this.timer.clear(this.receiveSlot);
    else this.timer.set(this.receiveSlot, earliest, this.expireWaiters);
  }

  private readonly expireWaiters = (): void => {
    const now = WakeTimer.now() + 1;
    for (let i = 0; i < this.waiters.length; ) {
      if (this.waiters[i].deadline <= now) {
        const [waiter] = this.waiters.splice(i, 1);
        waiter.resolve(null);
      } else {
        i++;
      }
    }
    this.armReceiveTimer();
  };

  private shutdown(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.timer.clear(this.paceSlot);
    this.timer.clear(this.receiveSlot);
    this.paceWake?.();
    this.paceWake = null;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ type: 'closed', reason });
  }
}
