/**
 * @module
 * A UDPTL endpoint (T.38 §9.1) over a node:dgram socket: sends IFPs with redundancy or FEC, and delivers received
 * IFPs in sequence order exactly once, recovered where the error recovery allows, ignoring (and counting) datagrams
 * that are not UDPTL.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { T38DecodeError } from './t38-decode-error.ts';
import { decodeUdptl } from './udptl.ts';
import { UdptlReceiver, type UdptlReceiverStats, type UdptlRecovery } from './udptl-receiver.ts';
import { type UdptlErrorCorrection, UdptlSender } from './udptl-sender.ts';
import { WakeTimer } from './wake-timer.ts';

export type { UdptlRecovery } from './udptl-receiver.ts';
export type { UdptlErrorCorrection } from './udptl-sender.ts';

export interface UdptlEndpointOptions {
  /** Where packets go; may be set later with {@link UdptlEndpoint.setRemote}. Use an IP address, not a name. */
  readonly remoteHost?: string;
  readonly remotePort?: number;
  /** Error recovery of sent packets (default redundancy, depth 3). Received packets may use either kind. */
  readonly errorCorrection?: UdptlErrorCorrection;
  /**
   * The far end's T38FaxMaxDatagram (default 400, Asterisk's default). Peers disagree on whether it bounds the
   * UDPTL packet or the IFP (fax-engines §3.3), so odd values are clamped to 32..1,500 rather than refused.
   */
  readonly farMaxDatagram?: number;
  /** Sequence number of the first packet sent (default 0). */
  readonly firstSeq?: number;
  /** How long a gap in the received sequence waits for reordered or FEC-repaired packets (see UdptlReceiver). */
  readonly holdPackets?: number;
  readonly holdMs?: number;
  /** Close the socket on close() (default true). */
  readonly closeSocket?: boolean;
  /** The timer to share with the layer above (one timer per call). */
  readonly timer?: WakeTimer;
  /** Test hook: drops each received datagram with this probability, to simulate a lossy network. */
  readonly dropRate?: number;
  /** Test hook: drops a received datagram when it returns true (runs before dropRate). */
  readonly drop?: (datagram: Uint8Array) => boolean;
  /** Random source for dropRate (default Math.random). */
  readonly random?: () => number;
  /**
   * Which senders are heard once the remote is known: 'remote' (default) ignores datagrams from any other address
   * or port, so a stray or spoofed stream cannot inject frames into a call; 'any' hears everyone (for far ends
   * behind NAT whose media source differs from what their SDP says).
   */
  readonly acceptFrom?: 'remote' | 'any';
}

export interface UdptlEndpointOpenOptions extends UdptlEndpointOptions {
  /** Local port to bind (default 0: any free port; see {@link UdptlEndpoint.localPort}). */
  readonly localPort?: number;
  /** Local address to bind (default all addresses). */
  readonly localAddress?: string;
  readonly type?: 'udp4' | 'udp6';
}

export interface UdptlEndpointStats extends UdptlReceiverStats {
  /** UDPTL packets sent (each sequence number once). */
  packetsOut: number;
  /** Datagrams sent, counting repeated copies. */
  datagramsOut: number;
  /** Received datagrams that did not decode as UDPTL. */
  garbage: number;
  /** Received datagrams dropped by the test hooks. */
  dropped: number;
  /** Socket errors (e.g. ICMP unreachable on send). */
  socketErrors: number;
  /** Datagrams ignored because they came from another address than the remote. */
  foreign: number;
  /** IFPs that arrived before anyone listened and were held until onIfp was set. */
  early: number;
}

/** IFPs held while nobody listens yet (datagrams may arrive before the layer above attaches). */
const MAX_EARLY_IFPS = 256;

export class UdptlEndpoint {
  /**
   * Receives each IFP in sequence order. The bytes are only valid during the call unless copied. IFPs that arrive
   * while this is null are held (up to 256) and handed over when it is set, so a far end that starts sending
   * before the layer above is attached loses nothing.
   */
  get onIfp(): ((ifp: Uint8Array, seq: number, recovery: UdptlRecovery) => void) | null {
    return this.ifpListener;
  }

  set onIfp(listener: ((ifp: Uint8Array, seq: number, recovery: UdptlRecovery) => void) | null) {
    this.ifpListener = listener;
    if (listener && this.earlyIfps.length > 0) {
      const held = this.earlyIfps;
      this.earlyIfps = [];
      for (const { ifp, seq, recovery } of held) listener(ifp, seq, recovery);
    }
  }

  private ifpListener: ((ifp: Uint8Array, seq: number, recovery: UdptlRecovery) => void) | null = null;
  private earlyIfps: { ifp: Uint8Array; seq: number; recovery: UdptlRecovery }[] = [];
  /** Called when packets are lost for good. */
  onLoss: ((firstSeq: number, count: number) => void) | null = null;
  /** Called once when the endpoint closes (by close() or because the socket closed). */
  onClose: ((reason: string) => void) | null = null;
  readonly timer: WakeTimer;
  readonly socket: Socket;
  private readonly sender: UdptlSender;
  private readonly receiver: UdptlReceiver;
  private readonly gapSlot: number;
  private readonly options: UdptlEndpointOptions;
  private readonly counters = {
    packetsOut: 0,
    datagramsOut: 0,
    garbage: 0,
    dropped: 0,
    socketErrors: 0,
    foreign: 0,
    early: 0,
  };
  private remoteHost: string | undefined;
  private remotePort: number | undefined;
  private isClosed = false;

  /** Binds a new socket and returns the endpoint on it. */
  static async open(options: UdptlEndpointOpenOptions = {}): Promise<UdptlEndpoint> {
    const socket = createSocket({
      type: options.type ?? (options.localAddress?.includes(':') ? 'udp6' : 'udp4'),
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        socket.close();
        reject(error);
      };
      socket.once('error', onError);
      socket.bind(options.localPort ?? 0, options.localAddress, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    return new UdptlEndpoint(socket, options);
  }

  /** An endpoint on an existing socket (bound, or bound later by its owner). */
  constructor(socket: Socket, options: UdptlEndpointOptions = {}) {
    this.socket = socket;
    this.options = options;
    this.timer = options.timer ?? new WakeTimer();
    this.gapSlot = this.timer.slot();
    this.sender = new UdptlSender(
      options.errorCorrection ?? { mode: 'redundancy', depth: 3 },
      clampDatagram(options.farMaxDatagram),
      options.firstSeq ?? 0,
    );
    this.receiver = new UdptlReceiver(
      {
        ifp: (ifp, seq, recovery) => this.deliver(ifp, seq, recovery),
        loss: (firstSeq, count) => this.onLoss?.(firstSeq, count),
      },
      { holdPackets: options.holdPackets, holdMs: options.holdMs },
    );
    this.remoteHost = options.remoteHost;
    this.remotePort = options.remotePort;
    socket.on('message', this.handleMessage);
    socket.on('error', this.handleError);
    socket.on('close', this.handleSocketClose);
  }

  get stats(): Readonly<UdptlEndpointStats> {
    return { ...this.receiver.stats, ...this.counters };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  get localAddress(): string {
    return this.socket.address().address;
  }

  /** The largest IFP that leaves room for full error recovery in the far end's max datagram. */
  get maxIfpBytes(): number {
    return this.sender.maxIfpBytes;
  }

  setRemote(host: string, port: number): void {
    this.remoteHost = host;
    this.remotePort = port;
  }

  /**
   * Sends one IFP in a new UDPTL packet; `copies` > 1 repeats the same datagram (same sequence number), as
   * spandsp's t38_terminal does for indicators and the last packet of a burst. Does nothing once closed.
   */
  send(ifp: Uint8Array, copies = 1): void {
    if (this.isClosed) return;
    const datagram = this.sender.build(ifp);
    this.counters.packetsOut++;
    if (this.remotePort === undefined || this.remoteHost === undefined) return;
    for (let i = 0; i < copies; i++) {
      this.counters.datagramsOut++;
      try {
        this.socket.send(datagram, this.remotePort, this.remoteHost);
      } catch {
        // The socket was closed under us; its 'close' event ends the endpoint on the next tick.
        this.counters.socketErrors++;
      }
    }
  }

  /** Stops receiving and sending; closes the socket unless told not to. */
  async close(reason = 'closed'): Promise<void> {
    if (this.isClosed) return;
    this.shutdown(reason);
    if (this.options.closeSocket ?? true) {
      await new Promise<void>((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // already closed by its owner
        }
      });
    }
  }

  private shutdown(reason: string): void {
    this.isClosed = true;
    this.timer.clear(this.gapSlot);
    this.socket.off('message', this.handleMessage);
    this.socket.off('close', this.handleSocketClose);
    // The error listener stays: a late send error must not become an uncaught 'error' event.
    this.onClose?.(reason);
  }

  private deliver(ifp: Uint8Array, seq: number, recovery: UdptlRecovery): void {
    if (this.ifpListener) {
      this.ifpListener(ifp, seq, recovery);
    } else if (this.earlyIfps.length < MAX_EARLY_IFPS) {
      this.counters.early++;
      this.earlyIfps.push({ ifp: Uint8Array.from(ifp), seq, recovery });
    }
  }

  private fromRemote(source: RemoteInfo): boolean {
    if (this.remoteHost === undefined || this.remotePort === undefined) return true;
    // A remote given as a name cannot be compared with a datagram's source address without a lookup.
    if ((this.options.acceptFrom ?? 'remote') === 'any' || isIP(this.remoteHost) === 0) return true;
    return source.port === this.remotePort && unmapped(source.address) === unmapped(this.remoteHost);
  }

  private readonly handleMessage = (message: Buffer, source: RemoteInfo): void => {
    if (this.isClosed) return;
    if (!this.fromRemote(source)) {
      this.counters.foreign++;
      return;
    }
    const drop = this.options.drop;
    const dropRate = this.options.dropRate ?? 0;
    if (drop?.(message) || (dropRate > 0 && (this.options.random ?? Math.random)() < dropRate)) {
      this.counters.dropped++;
      return;
    }
    let packet: ReturnType<typeof decodeUdptl>;
    try {
      packet = decodeUdptl(message);
    } catch (error) {
      if (!(error instanceof T38DecodeError)) throw error;
      this.counters.garbage++;
      return;
    }
    this.armGap(this.receiver.receive(packet, WakeTimer.now()));
  };

  private armGap(deadline: number): void {
    if (deadline === Number.POSITIVE_INFINITY) {
      this.timer.clear(this.gapSlot);
    } else {
      this.timer.set(this.gapSlot, deadline, this.expireGap);
    }
  }

  private readonly expireGap = (): void => {
    if (!this.isClosed) this.armGap(this.receiver.expire(WakeTimer.now() + 1));
  };

  private readonly handleError = (): void => {
    this.counters.socketErrors++;
  };

  private readonly handleSocketClose = (): void => {
    if (!this.isClosed) this.shutdown('socket closed');
  };
}

/** An IPv4 address as a dual-stack socket reports it (::ffff:a.b.c.d) compares equal to its plain form. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function clampDatagram(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value)) return 400;
  return Math.min(1500, Math.max(32, Math.floor(value)));
}
