/**
 * @module
 * Webhook signatures as Standard Webhooks defines them: `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `${id}.${timestamp}.${body}`, keyed by the base64 bytes after the `whsec_` prefix. While a secret is being
 * rotated the header carries one signature per active secret, separated by spaces.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** A new endpoint secret: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

function secretKey(secret: string): Buffer {
  const raw = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(raw, 'base64');
  if (key.length < 16)
    throw new RangeError('webhook secret is too short: expected whsec_ and at least 16 bytes');
  return key;
}

export interface WebhookSignatureInput {
  /** The message id, stable across retries (the event id); must not contain '.'. */
  readonly id: string;
  /** Unix seconds of this attempt. */
  readonly timestamp: number;
  /** The exact body bytes sent. */
  readonly body: string | Uint8Array;
}

function signOne(secret: string, input: WebhookSignatureInput): string {
  const mac = createHmac('sha256', secretKey(secret));
  mac.update(`${input.id}.${input.timestamp}.`);
  mac.update(input.body);
  return `v1,${mac.digest('base64')}`;
}

/** The `webhook-signature` header value for one or more active secrets. */
export function signWebhook(secrets: readonly string[], input: WebhookSignatureInput): string {
  if (secrets.length === 0) throw new RangeError('at least one webhook secret is needed to sign');
  if (input.id.includes('.')) throw new RangeError('webhook message id must not contain "."');
  return secrets.map((s) => signOne(s, input)).join(' ');
}

/** The three Standard Webhooks headers for one delivery attempt. */
export function webhookHeaders(
  secrets: readonly string[],
  input: WebhookSignatureInput,
): Record<string, string> {
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signWebhook(secrets, input),
  };
}

/** Checks a signature header against a secret (constant time); used by tests and the test-event endpoint. */
export function verifyWebhookSignature(
  secret: string,
  input: WebhookSignatureInput,
  header: string,
): boolean {
  const expected = Buffer.from(signOne(secret, input));
  return header.split(' ').some((candidate) => {
    const got = Buffer.from(candidate);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
