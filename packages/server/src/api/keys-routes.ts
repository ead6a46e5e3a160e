/**
 * @module api/keys-routes
 * /v1/keys: API key management. A new key's secret appears in the create response only.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { issueApiKey } from '../domain/accounts.ts';
import type { AppDeps } from './app-deps.ts';
import { authenticate, authOf } from './authenticate.ts';
import { ApiError } from './errors.ts';
import { ApiKeySchema, CreatedApiKey, CreateKeyBody, ErrorResponse, KeyParams, listOf } from './schemas.ts';
import { apiKeyView } from './views.ts';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };

export const keysRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { database, config } = deps;
  app.addHook('onRequest', authenticate(database, config.limits.requestsPerSecond));

  app.get(
    '/v1/keys',
    {
      schema: {
        summary: 'List API keys',
        tags: ['keys'],
        response: { 200: listOf(ApiKeySchema), ...errors },
      },
    },
    async (request) => {
      const rows = await database.db
        .selectFrom('api_keys')
        .selectAll()
        .where('account_id', '=', authOf(request).accountId)
        .orderBy('id')
        .execute();
      return { data: rows.map(apiKeyView), nextCursor: null };
    },
  );

  app.post(
    '/v1/keys',
    {
      schema: {
        summary: 'Create an API key',
        tags: ['keys'],
        body: CreateKeyBody,
        response: { 201: CreatedApiKey, ...errors },
      },
      // Every field is optional, so an empty POST means all defaults.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { row, key } = await issueApiKey(
        database.db,
        authOf(request).accountId,
        request.body.name ?? 'api',
      );
      return reply.code(201).send({ ...apiKeyView(row), key });
    },
  );

  app.delete(
    '/v1/keys/:id',
    {
      schema: {
        summary: 'Revoke an API key',
        tags: ['keys'],
        params: KeyParams,
        response: { 200: ApiKeySchema, ...errors },
      },
    },
    async (request) => {
      const auth = authOf(request);
      // Revoking the key in hand would lock the caller out mid-session; use another key for that.
      if (request.params.id === auth.keyId) {
        throw new ApiError('forbidden', 'A key cannot revoke itself; use another key.', { id: auth.keyId });
      }
      const row = await database.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', request.params.id)
        .where('account_id', '=', auth.accountId)
        .executeTakeFirst();
      if (!row) throw new ApiError('not_found', 'No API key with this id.', { id: request.params.id });
      const revokedAt = row.revoked_at ?? Date.now();
      await database.db
        .updateTable('api_keys')
        .set({ revoked_at: revokedAt })
        .where('id', '=', row.id)
        .execute();
      return apiKeyView({ ...row, revoked_at: revokedAt });
    },
  );
};
