/**
 * @module
 * The SIP user agent of telefax: messages and their parser, SDP with T.38, transports, transactions, dialogs,
 * digest authentication, and fax calls that negotiate T.38 the way deployed gateways do.
 */

export {
  Dialog,
  type DialogEnd,
  type DialogEndReason,
  type ReinviteAnswer,
  type ReinviteHandler,
} from './dialog.ts';
export {
  buildAuthorization,
  computeDigestResponse,
  type DigestChallenge,
  type DigestCredentials,
  formatDigestChallenge,
  parseDigestChallenge,
  verifyAuthorization,
} from './digest-auth.ts';
export {
  type AnswerFaxCallsOptions,
  answerFaxCalls,
  type FaxCall,
  FaxCallError,
  type FaxCallFailureReason,
  type FaxCallListener,
  type FaxCallMedia,
  type FaxCallPolicy,
  type FaxMediaOptions,
  type PlaceFaxCallOptions,
  placeFaxCall,
} from './fax-call.ts';
export { IncomingInvite } from './incoming-invite.ts';
export { OutgoingInvite } from './outgoing-invite.ts';
export { Registration, type RegistrationOptions } from './registration.ts';
export {
  findAttribute,
  mediaAddress,
  parseSdp,
  type SdpAttribute,
  type SdpMedia,
  type SessionDescription,
  serializeSdp,
} from './sdp.ts';
export {
  type Answer,
  activeMedia,
  answerOffer,
  audioMedia,
  createSessionDescription,
  type G711Codec,
  imageMedia,
  type NegotiatedAudio,
  type NegotiatedT38,
  rejectedMedia,
  t38ReOffer,
} from './sdp-offer-answer.ts';
export {
  buildT38Answer,
  DEFAULT_T38_CAPABILITIES,
  formatT38Attributes,
  isT38Media,
  parseT38Params,
  type T38Capabilities,
  type T38ErrorCorrection,
  type T38Params,
  type T38RateManagement,
  t38OfferParams,
} from './sdp-t38.ts';
export { type CSeq, formatVia, parseCSeq, parseVia, type Via } from './sip-header-values.ts';
export { SipHeaders } from './sip-headers.ts';
export {
  createRequest,
  createResponse,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './sip-message.ts';
export { SipParseError, type SipParseErrorCode } from './sip-parse-error.ts';
export { DEFAULT_PARSE_LIMITS, parseSipMessage, type SipParseLimits } from './sip-parser.ts';
export { SipRequestError, type SipRequestErrorCode } from './sip-request-error.ts';
export { serializeSipMessage } from './sip-serializer.ts';
export { SipStack, type SipStackOptions } from './sip-stack.ts';
export { SipStreamFramer } from './sip-stream-framer.ts';
export {
  formatNameAddr,
  formatUri,
  type NameAddr,
  parseNameAddr,
  parseSipUri,
  parseUri,
  type SipUri,
} from './sip-uri.ts';
export { DEFAULT_SIP_TIMERS, type SipTimerConfig } from './transactions/sip-timers.ts';
export { type SipEndpoint, type SipTransportProtocol, TcpTransport, UdpTransport } from './transport.ts';
export { type InviteOptions, isLocalTimeout, UserAgent, type UserAgentOptions } from './user-agent.ts';
