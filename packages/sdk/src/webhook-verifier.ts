/**
 * @module
 * Verifies Faxwire webhooks (Standard Webhooks signatures) in a receiver: checks the HMAC-SHA256 signature over
 * `id.timestamp.body` with the endpoint's `whsec_` secret and refuses timestamps more than five minutes off,
 * so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FaxwireEvent } from './events.ts';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly code: 'missing_headers' | 'invalid_signature' | 'timestamp_out_of_range' | 'invalid_payload',
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyOptions {
  /** Allowed clock difference in seconds (default 300). */
  readonly toleranceSeconds?: number;
  /** Unix seconds now (for tests). */
  readonly nowSeconds?: number;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const value = bag[name] ?? bag[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export class WebhookVerifier {
  readonly #key: Buffer;

  /** @param secret the endpoint's secret, `whsec_…` as Faxwire showed it when the webhook was created. */
  constructor(secret: string) {
    this.#key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
    if (this.#key.length < 16)
      throw new RangeError('webhook secret looks wrong: expected whsec_ and base64 bytes');
  }

  /**
   * Verifies a delivery and returns the parsed event. Pass the raw body exactly as received (not re-serialised
   * JSON) and the request headers.
   */
  verify(rawBody: string | Uint8Array, headers: HeaderBag, options: VerifyOptions = {}): FaxwireEvent {
    const id = header(headers, 'webhook-id');
    const timestamp = header(headers, 'webhook-timestamp');
    const signatures = header(headers, 'webhook-signature');
    if (!id || !timestamp || !signatures) {
      throw new WebhookVerificationError(
        'missing_headers',
        'webhook-id, webhook-timestamp and webhook-signature headers are required',
      );
    }
    const ts = Number(timestamp);
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    const tolerance = options.toleranceSeconds ?? 300;
    if (!Number.isInteger(ts) || Math.abs(now - ts) > tolerance) {
      throw new WebhookVerificationError(
        'timestamp_out_of_range',
        `webhook timestamp ${timestamp} is more than ${tolerance} s from now`,
      );
    }
    const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : Buffer.from(rawBody);
    const mac = createHmac('sha256', this.#key).update(`${id}.${ts}.`).update(body).digest();
    const matched = signatures.split(' ').some((entry) => {
      const [version, value] = entry.split(',', 2);
      if (version !== 'v1' || !value) return false;
      const got = Buffer.from(value, 'base64');
      return got.length === mac.length && timingSafeEqual(got, mac);
    });
    if (!matched)
      throw new WebhookVerificationError('invalid_signature', 'no webhook signature matches the secret');
    try {
      return JSON.parse(body.toString('utf8')) as FaxwireEvent;
    } catch {
      throw new WebhookVerificationError('invalid_payload', 'webhook body is not JSON');
    }
  }
}
