/**
 * @module
 * The SIP core below dialogs: binds the transports, stamps outgoing requests with a Via (RFC 3261 §8.1.1.7, with
 * rport per RFC 3581), stamps incoming requests with received/rport (§18.2.1), routes responses back per Via
 * (§18.2.2), answers unparseable requests with 400 when it can (§21.4.1), and feeds the transaction layer.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { randomToken } from './random-token.ts';
import { BRANCH_MAGIC_COOKIE, formatVia, parseVia, type Via } from './sip-header-values.ts';
import { createResponse, type SipMessage, type SipRequest, type SipResponse } from './sip-message.ts';
import type { SipParseError } from './sip-parse-error.ts';
import type { SipParseLimits } from './sip-parser.ts';
import { serializeSipMessage } from './sip-serializer.ts';
import { isSipUri, type SipUri, type Uri } from './sip-uri.ts';
import type { ClientTransaction, ClientTransactionUser } from './transactions/client-transaction.ts';
import type { ServerTransaction } from './transactions/server-transaction.ts';
import { DEFAULT_SIP_TIMERS, type SipTimerConfig } from './transactions/sip-timers.ts';
import { TransactionLayer } from './transactions/transaction-layer.ts';
import {
  type SipEndpoint,
  type SipTransport,
  type SipTransportProtocol,
  TcpTransport,
  UdpTransport,
} from './transport.ts';

export interface SipStackOptions {
  /** Address to bind, e.g. 127.0.0.1. */
  readonly host: string;
  /** Port for both UDP and TCP; 0 picks one (UDP first, TCP then tries the same number). */
  readonly port: number;
  readonly transports?: readonly SipTransportProtocol[];
  /** Host written in Via and Contact when the bind address is not reachable as such (0.0.0.0, NAT). */
  readonly advertisedHost?: string;
  readonly timers?: Partial<SipTimerConfig>;
  readonly maxTransactions?: number;
  readonly limits?: SipParseLimits;
  /** Sees every message sent and received, for interop debugging (a packet log). */
  readonly trace?: (direction: 'in' | 'out', message: SipMessage, peer: SipEndpoint) => void;
}

export interface SipStackUser {
  onRequest(request: SipRequest, transaction: ServerTransaction | undefined, source: SipEndpoint): void;
  onStrayResponse(response: SipResponse, source: SipEndpoint): void;
}

export class SipStack {
  readonly timers: SipTimerConfig;
  readonly layer: TransactionLayer;
  readonly #transports = new Map<SipTransportProtocol, SipTransport>();
  #user: SipStackUser | undefined;
  #closed = false;

  private constructor(readonly options: SipStackOptions) {
    this.timers = { ...DEFAULT_SIP_TIMERS, ...options.timers };
    this.layer = new TransactionLayer({
      timers: this.timers,
      maxTransactions: options.maxTransactions ?? 4096,
      send: (message, destination) => void this.sendRaw(message, destination),
      isReliable: (destination) => destination.protocol !== 'UDP',
      user: {
        onRequest: (request, tx, source) => this.#user?.onRequest(request, tx, source),
        onStrayResponse: (response, source) => this.#user?.onStrayResponse(response, source),
      },
    });
  }

  static async create(options: SipStackOptions): Promise<SipStack> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await SipStack.bindOnce(options);
      } catch (err) {
        // With port 0 the UDP port chosen may be taken for TCP; pick another pair.
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!inUse || options.port !== 0 || attempt >= 4) throw err;
      }
    }
  }

  private static async bindOnce(options: SipStackOptions): Promise<SipStack> {
    const stack = new SipStack(options);
    const handler = {
      onMessage: (message: SipMessage, source: SipEndpoint) => stack.receive(message, source),
      onParseError: (error: SipParseError, source: SipEndpoint) => stack.receiveMalformed(error, source),
    };
    const wanted = options.transports ?? ['UDP', 'TCP'];
    let port = options.port;
    try {
      if (wanted.includes('UDP')) {
        const udp = await UdpTransport.bind({
          host: options.host,
          port,
          handler,
          limits: options.limits ?? {},
        });
        stack.#transports.set('UDP', udp);
        port = udp.localPort;
      }
      if (wanted.includes('TCP')) {
        const tcp = await TcpTransport.listen({
          host: options.host,
          port,
          handler,
          limits: options.limits ?? {},
        });
        stack.#transports.set('TCP', tcp);
      }
    } catch (err) {
      await stack.close();
      throw err;
    }
    return stack;
  }

  setUser(user: SipStackUser): void {
    this.#user = user;
  }

  get host(): string {
    return this.options.advertisedHost ?? this.options.host;
  }

  /** The port we listen on for a protocol (the first transport's when not given). */
  port(protocol?: SipTransportProtocol): number {
    const t = protocol ? this.#transports.get(protocol) : this.#transports.values().next().value;
    if (!t) throw new Error(`no ${protocol ?? 'SIP'} transport bound`);
    return t.localPort;
  }

  /** Open TCP connections (for limits and tests of connection reuse). */
  get tcpConnectionCount(): number {
    const tcp = this.#transports.get('TCP');
    return tcp instanceof TcpTransport ? tcp.connectionCount : 0;
  }

  get protocols(): SipTransportProtocol[] {
    return [...this.#transports.keys()];
  }

  /** Our Via for a request sent over `protocol` with a fresh RFC 3261 branch. */
  createVia(protocol: SipTransportProtocol): string {
    const via: Via = {
      transport: protocol,
      host: isIP(this.host) === 6 ? `[${this.host}]` : this.host,
      port: this.port(protocol),
      params: new Map([
        ['branch', `${BRANCH_MAGIC_COOKIE}${randomToken(16)}`],
        ['rport', null],
      ]),
    };
    return formatVia(via);
  }

  /** Resolves a URI to a transport endpoint (RFC 3263 reduced to A/AAAA lookup; no NAPTR/SRV). */
  async resolve(uri: Uri): Promise<SipEndpoint> {
    if (!isSipUri(uri)) throw new Error(`cannot route to ${uri.scheme}: URI`);
    const sip = uri as SipUri;
    const transportParam = sip.params.get('transport')?.toUpperCase();
    const protocol: SipTransportProtocol =
      transportParam === 'TCP' || (transportParam === undefined && !this.#transports.has('UDP'))
        ? 'TCP'
        : 'UDP';
    let host = sip.params.get('maddr') ?? sip.host;
    if (host.startsWith('[')) host = host.slice(1, -1);
    // Resolve to the address family we are bound to, or the datagram could not be sent from our socket.
    const family = isIP(this.options.host) === 6 ? 6 : 4;
    const address = isIP(host) ? host : (await lookup(host, { family })).address;
    return { protocol, address, port: sip.port ?? 5060 };
  }

  /** Starts a client transaction. A request without a Via gets ours; CANCEL arrives with its INVITE's Via. */
  sendRequest(request: SipRequest, destination: SipEndpoint, user: ClientTransactionUser): ClientTransaction {
    if (!request.headers.has('via')) request.headers.prepend('Via', this.createVia(destination.protocol));
    return this.layer.sendRequest(request, destination, user);
  }

  /** Sends outside any transaction: the ACK for a 2xx, a 2xx retransmission, a stateless reply. */
  async sendRaw(message: SipMessage, destination: SipEndpoint): Promise<void> {
    if (this.#closed) return;
    if (message.kind === 'request' && !message.headers.has('via')) {
      message.headers.prepend('Via', this.createVia(destination.protocol));
    }
    const transport = this.#transports.get(destination.protocol);
    if (!transport) return;
    this.options.trace?.('out', message, destination);
    try {
      await transport.send(serializeSipMessage(message), destination);
    } catch {
      // Sending is best effort: a lost message is covered by retransmissions and transaction timeouts.
    }
  }

  /** Where responses to a request go (RFC 3261 §18.2.2, RFC 3581 §4). */
  responseDestination(request: SipRequest, source: SipEndpoint): SipEndpoint {
    let via: Via;
    try {
      via = parseVia(request.headers.get('via')!);
    } catch {
      return source;
    }
    if (source.protocol !== 'UDP') return { ...source };
    const rport = via.params.get('rport');
    if (via.params.has('rport')) return { ...source, port: rport ? Number(rport) : source.port };
    return { protocol: 'UDP', address: via.params.get('received') ?? source.address, port: via.port ?? 5060 };
  }

  private receive(message: SipMessage, source: SipEndpoint): void {
    if (this.#closed) return;
    this.options.trace?.('in', message, source);
    if (message.kind === 'response') {
      this.layer.receiveResponse(message, source);
      return;
    }
    // RFC 3261 §18.2.1 / RFC 3581 §4: record where the request really came from.
    const via = parseVia(message.headers.get('via')!);
    const params = new Map(via.params);
    if (via.host !== source.address) params.set('received', source.address);
    if (params.has('rport')) {
      params.set('received', source.address);
      params.set('rport', String(source.port));
    }
    message.headers.setFirst('Via', formatVia({ ...via, params }));
    this.layer.receiveRequest(message, source, this.responseDestination(message, source));
  }

  private receiveMalformed(error: SipParseError, source: SipEndpoint): void {
    const partial = error.partial;
    if (this.#closed || !partial || partial.kind !== 'request' || partial.method === 'ACK') return;
    try {
      parseVia(partial.headers.get('via') ?? '');
    } catch {
      return;
    }
    const response = createResponse(partial, error.status, { reason: error.reason });
    void this.sendRaw(response, this.responseDestination(partial, source));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.layer.clear();
    await Promise.all([...this.#transports.values()].map((t) => t.close()));
    this.#transports.clear();
  }
}
