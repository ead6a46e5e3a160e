/**
 * @module store/test-fax-row
 * A row of `faxes` for tests that write the table directly, with every required column filled in.
 */
import type { Insertable } from 'kysely';
import type { FaxesTable } from './schema.ts';

type FaxRow = Insertable<FaxesTable>;

/** An inbound fax being received from +14155550199 on +14155550100 at time 1, unless `fields` say otherwise. */
export function testFaxRow(fields: Pick<FaxRow, 'id' | 'account_id'> & Partial<FaxRow>): FaxRow {
  return {
    direction: 'inbound',
    status: 'receiving',
    to_number: '+14155550100',
    from_number: '+14155550199',
    resolution: 'fine',
    priority: 'normal',
    metadata_json: '{}',
    pages_transferred: 0,
    retry_count: 0,
    retry_delay_s: 0,
    attempts: 0,
    event_seq: 0,
    created_at: 1,
    updated_at: 1,
    ...fields,
  };
}
