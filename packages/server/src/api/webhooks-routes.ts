/**
 * @module api/webhooks-routes
 * /v1/webhooks: endpoints (create → `whsec_…` secret, or with `signing: "ed25519"` a `whpk_…` public
 * key for `v1a` signatures; list, get, change, delete), secret rotation,
 * the delivery log with every attempt, manual redelivery and a test event. A URL is refused when it
 * reaches a private, loopback or link-local address not allowed by FAXWIRE_WEBHOOK_ALLOW_NETS.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { checkWebhookUrl } from '../webhooks/check-webhook-url.ts';
import {
  createWebhookEndpoint,
  DEFAULT_ROTATION_OVERLAP_MS,
  deleteWebhookEndpoint,
  loadWebhookEndpoint,
  redeliverWebhook,
  rotateWebhookSecret,
  sendTestWebhook,
  updateWebhookEndpoint,
} from '../webhooks/webhook-endpoints.ts';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from '../webhooks/webhook-event-types.ts';
import { webhookPublicKey, webhookSigningOf } from '../webhooks/webhook-signature.ts';
import type {
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from '../webhooks/webhook-tables.ts';
import type { AppDeps } from './app-deps.ts';
import { authenticate, authOf } from './authenticate.ts';
import { ApiError } from './errors.ts';
import { ErrorResponse, listOf, PhoneNumber, Timestamp } from './schemas.ts';
import { iso } from './views.ts';

export interface WebhookAppDeps {
  /** Which targets an endpoint URL may reach; default from the configuration (FAXWIRE_WEBHOOK_ALLOW_NETS). */
  readonly policy?: OutboundAddressPolicy;
  /** Wakes the dispatcher after a test event or a redelivery was queued. */
  readonly notify?: () => void;
}

declare module './app-deps.ts' {
  interface AppDeps {
    readonly webhooks?: WebhookAppDeps;
  }
}

const closed = { additionalProperties: false } as const;
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([Type.Null(), schema]);
const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };

const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'http or https' });
const EventTypes = Type.Array(Type.String({ maxLength: 100 }), {
  maxItems: 50,
  description: `Event types to send; empty or absent: all. One of ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
});
const Numbers = Type.Array(PhoneNumber, {
  maxItems: 100,
  description: 'Only faxes to or from these numbers; empty or absent: all.',
});
const Description = Type.String({ maxLength: 500 });

const Endpoint = Type.Object({
  id: Type.String({ description: 'whk_…' }),
  url: Type.String(),
  description: nullable(Type.String()),
  eventTypes: Type.Array(Type.String()),
  numbers: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: nullable(Type.String({ description: 'manual, gone (HTTP 410) or failing (5 days)' })),
  failingSince: nullable(Timestamp),
  previousSecretExpiresAt: nullable(Timestamp),
  signing: Type.Union([Type.Literal('hmac-sha256'), Type.Literal('ed25519')], {
    description: 'hmac-sha256: `v1,…` signatures with the whsec_ secret; ed25519: `v1a,…` signatures',
  }),
  publicKey: nullable(
    Type.String({ description: 'ed25519 endpoints: whpk_…, the public key that verifies `v1a` signatures' }),
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const VerificationKey = Type.String({
  description:
    'What receivers verify signatures with (Standard Webhooks): the whsec_… secret, or for ed25519 ' +
    'endpoints the whpk_… public key (their signing key never leaves the server)',
});
const EndpointWithSecret = Type.Object({ ...Endpoint.properties, secret: VerificationKey });
const Signing = Type.Union([Type.Literal('hmac-sha256'), Type.Literal('ed25519')], {
  description: 'How deliveries are signed, fixed at creation; default hmac-sha256',
});
const CreateBody = Type.Object(
  {
    url: Url,
    description: Type.Optional(Description),
    eventTypes: Type.Optional(EventTypes),
    numbers: Type.Optional(Numbers),
    enabled: Type.Optional(Type.Boolean()),
    signing: Type.Optional(Signing),
  },
  closed,
);
const PatchBody = Type.Object(
  {
    url: Type.Optional(Url),
    description: Type.Optional(nullable(Description)),
    eventTypes: Type.Optional(EventTypes),
    numbers: Type.Optional(Numbers),
    enabled: Type.Optional(Type.Boolean()),
  },
  { ...closed, minProperties: 1 },
);
const RotateBody = Type.Object(
  {
    overlapSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 7 * 86_400,
        description: 'How long the old secret keeps signing too; default 86400',
      }),
    ),
  },
  closed,
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, closed);
const DeliveryParams = Type.Object(
  { id: Type.String({ maxLength: 64 }), deliveryId: Type.String({ maxLength: 64 }) },
  closed,
);
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  closed,
);
const DeliveryState = Type.Union([
  Type.Literal('pending'),
  Type.Literal('delivered'),
  Type.Literal('failed'),
]);
const DeliveryQuery = Type.Object({ ...ListQuery.properties, state: Type.Optional(DeliveryState) }, closed);

const Attempt = Type.Object({
  attempt: Type.Integer(),
  startedAt: Timestamp,
  durationMs: Type.Integer(),
  outcome: Type.String({
    description: 'delivered, http_error, gone, timeout, network_error, blocked_address, invalid_url',
  }),
  status: nullable(Type.Integer()),
  responseBody: nullable(Type.String({ description: 'The first 20 kB' })),
  error: nullable(Type.String()),
});
const Delivery = Type.Object({
  id: Type.String({ description: 'dlv_…' }),
  eventId: Type.String({ description: 'Sent as webhook-id' }),
  eventType: Type.String(),
  faxId: nullable(Type.String()),
  sequence: nullable(Type.Integer()),
  state: DeliveryState,
  attempts: Type.Integer(),
  nextAttemptAt: nullable(Timestamp),
  lastStatus: nullable(Type.Integer()),
  lastError: nullable(Type.String()),
  createdAt: Timestamp,
  deliveredAt: nullable(Timestamp),
  payload: Type.Unknown({ description: 'The body sent: { id, type, timestamp, data }' }),
  attemptLog: Type.Array(Attempt),
});

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

function endpointView(row: WebhookEndpointsTable, now: number) {
  const overlap = row.previous_secret_until !== null && row.previous_secret_until > now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: JSON.parse(row.event_types_json) as string[],
    numbers: JSON.parse(row.numbers_json) as string[],
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    failingSince: isoOrNull(row.failing_since),
    previousSecretExpiresAt: overlap ? iso(row.previous_secret_until!) : null,
    signing: webhookSigningOf(row.secret),
    publicKey: webhookPublicKey(row.secret),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** The key a receiver verifies with: the shared secret, or an Ed25519 endpoint's public key. */
function verificationKey(row: WebhookEndpointsTable): string {
  return webhookPublicKey(row.secret) ?? row.secret;
}

function deliveryView(row: WebhookDeliveriesTable, attempts: readonly WebhookAttemptsTable[]) {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    faxId: row.fax_id,
    sequence: row.sequence,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? iso(row.next_attempt_at) : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    deliveredAt: isoOrNull(row.delivered_at),
    payload: JSON.parse(row.body) as unknown,
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: iso(a.started_at),
      durationMs: a.duration_ms,
      outcome: a.outcome,
      status: a.status,
      responseBody: a.response_body,
      error: a.error,
    })),
  };
}

function checkEventTypes(types: readonly string[] | undefined): void {
  const unknown = types?.find((t) => !isWebhookEventType(t));
  if (unknown !== undefined) {
    throw new ApiError('invalid_event_type', `Unknown event type \`${unknown}\`.`, {
      field: 'eventTypes',
      eventType: unknown,
      allowed: WEBHOOK_EVENT_TYPES,
    });
  }
}

export const webhooksRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { database } = deps;
  const policy = deps.webhooks?.policy ?? new OutboundAddressPolicy(deps.config.webhookAllowNets);
  const now = deps.now ?? Date.now;
  const notify = () => deps.webhooks?.notify?.();
  app.addHook('onRequest', authenticate(database, deps.config.limits.requestsPerSecond));

  app.post(
    '/v1/webhooks',
    {
      schema: {
        summary: 'Create a webhook endpoint',
        description:
          'Events are signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) ' +
          'with the secret returned here.',
        tags: ['webhooks'],
        body: CreateBody,
        response: { 201: EndpointWithSecret, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      checkEventTypes(body.eventTypes);
      await checkWebhookUrl(body.url, policy);
      const row = await createWebhookEndpoint(database, authOf(request).accountId, body, now());
      return reply.code(201).send({ ...endpointView(row, now()), secret: verificationKey(row) });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      schema: {
        summary: 'List webhook endpoints, newest first',
        tags: ['webhooks'],
        querystring: ListQuery,
        response: { 200: listOf(Endpoint), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 25;
      let query = database.db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('account_id', '=', authOf(request).accountId)
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (request.query.cursor) query = query.where('id', '<', request.query.cursor);
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      return {
        data: page.map((r) => endpointView(r, now())),
        nextCursor: rows.length > limit ? page.at(-1)!.id : null,
      };
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      schema: {
        summary: 'Get a webhook endpoint',
        tags: ['webhooks'],
        params: IdParams,
        response: { 200: Endpoint, ...errors },
      },
    },
    async (request) =>
      endpointView(await loadWebhookEndpoint(database, authOf(request).accountId, request.params.id), now()),
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      schema: {
        summary: 'Change a webhook endpoint; `enabled: true` re-enables a disabled one',
        tags: ['webhooks'],
        params: IdParams,
        body: PatchBody,
        response: { 200: Endpoint, ...errors },
      },
    },
    async (request) => {
      const body = request.body;
      checkEventTypes(body.eventTypes);
      if (body.url !== undefined) await checkWebhookUrl(body.url, policy);
      const row = await updateWebhookEndpoint(
        database,
        authOf(request).accountId,
        request.params.id,
        body,
        now(),
      );
      if (body.enabled) notify();
      return endpointView(row, now());
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      schema: {
        summary: 'Delete a webhook endpoint and its delivery log',
        tags: ['webhooks'],
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteWebhookEndpoint(database, authOf(request).accountId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/webhooks/:id/secret',
    {
      schema: {
        summary: "Get the endpoint's signing secret",
        tags: ['webhooks'],
        params: IdParams,
        response: { 200: Type.Object({ secret: VerificationKey }), ...errors },
      },
    },
    async (request) => ({
      secret: verificationKey(
        await loadWebhookEndpoint(database, authOf(request).accountId, request.params.id),
      ),
    }),
  );

  app.post(
    '/v1/webhooks/:id/secret/rotate',
    {
      schema: {
        summary: 'Rotate the signing secret; the old one keeps signing during the overlap',
        description:
          'During the overlap each request carries two signatures in webhook-signature, so receivers ' +
          'can switch to the new secret without missing an event.',
        tags: ['webhooks'],
        params: IdParams,
        body: RotateBody,
        response: { 200: EndpointWithSecret, ...errors },
      },
      // The body is optional: an empty POST rotates with the default overlap.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const seconds = request.body.overlapSeconds;
      const overlapMs = seconds === undefined ? DEFAULT_ROTATION_OVERLAP_MS : seconds * 1000;
      const row = await rotateWebhookSecret(
        database,
        authOf(request).accountId,
        request.params.id,
        overlapMs,
        now(),
      );
      return { ...endpointView(row, now()), secret: verificationKey(row) };
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        summary: 'The delivery log, newest first, with every attempt',
        tags: ['webhooks'],
        params: IdParams,
        querystring: DeliveryQuery,
        response: { 200: listOf(Delivery), ...errors },
      },
    },
    async (request) => {
      const endpoint = await loadWebhookEndpoint(database, authOf(request).accountId, request.params.id);
      const limit = request.query.limit ?? 25;
      let query = database.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('endpoint_id', '=', endpoint.id)
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (request.query.cursor) query = query.where('id', '<', request.query.cursor);
      if (request.query.state) query = query.where('state', '=', request.query.state);
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      const attempts = page.length
        ? await database.db
            .selectFrom('webhook_attempts')
            .selectAll()
            .where(
              'delivery_id',
              'in',
              page.map((d) => d.id),
            )
            .orderBy('attempt')
            .execute()
        : [];
      return {
        data: page.map((d) =>
          deliveryView(
            d,
            attempts.filter((a) => a.delivery_id === d.id),
          ),
        ),
        nextCursor: rows.length > limit ? page.at(-1)!.id : null,
      };
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        summary: 'Send a delivered or failed event again (same webhook-id)',
        tags: ['webhooks'],
        params: DeliveryParams,
        response: { 202: Delivery, ...errors },
      },
    },
    async (request, reply) => {
      const row = await redeliverWebhook(
        database,
        authOf(request).accountId,
        request.params.id,
        request.params.deliveryId,
        now(),
      );
      notify();
      return reply.code(202).send(deliveryView(row, []));
    },
  );

  app.post(
    '/v1/webhooks/:id/test',
    {
      schema: {
        summary: 'Send a webhook.test event to the endpoint',
        tags: ['webhooks'],
        params: IdParams,
        response: { 202: Delivery, ...errors },
      },
    },
    async (request, reply) => {
      const row = await sendTestWebhook(database, authOf(request).accountId, request.params.id, now());
      notify();
      return reply.code(202).send(deliveryView(row, []));
    },
  );
};
