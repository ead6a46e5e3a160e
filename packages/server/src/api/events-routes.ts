/**
 * @module api/events-routes
 * Live streams of the event log. `GET /v1/events`: every event of the account as Server-Sent Events,
 * from now or — with `Last-Event-ID` (sent by EventSource on reconnect) or `?after=evt_…` — from just
 * after that event; without `Accept: text/event-stream`, a JSON page of the account's log. `GET /v1/faxes/{id}/events`: one fax's events; as SSE (`Accept: text/event-stream`)
 * from its first event or a resume point, ending after its final event; otherwise a JSON page of the
 * log after `?after=<sequence>`. Streams include the transient `fax.page.progress`, which has no id.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { Type } from 'typebox';
import { type FaxStatus, isTerminal } from '../domain/fax-status.ts';
import { accountFeed, faxFeed } from '../events/event-feeds.ts';
import { type EventFeed, LiveEventStream, type LiveStreamOptions } from '../events/live-event-stream.ts';
import {
  accountStreamEnd,
  findEventPosition,
  readAccountEvents,
  readFaxEvents,
} from '../events/read-events.ts';
import type { AppDeps } from './app-deps.ts';
import { authenticate, authOf } from './authenticate.ts';
import { ApiError } from './errors.ts';
import { ErrorResponse, FaxIdParams } from './schemas.ts';

export interface EventsRoutesOptions extends AppDeps {
  /** Keep-alive, slow-client and buffer settings of live streams (defaults suit production). */
  readonly streams?: LiveStreamOptions & {
    /** Open streams one account may hold at once; more answer 429 (default 50). */
    readonly maxPerAccount?: number;
  };
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const EVENT_ID = /^evt_[0-9a-z]{26}$/;

export const FaxEventSchema = Type.Object({
  id: Type.String({ description: 'evt_…; the same on every channel' }),
  type: Type.String({ description: 'fax.queued, fax.page.received, …' }),
  timestamp: Type.String({ format: 'date-time' }),
  data: Type.Object(
    {
      faxId: Type.String(),
      sequence: Type.Integer({ description: 'Per fax, from 1, gap-free' }),
      status: Type.String(),
      direction: Type.String(),
      from: Type.String(),
      to: Type.String(),
      metadata: Type.Record(Type.String(), Type.String()),
    },
    { additionalProperties: true },
  ),
});

const SSE_DESCRIPTION =
  'text/event-stream: each event as `id: evt_…`, `event: <type>`, `data: <the event as JSON>`; comments as ' +
  'keep-alives. Reconnect with `Last-Event-ID` to resume without gaps.';

function lastEventIdOf(request: FastifyRequest<{ Querystring: { after?: string } }>): string | undefined {
  const header = request.headers['last-event-id'];
  const value = (Array.isArray(header) ? header[0] : header) ?? request.query.after;
  if (value === undefined || value === '') return undefined;
  if (!EVENT_ID.test(value)) {
    throw new ApiError('invalid_cursor', 'Last-Event-ID must be an event id (evt_…).', {
      lastEventId: value,
    });
  }
  return value;
}

/** Open streams of every app that reports into one registry (tests build several apps on one). */
const streamSets = new WeakMap<Registry, Set<ReadonlySet<unknown>>>();

function countStreams(registry: Registry, streams: ReadonlySet<unknown>): () => void {
  let sets = streamSets.get(registry);
  if (!sets) {
    const counted = new Set<ReadonlySet<unknown>>();
    sets = counted;
    streamSets.set(registry, counted);
    new Gauge({
      name: 'faxwire_event_streams_open',
      help: 'Live event streams (Server-Sent Events) open now',
      registers: [registry],
      collect() {
        let open = 0;
        for (const set of counted) open += set.size;
        this.set(open);
      },
    });
  }
  sets.add(streams);
  return () => sets.delete(streams);
}

export const eventsRoutes: FastifyPluginAsyncTypebox<EventsRoutesOptions> = async (app, deps) => {
  const { database } = deps;
  const streams = new Set<LiveEventStream>();
  app.addHook('onRequest', authenticate(database, deps.config.limits.requestsPerSecond));
  // Open streams would hold app.close() forever; they end here and clients reconnect elsewhere.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    for (const stream of streams) stream.close('server_closing');
  });

  const openPerAccount = new Map<string, number>();
  if (deps.metrics) {
    const forget = countStreams(deps.metrics.registry, streams);
    app.addHook('onClose', async () => forget());
  }
  const maxPerAccount = deps.streams?.maxPerAccount ?? 50;
  const stream = async (request: FastifyRequest, reply: FastifyReply, feed: EventFeed, position: number) => {
    const { accountId } = authOf(request);
    // A stream opened after the sweep above would keep the server from closing.
    if (closing) throw new ApiError('service_unavailable');
    const open = openPerAccount.get(accountId) ?? 0;
    if (open >= maxPerAccount) {
      throw new ApiError('rate_limited', `At most ${maxPerAccount} live streams per account at once.`, {
        openStreams: open,
      });
    }
    const live = new LiveEventStream(reply.raw, feed, position, deps.streams);
    streams.add(live);
    openPerAccount.set(accountId, open + 1);
    reply.hijack();
    try {
      const reason = await live.run();
      request.log.debug({ reason, events: live.eventsWritten }, 'event stream ended');
    } finally {
      streams.delete(live);
      const left = (openPerAccount.get(accountId) ?? 1) - 1;
      if (left > 0) openPerAccount.set(accountId, left);
      else openPerAccount.delete(accountId);
    }
  };

  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'Every event of the account: a live stream, or a JSON page of the log',
        description:
          `With \`Accept: text/event-stream\`: from now, or after \`Last-Event-ID\` / \`?after=evt_…\`. ` +
          `Otherwise JSON: the events after \`?after=evt_…\` (from the first without it). ${SSE_DESCRIPTION}`,
        tags: ['events'],
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 64 })) }),
        querystring: Type.Object(
          {
            after: Type.Optional(Type.String({ maxLength: 64, description: 'Start after this event id' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'JSON only' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'JSON, or text/event-stream',
            content: {
              'application/json': {
                schema: Type.Object({
                  data: Type.Array(FaxEventSchema),
                  nextAfter: Type.Union([Type.Null(), Type.String()], {
                    description: 'Pass as `after` for the next page; null when this page ends the log',
                  }),
                }),
              },
              'text/event-stream': { schema: Type.String() },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = authOf(request);
      const after = lastEventIdOf(request);
      const wantsStream = (request.headers.accept ?? '').includes('text/event-stream');
      let position: number;
      if (after === undefined) {
        position = wantsStream ? await accountStreamEnd(database.db, accountId) : 0;
      } else {
        const found = await findEventPosition(database, accountId, after);
        if (!found) throw new ApiError('invalid_cursor', 'No event with this id.', { lastEventId: after });
        position = found.accountSequence;
      }
      if (!wantsStream) {
        const limit = request.query.limit ?? 100;
        const events = await readAccountEvents(database.db, accountId, { after: position, limit });
        const last = events.at(-1);
        return {
          data: events.map((e) => e.envelope),
          nextAfter: events.length === limit && last ? last.envelope.id : null,
        };
      }
      await stream(request, reply, accountFeed(database, accountId), position);
    },
  );

  app.get(
    '/v1/faxes/:id/events',
    {
      schema: {
        summary: "A fax's events: a JSON page of its log, or a live stream",
        description:
          'With `Accept: text/event-stream`: Server-Sent Events from the first event (or after ' +
          '`Last-Event-ID` / `?after=<sequence>`), ending after the final event; 204 when nothing ' +
          `more will come. Otherwise JSON: events with sequence > after. ${SSE_DESCRIPTION}`,
        tags: ['events'],
        params: FaxIdParams,
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 64 })) }),
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: 0, description: 'Sequence to start after' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'JSON, or text/event-stream',
            content: {
              'application/json': {
                schema: Type.Object({
                  data: Type.Array(FaxEventSchema),
                  nextAfter: Type.Union([Type.Null(), Type.Integer()], {
                    description: 'Pass as `after` for the next page; null when this page ends the log',
                  }),
                }),
              },
              'text/event-stream': { schema: Type.String() },
            },
          },
          204: { description: 'The stream has ended: the fax is final and every event was sent' },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = authOf(request);
      const faxId = request.params.id;
      const fax = await database.db
        .selectFrom('faxes')
        .select(['status', 'event_seq'])
        .where('id', '=', faxId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      if (!fax) throw new ApiError('not_found', 'No fax with this id.', { id: faxId });

      const wantsStream = (request.headers.accept ?? '').includes('text/event-stream');
      if (!wantsStream) {
        const limit = request.query.limit ?? 100;
        const events = await readFaxEvents(database.db, faxId, { after: request.query.after ?? 0, limit });
        const last = events.at(-1);
        return {
          data: events.map((e) => e.envelope),
          nextAfter: events.length === limit && last ? last.envelope.data.sequence : null,
        };
      }
      const header = request.headers['last-event-id'];
      const lastEventId = Array.isArray(header) ? header[0] : header;
      let position = request.query.after ?? 0;
      if (lastEventId) {
        if (!EVENT_ID.test(lastEventId)) {
          throw new ApiError('invalid_cursor', 'Last-Event-ID must be an event id (evt_…).', {
            lastEventId,
          });
        }
        const found = await findEventPosition(database, accountId, lastEventId);
        if (!found || found.faxId !== faxId) {
          throw new ApiError('invalid_cursor', 'No event with this id on this fax.', { lastEventId });
        }
        position = found.sequence;
      }
      // EventSource stops reconnecting on 204; anything else would have it reconnect forever.
      if (isTerminal(fax.status as FaxStatus) && position >= fax.event_seq) return reply.code(204).send();
      await stream(request, reply, faxFeed(database, accountId, faxId), position);
    },
  );
};
