/**
 * @module api/to-api-error.test
 * The catalogue's shape, and the mapping of foreign errors onto it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentRejection } from '../domain/document-inspector.ts';
import { ApiError, ERROR_CATALOGUE, ERROR_CODES } from './errors.ts';
import { fieldPath, toApiError } from './to-api-error.ts';

describe('error catalogue', () => {
  it('has snake_case codes, HTTP error statuses and a message for each', () => {
    for (const code of ERROR_CODES) {
      assert.match(code, /^[a-z]+(_[a-z0-9]+)*$/);
      const { status, message } = ERROR_CATALOGUE[code];
      assert.ok(status >= 400 && status < 600, code);
      assert.ok(message.length > 0, code);
    }
  });

  it('serialises to the envelope', () => {
    assert.deepEqual(new ApiError('not_found', 'No fax.', { id: 'fax_1' }).toJSON(), {
      error: { code: 'not_found', message: 'No fax.', details: { id: 'fax_1' } },
    });
  });
});

describe('toApiError', () => {
  const map = (e: unknown) => {
    const { apiError, internal } = toApiError(e);
    return [apiError.code, apiError.statusCode, internal];
  };

  it('maps Fastify and multipart errors by code', () => {
    assert.deepEqual(map({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), [
      'payload_too_large',
      413,
      false,
    ]);
    assert.deepEqual(map({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), [
      'unsupported_media_type',
      415,
      false,
    ]);
    assert.deepEqual(map({ code: 'FST_REQ_FILE_TOO_LARGE', statusCode: 413 }), [
      'document_too_large',
      413,
      false,
    ]);
    assert.deepEqual(map({ code: 'FST_FILES_LIMIT', statusCode: 413 }), ['too_many_documents', 400, false]);
  });

  it('maps by status what has no known code, and hides everything else', () => {
    assert.deepEqual(map({ statusCode: 503 }), ['service_unavailable', 503, false]);
    assert.deepEqual(map({ statusCode: 429 }), ['rate_limited', 429, false]);
    assert.deepEqual(map({ statusCode: 418 }), ['validation_failed', 400, false]);
    assert.deepEqual(map(new TypeError('x is undefined')), ['internal_error', 500, true]);
    assert.deepEqual(map(undefined), ['internal_error', 500, true]);
  });

  it('maps document rejections with the document index', () => {
    const { apiError } = toApiError(new DocumentRejection('password_protected', 'encrypted', 2));
    assert.deepEqual(apiError.toJSON().error.details, { document: 2 });
  });

  it('writes field paths the way people do', () => {
    assert.equal(fieldPath('/documents/0/content'), 'documents[0].content');
    assert.equal(fieldPath('/cover', 'colour'), 'cover.colour');
    assert.equal(fieldPath(''), '');
  });
});
