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

export interface BootstrapOptions {
  /**
   * Runs inside the bootstrap transaction, before it commits, e.g. to write the key where the operator finds
   * it. The key's secret exists nowhere else, so it must be kept before the account that needs it commits:
   * a crash after the commit then cannot leave an account nobody can use. When this throws, nothing is created.
   */
  readonly keep?: (bootstrap: Bootstrap) => Promise<void> | void;
  readonly now?: number;
}

/** The name of the first start's row in `bootstrap_steps`. */
export const INITIAL_ACCOUNT_STEP = 'initial-account';

/**
 * On an empty database: one account, two numbers, one key. Returns null when there already is an account,
 * including when another process starting at the same moment created it: the step's row is inserted in the
 * same transaction as the account, and its primary key admits one (SQLite serialises the writers; on
 * PostgreSQL the second insert waits for the first transaction and then finds the row).
 */
export async function bootstrapAccount(
  database: Database,
  range: LoopbackRange,
  options: BootstrapOptions = {},
): Promise<Bootstrap | null> {
  const now = options.now ?? Date.now();
  if (await firstAccountId(database.db)) return null;
  return database.writeTransaction(async (trx) => {
    const accountId = newId('acct', now);
    const claimed = await trx
      .insertInto('bootstrap_steps')
      .values({ step: INITIAL_ACCOUNT_STEP, account_id: accountId, created_at: now })
      .onConflict((oc) => oc.column('step').doNothing())
      .returning('step')
      .executeTakeFirst();
    if (!claimed) return null;
    // An account created without this step (createAccount, by an operator's script) stands in for it.
    const existing = await firstAccountId(trx);
    if (existing) {
      await trx
        .updateTable('bootstrap_steps')
        .set({ account_id: existing })
        .where('step', '=', INITIAL_ACCOUNT_STEP)
        .execute();
      return null;
    }
    await trx.insertInto('accounts').values({ id: accountId, name: 'default', created_at: now }).execute();
    const inThisTransaction = joinTransaction(database, trx);
    const numbers = [
      await claimLoopbackNumber(inThisTransaction, accountId, range, { label: 'loopback 1' }, now),
      await claimLoopbackNumber(inThisTransaction, accountId, range, { label: 'loopback 2' }, now),
    ];
    const { key } = await issueApiKey(trx, accountId, 'initial', now);
    const bootstrap: Bootstrap = { accountId, numbers, key };
    await options.keep?.(bootstrap);
    return bootstrap;
  });
}

/** `database` as seen from inside one of its write transactions: further writes join that transaction. */
function joinTransaction(database: Database, trx: Db): Database {
  return {
    engine: database.engine,
    db: trx,
    writeTransaction: (fn) => fn(trx),
    close: () => Promise.reject(new Error('a joined transaction is closed by its owner')),
  };
}
