/**
 * @module
 * An INVITE we received that the application has not answered yet (RFC 3261 §13.3): ring, reject, or accept with
 * an SDP answer, which creates the dialog once the ACK arrives.
 */
import type { Dialog } from './dialog.ts';
import { randomToken } from './random-token.ts';
import { parseSdp, type SessionDescription } from './sdp.ts';
import { createResponse, type SipRequest, sdpBodyOf } from './sip-message.ts';
import { SipRequestError } from './sip-request-error.ts';
import type { ServerTransaction } from './transactions/server-transaction.ts';
import type { SipEndpoint } from './transport.ts';

/** What an incoming INVITE needs from its user agent. */
export interface InviteAnswerer {
  acceptInvite(
    invite: IncomingInvite,
    sdp: string,
    extraHeaders: ReadonlyArray<readonly [string, string]>,
    onDialog?: (dialog: Dialog) => void,
  ): Promise<Dialog>;
  releaseInvite(invite: IncomingInvite): void;
}

/** An INVITE we received that the application has not yet answered. */
export class IncomingInvite {
  readonly callId: string;
  readonly offer: SessionDescription | undefined;
  state: 'pending' | 'accepted' | 'rejected' | 'cancelled' = 'pending';
  /** Called when the caller CANCELs before we answered. */
  onCancel: (() => void) | undefined;
  readonly localTag = randomToken(10);

  constructor(
    readonly request: SipRequest,
    readonly transaction: ServerTransaction,
    readonly source: SipEndpoint,
    private readonly ua: InviteAnswerer,
  ) {
    this.callId = request.headers.get('call-id')!;
    const body = sdpBodyOf(request);
    this.offer = body === undefined ? undefined : parseSdp(body);
  }

  /** Sends a provisional response (180 Ringing, 183 with early media SDP). */
  progress(status = 180): void {
    if (this.state !== 'pending') return;
    this.transaction.respond(createResponse(this.request, status, { toTag: this.localTag }));
  }

  reject(status = 486, reason?: string): void {
    if (this.state !== 'pending') return;
    this.state = 'rejected';
    this.transaction.respond(
      createResponse(this.request, status, { toTag: this.localTag, ...(reason ? { reason } : {}) }),
    );
    this.ua.releaseInvite(this);
  }

  /** Answers 200 with the SDP answer; resolves with the dialog once the ACK came, or rejects with no_ack. */
  accept(answer: {
    sdp: string;
    headers?: ReadonlyArray<readonly [string, string]>;
    /** Called once the dialog exists, before the 200 is sent. */
    onDialog?: (dialog: Dialog) => void;
  }): Promise<Dialog> {
    if (this.state !== 'pending') return Promise.reject(new SipRequestError('cancelled', 'INVITE'));
    this.state = 'accepted';
    const dialog = this.ua.acceptInvite(this, answer.sdp, answer.headers ?? [], answer.onDialog);
    // A caller that ignores the outcome must not crash the process with an unhandled no_ack rejection.
    dialog.catch(() => {});
    return dialog;
  }
}
