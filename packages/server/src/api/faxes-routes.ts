/**
 * @module api/faxes-routes
 * /v1/faxes: send (JSON or multipart), get, list, cancel, resend, delete.
 * A fax is accepted only once every document passed inspection; then the fax row, its send job and
 * its `fax.queued` event are written in one transaction (domain/create-outbound-fax.ts).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { cancelFax } from '../domain/cancel-fax.ts';
import {
  createOutboundFax,
  loadFax,
  replayIdempotent,
  type StagedDocument,
} from '../domain/create-outbound-fax.ts';
import { deleteFax } from '../domain/delete-fax.ts';
import { listFaxes } from '../domain/list-faxes.ts';
import { resendFax } from '../domain/resend-fax.ts';
import { MAX_URL_LENGTH } from '../net/fetch-document-url.ts';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import type { AppDeps } from './app-deps.ts';
import { authenticate, authOf } from './authenticate.ts';
import { ApiError } from './errors.ts';
import {
  checkDocumentEntries,
  DOCUMENT_URL_FIELD,
  type DocumentFetching,
  jsonBodyHash,
  readJsonFaxRequest,
  readMultipartFaxRequest,
} from './read-fax-request.ts';
import {
  type CreateFaxBody,
  createFaxBody,
  ErrorResponse,
  Fax,
  FaxIdParams,
  FaxListQuery,
  FaxOptions,
  listOf,
} from './schemas.ts';
import { faxView } from './views.ts';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export const faxesRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { database, blobs, config, inspector } = deps;
  const limits = config.limits;
  app.addHook('onRequest', authenticate(database, limits.requestsPerSecond));
  await app.register(multipart, {
    limits: {
      fileSize: limits.documentMaxBytes,
      files: limits.documentsPerFax + 1,
      fields: 20,
      fieldSize: 64 * 1024,
      parts: limits.documentsPerFax + 21,
    },
  });

  const CreateFaxBody = createFaxBody(limits.documentsPerFax);
  const fetching: DocumentFetching = {
    policy: new OutboundAddressPolicy(config.fetchAllowNets),
    tmpDir: join(config.dataDir, 'tmp'),
    connectTimeoutMs: limits.documentFetchConnectTimeoutMs,
    timeoutMs: limits.documentFetchTimeoutMs,
  };

  app.post(
    '/v1/faxes',
    {
      bodyLimit: limits.requestMaxBytes,
      schema: {
        summary: 'Send a fax',
        description:
          'JSON with documents in base64 or as URLs the server fetches, or multipart/form-data with file parts ' +
          `(or \`${DOCUMENT_URL_FIELD}\` fields) and the same fields (cover, retries and metadata as JSON text). ` +
          'Idempotency-Key: the same key and body return the same fax.',
        tags: ['faxes'],
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: {
          content: {
            'application/json': { schema: CreateFaxBody },
            // Read from the stream in the handler and validated field by field (read-fax-request.ts).
            'multipart/form-data': {
              schema: Type.Partial(
                Type.Object({
                  ...FaxOptions.properties,
                  file: Type.Unsafe<unknown>({
                    type: 'string',
                    contentMediaType: 'application/octet-stream',
                  }),
                  [DOCUMENT_URL_FIELD]: Type.String({
                    maxLength: MAX_URL_LENGTH,
                    description: 'A document to fetch from this http(s) URL; repeat for several',
                  }),
                }),
              ),
            },
          },
        },
        response: { 202: Fax, ...errors },
      },
      preValidation: async (request) => {
        // The parts are still unread; the handler streams them. Validation sees an empty form.
        if (request.isMultipart()) {
          request.body = {} as CreateFaxBody;
          return;
        }
        // Other parsers (text/plain) would hand over a body no schema here was compiled for.
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json') {
          throw new ApiError('unsupported_media_type', 'Send application/json or multipart/form-data.', {
            contentType: type,
          });
        }
        checkDocumentEntries(request.body);
      },
    },
    async (request, reply) => {
      const { accountId } = authOf(request);
      const key = request.headers['idempotency-key'];
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw new ApiError('validation_failed', 'Idempotency-Key must be 1–255 visible ASCII characters.', {
          location: 'headers',
          field: 'idempotency-key',
        });
      }
      // A retry must not depend on a URL still serving its document (a pre-signed URL may have expired).
      const body = request.body as CreateFaxBody;
      if (key !== undefined && !request.isMultipart() && body.documents.some((d) => 'url' in d)) {
        const replay = await replayIdempotent(database.db, accountId, key, jsonBodyHash(body));
        if (replay) {
          reply.header('idempotent-replayed', 'true');
          return reply.code(202).send(faxView(replay.fax, replay.documents));
        }
      }
      const readLimits = {
        documentMaxBytes: limits.documentMaxBytes,
        documentsPerFax: limits.documentsPerFax,
      };
      const parsed = request.isMultipart()
        ? await readMultipartFaxRequest(request, readLimits, fetching)
        : await readJsonFaxRequest(body, readLimits, fetching);
      const { options, documents } = parsed;
      // Uploaded and fetched documents wait in temporary files until the fax is stored or refused;
      // they are gone before the answer leaves.
      let result: Awaited<ReturnType<typeof createOutboundFax>>;
      try {
        if (documents.length === 0 && !options.cover) {
          throw new ApiError('validation_failed', 'A fax needs at least one document or a cover page.', {
            location: 'body',
            field: 'documents',
            reason: 'minItems',
          });
        }
        const sendAt = options.sendAt ? Date.parse(options.sendAt) : null;
        const inspected = await inspector.inspect(documents, {
          maxPages: limits.pagesPerFax,
          maxBytes: limits.documentMaxBytes,
          cover: options.cover !== undefined,
        });
        const staged: StagedDocument[] = documents.map((d, i) => ({
          contentType: inspected[i]!.contentType,
          filename: d.filename,
          pageCount: inspected[i]!.pageCount,
          // A file is streamed into the blob store from disk, never read whole here.
          ...('bytes' in d
            ? {
                byteSize: d.bytes.length,
                sha256: createHash('sha256').update(d.bytes).digest('hex'),
                source: d.bytes,
              }
            : { byteSize: d.file.byteSize, sha256: d.file.sha256, source: { path: d.file.path } }),
        }));
        result = await createOutboundFax(
          { database, blobs, config, now: deps.now },
          accountId,
          {
            to: options.to,
            from: options.from,
            resolution: options.resolution ?? 'fine',
            priority: options.priority ?? 'normal',
            headerText: options.headerText ?? null,
            cover: options.cover ?? null,
            retries: options.retries ?? { count: 2, delaySeconds: 300 },
            sendAt,
            metadata: options.metadata ?? {},
          },
          staged,
          key === undefined ? null : { key, bodyHash: parsed.bodyHash },
        );
      } finally {
        await parsed.dispose();
      }
      if (result.created) {
        deps.metrics?.faxesAccepted.inc();
        deps.onFaxQueued?.();
      } else {
        reply.header('idempotent-replayed', 'true');
      }
      return reply.code(202).send(faxView(result.fax, result.documents));
    },
  );

  app.get(
    '/v1/faxes/:id',
    {
      schema: {
        summary: 'Get a fax',
        tags: ['faxes'],
        params: FaxIdParams,
        response: { 200: Fax, ...errors },
      },
    },
    async (request) => {
      const found = await loadFax(database.db, authOf(request).accountId, request.params.id);
      if (!found) throw new ApiError('not_found', 'No fax with this id.', { id: request.params.id });
      return faxView(found.fax, found.documents);
    },
  );

  app.get(
    '/v1/faxes',
    {
      schema: {
        summary: 'List faxes, newest first',
        tags: ['faxes'],
        querystring: FaxListQuery,
        response: { 200: listOf(Fax), ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      const { accountId } = authOf(request);
      const { faxes, nextCursor } = await listFaxes(database.db, accountId, {
        direction: q.direction,
        status: q.status,
        number: q.number,
        createdAfter: q.createdAfter ? Date.parse(q.createdAfter) : undefined,
        createdBefore: q.createdBefore ? Date.parse(q.createdBefore) : undefined,
        limit: q.limit ?? 25,
        cursor: q.cursor,
      });
      const documents = faxes.length
        ? await database.db
            .selectFrom('fax_documents')
            .selectAll()
            .where(
              'fax_id',
              'in',
              faxes.map((f) => f.id),
            )
            .orderBy('position')
            .execute()
        : [];
      return {
        data: faxes.map((f) =>
          faxView(
            f,
            documents.filter((d) => d.fax_id === f.id),
          ),
        ),
        nextCursor,
      };
    },
  );

  app.post(
    '/v1/faxes/:id/cancel',
    {
      schema: {
        summary: 'Cancel a fax',
        tags: ['faxes'],
        params: FaxIdParams,
        response: { 200: Fax, ...errors },
      },
    },
    async (request) => {
      const { fax, documents } = await cancelFax(database, authOf(request).accountId, request.params.id);
      return faxView(fax, documents);
    },
  );

  app.post(
    '/v1/faxes/:id/resend',
    {
      schema: {
        summary: 'Send a finished fax again, as a new fax',
        tags: ['faxes'],
        params: FaxIdParams,
        response: { 202: Fax, ...errors },
      },
    },
    async (request, reply) => {
      const { fax, documents } = await resendFax(
        { database, blobs, config, now: deps.now },
        authOf(request).accountId,
        request.params.id,
      );
      deps.metrics?.faxesAccepted.inc();
      deps.onFaxQueued?.();
      return reply.code(202).send(faxView(fax, documents));
    },
  );

  app.delete(
    '/v1/faxes/:id',
    {
      schema: {
        summary: 'Delete a finished fax: its media is erased, a tombstone is kept',
        tags: ['faxes'],
        params: FaxIdParams,
        response: { 200: Fax, ...errors },
      },
    },
    async (request) => {
      const { fax, documents } = await deleteFax(
        { database, blobs },
        authOf(request).accountId,
        request.params.id,
      );
      return faxView(fax, documents);
    },
  );
};
