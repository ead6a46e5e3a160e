/**
 * @module
 * Verifies Faxwire webhooks (Standard Webhooks signatures) in a receiver. The key the endpoint showed decides
 * the scheme: with a `whsec_` secret the `v1` entries (HMAC-SHA256) are checked, with a `whpk_` public key the
 * `v1a` entries (Ed25519, RFC 8032); both sign `id.timestamp.body`. Timestamps more than five minutes off are
 * refused, so a captured request cannot be replayed later.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
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

const SECRET_PREFIX = 'whsec_';
const PUBLIC_KEY_PREFIX = 'whpk_';
const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

/** Checks the signed content against one signature entry's decoded bytes. */
type SignatureCheck = (content: Buffer, signature: Buffer) => boolean;

function hmacCheck(secret: string): SignatureCheck {
  const key = Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
  if (key.length < 16) throw new RangeError('webhook secret looks wrong: expected whsec_ and base64 bytes');
  return (content, signature) => {
    const mac = createHmac('sha256', key).update(content).digest();
    return signature.length === mac.length && timingSafeEqual(signature, mac);
  };
}

function ed25519Check(publicKey: string): SignatureCheck {
  const raw = Buffer.from(publicKey.slice(PUBLIC_KEY_PREFIX.length), 'base64');
  if (raw.length !== ED25519_KEY_BYTES)
    throw new RangeError('webhook public key looks wrong: expected whpk_ and 32 bytes in base64');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  return (content, signature) =>
    signature.length === ED25519_SIGNATURE_BYTES && verify(null, content, key, signature);
}

export class WebhookVerifier {
  /** The signature version this key checks: `v1` for a secret, `v1a` for a public key. */
  readonly #version: 'v1' | 'v1a';
  readonly #check: SignatureCheck;

  /**
   * @param key the key Faxwire showed when the webhook was created: the secret `whsec_…` of an HMAC endpoint,
   *   or the public key `whpk_…` of an endpoint created with `"signing": "ed25519"`.
   */
  constructor(key: string) {
    if (key.startsWith(PUBLIC_KEY_PREFIX)) {
      this.#version = 'v1a';
      this.#check = ed25519Check(key);
    } else {
      this.#version = 'v1';
      this.#check = hmacCheck(key);
    }
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
    const content = Buffer.concat([Buffer.from(`${id}.${ts}.`), body]);
    // During a key rotation the header holds one entry per key; entries of the other scheme are skipped.
    const matched = signatures.split(' ').some((entry) => {
      const [version, value] = entry.split(',', 2);
      if (version !== this.#version || !value) return false;
      return this.#check(content, Buffer.from(value, 'base64'));
    });
    if (!matched) {
      throw new WebhookVerificationError(
        'invalid_signature',
        `no ${this.#version} webhook signature matches the ${this.#version === 'v1a' ? 'public key' : 'secret'}`,
      );
    }
    try {
      return JSON.parse(body.toString('utf8')) as FaxwireEvent;
    } catch {
      throw new WebhookVerificationError('invalid_payload', 'webhook body is not JSON');
    }
  }
}
