/**
 * @module
 * SIP transports (RFC 3261 §18): UDP datagrams, and TCP with Content-Length stream framing and connection reuse
 * (a response goes back on the connection its request came in on, §18.2.2; requests to a peer reuse an open
 * connection to it). Both hand every received message, or the parse error it caused, to one handler.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { SipMessage } from './sip-message.ts';
import { SipParseError } from './sip-parse-error.ts';
import { parseSipMessage, type SipParseLimits } from './sip-parser.ts';
import { SipStreamFramer } from './sip-stream-framer.ts';

export type SipTransportProtocol = 'UDP' | 'TCP';

export interface SipEndpoint {
  readonly protocol: SipTransportProtocol;
  readonly address: string;
  readonly port: number;
  /** For TCP: the connection a message arrived on, so a reply can use it. */
  readonly connectionId?: number;
}

export interface SipTransportHandler {
  onMessage(message: SipMessage, source: SipEndpoint): void;
  /** A message that could not be parsed; `error.partial` holds what could be read. */
  onParseError(error: SipParseError, source: SipEndpoint): void;
}

export interface SipTransport {
  readonly protocol: SipTransportProtocol;
  /** Reliable transports need no retransmissions (RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
  readonly localAddress: string;
  readonly localPort: number;
  send(data: Buffer, destination: SipEndpoint): Promise<void>;
  close(): Promise<void>;
}

export interface TransportOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly handler: SipTransportHandler;
  readonly limits?: SipParseLimits;
}

export class UdpTransport implements SipTransport {
  readonly protocol = 'UDP';
  readonly reliable = false;

  private constructor(
    private readonly socket: UdpSocket,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  static async bind(options: TransportOptions): Promise<UdpTransport> {
    const socket = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {
      // ICMP errors surface here on some platforms; the transaction timers handle the loss.
    });
    socket.on('message', (data, rinfo) => {
      const source: SipEndpoint = { protocol: 'UDP', address: rinfo.address, port: rinfo.port };
      // A datagram of only CRLFs is a keep-alive (RFC 5626 §3.5.1).
      if (data.every((b) => b === 0x0d || b === 0x0a)) return;
      let message: SipMessage;
      try {
        message = parseSipMessage(data, options.limits);
      } catch (err) {
        if (err instanceof SipParseError) options.handler.onParseError(err, source);
        return;
      }
      options.handler.onMessage(message, source);
    });
    return new UdpTransport(socket, options.host, socket.address().port);
  }

  send(data: Buffer, destination: SipEndpoint): Promise<void> {
    return new Promise((resolve) => {
      // Send errors are not fatal: UDP loss is covered by retransmission timers.
      try {
        this.socket.send(data, destination.port, destination.address, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

export interface TcpTransportOptions extends TransportOptions {
  /** Connections idle this long are closed. */
  readonly idleTimeoutMs?: number;
  readonly maxConnections?: number;
}

interface TcpConnection {
  readonly id: number;
  readonly socket: Socket;
  readonly key: string;
}

export class TcpTransport implements SipTransport {
  readonly protocol = 'TCP';
  readonly reliable = true;
  readonly #connections = new Map<number, TcpConnection>();
  readonly #byRemote = new Map<string, TcpConnection>();
  readonly #pending = new Map<string, Promise<TcpConnection>>();
  #nextId = 1;

  private constructor(
    private readonly server: Server,
    private readonly options: TcpTransportOptions,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  static async listen(options: TcpTransportOptions): Promise<TcpTransport> {
    let transport: TcpTransport | undefined;
    const server = createServer((socket) => transport?.adopt(socket));
    server.maxConnections = options.maxConnections ?? 1024;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    transport = new TcpTransport(server, options, options.host, port);
    return transport;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  private adopt(socket: Socket): TcpConnection {
    const address = socket.remoteAddress ?? '';
    const port = socket.remotePort ?? 0;
    const conn: TcpConnection = { id: this.#nextId++, socket, key: `${address}|${port}` };
    this.#connections.set(conn.id, conn);
    this.#byRemote.set(conn.key, conn);
    const limits = this.options.limits ?? {};
    const framer = new SipStreamFramer(limits.maxMessageBytes ?? 65535, limits.maxBodyBytes ?? 32768);
    const source: SipEndpoint = { protocol: 'TCP', address, port, connectionId: conn.id };
    socket.setTimeout(this.options.idleTimeoutMs ?? 300_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        // The stream cannot be resynchronised after a framing error (RFC 3261 §18.3): drop the connection.
        if (err instanceof SipParseError) this.options.handler.onParseError(err, source);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        let message: SipMessage;
        try {
          message = parseSipMessage(frame, { ...limits, requireContentLength: true });
        } catch (err) {
          if (err instanceof SipParseError) this.options.handler.onParseError(err, source);
          continue;
        }
        this.options.handler.onMessage(message, source);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#connections.delete(conn.id);
      if (this.#byRemote.get(conn.key) === conn) this.#byRemote.delete(conn.key);
    });
    return conn;
  }

  private async connectTo(destination: SipEndpoint): Promise<TcpConnection> {
    const key = `${destination.address}|${destination.port}`;
    const existing = this.#byRemote.get(key);
    if (existing && !existing.socket.destroyed) return existing;
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const promise = new Promise<TcpConnection>((resolve, reject) => {
      const socket = connect({ host: destination.address, port: destination.port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(this.adopt(socket));
      });
    }).finally(() => this.#pending.delete(key));
    this.#pending.set(key, promise);
    return promise;
  }

  async send(data: Buffer, destination: SipEndpoint): Promise<void> {
    let conn =
      destination.connectionId === undefined ? undefined : this.#connections.get(destination.connectionId);
    if (!conn || conn.socket.destroyed) {
      try {
        conn = await this.connectTo(destination);
      } catch {
        // Unreachable peer: the transaction reports a transport error through its timeout.
        return;
      }
    }
    if (!conn.socket.destroyed) conn.socket.write(data);
  }

  async close(): Promise<void> {
    for (const conn of this.#connections.values()) conn.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
