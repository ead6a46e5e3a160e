/**
 * @module api/views
 * Rows to API objects: snake_case columns and millisecond times become camelCase fields and ISO 8601.
 */
import { faxFailure, isFailureCode } from '../domain/failure-taxonomy.ts';
import type { ApiKeysTable, FaxDocumentsTable, FaxesTable, NumbersTable } from '../store/schema.ts';
import type { FaxView } from './schemas.ts';

export const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function faxView(fax: FaxesTable, documents: readonly FaxDocumentsTable[]): FaxView {
  const hasLine =
    fax.bit_rate !== null || fax.ecm !== null || fax.compression !== null || fax.line_resolution !== null;
  return {
    id: fax.id,
    direction: fax.direction,
    status: fax.status as FaxView['status'],
    to: fax.to_number,
    from: fax.from_number,
    pageCount: fax.page_count,
    pagesTransferred: fax.pages_transferred,
    resolution: fax.resolution as FaxView['resolution'],
    priority: fax.priority as FaxView['priority'],
    headerText: fax.header_text,
    cover: fax.cover_json ? JSON.parse(fax.cover_json) : null,
    retries: { count: fax.retry_count, delaySeconds: fax.retry_delay_s },
    attempts: fax.attempts,
    sendAt: isoOrNull(fax.send_at),
    failure:
      fax.failure_code === null
        ? null
        : {
            code: fax.failure_code,
            retryable: fax.failure_retryable === 1,
            message:
              fax.failure_message ??
              (isFailureCode(fax.failure_code) ? faxFailure(fax.failure_code).message : ''),
          },
    line: hasLine
      ? {
          bitRate: fax.bit_rate,
          ecm: fax.ecm === null ? null : fax.ecm === 1,
          compression: fax.compression,
          resolution: fax.line_resolution,
        }
      : null,
    remoteIdent: fax.remote_ident,
    metadata: JSON.parse(fax.metadata_json),
    documents: documents.map((d) => ({
      id: d.id,
      contentType: d.content_type,
      size: d.byte_size,
      pageCount: d.page_count,
      filename: d.filename,
    })),
    createdAt: iso(fax.created_at),
    updatedAt: iso(fax.updated_at),
    completedAt: isoOrNull(fax.completed_at),
    deletedAt: isoOrNull(fax.deleted_at),
  };
}

export function numberView(row: NumbersTable) {
  return {
    id: row.id,
    number: row.e164,
    inboundEnabled: row.inbound_enabled === 1,
    csi: row.csi,
    label: row.label,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function apiKeyView(row: ApiKeysTable) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: iso(row.created_at),
    lastUsedAt: isoOrNull(row.last_used_at),
    revokedAt: isoOrNull(row.revoked_at),
  };
}
