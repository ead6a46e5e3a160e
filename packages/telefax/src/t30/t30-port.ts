/**
 * @module
 * The line as the T.30 engine sees it: a half-duplex fax modem that sends and receives tones, V.21 HDLC frames,
 * high-speed HDLC (ECM) and non-ECM image data. T.38 implements it over UDPTL; tests may implement it in memory.
 *
 * Byte conventions across this port (the same as spandsp's in-memory form):
 * - HDLC frames are address, control, FCF, FIF without the FCS; within each octet the least significant bit is the
 *   first bit on the line, so DIS has FCF 0x80, DCS 0x82, MCF 0x8C (see fax-engines.md §5.1).
 * - Image data (non-ECM pages and TCF) is T.4/T.6 coded data whose least significant bit of each octet is the first
 *   bit on the line (TIFF FillOrder 2). A transport converts to its wire's bit order.
 */

/** The modulations of T.30 (V.21 channel 2 for control, the high-speed modems for TCF, images and ECM). */
export type FaxModem =
  | 'v21'
  | 'v27ter-2400'
  | 'v27ter-4800'
  | 'v29-7200'
  | 'v29-9600'
  | 'v17-7200'
  | 'v17-9600'
  | 'v17-12000'
  | 'v17-14400';

/** Bits per second of each modulation. */
export const MODEM_BIT_RATE: Readonly<Record<FaxModem, number>> = Object.freeze({
  v21: 300,
  'v27ter-2400': 2400,
  'v27ter-4800': 4800,
  'v29-7200': 7200,
  'v29-9600': 9600,
  'v17-7200': 7200,
  'v17-9600': 9600,
  'v17-12000': 12000,
  'v17-14400': 14400,
});

export type FaxTone = 'cng' | 'ced';

export type PortEvent =
  /** A tone from the far end (a T.38 cng/ced indicator). */
  | { readonly type: 'tone'; readonly tone: FaxTone }
  /** The far end's carrier (preamble or training) started. */
  | { readonly type: 'carrier-up'; readonly modem: FaxModem }
  /** One complete HDLC frame; fcsOk false when the far end (or the wire) reported a bad FCS. */
  | { readonly type: 'hdlc'; readonly modem: FaxModem; readonly frame: Uint8Array; readonly fcsOk: boolean }
  /** Non-ECM image data or TCF bytes, in arrival order. */
  | { readonly type: 'image'; readonly modem: FaxModem; readonly data: Uint8Array }
  /**
   * Non-ECM image data (a page or TCF) lost on the way and not recovered, at this point of the data: `packets`
   * transport packets (T.38: UDPTL packets that neither redundancy nor FEC brought back) holding about `octets`
   * octets. Lines that cannot tell (an audio modem) never raise it; in ECM, frames lost are asked for again (PPR).
   */
  | { readonly type: 'loss'; readonly modem: FaxModem; readonly packets: number; readonly octets: number }
  /** The far end's carrier stopped (signal end, or a no-signal indicator). */
  | { readonly type: 'carrier-down' }
  /** The transport is gone (socket closed, call ended); no more events follow. */
  | { readonly type: 'closed'; readonly reason: string };

export interface SendHdlcOptions {
  /** Long training for the first high-speed carrier after a rate change (V.17). */
  readonly longTraining?: boolean;
}

/**
 * What carries the line's signals. 'audio': modems on a voice channel (PSTN, G.711), where a lower modem rate
 * is more robust. 'packet': T.38, where a modem rate only paces IFP packets and a lower one loses no fewer of them.
 */
export type LineMedium = 'audio' | 'packet';

export interface T30Port {
  /** What carries the signals; absent means 'audio'. Sets defaults such as the rate fallback after RTP/RTN. */
  readonly medium?: LineMedium;
  /** Sends a tone; resolves when it has been sent (after its duration on a paced line). */
  sendTone(tone: FaxTone, durationMs: number): Promise<void>;
  /**
   * Sends frames back to back in one carrier (preamble, frames, then signal end). The transport marks each frame's
   * FCS as good. Resolves when the last frame has left (paced: after its line time).
   */
  sendHdlc(modem: FaxModem, frames: readonly Uint8Array[], options?: SendHdlcOptions): Promise<void>;
  /**
   * Sends non-ECM image data or TCF in one carrier (training, data, signal end). The data may be produced while it
   * is sent (an async iterable), so a page can go out while it is still being coded.
   */
  sendImage(
    modem: FaxModem,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: SendHdlcOptions,
  ): Promise<void>;
  /** Keeps the line silent for a while (T.30's 75 ms gap between modulations). */
  sendSilence(durationMs: number): Promise<void>;
  /** The next event from the far end, or null when none arrives within timeoutMs. Events queue meanwhile. */
  receive(timeoutMs: number): Promise<PortEvent | null>;
  /** Ends the transport; pending receive() calls get a 'closed' event. */
  close(): Promise<void>;
}
