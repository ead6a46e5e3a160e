/**
 * @module api/numbers-routes
 * /v1/numbers: the account's fax numbers, claimed from the loopback carrier's range.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { claimableLoopbackRange, claimLoopbackNumber } from '../domain/claim-loopback-number.ts';
import type { AppDeps } from './app-deps.ts';
import { authenticate, authOf } from './authenticate.ts';
import { ApiError } from './errors.ts';
import {
  CreateNumberBody,
  ErrorResponse,
  listOf,
  NumberParams,
  NumberSchema,
  PatchNumberBody,
} from './schemas.ts';
import { numberView } from './views.ts';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const ACTIVE = ['queued', 'processing', 'sending', 'receiving'];

export const numbersRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { database, config } = deps;
  const range = claimableLoopbackRange(config);
  app.addHook('onRequest', authenticate(database, config.limits.requestsPerSecond));

  const findNumber = async (accountId: string, number: string) => {
    const row = await database.db
      .selectFrom('numbers')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('e164', '=', number)
      .executeTakeFirst();
    if (!row) throw new ApiError('not_found', 'No such number on this account.', { number });
    return row;
  };

  app.get(
    '/v1/numbers',
    {
      schema: {
        summary: 'List your numbers',
        tags: ['numbers'],
        response: { 200: listOf(NumberSchema), ...errors },
      },
    },
    async (request) => {
      const rows = await database.db
        .selectFrom('numbers')
        .selectAll()
        .where('account_id', '=', authOf(request).accountId)
        .orderBy('e164')
        .execute();
      return { data: rows.map(numberView), nextCursor: null };
    },
  );

  app.post(
    '/v1/numbers',
    {
      schema: {
        summary: 'Claim the next free number of the loopback range',
        tags: ['numbers'],
        body: CreateNumberBody,
        response: { 201: NumberSchema, ...errors },
      },
      // Every field is optional, so an empty POST means all defaults.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const row = await claimLoopbackNumber(database, authOf(request).accountId, range, request.body);
      return reply.code(201).send(numberView(row));
    },
  );

  app.patch(
    '/v1/numbers/:number',
    {
      schema: {
        summary: 'Change a number’s settings',
        tags: ['numbers'],
        params: NumberParams,
        body: PatchNumberBody,
        response: { 200: NumberSchema, ...errors },
      },
    },
    async (request) => {
      const { accountId } = authOf(request);
      const row = await findNumber(accountId, request.params.number);
      const { inboundEnabled, csi, label } = request.body;
      const now = Date.now();
      const changes = {
        ...(inboundEnabled === undefined ? {} : { inbound_enabled: inboundEnabled ? 1 : 0 }),
        ...(csi === undefined ? {} : { csi }),
        ...(label === undefined ? {} : { label }),
        updated_at: now,
      };
      await database.db.updateTable('numbers').set(changes).where('id', '=', row.id).execute();
      return numberView({ ...row, ...changes });
    },
  );

  app.delete(
    '/v1/numbers/:number',
    {
      schema: {
        summary: 'Release a number back to the range',
        tags: ['numbers'],
        params: NumberParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      const { accountId } = authOf(request);
      const row = await findNumber(accountId, request.params.number);
      const busy = await database.db
        .selectFrom('faxes')
        .select('id')
        .where('account_id', '=', accountId)
        .where('status', 'in', ACTIVE)
        .where((eb) => eb.or([eb('to_number', '=', row.e164), eb('from_number', '=', row.e164)]))
        .limit(1)
        .executeTakeFirst();
      if (busy) throw new ApiError('number_in_use', undefined, { number: row.e164, faxId: busy.id });
      await database.db.deleteFrom('numbers').where('id', '=', row.id).execute();
      return reply.code(204).send(null);
    },
  );
};
