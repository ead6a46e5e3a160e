/**
 * @module api/pages-routes
 * A fax's pages and its file. `GET /v1/faxes/{id}/pages`: the stored pages (received, or rendered for
 * sending) with their facts, and the page arriving now. `GET /v1/faxes/{id}/pages/{n}`: one page as
 * TIFF (as stored), PNG or PDF; while page n is still arriving, its PNG is the rows decoded so far,
 * marked `Faxwire-Page-Partial: true` with `Faxwire-Page-Rows`. `GET /v1/faxes/{id}/file`: every page
 * stored so far as one PDF or TIFF — for an inbound fax still arriving, the pages so far.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BilevelPage } from 'telefax/image/bilevel-page';
import { tiffPages } from 'telefax/image/tiff-reader';
import { Type } from 'typebox';
import { pageToPng, writeFaxPdf, writeFaxTiff } from '../documents/index.ts';
import { type FaxStatus, isTerminal } from '../domain/fax-status.ts';
import '../events/event-tables.ts';
import { pageUrl } from '../events/fax-event.ts';
import { type PartialPage, pageProgressOf } from '../events/page-progress.ts';
import { readBlob } from '../store/blob-store.ts';
import type { FaxesTable, FaxPagesTable } from '../store/schema.ts';
import type { AppDeps } from './app-deps.ts';
import { authenticate, authOf } from './authenticate.ts';
import { ApiError } from './errors.ts';
import { ErrorResponse, FaxIdParams } from './schemas.ts';
import { iso } from './views.ts';

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([Type.Null(), schema]);

export const PageSchema = Type.Object({
  number: Type.Integer({ description: 'From 1' }),
  width: nullable(Type.Integer({ description: 'Pixels per row' })),
  rows: Type.Integer(),
  resolution: nullable(Type.String()),
  badRows: Type.Integer({ description: 'Rows that failed to decode (T.4 error recovery); 0 with ECM' }),
  size: nullable(Type.Integer({ description: 'Bytes of the stored page (TIFF)' })),
  receivedAt: nullable(Type.String({ format: 'date-time', description: 'Inbound: when it was stored' })),
  sentAt: nullable(
    Type.String({ format: 'date-time', description: 'Outbound: when the receiver confirmed it' }),
  ),
  url: Type.String(),
});

const PageList = Type.Object({
  data: Type.Array(PageSchema),
  arriving: nullable(
    Type.Object({
      number: Type.Integer(),
      rows: Type.Integer({ description: 'Rows decoded so far' }),
      url: Type.String(),
    }),
  ),
});

const PageParams = Type.Object(
  { id: Type.String({ maxLength: 64 }), n: Type.Integer({ minimum: 1, maximum: 100_000 }) },
  { additionalProperties: false },
);
const PageQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('tiff'), Type.Literal('png'), Type.Literal('pdf')])),
    width: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 4864, description: 'PNG only: scale to this width' }),
    ),
  },
  { additionalProperties: false },
);
const FileQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('pdf'), Type.Literal('tiff')])) },
  { additionalProperties: false },
);

const CONTENT_TYPE = { tiff: 'image/tiff', png: 'image/png', pdf: 'application/pdf' } as const;
const binary = (description: string) => ({
  description,
  content: Object.fromEntries(
    Object.values(CONTENT_TYPE).map((type) => [
      type,
      { schema: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' }) },
    ]),
  ),
});

function pageView(row: FaxPagesTable, direction: FaxesTable['direction']) {
  return {
    number: row.n,
    width: row.width,
    rows: row.rows,
    resolution: row.resolution,
    badRows: row.bad_rows,
    size: row.byte_size,
    receivedAt: direction === 'inbound' ? iso(row.received_at) : null,
    sentAt: row.sent_at === null ? null : iso(row.sent_at),
    url: pageUrl(row.fax_id, row.n),
  };
}

/** A stored page is a one-page TIFF; its first page is the page. */
function decodeStoredPage(bytes: Uint8Array): BilevelPage {
  for (const { page } of tiffPages(bytes)) return page;
  throw new Error('stored page has no image');
}

export const pagesRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { database, blobs } = deps;
  app.addHook('onRequest', authenticate(database, deps.config.limits.requestsPerSecond));
  // Everyone watching a page arrive asks for the same rows: render each state of a page once.
  const previews = new Map<string, { rows: number; png: Buffer }>();
  const partialPng = async (partial: PartialPage, width: number | undefined) => {
    const key = `${partial.faxId}#${partial.pageNumber}#${width ?? ''}`;
    const cached = previews.get(key);
    if (cached?.rows === partial.rows) return cached.png;
    const png = Buffer.from(
      await pageToPng({ ...partial.page, height: partial.rows }, width ? { width } : {}),
    );
    previews.delete(key);
    previews.set(key, { rows: partial.rows, png });
    if (previews.size > 64) previews.delete(previews.keys().next().value!);
    return png;
  };

  const findFax = async (accountId: string, faxId: string) => {
    const fax = await database.db
      .selectFrom('faxes')
      .selectAll()
      .where('id', '=', faxId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!fax) throw new ApiError('not_found', 'No fax with this id.', { id: faxId });
    if (fax.deleted_at !== null) {
      throw new ApiError('not_found', 'The fax was deleted; its pages were erased.', { id: faxId });
    }
    return fax;
  };
  const storedPages = (faxId: string) =>
    database.db
      .selectFrom('fax_pages')
      .selectAll()
      .where('fax_id', '=', faxId)
      .where('blob_key', 'is not', null)
      .orderBy('n')
      .execute();
  const arrivingPage = (fax: FaxesTable, stored: readonly FaxPagesTable[]) => {
    if (fax.direction !== 'inbound' || isTerminal(fax.status as FaxStatus)) return undefined;
    const n = (stored.at(-1)?.n ?? 0) + 1;
    const partial = pageProgressOf(database).get(fax.id, n);
    return partial && partial.rows > 0 ? partial : undefined;
  };

  app.get(
    '/v1/faxes/:id/pages',
    {
      schema: {
        summary: "A fax's pages: received, or rendered for sending",
        tags: ['faxes'],
        params: FaxIdParams,
        response: { 200: PageList, ...errors },
      },
    },
    async (request) => {
      const fax = await findFax(authOf(request).accountId, request.params.id);
      const stored = await storedPages(fax.id);
      const arriving = arrivingPage(fax, stored);
      return {
        data: stored.map((row) => pageView(row, fax.direction)),
        arriving: arriving
          ? { number: arriving.pageNumber, rows: arriving.rows, url: pageUrl(fax.id, arriving.pageNumber) }
          : null,
      };
    },
  );

  app.get(
    '/v1/faxes/:id/pages/:n',
    {
      schema: {
        summary: 'One page as TIFF (default, as stored), PNG or PDF',
        description:
          'While the page is still arriving, `format=png` returns the rows decoded so far with ' +
          '`Faxwire-Page-Partial: true` and `Faxwire-Page-Rows`; other formats answer 409 page_not_ready.',
        tags: ['faxes'],
        params: PageParams,
        querystring: PageQuery,
        response: { 200: binary('The page'), ...errors },
      },
    },
    async (request, reply) => {
      const fax = await findFax(authOf(request).accountId, request.params.id);
      const n = request.params.n;
      const format = request.query.format ?? 'tiff';
      const row = await database.db
        .selectFrom('fax_pages')
        .selectAll()
        .where('fax_id', '=', fax.id)
        .where('n', '=', n)
        .executeTakeFirst();
      reply.header('cache-control', 'private, no-cache');
      if (!row?.blob_key) {
        const partial = pageProgressOf(database).get(fax.id, n);
        if (partial && partial.rows > 0 && !isTerminal(fax.status as FaxStatus)) {
          if (format !== 'png') {
            throw new ApiError('page_not_ready', 'The page is still arriving; only its PNG preview exists.', {
              id: fax.id,
              page: n,
              rows: partial.rows,
            });
          }
          const png = await partialPng(partial, request.query.width);
          return reply
            .type(CONTENT_TYPE.png)
            .header('faxwire-page-partial', 'true')
            .header('faxwire-page-rows', String(partial.rows))
            .send(png);
        }
        if (!isTerminal(fax.status as FaxStatus) && (fax.page_count === null || n <= fax.page_count)) {
          throw new ApiError('page_not_ready', undefined, { id: fax.id, page: n });
        }
        throw new ApiError('not_found', 'The fax has no such page.', { id: fax.id, page: n });
      }
      const bytes = await readBlob(blobs, row.blob_key);
      reply.header('content-disposition', `inline; filename="${fax.id}-page-${n}.${format}"`);
      if (format === 'tiff' && request.query.width === undefined) {
        return reply.type(CONTENT_TYPE.tiff).send(bytes);
      }
      const page = decodeStoredPage(bytes);
      if (format === 'pdf') {
        return reply.type(CONTENT_TYPE.pdf).send(Buffer.concat(await collect(writeFaxPdf([page]))));
      }
      if (format === 'tiff') return reply.type(CONTENT_TYPE.tiff).send(bytes);
      const png = await pageToPng(page, request.query.width ? { width: request.query.width } : {});
      return reply.type(CONTENT_TYPE.png).send(Buffer.from(png));
    },
  );

  app.get(
    '/v1/faxes/:id/file',
    {
      schema: {
        summary: 'The whole fax as one PDF (default) or TIFF; while it arrives, the pages so far',
        description:
          '`Faxwire-Pages` says how many pages the file has; `Faxwire-File-Partial: true` while more may come.',
        tags: ['faxes'],
        params: FaxIdParams,
        querystring: FileQuery,
        response: { 200: binary('The file'), ...errors },
      },
    },
    async (request, reply) => {
      const fax = await findFax(authOf(request).accountId, request.params.id);
      const format = request.query.format ?? 'pdf';
      const stored = await storedPages(fax.id);
      const finished = isTerminal(fax.status as FaxStatus);
      if (stored.length === 0) {
        if (!finished) throw new ApiError('page_not_ready', 'No page has arrived yet.', { id: fax.id });
        throw new ApiError('not_found', 'The fax has no pages.', { id: fax.id });
      }
      async function* pages(): AsyncGenerator<BilevelPage> {
        for (const row of stored) yield decodeStoredPage(await readBlob(blobs, row.blob_key!));
      }
      const file =
        format === 'pdf' ? Buffer.concat(await collect(writeFaxPdf(pages()))) : await writeFaxTiff(pages());
      return reply
        .type(CONTENT_TYPE[format])
        .header('cache-control', 'private, no-cache')
        .header('content-disposition', `inline; filename="${fax.id}.${format}"`)
        .header('faxwire-pages', String(stored.length))
        .header('faxwire-file-partial', String(!finished))
        .send(Buffer.from(file));
    },
  );
};

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}
