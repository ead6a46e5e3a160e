/**
 * @module
 * A G.711 RTP stream for the audio phase of a fax call: sends one packet every 20 ms from a sample source
 * (RFC 3550: random SSRC and initial sequence number and timestamp; the timestamp advances by the samples of
 * each packet, 160 at 8 kHz), to the address and port of the peer's audio m-line, from the socket our own
 * m-line advertises. Received packets are parsed and, if wanted, decoded for tone detection; nothing is played.
 *
 * Pacing follows the clock, not the timer: each tick sends every packet that is due, so a late timer does not
 * stretch the stream. After a long stall (event loop blocked) the stream resumes at the current time with the
 * timestamp moved on, as after a silence suppression gap, instead of bursting the backlog.
 */
import { randomInt } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import { decodeG711, encodeG711, type G711Codec } from './g711.ts';
import { G711_PAYLOAD_TYPE, parseRtpPacket, type RtpPacket, serializeRtpPacket } from './rtp-packet.ts';

/** Where to send and in which codec: the peer's active audio stream. */
export interface RtpAudioPeer {
  readonly address: string;
  readonly port: number;
  readonly codec: G711Codec;
}

/** Gives the next `count` samples of 16-bit linear PCM at 8 kHz. */
export interface RtpSampleSource {
  next(count: number): Int16Array;
}

export interface RtpAudioSessionOptions {
  /** A bound UDP socket: the one whose port our SDP audio m-line advertises. Not closed by the session. */
  readonly socket: Socket;
  readonly peer: RtpAudioPeer;
  /** Default: silence. */
  readonly source?: RtpSampleSource;
  /** Packet duration. Default 20 (RFC 3551 §4.5 default for G.711). */
  readonly packetMs?: number;
  /** Decoded audio of each received G.711 packet. */
  readonly onAudio?: (samples: Int16Array, packet: RtpPacket, from: RemoteInfo) => void;
}

const SAMPLE_RATE = 8000;
/** Packets sent at most in one tick to catch up; beyond that the backlog is skipped. */
const MAX_CATCH_UP = 10;

const SILENCE: RtpSampleSource = { next: (count) => new Int16Array(count) };

export class RtpAudioSession {
  readonly ssrc = randomInt(0, 2 ** 32);
  #sequence = randomInt(0, 2 ** 16);
  #timestamp = randomInt(0, 2 ** 32);
  #peer: RtpAudioPeer;
  readonly #socket: Socket;
  readonly #source: RtpSampleSource;
  readonly #packetMs: number;
  readonly #samplesPerPacket: number;
  #startedAt = 0;
  /** Packet slots elapsed since start (sent or skipped). */
  #slots = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  packetsSent = 0;
  packetsReceived = 0;
  sendErrors = 0;

  constructor(private readonly options: RtpAudioSessionOptions) {
    this.#socket = options.socket;
    this.#peer = options.peer;
    this.#source = options.source ?? SILENCE;
    this.#packetMs = options.packetMs ?? 20;
    this.#samplesPerPacket = (SAMPLE_RATE * this.#packetMs) / 1000;
  }

  get running(): boolean {
    return this.#running;
  }

  get peer(): RtpAudioPeer {
    return this.#peer;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#socket.on('message', this.#receive);
    this.#socket.on('error', this.#ignoreError);
    this.#startedAt = performance.now();
    this.#tick();
  }

  /** The peer moved (a re-INVITE that keeps audio) or changed codec; the stream continues. */
  setPeer(peer: RtpAudioPeer): void {
    this.#peer = peer;
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#socket.off('message', this.#receive);
    this.#socket.off('error', this.#ignoreError);
  }

  readonly #tick = (): void => {
    if (!this.#running) return;
    const due = Math.floor((performance.now() - this.#startedAt) / this.#packetMs) + 1;
    if (due - this.#slots > MAX_CATCH_UP) {
      const skipped = due - this.#slots - 1;
      this.#source.next(skipped * this.#samplesPerPacket);
      this.#timestamp = (this.#timestamp + skipped * this.#samplesPerPacket) >>> 0;
      this.#slots += skipped;
    }
    while (this.#slots < due) this.#sendOne();
    const next = this.#startedAt + this.#slots * this.#packetMs;
    this.#timer = setTimeout(this.#tick, Math.max(0, next - performance.now()));
  };

  #sendOne(): void {
    const samples = this.#source.next(this.#samplesPerPacket);
    const { address, port, codec } = this.#peer;
    const datagram = serializeRtpPacket({
      payloadType: G711_PAYLOAD_TYPE[codec],
      marker: this.packetsSent === 0,
      sequenceNumber: this.#sequence,
      timestamp: this.#timestamp,
      ssrc: this.ssrc,
      payload: encodeG711(samples, codec),
    });
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + this.#samplesPerPacket) >>> 0;
    this.#slots++;
    // A held or disabled stream (c= 0.0.0.0, port 0) is kept in time but not sent.
    if (port === 0 || address === '0.0.0.0' || address === '::') return;
    this.packetsSent++;
    this.#socket.send(datagram, port, address, (error) => {
      if (error) this.sendErrors++;
    });
  }

  readonly #receive = (message: Buffer, from: RemoteInfo): void => {
    const packet = parseRtpPacket(message);
    if (!packet) return;
    this.packetsReceived++;
    const onAudio = this.options.onAudio;
    if (!onAudio) return;
    const codec =
      packet.payloadType === G711_PAYLOAD_TYPE.PCMU
        ? 'PCMU'
        : packet.payloadType === G711_PAYLOAD_TYPE.PCMA
          ? 'PCMA'
          : undefined;
    if (codec !== undefined) onAudio(decodeG711(packet.payload, codec), packet, from);
  };

  /** ICMP port unreachable and the like surface here on some platforms; RTP is best effort. */
  readonly #ignoreError = (): void => {
    this.sendErrors++;
  };
}
