/**
 * @module domain/list-faxes
 * Newest-first pages of an account's faxes. Ids sort by creation time, so the cursor is simply the
 * last id seen (opaque to clients), and pages stay stable while new faxes arrive.
 */
import { ApiError } from '../api/errors.ts';
import type { Db } from '../store/database.ts';
import type { FaxesTable } from '../store/schema.ts';

export interface FaxListQuery {
  readonly direction?: 'outbound' | 'inbound';
  readonly status?: string;
  /** Matches either end of the fax. */
  readonly number?: string;
  readonly createdAfter?: number;
  readonly createdBefore?: number;
  readonly limit: number;
  readonly cursor?: string;
}

export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^fax_[0-9a-z]{26}$/.test(id)) throw new ApiError('invalid_cursor', undefined, { cursor });
  return id;
}

export async function listFaxes(
  db: Db,
  accountId: string,
  query: FaxListQuery,
): Promise<{ faxes: FaxesTable[]; nextCursor: string | null }> {
  let q = db
    .selectFrom('faxes')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('deleted_at', 'is', null);
  if (query.direction) q = q.where('direction', '=', query.direction);
  if (query.status) q = q.where('status', '=', query.status);
  if (query.number) {
    const n = query.number;
    q = q.where((eb) => eb.or([eb('to_number', '=', n), eb('from_number', '=', n)]));
  }
  if (query.createdAfter !== undefined) q = q.where('created_at', '>=', query.createdAfter);
  if (query.createdBefore !== undefined) q = q.where('created_at', '<', query.createdBefore);
  if (query.cursor) q = q.where('id', '<', decodeCursor(query.cursor));
  const rows = await q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const faxes = rows.slice(0, query.limit);
  return { faxes, nextCursor: rows.length > query.limit ? encodeCursor(faxes.at(-1)!.id) : null };
}
