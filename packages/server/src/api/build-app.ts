/**
 * @module api/build-app
 * The Fastify application: one plugin per resource, one error handler that turns every failure into
 * the catalogue's envelope, metrics per route, and the OpenAPI 3.1 document generated from the very
 * schemas that validate requests. `inject()` exercises it without a socket.
 */
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AppDeps } from './app-deps.ts';
import { ApiError } from './errors.ts';
import { eventsRoutes } from './events-routes.ts';
import { faxesRoutes } from './faxes-routes.ts';
import { keysRoutes } from './keys-routes.ts';
import { numbersRoutes } from './numbers-routes.ts';
import { pagesRoutes } from './pages-routes.ts';
import { systemRoutes } from './system-routes.ts';
import { toApiError } from './to-api-error.ts';
import { webhooksRoutes } from './webhooks-routes.ts';

export interface BuildAppOptions {
  /** Fastify's logger option: false in tests, a pino instance or options in production. */
  readonly logger?: FastifyServerOptions['logger'];
  readonly loggerInstance?: FastifyServerOptions['loggerInstance'];
}

export async function buildApp(deps: AppDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    // Unknown fields must be refused, not silently dropped (Fastify's default is removeAdditional: true).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    bodyLimit: 1024 * 1024,
    // Fastify's own 503 while closing bypasses the error handler; the readiness hook below answers instead.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('auth', null);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Faxwire API',
        version: '1.0.0',
        description: 'Send and receive faxes; follow each page as it is sent or received.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'fw_…' } },
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'faxes', description: 'Outbound and inbound faxes' },
        { name: 'numbers', description: 'Your fax numbers' },
        { name: 'keys', description: 'API keys' },
        { name: 'system', description: 'Health and operations' },
      ],
    },
  });

  app.setErrorHandler((error, request, reply) => {
    const { apiError, internal } = toApiError(error);
    if (internal) request.log.error({ err: error }, 'request failed');
    else if (apiError.statusCode >= 500) request.log.warn({ code: apiError.code }, 'request refused');
    return reply.code(apiError.statusCode).send(apiError.toJSON());
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
    return reply.code(404).send(error.toJSON());
  });

  if (deps.isReady) {
    const isReady = deps.isReady;
    app.addHook('onRequest', async (request) => {
      if (!isReady() && request.url !== '/healthz') throw new ApiError('service_unavailable');
    });
  }

  if (deps.metrics) {
    const { requests, requestSeconds } = deps.metrics;
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  }

  await app.register(systemRoutes, deps);
  await app.register(faxesRoutes, deps);
  await app.register(numbersRoutes, deps);
  await app.register(keysRoutes, deps);
  await app.register(eventsRoutes, deps);
  await app.register(pagesRoutes, deps);
  await app.register(webhooksRoutes, deps);
  return app;
}
