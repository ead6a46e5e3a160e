/**
 * @module
 * Server transactions (RFC 3261 §17.2): INVITE (Proceeding → Completed → Confirmed → Terminated, with RFC 6026's
 * Accepted state after a 2xx) and non-INVITE (Trying → Proceeding → Completed → Terminated). They absorb
 * retransmitted requests by resending the last response, retransmit non-2xx INVITE finals on timer G until the ACK,
 * and report a missing ACK (timer H). Retransmitting a 2xx until its ACK is the TU's job (§13.3.1.4).
 */
import type { SipRequest, SipResponse } from '../sip-message.ts';
import type { SipEndpoint } from '../transport.ts';
import { type SipTimerConfig, TimerSet, transactionTimeoutMs } from './sip-timers.ts';

export type ServerTransactionState =
  | 'trying'
  | 'proceeding'
  | 'completed'
  | 'confirmed'
  | 'accepted'
  | 'terminated';

export interface ServerTransactionContext {
  readonly timers: SipTimerConfig;
  readonly reliable: boolean;
  send(message: SipResponse, destination: SipEndpoint): void;
  onTerminated(transaction: ServerTransaction): void;
}

export class ServerTransaction {
  state: ServerTransactionState;
  readonly isInvite: boolean;
  /** Called when timer H fires without an ACK for a non-2xx final response. */
  onAckTimeout: (() => void) | undefined;
  /** The last response sent, resent when the request is retransmitted. */
  lastResponse: SipResponse | undefined;
  readonly #timers = new TimerSet();

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    /** Where responses go (RFC 3261 §18.2.2). */
    readonly responseDestination: SipEndpoint,
    private readonly context: ServerTransactionContext,
  ) {
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'proceeding' : 'trying';
    // Backstop for a TU that never answers: state must stay bounded (an INVITE may ring for minutes).
    const lifetimeMs = this.isInvite ? 600_000 : 2 * transactionTimeoutMs(context.timers);
    this.#timers.start('lifetime', lifetimeMs, () => this.terminate());
  }

  /** A retransmission of the request, or the ACK for our non-2xx final response. */
  receiveRequest(request: SipRequest): void {
    if (request.method === 'ACK') {
      if (this.state === 'completed') {
        this.state = 'confirmed';
        this.#timers.stop('G');
        this.#timers.stop('H');
        this.#timers.start('I', this.context.reliable ? 0 : this.context.timers.t4Ms, () => this.terminate());
      }
      return;
    }
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.context.send(this.lastResponse, this.responseDestination);
    }
  }

  respond(response: SipResponse): void {
    if (this.state === 'terminated' || this.state === 'completed' || this.state === 'confirmed') return;
    if (this.state === 'accepted') {
      // Retransmissions of the 2xx by the TU pass through while the transaction lingers (RFC 6026 §7.1).
      if (response.status >= 200 && response.status < 300)
        this.context.send(response, this.responseDestination);
      return;
    }
    this.lastResponse = response;
    this.context.send(response, this.responseDestination);
    const timeout = transactionTimeoutMs(this.context.timers);
    if (response.status < 200) {
      this.state = 'proceeding';
      return;
    }
    this.#timers.stop('lifetime');
    if (this.isInvite && response.status < 300) {
      this.state = 'accepted';
      this.#timers.start('L', timeout, () => this.terminate());
    } else if (this.isInvite) {
      this.state = 'completed';
      if (!this.context.reliable) this.scheduleG(this.context.timers.t1Ms);
      this.#timers.start('H', timeout, () => {
        this.terminate();
        this.onAckTimeout?.();
      });
    } else {
      this.state = 'completed';
      this.#timers.start('J', this.context.reliable ? 0 : timeout, () => this.terminate());
    }
  }

  private scheduleG(intervalMs: number): void {
    this.#timers.start('G', intervalMs, () => {
      if (this.state !== 'completed' || !this.lastResponse) return;
      this.context.send(this.lastResponse, this.responseDestination);
      this.scheduleG(Math.min(intervalMs * 2, this.context.timers.t2Ms));
    });
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.#timers.clearAll();
    this.context.onTerminated(this);
  }
}
