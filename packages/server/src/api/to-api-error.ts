/**
 * @module api/to-api-error
 * Maps anything thrown while serving a request onto the catalogue: our own ApiErrors as they are,
 * refused documents by their code, Fastify's and @fastify/multipart's errors by their code, schema
 * validation by the first failing field. Whatever is left is an internal error, whose details the
 * client never sees.
 */
import { DocumentRejection } from '../domain/document-inspector.ts';
import { ApiError, type ErrorCode } from './errors.ts';
import { HEADER_TEXT_RULE } from './schemas.ts';

interface FastifyValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

interface FastifyishError {
  code?: string;
  statusCode?: number;
  validation?: FastifyValidationIssue[];
  validationContext?: string;
  message?: string;
}

const BY_FASTIFY_CODE: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'unsupported_media_type',
  FST_REQ_FILE_TOO_LARGE: 'document_too_large',
  FST_FILES_LIMIT: 'too_many_documents',
  FST_PARTS_LIMIT: 'validation_failed',
  FST_FIELDS_LIMIT: 'validation_failed',
  FST_PROTO_VIOLATION: 'validation_failed',
};

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** `/documents/0/content` → `documents[0].content`, the way people write field paths. */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  return parts.reduce(
    (path, part) => (/^[0-9]+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
    '',
  );
}

export function validationError(issues: readonly FastifyValidationIssue[], location: string): ApiError {
  const issue = issues[0]!;
  if (issue.keyword === 'additionalProperties') {
    const field = fieldPath(issue.instancePath, String(issue.params.additionalProperty ?? ''));
    return new ApiError('validation_failed', `Unknown field \`${field}\`.`, {
      location,
      field,
      reason: 'unknown_field',
    });
  }
  if (issue.keyword === 'required') {
    const field = fieldPath(issue.instancePath, String(issue.params.missingProperty ?? ''));
    return new ApiError('validation_failed', `\`${field}\` is required.`, {
      location,
      field,
      reason: 'required',
    });
  }
  const field = fieldPath(issue.instancePath);
  const last = field.split('.').at(-1);
  const isPhoneField = issue.keyword === 'pattern' && (last === 'to' || last === 'from' || last === 'number');
  if (isPhoneField) {
    return new ApiError('invalid_phone_number', `\`${field}\` must be E.164, e.g. +14155550100.`, {
      location,
      field,
    });
  }
  if (last === 'headerText' && issue.keyword === 'pattern') {
    return new ApiError('validation_failed', HEADER_TEXT_RULE, { location, field, reason: 'pattern' });
  }
  if (field === 'documents' && issue.keyword === 'maxItems') {
    return new ApiError('too_many_documents', undefined, { location, field, max: issue.params.limit });
  }
  const message = field
    ? `\`${field}\` ${issue.message ?? 'is invalid'}.`
    : `The ${location} ${issue.message ?? 'is invalid'}.`;
  return new ApiError('validation_failed', message, { location, field, reason: issue.keyword });
}

export function toApiError(error: unknown): { apiError: ApiError; internal: boolean } {
  if (error instanceof ApiError) return { apiError: error, internal: false };
  if (error instanceof DocumentRejection) {
    return {
      apiError: new ApiError(error.code, error.message, { document: error.document }),
      internal: false,
    };
  }
  const e = (error ?? {}) as FastifyishError;
  if (e.validation && e.validation.length > 0) {
    return { apiError: validationError(e.validation, e.validationContext ?? 'body'), internal: false };
  }
  const byCode = e.code ? BY_FASTIFY_CODE[e.code] : undefined;
  if (byCode) return { apiError: new ApiError(byCode), internal: false };
  const status = e.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const code = BY_STATUS[status] ?? 'validation_failed';
    // Fastify's client-error messages are written for clients (e.g. "Unsupported Media Type: text/csv").
    return { apiError: new ApiError(code, e.message || undefined), internal: false };
  }
  if (status === 503) return { apiError: new ApiError('service_unavailable'), internal: false };
  return { apiError: new ApiError('internal_error'), internal: true };
}
