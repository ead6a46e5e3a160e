/**
 * @module api/read-fax-request
 * A new fax arrives as JSON (documents in base64, or as URLs) or as multipart/form-data (documents as file
 * parts, streamed to disk under the size limit, or as `documentUrl` fields; options as fields). Both become
 * the same request: the fax options, the documents, and a hash of the whole body for Idempotency-Key
 * checks. A document given by URL is fetched here (net/fetch-document-url.ts), before anything is stored,
 * and the hash covers the URL as asked, not what it served.
 *
 * Uploaded and fetched documents stay in their temporary files, hashed as they were written: nothing on
 * the request path reads one whole into memory, so the memory a request takes does not grow with its
 * documents' sizes. The files belong to the returned request until its `dispose()`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { DocumentToInspect } from '../domain/document-inspector.ts';
import { checkDocumentUrl, type FetchedDocument, fetchDocumentUrl } from '../net/fetch-document-url.ts';
import type { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { ApiError } from './errors.ts';
import {
  type CreateFaxBody,
  DocumentContentInput,
  DocumentUrlInput,
  FaxOptions,
  type FaxOptionsBody,
} from './schemas.ts';
import { validationError } from './to-api-error.ts';

export interface FaxRequest {
  readonly options: FaxOptionsBody;
  readonly documents: DocumentToInspect[];
  readonly bodyHash: string;
  /** Removes the temporary files the documents wait in; call once the fax is stored or refused. */
  dispose(): Promise<void>;
}

/** Removes temporary files; a file already gone is no error. */
async function removeFiles(paths: readonly string[]): Promise<void> {
  for (const path of paths) await rm(path, { force: true });
}

export interface ReadLimits {
  readonly documentMaxBytes: number;
  readonly documentsPerFax: number;
}

/** How documents given by URL are fetched. */
export interface DocumentFetching {
  readonly policy: OutboundAddressPolicy;
  /** Where fetched bodies wait while they are inspected. */
  readonly tmpDir: string;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
}

type ContentEntry = { content: string; contentType?: string; filename?: string };

let documentForms: { content: ReturnType<typeof Compile>; url: ReturnType<typeof Compile> } | undefined;

/**
 * Runs before schema validation on a JSON body: decides which form each `documents` entry is in and
 * checks it against that form alone. Validating the union instead would report the first form's
 * complaint — "unknown field url" for an entry whose URL is merely too long.
 * @throws ApiError validation_failed naming the entry and the field
 */
export function checkDocumentEntries(body: unknown): void {
  const documents =
    typeof body === 'object' && body !== null ? (body as { documents?: unknown }).documents : null;
  if (!Array.isArray(documents)) return;
  documentForms ??= { content: Compile(DocumentContentInput), url: Compile(DocumentUrlInput) };
  for (const [i, entry] of documents.entries()) {
    // Not an object at all: the schema says so in its own words.
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const field = `documents[${i}]`;
    const hasUrl = Object.hasOwn(entry, 'url');
    const hasContent = Object.hasOwn(entry, 'content');
    if (hasUrl && hasContent) {
      throw new ApiError(
        'validation_failed',
        `\`${field}\` has both \`content\` and \`url\`; give one: the file in base64 as \`content\`, or a \`url\` to fetch it from.`,
        { location: 'body', field, reason: 'one_of' },
      );
    }
    if (!hasUrl && !hasContent) {
      throw new ApiError(
        'validation_failed',
        `\`${field}\` needs \`content\` (the file in base64) or \`url\` (where to fetch it from).`,
        { location: 'body', field, reason: 'required' },
      );
    }
    if (hasUrl && Object.hasOwn(entry, 'contentType')) {
      throw new ApiError(
        'validation_failed',
        `\`${field}.contentType\` goes only with \`content\`; for a \`url\` the document's own bytes decide its type. Remove it.`,
        { location: 'body', field: `${field}.contentType`, reason: 'unknown_field' },
      );
    }
    const [form, schema] = hasUrl
      ? [documentForms.url, DocumentUrlInput]
      : [documentForms.content, DocumentContentInput];
    if (!form.Check(entry)) {
      const issues = [...Value.Errors(schema, entry)].map((issue) =>
        normaliseIssue({ ...issue, instancePath: `/documents/${i}${issue.instancePath}` }),
      );
      const useful = issues.filter((issue) => issue.keyword !== 'boolean');
      throw validationError(useful.length > 0 ? useful : issues, 'body');
    }
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export async function readJsonFaxRequest(
  body: CreateFaxBody,
  limits: ReadLimits,
  fetching: DocumentFetching,
): Promise<FaxRequest> {
  // Every entry is checked before any is fetched, so a bad entry costs no network time.
  const urls: { document: number; url: string }[] = [];
  const inline = body.documents.map((entry, i) => {
    if ('url' in entry) {
      checkUrlEntry(entry.url, i, fetching.policy, `documents[${i}].url`);
      urls.push({ document: i, url: entry.url });
      return null;
    }
    return decodeContent(entry, i, limits);
  });
  const fetched = await fetchUrlDocuments(urls, limits, fetching, (i) => `documents[${i}].url`);
  const documents = body.documents.map((entry, i): DocumentToInspect => {
    const fromUrl = fetched.get(i);
    if (fromUrl) return { ...fromUrl, filename: entry.filename ?? fromUrl.filename };
    return inline[i]!;
  });
  const { documents: _documents, ...options } = body;
  let bodyHash: string | undefined;
  const files = [...fetched.values()].flatMap((d) => ('file' in d ? [d.file.path] : []));
  return {
    options,
    documents,
    dispose: () => removeFiles(files),
    // Only an Idempotency-Key needs it, and serialising a large body again is not free.
    get bodyHash() {
      bodyHash ??= jsonBodyHash(body);
      return bodyHash;
    },
  };
}

/** What an Idempotency-Key is bound to for a JSON body: the body as asked (URLs, not what they serve). */
export function jsonBodyHash(body: CreateFaxBody): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** The `=` that end a base64 text (at most two once BASE64 passed); looks at the end only. */
function padding(content: string): number {
  return content.endsWith('==') ? 2 : content.endsWith('=') ? 1 : 0;
}

/** Bytes a base64 text without whitespace decodes to. */
function decodedSize(content: string): number {
  return Math.floor((content.length * 3) / 4) - padding(content);
}

/**
 * Decodes a document given in base64. The common case (one line of strict base64) costs one pass, the
 * decoding: the decoder skips what is not base64, so bytes fewer than the text's length promises mean
 * whitespace or foreign characters, and only then is the text checked character by character (a
 * 10 MB document: ~20 ms instead of ~60). `-` and `_` (base64url, which the decoder would take) are
 * refused as before.
 */
function decodeContent(d: ContentEntry, i: number, limits: ReadLimits): DocumentToInspect {
  const field = `documents[${i}].content`;
  if (d.content.length === 0) {
    throw new ApiError('validation_failed', `\`${field}\` is empty; give the file, base64-encoded.`, {
      location: 'body',
      field,
      reason: 'minLength',
    });
  }
  const invalid = () =>
    new ApiError('invalid_document', 'The document content is not valid base64.', { document: i, field });
  let content = d.content;
  // Whitespace counts only when the size decides: line-wrapped base64 is no larger than its bytes.
  if (decodedSize(content) > limits.documentMaxBytes && /\s/.test(content))
    content = content.replace(/\s+/g, '');
  if (content.length % 4 === 1) throw invalid();
  // Checked before decoding, so an oversized document never costs its memory.
  if (decodedSize(content) > limits.documentMaxBytes) {
    throw new ApiError('document_too_large', undefined, { document: i, maxBytes: limits.documentMaxBytes });
  }
  const bytes = Buffer.from(content, 'base64');
  if (bytes.length !== decodedSize(content) || content.includes('-') || content.includes('_')) {
    const stripped = content.replace(/\s+/g, '');
    if (stripped.length % 4 === 1 || !BASE64.test(stripped)) throw invalid();
  }
  return { bytes, contentType: d.contentType, filename: d.filename ?? null };
}

/** The checks a URL passes without the network; an error names the document it belongs to. */
function checkUrlEntry(url: string, document: number, policy: OutboundAddressPolicy, field: string): void {
  try {
    checkDocumentUrl(url, policy);
  } catch (error) {
    throw forDocument(error, document, field);
  }
}

function forDocument(error: unknown, document: number, field: string): unknown {
  if (!(error instanceof ApiError)) return error;
  return new ApiError(error.code, error.message, { document, field, ...error.details });
}

/**
 * Fetches the documents given by URL, all at once, each into a temporary file that the caller then owns.
 * The first failure (in document order) stops the others, and then no fetched file outlives this call.
 */
async function fetchUrlDocuments(
  urls: readonly { document: number; url: string }[],
  limits: ReadLimits,
  fetching: DocumentFetching,
  fieldOf: (document: number) => string,
): Promise<Map<number, DocumentToInspect>> {
  const result = new Map<number, DocumentToInspect>();
  if (urls.length === 0) return result;
  const stop = new AbortController();
  const settled = await Promise.allSettled(
    urls.map(({ document, url }) =>
      fetchDocumentUrl(url, {
        policy: fetching.policy,
        tmpDir: fetching.tmpDir,
        maxBytes: limits.documentMaxBytes,
        connectTimeoutMs: fetching.connectTimeoutMs,
        timeoutMs: fetching.timeoutMs,
        signal: stop.signal,
      }).catch((error: unknown) => {
        stop.abort();
        throw forDocument(error, document, fieldOf(document));
      }),
    ),
  );
  // Aborted fetches reject with the abort's reason, not an ApiError; the cause is among the others.
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  if (failures.length > 0) {
    await removeFiles(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.path] : [])));
    throw failures.find((f) => f instanceof ApiError) ?? failures[0];
  }
  for (const [k, { document }] of urls.entries()) {
    const fetched = (settled[k] as PromiseFulfilledResult<FetchedDocument>).value;
    result.set(document, {
      file: { path: fetched.path, byteSize: fetched.byteSize, sha256: fetched.sha256 },
      contentType: fetched.contentType,
      filename: fetched.filename,
    });
  }
  return result;
}

const JSON_FIELDS = new Set(['cover', 'retries', 'metadata']);

/** Compiled once: interpreting the schema on every request costs more than the check itself. */
let faxOptions: ReturnType<typeof Compile<typeof FaxOptions>> | undefined;

/** The multipart field that names a document by URL; repeat it for several, in document order with the files. */
export const DOCUMENT_URL_FIELD = 'documentUrl';

/** A file part, written to a temporary file and hashed on the way. */
interface Upload {
  readonly path: string;
  readonly byteSize: number;
  readonly sha256: string;
  readonly contentType: string;
  readonly filename: string | null;
}

/**
 * Multipart: fields hold the options (objects as JSON text); each file part, and each `documentUrl`
 * field, is a document, in the order they come.
 */
export async function readMultipartFaxRequest(
  request: FastifyRequest,
  limits: ReadLimits,
  fetching: DocumentFetching,
): Promise<FaxRequest> {
  const tmpDir = fetching.tmpDir;
  await mkdir(tmpDir, { recursive: true });
  const fields: Record<string, unknown> = {};
  const entries: ({ upload: Upload } | { url: string })[] = [];
  /** Every temporary file made so far; removed here unless the request is handed over. */
  const files: string[] = [];
  let handedOver = false;
  const hash = createHash('sha256');
  try {
    for await (const part of request.parts()) {
      if (
        (part.type === 'file' || part.fieldname === DOCUMENT_URL_FIELD) &&
        entries.length >= limits.documentsPerFax
      ) {
        if (part.type === 'file') part.file.resume();
        throw new ApiError('too_many_documents', undefined, { max: limits.documentsPerFax });
      }
      if (part.type === 'field' && part.fieldname === DOCUMENT_URL_FIELD) {
        const url = String(part.value);
        checkUrlEntry(url, entries.length, fetching.policy, DOCUMENT_URL_FIELD);
        entries.push({ url });
      } else if (part.type === 'file') {
        const path = join(tmpDir, `upload-${randomBytes(12).toString('hex')}`);
        // Before the write starts: a body that breaks off mid-file leaves a partial file to remove.
        files.push(path);
        const fileHash = createHash('sha256');
        let byteSize = 0;
        await pipeline(
          part.file,
          new Transform({
            transform(chunk: Buffer, _enc, done) {
              fileHash.update(chunk);
              byteSize += chunk.length;
              done(null, chunk);
            },
          }),
          createWriteStream(path, { mode: 0o600 }),
        );
        if (part.file.truncated) {
          throw new ApiError('document_too_large', undefined, {
            document: entries.length,
            maxBytes: limits.documentMaxBytes,
          });
        }
        const upload: Upload = {
          path,
          byteSize,
          sha256: fileHash.digest('hex'),
          contentType: part.mimetype,
          filename: part.filename || null,
        };
        entries.push({ upload });
      } else {
        const value = String(part.value);
        if (JSON_FIELDS.has(part.fieldname)) {
          try {
            fields[part.fieldname] = JSON.parse(value);
          } catch {
            throw new ApiError('validation_failed', `\`${part.fieldname}\` must be JSON.`, {
              location: 'body',
              field: part.fieldname,
              reason: 'json',
            });
          }
        } else {
          fields[part.fieldname] = value;
        }
      }
    }
    const candidate: unknown = fields;
    faxOptions ??= Compile(FaxOptions);
    if (!faxOptions.Check(candidate)) {
      const issues = [...Value.Errors(FaxOptions, candidate)].map(normaliseIssue);
      // An unknown field also shows up as a "schema is false" issue at the field; the object-level one is clearer.
      const useful = issues.filter((i) => i.keyword !== 'boolean');
      throw validationError(useful.length > 0 ? useful : issues, 'body');
    }
    const names = Object.keys(fields).sort();
    hash.update(JSON.stringify(names.map((n) => [n, fields[n]])));
    const fetched = await fetchUrlDocuments(
      entries.flatMap((e, document) => ('url' in e ? [{ document, url: e.url }] : [])),
      limits,
      fetching,
      () => DOCUMENT_URL_FIELD,
    );
    for (const d of fetched.values()) if ('file' in d) files.push(d.file.path);
    const documents: DocumentToInspect[] = [];
    for (const [i, e] of entries.entries()) {
      if ('url' in e) {
        // What was asked, not what it served: the URL's content may change between two tries.
        hash.update(`url:${e.url}`);
        documents.push(fetched.get(i)!);
        continue;
      }
      const { path, byteSize, sha256, contentType, filename } = e.upload;
      // The file's digest, taken while it streamed in, stands for its content in the body's hash.
      hash.update(sha256);
      documents.push({ file: { path, byteSize, sha256 }, contentType, filename });
    }
    handedOver = true;
    return {
      options: fields as FaxOptionsBody,
      documents,
      bodyHash: hash.digest('hex'),
      dispose: () => removeFiles(files),
    };
  } catch (error) {
    // The multipart parser throws plain Errors for malformed bodies ("Multipart: Boundary not found",
    // "Unexpected end of form"); system errors (disk full) carry a code and stay internal.
    if (error instanceof ApiError || (error as { code?: unknown }).code !== undefined) throw error;
    throw new ApiError('validation_failed', 'The multipart body is malformed.', {
      location: 'body',
      reason: 'multipart',
    });
  } finally {
    if (!handedOver) await removeFiles(files);
  }
}

/** TypeBox reports an unknown field at the object; make it look like Ajv's, which the mapper knows. */
function normaliseIssue(issue: { keyword: string; instancePath: string; message?: string; params: unknown }) {
  const params = (issue.params ?? {}) as Record<string, unknown>;
  if (issue.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
    return { ...issue, params: { additionalProperty: params.additionalProperties[0] } };
  }
  if (issue.keyword === 'required' && Array.isArray(params.requiredProperties)) {
    return { ...issue, params: { missingProperty: params.requiredProperties[0] } };
  }
  return { ...issue, params };
}
