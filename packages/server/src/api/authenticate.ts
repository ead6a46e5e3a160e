/**
 * @module api/authenticate
 * Bearer API keys: `Authorization: Bearer fw_…`, looked up by SHA-256, refused when unknown or
 * revoked. Sets `request.auth`. A per-key token bucket answers 429 past the configured rate.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashApiKey, looksLikeApiKey } from '../domain/api-key.ts';
import type { Database } from '../store/database.ts';
import { ApiError } from './errors.ts';

export interface AuthContext {
  readonly accountId: string;
  readonly keyId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** last_used_at is informational; writing it on every request would make reads cost a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

class TokenBuckets {
  readonly #rate: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(perSecond: number) {
    this.#rate = perSecond;
  }
  /** @returns 0 when allowed, else seconds until a token is back. */
  take(key: string, now: number): number {
    const bucket = this.#buckets.get(key) ?? { tokens: this.#rate, at: now };
    bucket.tokens = Math.min(this.#rate, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#rate);
  }
}

export function authenticate(database: Database, requestsPerSecond: number) {
  const buckets = requestsPerSecond > 0 ? new TokenBuckets(requestsPerSecond) : null;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const token = match?.[1];
    if (!token || !looksLikeApiKey(token)) throw new ApiError('unauthorized');
    const key = await database.db
      .selectFrom('api_keys')
      .select(['id', 'account_id', 'revoked_at', 'last_used_at'])
      .where('hash', '=', hashApiKey(token))
      .executeTakeFirst();
    if (!key || key.revoked_at !== null)
      throw new ApiError('unauthorized', 'The API key is unknown or revoked.');
    const now = Date.now();
    if (buckets) {
      const retryAfter = buckets.take(key.id, now);
      if (retryAfter > 0) {
        reply.header('retry-after', String(retryAfter));
        throw new ApiError('rate_limited', undefined, { retryAfterSeconds: retryAfter });
      }
    }
    if (key.last_used_at === null || now - key.last_used_at > LAST_USED_RESOLUTION_MS) {
      await database.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', key.id).execute();
    }
    request.auth = { accountId: key.account_id, keyId: key.id };
  };
}

/** The authenticated caller; routes behind `authenticate` always have one. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new ApiError('unauthorized');
  return request.auth;
}
