/**
 * @module lines/answer-inbound-calls
 * The inbound half every carrier shares: answer INVITEs on a user agent, ask the handler whether to take each
 * one (number lookup, free channel), bind a UDPTL socket for the calls it takes, and hand over those that reach
 * T.38. Every accepted call ends in exactly one of `answered` or `failed`, and its socket is closed unless the
 * handler took it.
 */
import { answerFaxCalls, type FaxCallListener, type FaxCallPolicy } from 'telefax/sip/fax-call';
import type { IncomingInvite } from 'telefax/sip/incoming-invite';
import type { G711Codec } from 'telefax/sip/sdp-offer-answer';
import type { T38Capabilities } from 'telefax/sip/sdp-t38';
import type { UserAgent } from 'telefax/sip/user-agent';
import { UdptlEndpoint } from 'telefax/t38/udptl-endpoint';
import { calledNumber, callingNumber } from './call-party.ts';
import type { InboundCallHandler, InboundCallOffer } from './carrier.ts';

export interface AnswerInboundOptions {
  readonly userAgent: UserAgent;
  readonly carrierId: string;
  readonly handler: InboundCallHandler;
  readonly policy: FaxCallPolicy;
  readonly pacing: 'realtime' | 'none';
  /** Address to bind UDPTL sockets on and to write in SDP. */
  readonly mediaAddress: string;
  /** Address written in SDP when it differs from the bound one (NAT). */
  readonly advertisedMediaAddress?: string;
  readonly capabilities?: T38Capabilities;
  /** G.711 codecs accepted while a call is audio (the trunk's); default PCMU, PCMA. */
  readonly codecs?: readonly G711Codec[];
  /** A SIP status to refuse an INVITE with before any lookup (e.g. 403 from an address not of the trunk). */
  readonly screen?: (invite: IncomingInvite) => number | null;
  /** DID → E.164 when the carrier's DIDs are not the numbers themselves; default: the DID read as E.164. */
  readonly routeDid?: (did: string | null, invite: IncomingInvite) => string | null;
}

export async function answerInboundCalls(options: AnswerInboundOptions): Promise<FaxCallListener> {
  const { handler, carrierId } = options;
  const offers = new Map<string, InboundCallOffer>();
  const sockets = new Map<string, UdptlEndpoint>();
  const settle = (callId: string, reason: string | null) => {
    const offer = offers.get(callId);
    offers.delete(callId);
    const socket = sockets.get(callId);
    sockets.delete(callId);
    if (reason !== null) {
      void socket?.close();
      if (offer) handler.failed(offer, reason);
    }
    return { offer, socket };
  };
  return answerFaxCalls({
    userAgent: options.userAgent,
    policy: options.policy,
    accept: async (invite) => {
      const refusal = options.screen?.(invite) ?? null;
      if (refusal !== null) return refusal;
      const did = calledNumber(invite.request);
      const offer: InboundCallOffer = {
        callId: invite.callId,
        to: options.routeDid ? options.routeDid(did, invite) : did,
        from: callingNumber(invite.request),
        carrierId,
      };
      const decision = await handler.offer(offer);
      if (decision === true) offers.set(invite.callId, offer);
      return decision;
    },
    t38: async (invite) => {
      const socket = await UdptlEndpoint.open({ localAddress: options.mediaAddress });
      sockets.set(invite.callId, socket);
      return {
        localPort: socket.localPort,
        address: options.advertisedMediaAddress ?? options.mediaAddress,
        ...(options.capabilities ? { capabilities: options.capabilities } : {}),
        ...(options.codecs ? { codecs: options.codecs } : {}),
      };
    },
    onCall: (call) => {
      const { offer, socket } = settle(call.callId, null);
      if (!offer || !socket) {
        void call.hangup();
        void socket?.close();
        return;
      }
      handler.answered(offer, { call, udptl: socket, pacing: options.pacing });
    },
    onError: (error) => {
      if (error.callId !== undefined) settle(error.callId, error.reason);
    },
  });
}
