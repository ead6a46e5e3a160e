/**
 * @module
 * Webhook signatures as Standard Webhooks defines them, over `${id}.${timestamp}.${body}`:
 *  - symmetric, `v1,<base64 HMAC-SHA256>`, keyed by the base64 bytes after the `whsec_` prefix;
 *  - asymmetric, `v1a,<base64 Ed25519 signature>` (RFC 8032, the message itself, no pre-hash), for an
 *    endpoint whose signing key is `whsk_…`; receivers verify with its public key, `whpk_` and the 32
 *    key bytes in base64.
 * The key's prefix decides the scheme, so signing and rotation need nothing else. While a key is being
 * rotated the header carries one signature per active key, separated by spaces.
 */
import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  timingSafeEqual,
} from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
const SIGNING_KEY_PREFIX = 'whsk_';
const PUBLIC_KEY_PREFIX = 'whpk_';

export type WebhookSigning = 'hmac-sha256' | 'ed25519';

/** A new endpoint secret: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * A new Ed25519 signing key: `whsk_` and, in base64, the 32-byte seed followed by the 32-byte public
 * key (the usual 64-byte secret-key layout). It stays on the server; receivers get `webhookPublicKey`.
 */
export function generateWebhookSigningKey(): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  return SIGNING_KEY_PREFIX + Buffer.concat([seed, pub]).toString('base64');
}

/** A new key for `signing`: an HMAC secret or an Ed25519 signing key. */
export function generateWebhookKey(signing: WebhookSigning): string {
  return signing === 'ed25519' ? generateWebhookSigningKey() : generateWebhookSecret();
}

/** Which scheme a stored key signs with. */
export function webhookSigningOf(key: string): WebhookSigning {
  return key.startsWith(SIGNING_KEY_PREFIX) ? 'ed25519' : 'hmac-sha256';
}

function signingKeyParts(key: string): { seed: Buffer; pub: Buffer } {
  const raw = Buffer.from(key.slice(SIGNING_KEY_PREFIX.length), 'base64');
  if (raw.length !== 64)
    throw new RangeError('webhook signing key must be whsk_ and 64 bytes (seed and public key)');
  return { seed: raw.subarray(0, 32), pub: raw.subarray(32) };
}

/** The public key receivers verify `v1a` signatures with (`whpk_…`); null for an HMAC secret. */
export function webhookPublicKey(key: string): string | null {
  if (webhookSigningOf(key) !== 'ed25519') return null;
  return PUBLIC_KEY_PREFIX + signingKeyParts(key).pub.toString('base64');
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
  if (webhookSigningOf(secret) === 'ed25519') {
    const { seed, pub } = signingKeyParts(secret);
    const key = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: pub.toString('base64url') },
      format: 'jwk',
    });
    const content = Buffer.concat([Buffer.from(`${input.id}.${input.timestamp}.`), Buffer.from(input.body)]);
    return `v1a,${sign(null, content, key).toString('base64')}`;
  }
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

/**
 * Checks a signature header against a key (constant time). Ed25519 signatures are deterministic
 * (RFC 8032), so the same comparison holds for `whsk_` keys.
 */
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
