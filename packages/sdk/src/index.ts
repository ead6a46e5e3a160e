/**
 * @module
 * The Faxwire SDK: webhook verification, event types and live-stream parsing.
 */
export type { FaxEventData, FaxEventType, FaxwireEvent } from './events.ts';
export { parseServerSentEvents, type ServerSentEvent } from './sse-parser.ts';
export { type VerifyOptions, WebhookVerificationError, WebhookVerifier } from './webhook-verifier.ts';
