/**
 * @module webhooks/webhook-connections
 * Keep-alive connections to webhook receivers, pooled per origin (scheme, host, port), so a busy
 * endpoint costs one TCP (and TLS) handshake now and then instead of one per delivery. Every new
 * connection still resolves its host through the outbound policy's `lookup`, so the address check
 * runs at each connect exactly as without the pool; a connection, once open, stays with the address
 * it was checked against. Idle connections are closed after `idleMs`, or earlier when the receiver's
 * `Keep-Alive: timeout` says it will close them sooner.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';

export interface WebhookConnectionsOptions {
  /** How long an idle connection is kept; default 4 s (below the 5 s common receivers keep theirs). */
  readonly idleMs?: number;
  /** Idle connections kept per origin; default 64. */
  readonly maxIdlePerOrigin?: number;
}

export class WebhookConnections {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor(policy: OutboundAddressPolicy, options: WebhookConnectionsOptions = {}) {
    const agentOptions = {
      keepAlive: true,
      timeout: options.idleMs ?? 4_000,
      maxFreeSockets: options.maxIdlePerOrigin ?? 64,
      scheduling: 'lifo' as const,
      // Each new connection resolves its host here: the policy's check at connect time.
      lookup: policy.lookup as never,
    };
    this.#http = new HttpAgent(agentOptions);
    this.#https = new HttpsAgent(agentOptions);
  }

  /** The pool for a URL's scheme (the agent keys its connections by host and port). */
  agentFor(url: URL): HttpAgent {
    return url.protocol === 'https:' ? this.#https : this.#http;
  }

  /** Closes every connection, idle or not (call once no attempt is in flight). */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
