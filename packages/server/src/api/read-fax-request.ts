/**
 * @module api/read-fax-request
 * A new fax arrives as JSON (documents in base64) or as multipart/form-data (documents as file parts,
 * streamed to disk under the size limit, options as fields). Both become the same request: the fax
 * options, the documents' bytes, and a hash of the whole body for Idempotency-Key checks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { DocumentToInspect } from '../domain/document-inspector.ts';
import { ApiError } from './errors.ts';
import { type CreateFaxBody, FaxOptions, type FaxOptionsBody } from './schemas.ts';
import { validationError } from './to-api-error.ts';

export interface FaxRequest {
  readonly options: FaxOptionsBody;
  readonly documents: DocumentToInspect[];
  readonly bodyHash: string;
}

export interface ReadLimits {
  readonly documentMaxBytes: number;
  readonly documentsPerFax: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function readJsonFaxRequest(body: CreateFaxBody, limits: ReadLimits): FaxRequest {
  const documents = body.documents.map((d, i) => {
    const content = d.content.replace(/\s+/g, '');
    if (content.length % 4 === 1 || !BASE64.test(content)) {
      throw new ApiError('invalid_document', 'The document content is not valid base64.', {
        document: i,
        field: `documents[${i}].content`,
      });
    }
    // Checked before decoding, so an oversized document never costs its memory.
    if (
      Math.floor((content.length * 3) / 4) - (content.match(/=+$/)?.[0].length ?? 0) >
      limits.documentMaxBytes
    ) {
      throw new ApiError('document_too_large', undefined, { document: i, maxBytes: limits.documentMaxBytes });
    }
    return {
      bytes: Buffer.from(content, 'base64'),
      contentType: d.contentType,
      filename: d.filename ?? null,
    };
  });
  const { documents: _documents, ...options } = body;
  let bodyHash: string | undefined;
  return {
    options,
    documents,
    // Only an Idempotency-Key needs it, and serialising a large body again is not free.
    get bodyHash() {
      bodyHash ??= createHash('sha256').update(JSON.stringify(body)).digest('hex');
      return bodyHash;
    },
  };
}

const JSON_FIELDS = new Set(['cover', 'retries', 'metadata']);

/** Compiled once: interpreting the schema on every request costs more than the check itself. */
let faxOptions: ReturnType<typeof Compile<typeof FaxOptions>> | undefined;

/** Multipart: fields hold the options (objects as JSON text), each file part is a document. */
export async function readMultipartFaxRequest(
  request: FastifyRequest,
  limits: ReadLimits,
  tmpDir: string,
): Promise<FaxRequest> {
  await mkdir(tmpDir, { recursive: true });
  const fields: Record<string, unknown> = {};
  const files: { path: string; sha256: string; contentType: string; filename: string | null }[] = [];
  const hash = createHash('sha256');
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (files.length >= limits.documentsPerFax) {
          part.file.resume();
          throw new ApiError('too_many_documents', undefined, { max: limits.documentsPerFax });
        }
        const path = join(tmpDir, `upload-${randomBytes(12).toString('hex')}`);
        const fileHash = createHash('sha256');
        await pipeline(
          part.file,
          new Transform({
            transform(chunk, _enc, done) {
              fileHash.update(chunk);
              done(null, chunk);
            },
          }),
          createWriteStream(path, { mode: 0o600 }),
        );
        files.push({ path, sha256: '', contentType: part.mimetype, filename: part.filename || null });
        if (part.file.truncated) {
          throw new ApiError('document_too_large', undefined, {
            document: files.length - 1,
            maxBytes: limits.documentMaxBytes,
          });
        }
        files[files.length - 1]!.sha256 = fileHash.digest('hex');
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
    const documents: DocumentToInspect[] = [];
    for (const f of files) {
      hash.update(f.sha256);
      documents.push({ bytes: await readFile(f.path), contentType: f.contentType, filename: f.filename });
    }
    return { options: fields as FaxOptionsBody, documents, bodyHash: hash.digest('hex') };
  } catch (error) {
    // The multipart parser throws plain Errors for malformed bodies ("Multipart: Boundary not found",
    // "Unexpected end of form"); system errors (disk full) carry a code and stay internal.
    if (error instanceof ApiError || (error as { code?: unknown }).code !== undefined) throw error;
    throw new ApiError('validation_failed', 'The multipart body is malformed.', {
      location: 'body',
      reason: 'multipart',
    });
  } finally {
    for (const f of files) await rm(f.path, { force: true });
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
