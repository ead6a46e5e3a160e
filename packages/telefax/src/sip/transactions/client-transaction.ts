/**
 * @module
 * Client transactions (RFC 3261 §17.1): the INVITE state machine (Calling → Proceeding → Completed/Accepted →
 * Terminated, §17.1.1 with the Accepted state of RFC 6026) and the non-INVITE one (Trying → Proceeding →
 * Completed → Terminated, §17.1.2). Over UDP the request is retransmitted on timers A and E; the ACK for a non-2xx
 * final response is built and sent here (§17.1.1.3); a 2xx and its retransmissions go to the TU, which ACKs them.
 */
import { createRequest, type SipRequest, type SipResponse } from '../sip-message.ts';
import type { SipEndpoint } from '../transport.ts';
import { type SipTimerConfig, TimerSet, timerDMs, transactionTimeoutMs } from './sip-timers.ts';

const INVITE_PROCEEDING_LIMIT_MS = 180_000;

export type ClientTransactionState =
  | 'calling'
  | 'trying'
  | 'proceeding'
  | 'completed'
  | 'accepted'
  | 'terminated';

export interface ClientTransactionUser {
  /** Every response the TU should see: provisional, the final one, and (INVITE) 2xx retransmissions. */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired, or the transport failed: the TU treats it as a 408 (RFC 3261 §8.1.3.1). */
  onTimeout(): void;
}

export interface ClientTransactionContext {
  readonly timers: SipTimerConfig;
  readonly reliable: boolean;
  send(message: SipRequest, destination: SipEndpoint): void;
  onTerminated(transaction: ClientTransaction): void;
}

export class ClientTransaction {
  state: ClientTransactionState;
  readonly isInvite: boolean;
  readonly #timers = new TimerSet();
  #interval: number;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly destination: SipEndpoint,
    private readonly context: ClientTransactionContext,
    private readonly user: ClientTransactionUser,
  ) {
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'calling' : 'trying';
    this.#interval = context.timers.t1Ms;
  }

  start(): void {
    this.context.send(this.request, this.destination);
    if (!this.context.reliable) this.#timers.start('retransmit', this.#interval, () => this.retransmit());
    this.#timers.start('timeout', transactionTimeoutMs(this.context.timers), () => {
      if (
        this.state === 'calling' ||
        this.state === 'trying' ||
        (!this.isInvite && this.state === 'proceeding')
      ) {
        this.terminate();
        this.user.onTimeout();
      }
    });
  }

  private retransmit(): void {
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return;
    if (this.isInvite && this.state !== 'calling') return;
    this.context.send(this.request, this.destination);
    // Timer A doubles without limit; timer E doubles up to T2, and stays at T2 once a provisional came (§17.1.2.2).
    this.#interval = this.isInvite
      ? this.#interval * 2
      : this.state === 'proceeding'
        ? this.context.timers.t2Ms
        : Math.min(this.#interval * 2, this.context.timers.t2Ms);
    this.#timers.start('retransmit', this.#interval, () => this.retransmit());
  }

  receive(response: SipResponse): void {
    const { status } = response;
    switch (this.state) {
      case 'calling':
      case 'trying':
      case 'proceeding':
        if (status < 200) {
          if (this.isInvite && this.state !== 'proceeding') {
            this.#timers.stop('retransmit');
            this.#timers.stop('timeout');
            // No timer bounds Proceeding in RFC 3261 §17.1.1.2; like a proxy's Timer C (§16.6) we give up after
            // 3 minutes without a final response so a peer that only rings cannot hold state forever.
            this.#timers.start('C', INVITE_PROCEEDING_LIMIT_MS, () => this.abort());
          }
          this.state = 'proceeding';
          this.user.onResponse(response);
          return;
        }
        this.#timers.stop('retransmit');
        this.#timers.stop('timeout');
        if (this.isInvite && status < 300) {
          this.state = 'accepted';
          this.#timers.start('M', transactionTimeoutMs(this.context.timers), () => this.terminate());
        } else if (this.isInvite) {
          this.state = 'completed';
          this.sendAck(response);
          this.#timers.start('D', timerDMs(this.context.timers, this.context.reliable), () =>
            this.terminate(),
          );
        } else {
          this.state = 'completed';
          const k = this.context.reliable ? 0 : this.context.timers.t4Ms;
          this.#timers.start('K', k, () => this.terminate());
        }
        this.user.onResponse(response);
        return;
      case 'accepted':
        if (status >= 200 && status < 300) this.user.onResponse(response);
        return;
      case 'completed':
        if (this.isInvite && status >= 300) this.sendAck(response);
        return;
      default:
    }
  }

  /** ACK for a non-2xx final response (RFC 3261 §17.1.1.3): same branch, To with the response's tag. */
  private sendAck(response: SipResponse): void {
    const req = this.request;
    const headers: Array<[string, string]> = [['Via', req.headers.getAll('via')[0]!]];
    for (const route of req.headers.getAll('route')) headers.push(['Route', route]);
    headers.push(['Max-Forwards', '70']);
    headers.push(['From', req.headers.get('from')!]);
    headers.push(['To', response.headers.get('to') ?? req.headers.get('to')!]);
    headers.push(['Call-ID', req.headers.get('call-id')!]);
    headers.push(['CSeq', `${req.headers.get('cseq')!.trim().split(/\s+/)[0]} ACK`]);
    this.context.send(createRequest('ACK', req.uri, headers), this.destination);
  }

  /** Ends the transaction at shutdown; a TU still waiting for a final response sees a timeout. */
  abort(): void {
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return;
    this.terminate();
    this.user.onTimeout();
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.#timers.clearAll();
    this.context.onTerminated(this);
  }
}
