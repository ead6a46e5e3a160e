/**
 * @module
 * An INVITE we sent, from the UAC's side (RFC 3261 §13.2): the dialog it leads to, and CANCEL (§9.1), which waits
 * until a provisional response has arrived so that it can match the INVITE at the far end.
 */
import type { Dialog } from './dialog.ts';
import type { SipRequest, SipResponse } from './sip-message.ts';
import type { SipEndpoint } from './transport.ts';

/** An INVITE we sent; `dialog` settles with the established dialog or a {@link SipRequestError}. */
export class OutgoingInvite {
  readonly dialog: Promise<Dialog>;
  /** Provisional responses as they arrive. */
  onProvisional: ((response: SipResponse) => void) | undefined;
  cancelRequested = false;
  current: { request: SipRequest; destination: SipEndpoint } | undefined;
  provisionalSeen = false;
  #cancelSent = false;

  constructor(
    readonly callId: string,
    run: (self: OutgoingInvite) => Promise<Dialog>,
    private readonly sendCancel: (invite: SipRequest, destination: SipEndpoint) => void,
  ) {
    this.dialog = run(this);
    this.dialog.catch(() => {});
  }

  /** Cancels the call if still ringing (RFC 3261 §9.1); a 200 that crosses the CANCEL is ACKed and BYEd. */
  cancel(): void {
    this.cancelRequested = true;
    this.maybeSendCancel();
  }

  /** CANCEL waits for a provisional response (§9.1: CANCEL before one would not be matched reliably). */
  maybeSendCancel(): void {
    if (!this.cancelRequested || this.#cancelSent || !this.provisionalSeen || !this.current) return;
    this.#cancelSent = true;
    this.sendCancel(this.current.request, this.current.destination);
  }
}
