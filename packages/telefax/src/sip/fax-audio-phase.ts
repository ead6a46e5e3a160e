/**
 * @module
 * The audio phase of a fax call, before T.38 takes over: the RTP socket our audio m-line advertises and, while the
 * call is audio, a G.711 stream that plays our fax tone (CNG when calling, CED when answering, then silence) and
 * listens for the far end's. Gateways with fax detection need to hear the tones, and many end calls that send no
 * RTP at all (RTP timeout). It runs beside the T.38 switch and never holds it up; it stops for good when T.38 is
 * established or the call ends, and closes the socket if it bound it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { type FaxTone, FaxToneDetector } from '../rtp/fax-tone-detector.ts';
import { FaxToneGenerator, type FaxToneRole } from '../rtp/fax-tones.ts';
import { type RtpAudioPeer, RtpAudioSession } from '../rtp/rtp-audio-session.ts';

export interface FaxAudioPhaseOptions {
  /** A bound socket to use (its port is advertised); the caller keeps it open. */
  readonly socket?: Socket;
  /** Advertise this port without sending RTP (something else owns it), unless `socket` is given too. */
  readonly port?: number;
  /** Where to bind our own socket when neither `socket` nor `port` is given. */
  readonly bindAddress: string;
  /** Port advertised when no socket can be had. */
  readonly fallbackPort: number;
  /** False: advertise a port but send no RTP. */
  readonly enabled: boolean;
}

export interface FaxAudioStart {
  readonly peer: RtpAudioPeer;
  readonly role: FaxToneRole;
  /** Answering: silence before CED. */
  readonly cedDelayMs?: number;
}

const NEVER = new Promise<never>(() => {});

export class FaxAudioPhase {
  #session: RtpAudioSession | undefined;
  #stopped = false;
  #heard: ((tone: FaxTone) => void) | undefined;
  /** Resolves when the far end's fax tone (CED heard by the caller, CNG by the answerer) is recognised. */
  readonly farToneHeard: Promise<FaxTone>;

  private constructor(
    /** The port our audio m-line advertises. */
    readonly port: number,
    private readonly socket: Socket | undefined,
    private readonly ownsSocket: boolean,
  ) {
    this.farToneHeard = socket
      ? new Promise((resolve) => {
          this.#heard = resolve;
        })
      : NEVER;
  }

  static async open(options: FaxAudioPhaseOptions): Promise<FaxAudioPhase> {
    if (options.socket) return new FaxAudioPhase(options.socket.address().port, options.socket, false);
    if (!options.enabled || options.port !== undefined) {
      return new FaxAudioPhase(options.port ?? options.fallbackPort, undefined, false);
    }
    const socket = createSocket(isIP(options.bindAddress) === 6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, options.bindAddress, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch {
      // RTP is a courtesy to the far end's fax detection; without a socket the call still goes on as before.
      socket.close();
      return new FaxAudioPhase(options.fallbackPort, undefined, false);
    }
    // Errors on a media socket (ICMP unreachable reported late) must not take the process down.
    socket.on('error', () => {});
    return new FaxAudioPhase(socket.address().port, socket, true);
  }

  /** RTP flowing now. */
  get active(): boolean {
    return this.#session?.running ?? false;
  }

  get packetsSent(): number {
    return this.#session?.packetsSent ?? 0;
  }

  get packetsReceived(): number {
    return this.#session?.packetsReceived ?? 0;
  }

  /** Starts RTP towards the peer's audio stream; a no-op after stop() or without a socket. */
  start(options: FaxAudioStart): void {
    if (this.#stopped || !this.socket || this.#session) return;
    const detector = new FaxToneDetector({ tones: [options.role === 'calling' ? 'ced' : 'cng'] });
    this.#session = new RtpAudioSession({
      socket: this.socket,
      peer: options.peer,
      source: new FaxToneGenerator({
        role: options.role,
        ...(options.cedDelayMs !== undefined ? { cedDelayMs: options.cedDelayMs } : {}),
      }),
      onAudio: (samples) => {
        if (detector.detected) return;
        const tone = detector.push(samples);
        if (tone) this.#heard?.(tone);
      },
    });
    this.#session.start();
  }

  /** The peer's audio moved or changed codec (a re-INVITE that stays in audio). */
  retarget(peer: RtpAudioPeer): void {
    this.#session?.setPeer(peer);
  }

  /** Ends the audio phase for good: T.38 took over, or the call is over. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#session?.stop();
    if (this.ownsSocket) this.socket?.close();
  }
}
