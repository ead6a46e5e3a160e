/**
 * @module domain/accounts
 * Accounts and their API keys. The first start of a server creates one account, two loopback numbers
 * and a first key, so a fresh install can send a fax with nothing configured.
 */
import type { Database, Db } from '../store/database.ts';
import { newId } from '../store/new-id.ts';
import type { ApiKeysTable, NumbersTable } from '../store/schema.ts';
import { generateApiKey } from './api-key.ts';
import { claimLoopbackNumber, type LoopbackRange } from './claim-loopback-number.ts';

export async function createAccount(db: Db, name: string, now: number = Date.now()): Promise<string> {
  const id = newId('acct', now);
  await db.insertInto('accounts').values({ id, name, created_at: now }).execute();
  return id;
}

/** Creates a key; the secret is returned here once and never stored. */
export async function issueApiKey(
  db: Db,
  accountId: string,
  name: string,
  now: number = Date.now(),
): Promise<{ row: ApiKeysTable; key: string }> {
  const { key, prefix, hash } = generateApiKey();
  const row: ApiKeysTable = {
    id: newId('key', now),
    account_id: accountId,
    name,
    prefix,
    hash,
    created_at: now,
    last_used_at: null,
    revoked_at: null,
  };
  await db.insertInto('api_keys').values(row).execute();
  return { row, key };
}

/** The oldest account, which single-tenant installs use for everything. */
export async function firstAccountId(db: Db): Promise<string | null> {
  const row = await db
    .selectFrom('accounts')
    .select('id')
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}

export interface Bootstrap {
  readonly accountId: string;
  readonly numbers: NumbersTable[];
  readonly key: string;
}

/** On an empty database: one account, two numbers, one key. Returns null when there is an account. */
export async function bootstrapAccount(database: Database, range: LoopbackRange): Promise<Bootstrap | null> {
  if (await firstAccountId(database.db)) return null;
  const accountId = await createAccount(database.db, 'default');
  const numbers = [
    await claimLoopbackNumber(database, accountId, range, { label: 'loopback 1' }),
    await claimLoopbackNumber(database, accountId, range, { label: 'loopback 2' }),
  ];
  const { key } = await issueApiKey(database.db, accountId, 'initial');
  return { accountId, numbers, key };
}
