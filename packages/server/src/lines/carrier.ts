/**
 * @module lines/carrier
 * A carrier is where fax calls come from and go to: the built-in loopback carrier or a SIP trunk. Each one places
 * outbound calls and answers inbound ones up to T.38 (fax-engines.md §3.1–3.2: who switches to T.38 and how it
 * fails); the channel manager runs T.30 over the result. Every carrier binds one UDPTL socket per call, so the
 * port named in the SDP is the one the session reads.
 */
import type { FaxCall } from 'telefax/sip/fax-call';
import type { UdptlEndpoint } from 'telefax/t38/udptl-endpoint';

/** A call that reached T.38: the SIP side and the UDPTL socket its media uses. */
export interface CarrierCall {
  readonly call: FaxCall;
  readonly udptl: UdptlEndpoint;
  /** How the T.38 transport paces data: like a real modem line, or as fast as the socket takes it. */
  readonly pacing: 'realtime' | 'none';
}

export interface OutboundCallRequest {
  /** E.164 number to dial. */
  readonly to: string;
  /** E.164 number we call from. */
  readonly from: string;
  /** Aborting cancels a ringing call or hangs up an answered one. */
  readonly signal: AbortSignal;
}

/** What an inbound INVITE says about itself, in the platform's terms. */
export interface InboundCallOffer {
  readonly callId: string;
  /** The number called (DID, from the Request-URI or To user) as E.164, or null when it is not a number. */
  readonly to: string | null;
  /** The caller's number as E.164 when it is one, else what the network gave (may be empty). */
  readonly from: string;
  readonly carrierId: string;
}

export interface InboundCallHandler {
  /** Decide on a new call: true to answer, or a SIP status to refuse it with (404 unknown number, 486 busy…). */
  offer(offer: InboundCallOffer): Promise<true | number>;
  /** An answered call reached T.38; the handler owns it (and its UDPTL socket) from now on. */
  answered(offer: InboundCallOffer, call: CarrierCall): void;
  /** An offered call that was accepted by `offer` but never reached T.38 (caller gave up, no T.38…). */
  failed(offer: InboundCallOffer, reason: string): void;
}

export interface Carrier {
  /** Stable id: `loopback` or `trunk:<name>`; also the group key of its outbound jobs. */
  readonly id: string;
  /** Simultaneous calls (both directions) the carrier allows; Infinity when unlimited. */
  readonly channels: number;
  /**
   * How well this carrier can dial `to`: 0 when it cannot, else the length of the matching prefix of its dial
   * plan (a number of its own range beats any prefix). The best carrier places the call.
   */
  routes(to: string): number;
  /** Places a call up to T.38; rejects with a FaxCallError (busy, no_answer, t38_not_supported…). */
  placeCall(request: OutboundCallRequest): Promise<CarrierCall>;
  /** Starts taking inbound calls. */
  listen(handler: InboundCallHandler): Promise<void>;
  close(): Promise<void>;
}
