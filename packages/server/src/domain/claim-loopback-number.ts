/**
 * @module domain/claim-loopback-number
 * Numbers come from the loopback carrier's range: claiming one takes the lowest number not yet held
 * by any account, one claim at a time; `numbers.e164` is unique besides. The loopback carrier's test
 * numbers sit inside the range and always answer the same scripted way, so they are never handed out.
 */
import { sql } from 'kysely';
import { ApiError } from '../api/errors.ts';
import type { Config } from '../config/config.ts';
import { testNumbersFrom } from '../lines/test-numbers.ts';
import type { Database } from '../store/database.ts';
import { newId } from '../store/new-id.ts';
import type { NumbersTable } from '../store/schema.ts';

export interface LoopbackRange {
  readonly first: string;
  readonly last: string;
  /** Numbers of the range that are never claimed (the test numbers). */
  readonly reserved?: ReadonlySet<string>;
}

/** The range accounts claim from: the configured one less the loopback carrier's test numbers. */
export function claimableLoopbackRange(config: Pick<Config, 'lines' | 'loopbackRange'>): LoopbackRange {
  const { first, last } = config.loopbackRange;
  const testFirst = config.lines.loopback.testNumbersFirst;
  return {
    first,
    last,
    reserved: new Set(testFirst === null ? [] : testNumbersFrom(testFirst).keys()),
  };
}

export interface NumberOptions {
  readonly inboundEnabled?: boolean;
  readonly csi?: string | null;
  readonly label?: string | null;
}

function* numbersIn(range: LoopbackRange): Generator<string> {
  const first = BigInt(range.first.slice(1));
  const last = BigInt(range.last.slice(1));
  for (let n = first; n <= last; n++) yield `+${n}`;
}

export async function claimLoopbackNumber(
  database: Database,
  accountId: string,
  range: LoopbackRange,
  options: NumberOptions = {},
  now: number = Date.now(),
): Promise<NumbersTable> {
  return database.writeTransaction(async (trx) => {
    // Claims are rare and must not all race for the same lowest number: one at a time. SQLite's
    // BEGIN IMMEDIATE already serialises; PostgreSQL takes a transaction-scoped advisory lock.
    if (database.engine === 'postgres')
      await sql`select pg_advisory_xact_lock(hashtext('faxwire.numbers'))`.execute(trx);
    // Same-length E.164 strings order like the numbers they spell, so a text range query is exact.
    const taken = new Set(
      (
        await trx
          .selectFrom('numbers')
          .select('e164')
          .where('e164', '>=', range.first)
          .where('e164', '<=', range.last)
          .execute()
      ).map((r) => r.e164),
    );
    let free: string | undefined;
    for (const n of numbersIn(range)) {
      if (!taken.has(n) && !range.reserved?.has(n)) {
        free = n;
        break;
      }
    }
    if (!free)
      throw new ApiError('number_unavailable', undefined, {
        range: { first: range.first, last: range.last },
      });
    const row: NumbersTable = {
      id: newId('num', now),
      e164: free,
      account_id: accountId,
      inbound_enabled: options.inboundEnabled === false ? 0 : 1,
      csi: options.csi ?? null,
      label: options.label ?? null,
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto('numbers').values(row).execute();
    return row;
  });
}
