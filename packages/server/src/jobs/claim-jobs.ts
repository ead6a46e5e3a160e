/**
 * @module jobs/claim-jobs
 * Takes up to `limit` ready jobs under a lease. Ready: pending, due, not leased (or the lease ran
 * out — that is how a crashed worker's jobs are taken over), attempts left, and the job's group
 * below its concurrency limit. On PostgreSQL rows are taken `FOR UPDATE SKIP LOCKED` and each
 * limited group is counted under a transaction-scoped advisory lock, so two claimers can neither
 * take the same job nor both fill the last slot of a group; on SQLite the whole claim is one
 * `BEGIN IMMEDIATE` transaction, which already admits one writer at a time.
 */
import { sql } from 'kysely';
import type { Database } from '../store/database.ts';
import { type Job, jobFromRow } from './job.ts';

export interface ClaimOptions {
  readonly workerId: string;
  readonly kinds: readonly string[];
  readonly limit: number;
  readonly leaseMs: number;
  /** Concurrency limit of a group; undefined means unlimited. */
  readonly groupConcurrency?: (groupKey: string) => number | undefined;
  readonly now?: number;
}

export async function claimJobs(database: Database, options: ClaimOptions): Promise<Job[]> {
  if (options.limit <= 0 || options.kinds.length === 0) return [];
  const now = options.now ?? Date.now();
  const limitOf = (group: string | null) => (group === null ? undefined : options.groupConcurrency?.(group));

  return database.writeTransaction(async (trx) => {
    // Groups already full are left out of the scan, so their backlog cannot starve other groups.
    const busy = await trx
      .selectFrom('jobs')
      .where('state', '=', 'pending')
      .where('group_key', 'is not', null)
      .where('locked_until', '>=', now)
      .select(['group_key', (eb) => eb.fn.countAll<number>().as('running')])
      .groupBy('group_key')
      .execute();
    const full = busy
      .filter((g) => {
        const limit = limitOf(g.group_key);
        return limit !== undefined && Number(g.running) >= limit;
      })
      .map((g) => g.group_key!);

    let query = trx
      .selectFrom('jobs')
      .selectAll()
      .where('state', '=', 'pending')
      .where('kind', 'in', options.kinds)
      .where('run_at', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .whereRef('attempts', '<', 'max_attempts')
      .orderBy('priority')
      .orderBy('run_at')
      .orderBy('id')
      .limit(options.limit * 4 + 16);
    if (full.length > 0) {
      query = query.where((eb) => eb.or([eb('group_key', 'is', null), eb('group_key', 'not in', full)]));
    }
    if (database.engine === 'postgres') query = query.forUpdate().skipLocked();
    const candidates = await query.execute();

    const running = new Map<string, number>();
    for (const group of new Set(candidates.map((c) => c.group_key))) {
      if (group === null || limitOf(group) === undefined) continue;
      if (database.engine === 'postgres') {
        const lock = await sql<{
          ok: boolean;
        }>`select pg_try_advisory_xact_lock(hashtext(${`faxwire.jobs:${group}`})) as ok`.execute(trx);
        if (!lock.rows[0]?.ok) {
          running.set(group, Number.POSITIVE_INFINITY);
          continue;
        }
      }
      const row = await trx
        .selectFrom('jobs')
        .where('state', '=', 'pending')
        .where('group_key', '=', group)
        .where('locked_until', '>=', now)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      running.set(group, Number(row.n));
    }

    const picked: typeof candidates = [];
    for (const candidate of candidates) {
      if (picked.length >= options.limit) break;
      const group = candidate.group_key;
      const limit = limitOf(group);
      if (group !== null && limit !== undefined) {
        const n = running.get(group) ?? 0;
        if (n >= limit) continue;
        running.set(group, n + 1);
      }
      picked.push(candidate);
    }
    if (picked.length === 0) return [];

    const lockedUntil = now + options.leaseMs;
    await trx
      .updateTable('jobs')
      .set((eb) => ({
        locked_by: options.workerId,
        locked_until: lockedUntil,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where(
        'id',
        'in',
        picked.map((p) => p.id),
      )
      .execute();
    return picked.map((row) =>
      jobFromRow({
        ...row,
        attempts: row.attempts + 1,
        locked_by: options.workerId,
        locked_until: lockedUntil,
      }),
    );
  });
}
