/**
 * @module
 * One webhook delivery attempt: an HTTP(S) POST that never follows redirects, gives up after a timeout, keeps at
 * most 20 kB of the response for the delivery log, and connects only to addresses the outbound policy allows
 * (checked on the resolved address, so a DNS name cannot smuggle in a private target). With `connections`,
 * the request goes over a kept-alive connection to the same origin when one is idle; one that the receiver
 * closed just as we reused it is retried once on a new connection (the receiver may then see the event
 * twice, which at-least-once delivery allows anyway).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { parseRetryAfter } from './retry-schedule.ts';
import type { WebhookConnections } from './webhook-connections.ts';

const RESPONSE_KEEP_BYTES = 20_000;
/** How a kept-alive connection that the receiver closed meanwhile fails when reused. */
const STALE_CONNECTION_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export type WebhookAttemptOutcome =
  | 'delivered' // 2xx
  | 'http_error' // any other status, 3xx included
  | 'gone' // 410: the receiver asks us to stop; the endpoint is disabled
  | 'timeout'
  | 'network_error'
  | 'blocked_address'
  | 'invalid_url';

export interface WebhookAttempt {
  readonly outcome: WebhookAttemptOutcome;
  readonly status?: number;
  readonly durationMs: number;
  /** The start of the response body (≤ 20 kB), for the delivery log. */
  readonly responseBody?: string;
  readonly retryAfterMs?: number;
  readonly error?: string;
}

export interface PostWebhookInput {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly policy: OutboundAddressPolicy;
  readonly timeoutMs?: number;
  /** Kept-alive connections to reuse; without it each attempt opens and closes its own. */
  readonly connections?: WebhookConnections;
}

export function postWebhook(input: PostWebhookInput): Promise<WebhookAttempt> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return Promise.resolve({ outcome: 'invalid_url', durationMs: 0, error: `not a URL: ${input.url}` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve({ outcome: 'invalid_url', durationMs: 0, error: 'only http and https URLs' });
  }
  // A literal IP never goes through lookup(), so it is checked here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !input.policy.allows(host)) {
    return Promise.resolve({
      outcome: 'blocked_address',
      durationMs: 0,
      error: `refusing to connect to ${host}: private, loopback or reserved address`,
    });
  }
  const timeoutMs = input.timeoutMs ?? 15_000;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise((resolve) => {
    let settled = false;
    let req: ReturnType<typeof send>;
    const finish = (attempt: WebhookAttempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(attempt);
    };
    const attempt = (pooled: boolean) => {
      let answered = false;
      req = send(
        url,
        {
          method: 'POST',
          headers: {
            ...input.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(input.body),
            'user-agent': 'Faxwire-Webhooks/1',
          },
          lookup: input.policy.lookup as never,
          agent: pooled ? input.connections!.agentFor(url) : false,
          timeout: timeoutMs,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (chunk: Buffer) => {
            if (kept < RESPONSE_KEEP_BYTES) {
              chunks.push(chunk.subarray(0, RESPONSE_KEEP_BYTES - kept));
              kept += Math.min(chunk.length, RESPONSE_KEEP_BYTES - kept);
            }
          });
          const done = () => {
            const status = res.statusCode ?? 0;
            const outcome: WebhookAttemptOutcome =
              status >= 200 && status < 300 ? 'delivered' : status === 410 ? 'gone' : 'http_error';
            const retryAfter = res.headers['retry-after'];
            finish({
              outcome,
              status,
              durationMs: elapsed(),
              responseBody: Buffer.concat(chunks).toString('utf8'),
              retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
            });
          };
          res.on('end', done);
          res.on('error', done);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        if (pooled && req.reusedSocket && !answered && STALE_CONNECTION_ERRORS.has(err.code ?? '')) {
          // The receiver closed the idle connection as we reused it: once more, on a new one.
          attempt(false);
          return;
        }
        finish({
          outcome: err.code === 'EADDRBLOCKED' ? 'blocked_address' : 'network_error',
          durationMs: elapsed(),
          error: err.message,
        });
      });
      req.end(input.body);
    };
    const timer = setTimeout(() => {
      req.destroy();
      finish({ outcome: 'timeout', durationMs: elapsed(), error: `no response within ${timeoutMs} ms` });
    }, timeoutMs);
    attempt(input.connections !== undefined);
  });
}
