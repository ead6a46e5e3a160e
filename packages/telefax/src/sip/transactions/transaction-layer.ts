/**
 * @module
 * Matches messages to transactions (RFC 3261 §17.1.3 for responses, §17.2.3 for requests) and keeps the set of
 * live transactions bounded: over the limit, a new request is refused statelessly with 503 (§21.5.4) instead of
 * growing state. ACKs that match no transaction (the ACK for a 2xx) and responses that match no transaction
 * (retransmitted 2xx) go to the transaction user.
 */
import { BRANCH_MAGIC_COOKIE, parseCSeq, parseVia } from '../sip-header-values.ts';
import { createResponse, type SipMessage, type SipRequest, type SipResponse } from '../sip-message.ts';
import type { SipEndpoint } from '../transport.ts';
import { ClientTransaction, type ClientTransactionUser } from './client-transaction.ts';
import { ServerTransaction } from './server-transaction.ts';
import type { SipTimerConfig } from './sip-timers.ts';

export interface TransactionLayerUser {
  /**
   * A new request. `transaction` is undefined only for an ACK that matched no INVITE server transaction (the ACK of
   * a 2xx, which belongs to the dialog).
   */
  onRequest(request: SipRequest, transaction: ServerTransaction | undefined, source: SipEndpoint): void;
  /** A response for no live client transaction: a retransmitted 2xx whose ACK the dialog must resend. */
  onStrayResponse(response: SipResponse, source: SipEndpoint): void;
}

export interface TransactionLayerOptions {
  readonly timers: SipTimerConfig;
  readonly maxTransactions: number;
  send(message: SipMessage, destination: SipEndpoint): void;
  isReliable(destination: SipEndpoint): boolean;
  readonly user: TransactionLayerUser;
}

function branchOf(message: SipMessage): string {
  const via = parseVia(message.headers.get('via')!);
  return via.params.get('branch') ?? '';
}

/** Server transaction key: branch, sent-by and method, ACK matching the INVITE (RFC 3261 §17.2.3). */
export function serverTransactionKey(request: SipRequest): string {
  const via = parseVia(request.headers.get('via')!);
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  const branch = via.params.get('branch') ?? '';
  if (branch.startsWith(BRANCH_MAGIC_COOKIE)) return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
  // Pre-RFC 3261 peers: fall back to Call-ID, CSeq number and From tag (§17.2.3 last paragraph, simplified).
  const cseq = parseCSeq(request.headers.get('cseq')!);
  return `legacy|${request.headers.get('call-id')}|${cseq.seq}|${request.headers.get('from')}|${method}`;
}

export function clientTransactionKey(message: SipMessage): string {
  const method = parseCSeq(message.headers.get('cseq')!).method;
  return `${branchOf(message)}|${method === 'ACK' ? 'INVITE' : method}`;
}

export class TransactionLayer {
  readonly #client = new Map<string, ClientTransaction>();
  readonly #server = new Map<string, ServerTransaction>();

  constructor(private readonly options: TransactionLayerOptions) {}

  get clientCount(): number {
    return this.#client.size;
  }

  get serverCount(): number {
    return this.#server.size;
  }

  get full(): boolean {
    return this.#client.size + this.#server.size >= this.options.maxTransactions;
  }

  /** Starts a client transaction; the request must already carry its top Via with a unique branch. */
  sendRequest(request: SipRequest, destination: SipEndpoint, user: ClientTransactionUser): ClientTransaction {
    const key = clientTransactionKey(request);
    const tx = new ClientTransaction(
      key,
      request,
      destination,
      {
        timers: this.options.timers,
        reliable: this.options.isReliable(destination),
        send: (m, d) => this.options.send(m, d),
        onTerminated: (t) => {
          if (this.#client.get(t.key) === t) this.#client.delete(t.key);
        },
      },
      user,
    );
    this.#client.set(key, tx);
    tx.start();
    return tx;
  }

  receiveResponse(response: SipResponse, source: SipEndpoint): void {
    const tx = this.#client.get(clientTransactionKey(response));
    if (tx) tx.receive(response);
    else this.options.user.onStrayResponse(response, source);
  }

  /** The INVITE server transaction a CANCEL refers to (same branch, RFC 3261 §9.2). */
  findInviteFor(cancel: SipRequest): ServerTransaction | undefined {
    const key = serverTransactionKey(cancel).replace(/\|CANCEL$/, '|INVITE');
    return this.#server.get(key);
  }

  receiveRequest(request: SipRequest, source: SipEndpoint, responseDestination: SipEndpoint): void {
    const key = serverTransactionKey(request);
    const existing = this.#server.get(key);
    if (existing) {
      existing.receiveRequest(request);
      if (request.method === 'ACK' && existing.state === 'accepted') {
        // ACK for a 2xx that reused the INVITE's branch: still the dialog's (RFC 6026 §7.1).
        this.options.user.onRequest(request, undefined, source);
      }
      return;
    }
    if (request.method === 'ACK') {
      this.options.user.onRequest(request, undefined, source);
      return;
    }
    if (this.full) {
      const busy = createResponse(request, 503, { headers: [['Retry-After', '5']] });
      this.options.send(busy, responseDestination);
      return;
    }
    const tx = new ServerTransaction(key, request, responseDestination, {
      timers: this.options.timers,
      reliable: this.options.isReliable(responseDestination),
      send: (m, d) => this.options.send(m, d),
      onTerminated: (t) => {
        if (this.#server.get(t.key) === t) this.#server.delete(t.key);
      },
    });
    this.#server.set(key, tx);
    if (request.method === 'INVITE') tx.respond(createResponse(request, 100));
    this.options.user.onRequest(request, tx, source);
  }

  /** Gives up a client transaction still waiting for its final response (its TU sees a timeout). */
  abortClient(request: SipRequest): void {
    this.#client.get(clientTransactionKey(request))?.abort();
  }

  /** Stops every transaction (shutdown). */
  clear(): void {
    for (const tx of [...this.#client.values()]) {
      tx.abort();
      tx.terminate();
    }
    for (const tx of [...this.#server.values()]) tx.terminate();
  }
}
