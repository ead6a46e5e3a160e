/**
 * @module
 * A SIP dialog (RFC 3261 §12): identifiers, route set, remote target and CSeq spaces; the requests inside it
 * (re-INVITE with glare handling §14, BYE §15, ACK of 2xx §13.2.2.4, UPDATE refreshes); the UAS duty to retransmit a
 * 2xx until its ACK and to end the dialog without one (§13.3.1.4); and session timers (RFC 4028) that refresh with
 * the unchanged session description and end a dialog whose refreshes stopped.
 */
import { randomInt } from 'node:crypto';
import { parseSdp, type SessionDescription } from './sdp.ts';
import { parseCSeq, parseDeltaSeconds } from './sip-header-values.ts';
import {
  createRequest,
  createResponse,
  type SipRequest,
  type SipResponse,
  sdpBodyOf,
} from './sip-message.ts';
import { SipRequestError } from './sip-request-error.ts';
import type { SipStack } from './sip-stack.ts';
import { formatUri, parseNameAddr, parseUri } from './sip-uri.ts';
import type { ServerTransaction } from './transactions/server-transaction.ts';
import { TimerSet } from './transactions/sip-timers.ts';
import type { SipEndpoint, SipTransportProtocol } from './transport.ts';

export type DialogEndReason =
  | 'local-bye'
  | 'remote-bye'
  | 'no-ack'
  | 'session-expired'
  | 'request-failed'
  | 'max-duration'
  | 'closed';

export interface DialogEnd {
  readonly reason: DialogEndReason;
}

/** What a re-INVITE handler answers: a status, with the SDP answer for a 2xx. */
export interface ReinviteAnswer {
  readonly status: number;
  readonly sdp?: string;
  readonly reason?: string;
}

export type ReinviteHandler = (
  request: SipRequest,
  offer: SessionDescription | undefined,
) => Promise<ReinviteAnswer>;

/** The services a dialog needs from its user agent. */
export interface DialogContext {
  readonly stack: SipStack;
  readonly userAgentHeader: string;
  contact(protocol: SipTransportProtocol): string;
  /** Sends a request in a client transaction with digest retries; resolves with the final response. */
  sendRequest(
    build: (authHeaders: ReadonlyArray<readonly [string, string]>) => SipRequest,
    destination: SipEndpoint,
    hooks?: RequestHooks,
  ): Promise<SipResponse>;
  /** [min, max] ms to wait after a 491 (RFC 3261 §14.1). */
  glareBackoffMs(ownsCallId: boolean): number;
  /** Lower bound for session intervals (RFC 4028 Min-SE). */
  readonly minSessionExpiresS: number;
  forget(dialog: Dialog): void;
}

export interface RequestHooks {
  onProvisional?(response: SipResponse): void;
  /** A 2xx retransmission for an INVITE (the ACK must be resent). */
  onRetransmitted2xx?(response: SipResponse): void;
  onSent?(request: SipRequest, destination: SipEndpoint): void;
}

export interface DialogInit {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From/To value without tag. */
  readonly localUri: string;
  readonly remoteUri: string;
  readonly remoteTarget: string;
  readonly routeSet: readonly string[];
  readonly localSeq: number;
  readonly remoteSeq?: number;
  /** True when we sent the dialog-creating INVITE, so we own the Call-ID for §14.1 back-off. */
  readonly isUac: boolean;
  readonly protocol: SipTransportProtocol;
  readonly localSdp?: string;
  readonly remoteSdp?: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localUri: string;
  readonly remoteUri: string;
  readonly isUac: boolean;
  readonly protocol: SipTransportProtocol;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  localSdp: string | undefined;
  remoteSdp: string | undefined;
  state: 'confirmed' | 'terminated' = 'confirmed';
  /** Answers re-INVITEs that change the session; unchanged offers (refreshes) are answered without it. */
  onReinvite: ReinviteHandler | undefined;
  /** Session timer (RFC 4028) in force, if any. */
  sessionTimer: { intervalS: number; weRefresh: boolean } | undefined;
  readonly ended: Promise<DialogEnd>;
  #resolveEnded!: (end: DialogEnd) => void;
  #outgoingInvite = false;
  #incomingInvite = false;
  /** ACKs we sent, by INVITE CSeq, to resend on 2xx retransmissions. */
  readonly #acks = new Map<number, { ack: SipRequest; destination: SipEndpoint }>();
  /** 2xx we are retransmitting until their ACK, by INVITE CSeq. */
  readonly #pending2xx = new Map<number, { resolve: (acked: boolean) => void }>();
  readonly #timers = new TimerSet();
  #byeDone: Promise<void> | undefined;
  /** Our re-INVITE awaiting its final response, given up if the dialog ends first. */
  #inviteInFlight: SipRequest | undefined;

  constructor(
    init: DialogInit,
    private readonly context: DialogContext,
  ) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = [...init.routeSet];
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.isUac = init.isUac;
    this.protocol = init.protocol;
    this.localSdp = init.localSdp;
    this.remoteSdp = init.remoteSdp;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
  }

  get id(): string {
    return Dialog.key(this.callId, this.localTag, this.remoteTag);
  }

  static key(callId: string, localTag: string, remoteTag: string): string {
    return `${callId}|${localTag}|${remoteTag}`;
  }

  /** True while a re-INVITE we sent is waiting for its final response. */
  get reinvitePending(): boolean {
    return this.#outgoingInvite;
  }

  /** Where in-dialog requests go: the first route if any (loose routing, §12.2.1.1), else the remote target. */
  async destination(): Promise<SipEndpoint> {
    const next =
      this.routeSet[0] !== undefined ? parseNameAddr(this.routeSet[0]).uri : parseUri(this.remoteTarget);
    const endpoint = await this.context.stack.resolve(next);
    const explicit = 'params' in next && next.params.has('transport');
    return explicit ? endpoint : { ...endpoint, protocol: this.protocol };
  }

  /** A request inside the dialog (RFC 3261 §12.2.1.1); CSeq increments unless given (ACK, CANCEL). */
  buildRequest(
    method: string,
    options: { body?: string; headers?: ReadonlyArray<readonly [string, string]>; cseq?: number } = {},
  ): SipRequest {
    const cseq = options.cseq ?? ++this.localSeq;
    const headers: Array<[string, string]> = [];
    for (const route of this.routeSet) headers.push(['Route', route]);
    headers.push(
      ['Max-Forwards', '70'],
      ['From', `${this.localUri};tag=${this.localTag}`],
      ['To', `${this.remoteUri};tag=${this.remoteTag}`],
      ['Call-ID', this.callId],
      ['CSeq', `${cseq} ${method}`],
    );
    if (method === 'INVITE' || method === 'UPDATE')
      headers.push(['Contact', this.context.contact(this.protocol)]);
    headers.push(['User-Agent', this.context.userAgentHeader]);
    if (options.headers) headers.push(...options.headers.map(([n, v]) => [n, v] as [string, string]));
    if (options.body !== undefined) headers.push(['Content-Type', 'application/sdp']);
    return createRequest(method, this.remoteTarget, headers, options.body);
  }

  /** Sends the ACK for a 2xx to an INVITE with CSeq `seq` and remembers it for retransmitted 2xx. */
  async ack(seq: number, body?: string): Promise<void> {
    const ack = this.buildRequest('ACK', { cseq: seq, ...(body !== undefined ? { body } : {}) });
    const destination = await this.destination();
    this.#acks.set(seq, { ack, destination });
    if (this.#acks.size > 4) this.#acks.delete(this.#acks.keys().next().value!);
    await this.context.stack.sendRaw(ack, destination);
  }

  /** Re-sends the ACK for a retransmitted 2xx (RFC 3261 §13.2.2.4). */
  resendAck(response: SipResponse): void {
    const seq = parseCSeq(response.headers.get('cseq')!).seq;
    const sent = this.#acks.get(seq);
    if (sent) void this.context.stack.sendRaw(sent.ack, sent.destination);
  }

  /**
   * Sends a re-INVITE with an offer and resolves with the final response; a 2xx is ACKed and updates the session.
   * On 491 it waits the RFC 3261 §14.1 back-off and tries again while `stillWanted()` holds (at most 3 tries).
   */
  async reinvite(
    sdp: string,
    options: { retryOnGlare?: boolean; stillWanted?: () => boolean } = {},
  ): Promise<SipResponse> {
    for (let attempt = 0; ; attempt++) {
      if (this.state === 'terminated') throw new SipRequestError('closed', 'INVITE');
      const response = await this.sendReinviteOnce(sdp);
      if (response.status !== 491 || !options.retryOnGlare || attempt >= 2) return response;
      await sleep(this.context.glareBackoffMs(this.isUac));
      if (options.stillWanted && !options.stillWanted()) return response;
      if (this.#incomingInvite) await sleep(this.context.glareBackoffMs(this.isUac));
    }
  }

  private async sendReinviteOnce(sdp: string): Promise<SipResponse> {
    if (this.#outgoingInvite || this.#incomingInvite) {
      // §14.1: never two INVITE transactions in one direction; our own pending one counts as glare too.
      return createResponse(this.buildRequest('INVITE', { cseq: this.localSeq }), 491);
    }
    this.#outgoingInvite = true;
    try {
      const destination = await this.destination();
      const headers = this.sessionTimerRequestHeaders();
      const response = await this.context.sendRequest(
        (auth) => this.buildRequest('INVITE', { body: sdp, headers: [...headers, ...auth] }),
        destination,
        {
          onRetransmitted2xx: (r) => this.resendAck(r),
          onSent: (request) => {
            this.#inviteInFlight = request;
          },
        },
      );
      this.#inviteInFlight = undefined;
      if (response.status >= 200 && response.status < 300) {
        this.localSdp = sdp;
        this.remoteSdp = sdpBodyOf(response) ?? this.remoteSdp;
        this.updateTargetFrom(response.headers.get('contact'));
        await this.ack(parseCSeq(response.headers.get('cseq')!).seq);
        this.applySessionTimerFromResponse(response);
      } else if (response.status === 481) {
        // §12.2.1.2: the dialog no longer exists at the peer.
        this.terminate('request-failed');
      } else if (response.status === 408) {
        // §12.2.1.2 / §14.1: the peer is unreachable or stuck; end the session rather than leave it dangling.
        void this.bye('request-failed');
      }
      return response;
    } finally {
      this.#outgoingInvite = false;
    }
  }

  /** Ends the dialog with BYE (§15.1.1); resolves when the BYE transaction completes. */
  bye(reason: DialogEndReason = 'local-bye'): Promise<void> {
    if (this.state === 'terminated') return this.#byeDone ?? Promise.resolve();
    const request = this.buildRequest('BYE');
    this.#byeDone = (async () => {
      try {
        const destination = await this.destination();
        let first = true;
        await this.context.sendRequest((auth) => {
          if (first) {
            first = false;
            return request;
          }
          return this.buildRequest('BYE', { headers: auth });
        }, destination);
      } catch {
        // The dialog is over either way; a lost BYE is the peer's backstop to handle.
      }
    })();
    this.terminate(reason);
    return this.#byeDone;
  }

  /** Resolves when the dialog is over and any BYE we sent has completed. */
  async settled(): Promise<void> {
    await this.ended;
    await this.#byeDone;
  }

  /** Sends a non-INVITE request inside the dialog (INFO, UPDATE, OPTIONS). */
  async request(method: string, options: { body?: string; headers?: Array<[string, string]> } = {}) {
    const destination = await this.destination();
    return this.context.sendRequest(
      (auth) => this.buildRequest(method, { ...options, headers: [...(options.headers ?? []), ...auth] }),
      destination,
    );
  }

  private updateTargetFrom(contact: string | undefined): void {
    if (contact === undefined) return;
    try {
      this.remoteTarget = formatUri(parseNameAddr(contact).uri);
    } catch {
      // Keep the old target when a refresh carries an unusable Contact.
    }
  }

  /** A request for this dialog from the user agent (RFC 3261 §12.2.2). */
  receiveRequest(request: SipRequest, tx: ServerTransaction | undefined): void {
    const cseq = parseCSeq(request.headers.get('cseq')!);
    if (request.method === 'ACK') {
      // The answer to an offer we put in a 2xx comes in the ACK (RFC 3261 §13.2.1).
      const body = sdpBodyOf(request);
      if (body !== undefined) this.remoteSdp = body;
      this.#pending2xx.get(cseq.seq)?.resolve(true);
      return;
    }
    if (!tx) return;
    if (this.state === 'terminated') {
      tx.respond(createResponse(request, 481));
      return;
    }
    if (this.remoteSeq !== undefined && cseq.seq <= this.remoteSeq) {
      tx.respond(createResponse(request, 500, { reason: 'CSeq Out of Order' }));
      return;
    }
    this.remoteSeq = cseq.seq;
    switch (request.method) {
      case 'BYE':
        tx.respond(createResponse(request, 200));
        this.terminate('remote-bye');
        return;
      case 'INVITE':
        this.receiveReinvite(request, tx).catch(() => tx.respond(createResponse(request, 500)));
        return;
      case 'UPDATE': {
        if (sdpBodyOf(request) !== undefined) {
          tx.respond(createResponse(request, 488));
          return;
        }
        this.applySessionTimerFromRequest(request);
        tx.respond(createResponse(request, 200, { headers: this.sessionTimerResponseHeaders() }));
        this.restartSessionTimer();
        return;
      }
      case 'INFO':
      case 'OPTIONS':
        tx.respond(createResponse(request, 200));
        return;
      default:
        tx.respond(createResponse(request, 501));
    }
  }

  private async receiveReinvite(request: SipRequest, tx: ServerTransaction): Promise<void> {
    if (this.#outgoingInvite) {
      tx.respond(createResponse(request, 491));
      return;
    }
    if (this.#incomingInvite) {
      // §14.2: a second re-INVITE while the first is pending gets 500 with a random Retry-After (0–10 s).
      tx.respond(createResponse(request, 500, { headers: [['Retry-After', String(randomInt(0, 11))]] }));
      return;
    }
    this.#incomingInvite = true;
    try {
      const body = sdpBodyOf(request);
      let offer: SessionDescription | undefined;
      if (body !== undefined) {
        try {
          offer = parseSdp(body);
        } catch {
          tx.respond(createResponse(request, 400, { reason: 'Malformed SDP' }));
          return;
        }
      }
      let answer: ReinviteAnswer;
      if (offer === undefined || this.isUnchangedOffer(offer)) {
        // A refresh (RFC 4028) or an unchanged offer: answer with the same description (RFC 3264 §8).
        answer = { status: 200, ...(this.localSdp !== undefined ? { sdp: this.localSdp } : {}) };
      } else if (this.onReinvite) {
        try {
          answer = await this.onReinvite(request, offer);
        } catch {
          answer = { status: 500 };
        }
      } else {
        answer = { status: 488 };
      }
      if (this.state === 'terminated') {
        tx.respond(createResponse(request, 481));
        return;
      }
      if (answer.status < 200 || answer.status >= 300) {
        tx.respond(createResponse(request, answer.status, answer.reason ? { reason: answer.reason } : {}));
        return;
      }
      this.updateTargetFrom(request.headers.get('contact'));
      if (body !== undefined) this.remoteSdp = body;
      if (answer.sdp !== undefined) this.localSdp = answer.sdp;
      this.applySessionTimerFromRequest(request);
      const response = createResponse(request, answer.status, {
        headers: [
          ['Contact', this.context.contact(this.protocol)],
          ['User-Agent', this.context.userAgentHeader],
          ...this.sessionTimerResponseHeaders(),
          ...(answer.sdp !== undefined ? ([['Content-Type', 'application/sdp']] as const) : []),
        ],
        ...(answer.sdp !== undefined ? { body: answer.sdp } : {}),
      });
      this.#incomingInvite = false;
      this.restartSessionTimer();
      const acked = await this.send2xxUntilAck(tx, response);
      if (!acked) await this.bye('no-ack');
    } finally {
      this.#incomingInvite = false;
    }
  }

  private isUnchangedOffer(offer: SessionDescription): boolean {
    if (this.remoteSdp === undefined) return false;
    try {
      const previous = parseSdp(this.remoteSdp).origin;
      return (
        previous.sessionId === offer.origin.sessionId &&
        previous.sessionVersion === offer.origin.sessionVersion
      );
    } catch {
      return false;
    }
  }

  /**
   * Sends a 2xx for an INVITE and retransmits it from T1 doubling to T2 until the ACK arrives; false when 64×T1
   * passed without one (RFC 3261 §13.3.1.4).
   */
  send2xxUntilAck(tx: ServerTransaction, response: SipResponse): Promise<boolean> {
    const seq = parseCSeq(response.headers.get('cseq')!).seq;
    const { t1Ms, t2Ms } = this.context.stack.timers;
    tx.respond(response);
    return new Promise((resolve) => {
      const timers = new TimerSet();
      const finish = (acked: boolean) => {
        timers.clearAll();
        this.#pending2xx.delete(seq);
        resolve(acked);
      };
      this.#pending2xx.set(seq, { resolve: finish });
      const retransmit = (interval: number) => {
        timers.start('retransmit', interval, () => {
          void this.context.stack.sendRaw(response, tx.responseDestination);
          retransmit(Math.min(interval * 2, t2Ms));
        });
      };
      retransmit(t1Ms);
      timers.start('give-up', 64 * t1Ms, () => finish(false));
    });
  }

  // ---- Session timers (RFC 4028) ----

  private sessionTimerRequestHeaders(): Array<[string, string]> {
    if (!this.sessionTimer) return [];
    const refresher = this.sessionTimer.weRefresh ? 'uac' : 'uas';
    return [
      ['Supported', 'timer'],
      ['Session-Expires', `${this.sessionTimer.intervalS};refresher=${refresher}`],
    ];
  }

  private sessionTimerResponseHeaders(): Array<[string, string]> {
    if (!this.sessionTimer) return [];
    // In a response, the refresher is named from the request's roles (RFC 4028 §9).
    const refresher = this.sessionTimer.weRefresh ? 'uas' : 'uac';
    return [
      ['Require', 'timer'],
      ['Session-Expires', `${this.sessionTimer.intervalS};refresher=${refresher}`],
    ];
  }

  /** A refresh request from the peer: the peer stays the refresher unless it says otherwise (RFC 4028 §9). */
  private applySessionTimerFromRequest(request: SipRequest): void {
    const se = request.headers.get('session-expires');
    if (se === undefined) return;
    try {
      const { seconds, params } = parseDeltaSeconds(se);
      const refresher = params.get('refresher');
      this.sessionTimer = {
        intervalS: Math.max(this.context.minSessionExpiresS, seconds),
        weRefresh: refresher === 'uas',
      };
    } catch {
      // Ignore a malformed Session-Expires and keep the timer as it was.
    }
  }

  /** Our refresh request's 2xx names the refresher in request roles: uac is us (RFC 4028 §7.4). */
  applySessionTimerFromResponse(response: SipResponse): void {
    const se = response.headers.get('session-expires');
    if (se === undefined) return;
    try {
      const { seconds, params } = parseDeltaSeconds(se);
      this.sessionTimer = {
        intervalS: Math.max(this.context.minSessionExpiresS, seconds),
        weRefresh: params.get('refresher') !== 'uas',
      };
      this.restartSessionTimer();
    } catch {
      // A malformed value leaves the session without a timer.
    }
  }

  restartSessionTimer(): void {
    if (!this.sessionTimer || this.state === 'terminated') return;
    const intervalMs = this.sessionTimer.intervalS * 1000;
    if (this.sessionTimer.weRefresh) {
      this.#timers.stop('session-expiry');
      this.#timers.start('session-refresh', intervalMs / 2, () => {
        // Refresh with the unchanged description so media is never renegotiated mid-fax (fax-engines.md §3.4).
        if (this.localSdp !== undefined && !this.#outgoingInvite && !this.#incomingInvite) {
          void this.reinvite(this.localSdp, { retryOnGlare: true }).then(
            (r) => {
              if (r.status < 200 || r.status >= 300) this.restartSessionTimer();
            },
            () => {},
          );
        } else this.restartSessionTimer();
      });
    } else {
      this.#timers.stop('session-refresh');
      const expiryMs = intervalMs - Math.min(32_000, intervalMs / 3);
      this.#timers.start('session-expiry', expiryMs, () => void this.bye('session-expired'));
    }
  }

  /** A backstop: the dialog ends with BYE after this long whatever happens to media or signalling. */
  setMaxDuration(ms: number): void {
    this.#timers.start('max-duration', ms, () => void this.bye('max-duration'));
  }

  /** Marks the dialog over without signalling (after BYE either way, or at shutdown). */
  terminate(reason: DialogEndReason): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.#timers.clearAll();
    if (this.#inviteInFlight) this.context.stack.layer.abortClient(this.#inviteInFlight);
    for (const pending of this.#pending2xx.values()) pending.resolve(false);
    this.context.forget(this);
    this.#resolveEnded({ reason });
  }
}
