/**
 * @module jobs/queue.test
 * The queue contract, on every engine: retries with back-off, leases, crash recovery, priorities,
 * run_at, unique keys, group concurrency and two workers racing for the same jobs.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../store/database.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { retryDelayMs } from './backoff.ts';
import { claimJobs } from './claim-jobs.ts';
import { completeJob } from './complete-job.ts';
import { enqueueJob } from './enqueue-job.ts';
import { failJob } from './fail-job.ts';
import { heartbeatJobs } from './heartbeat-jobs.ts';
import { PermanentJobError } from './job.ts';
import { recoverJobs } from './recover-jobs.ts';
import { releaseJobs } from './release-jobs.ts';
import { Worker } from './worker.ts';

const T0 = 1_800_000_000_000;
const LEASE = 10_000;

async function jobRows(database: Database) {
  return database.db.selectFrom('jobs').selectAll().orderBy('id').execute();
}

/** Waits for a condition that the code under test makes true; bounded so a bug fails instead of hanging. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('retry back-off', () => {
  it('doubles from the base, is capped, and keeps to the upper half of each step', () => {
    const options = { baseMs: 1000, maxMs: 60_000 };
    assert.equal(retryDelayMs(1, { ...options, random: () => 0 }), 500);
    assert.equal(retryDelayMs(1, { ...options, random: () => 0.999999 }), 1000);
    assert.equal(retryDelayMs(4, { ...options, random: () => 0 }), 4000);
    assert.equal(retryDelayMs(30, { ...options, random: () => 0 }), 30_000);
    assert.equal(retryDelayMs(1000, { ...options, random: () => 0.999999 }), 60_000);
  });
});

for (const engine of TEST_ENGINES) {
  describe(`job queue contract (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let database: Database;

    beforeEach(async () => {
      if (!t) {
        t = await engine.open();
        database = t.database;
      }
      await database.db.deleteFrom('jobs').execute();
    });
    after(() => t?.dispose());

    const enqueue = (spec: Parameters<typeof enqueueJob>[1], now = T0) =>
      database.writeTransaction((trx) => enqueueJob(trx, spec, now));
    const claim = (workerId: string, now: number, extra: Partial<Parameters<typeof claimJobs>[1]> = {}) =>
      claimJobs(database, { workerId, kinds: ['k'], limit: 10, leaseMs: LEASE, now, ...extra });

    it('enqueues in the caller transaction: a rollback leaves no job', async () => {
      await assert.rejects(
        database.writeTransaction(async (trx) => {
          await enqueueJob(trx, { kind: 'k', payload: { a: 1 } }, T0);
          throw new Error('state write failed');
        }),
      );
      assert.equal((await jobRows(database)).length, 0);
    });

    it('claims due jobs by priority then run_at, with payload, and not before run_at', async () => {
      await enqueue({ kind: 'k', payload: { n: 'late' }, runAt: T0 + 5_000 });
      await enqueue({ kind: 'k', payload: { n: 'low' }, priority: 5 });
      await enqueue({ kind: 'k', payload: { n: 'second' }, runAt: T0 - 1 });
      await enqueue({ kind: 'k', payload: { n: 'first' }, runAt: T0 - 2 });
      await enqueue({ kind: 'other', payload: { n: 'other kind' } });
      const jobs = await claim('w1', T0);
      assert.deepEqual(
        jobs.map((j) => (j.payload as { n: string }).n),
        ['first', 'second', 'low'],
      );
      assert.ok(jobs.every((j) => j.attempts === 1 && j.lockedBy === 'w1' && j.lockedUntil === T0 + LEASE));
      assert.deepEqual(await claim('w2', T0 + 1), [], 'leased jobs are not claimed twice');
      const later = await claim('w2', T0 + 5_000);
      assert.deepEqual(
        later.map((j) => (j.payload as { n: string }).n),
        ['late'],
      );
    });

    it('completes only under its own lease', async () => {
      await enqueue({ kind: 'k', payload: null });
      const [job] = await claim('w1', T0);
      assert.equal(await completeJob(database, job!.id, 'w2'), false);
      assert.equal(await completeJob(database, job!.id, 'w1'), true);
      assert.equal((await jobRows(database)).length, 0);
    });

    it('retries with back-off, then goes dead with its last error after max attempts', async () => {
      await enqueue({ kind: 'k', payload: null, maxAttempts: 3, uniqueKey: 'u1' });
      const backoff = { baseMs: 1000, maxMs: 10_000, random: () => 0 };
      let now = T0;
      for (const [attempt, delay] of [
        [1, 500],
        [2, 1000],
      ] as const) {
        const [job] = await claim('w1', now);
        assert.equal(job!.attempts, attempt);
        assert.equal(
          await failJob(database, job!, 'w1', new Error(`boom ${attempt}`), { now, backoff }),
          'retrying',
        );
        const [row] = await jobRows(database);
        assert.equal(row!.run_at, now + delay);
        assert.equal(row!.last_error, `Error: boom ${attempt}`);
        assert.deepEqual(await claim('w1', now + delay - 1), [], 'not before the back-off ends');
        now += delay;
      }
      const [job] = await claim('w1', now);
      assert.equal(await failJob(database, job!, 'w1', 'third', { now, backoff }), 'dead');
      const [row] = await jobRows(database);
      assert.equal(row!.state, 'dead');
      assert.equal(row!.unique_key, null, 'a dead job frees its unique key');
      assert.deepEqual(await claim('w1', now + 1e9), []);
    });

    it('goes dead at once on a permanent failure', async () => {
      await enqueue({ kind: 'k', payload: null });
      const [job] = await claim('w1', T0);
      assert.equal(
        await failJob(database, job!, 'w1', new PermanentJobError('bad input'), { permanent: true, now: T0 }),
        'dead',
      );
    });

    it('takes over a crashed worker’s job after its lease expires, and the late worker loses', async () => {
      await enqueue({ kind: 'k', payload: null });
      const [crashed] = await claim('crashed', T0);
      assert.deepEqual(await claim('w2', T0 + LEASE - 1), []);
      const [taken] = await claim('w2', T0 + LEASE + 1);
      assert.equal(taken!.id, crashed!.id);
      assert.equal(taken!.attempts, 2);
      assert.equal(await completeJob(database, crashed!.id, 'crashed'), false);
      assert.equal((await heartbeatJobs(database, [crashed!.id], 'crashed', LEASE, T0 + LEASE + 2)).size, 0);
      assert.equal(await completeJob(database, taken!.id, 'w2'), true);
    });

    it('heartbeats extend a lease; recovery requeues expired leases and buries exhausted ones', async () => {
      await enqueue({ kind: 'k', payload: 'a', maxAttempts: 5 });
      await enqueue({ kind: 'k', payload: 'b', maxAttempts: 1 });
      const jobs = await claim('w1', T0);
      const held = await heartbeatJobs(
        database,
        jobs.map((j) => j.id),
        'w1',
        LEASE,
        T0 + LEASE - 1,
      );
      assert.equal(held.size, 2);
      assert.deepEqual(await claim('w2', T0 + LEASE + 1), [], 'renewed leases still hold');
      assert.deepEqual(await recoverJobs(database, T0 + 2 * LEASE), { requeued: 1, dead: 1 });
      const rows = await jobRows(database);
      const byPayload = new Map(rows.map((r) => [JSON.parse(r.payload_json), r]));
      assert.equal(byPayload.get('a')!.locked_by, null);
      assert.equal(byPayload.get('b')!.state, 'dead');
      const [again] = await claim('w2', T0 + 2 * LEASE);
      assert.equal(again!.payload, 'a');
    });

    it('releases without spending an attempt', async () => {
      await enqueue({ kind: 'k', payload: null });
      const [job] = await claim('w1', T0);
      assert.equal(await releaseJobs(database, [job!.id], 'w1', T0), 1);
      const [again] = await claim('w2', T0);
      assert.equal(again!.attempts, 1);
    });

    it('keeps one pending job per unique key', async () => {
      const a = await enqueue({ kind: 'k', payload: 1, uniqueKey: 'fax.send:1' });
      const b = await enqueue({ kind: 'k', payload: 2, uniqueKey: 'fax.send:1' });
      assert.deepEqual([a.created, b.created, a.id === b.id], [true, false, true]);
      const [job] = await claim('w1', T0);
      await completeJob(database, job!.id, 'w1');
      assert.equal((await enqueue({ kind: 'k', payload: 3, uniqueKey: 'fax.send:1' })).created, true);
    });

    it('limits concurrency per group without starving other groups', async () => {
      for (let i = 0; i < 5; i++) await enqueue({ kind: 'k', payload: `t1-${i}`, groupKey: 'trunk:1' });
      await enqueue({ kind: 'k', payload: 't2-0', groupKey: 'trunk:2', priority: 1 });
      await enqueue({ kind: 'k', payload: 'free', priority: 2 });
      const limits = (g: string) => (g === 'trunk:1' ? 2 : 1);
      const first = await claim('w1', T0, { groupConcurrency: limits });
      assert.deepEqual(first.map((j) => j.payload).sort(), ['free', 't1-0', 't1-1', 't2-0']);
      assert.deepEqual(await claim('w2', T0 + 1, { groupConcurrency: limits }), []);
      await completeJob(database, first.find((j) => j.payload === 't1-0')!.id, 'w1');
      const next = await claim('w2', T0 + 2, { groupConcurrency: limits });
      assert.deepEqual(
        next.map((j) => j.payload),
        ['t1-2'],
      );
    });

    it('never runs a job twice when two workers on separate connections race', async () => {
      const other = await t.openAnother();
      const total = 60;
      await database.writeTransaction(async (trx) => {
        for (let i = 0; i < total; i++) {
          await enqueueJob(trx, { kind: 'race', payload: i, groupKey: i % 3 === 0 ? 'g' : null });
        }
      });
      const runs = new Map<number, number>();
      let inGroup = 0;
      let maxInGroup = 0;
      const handler = async (job: { payload: unknown; groupKey: string | null }) => {
        const n = job.payload as number;
        runs.set(n, (runs.get(n) ?? 0) + 1);
        if (job.groupKey) maxInGroup = Math.max(maxInGroup, ++inGroup);
        await sleep(1 + (n % 4));
        if (job.groupKey) inGroup--;
      };
      const workers = [database, other].map(
        (db, i) =>
          new Worker({
            database: db,
            workerId: `racer-${i}`,
            handlers: { race: handler },
            concurrency: 5,
            pollIntervalMs: 5,
            groupConcurrency: (g) => (g === 'g' ? 1 : undefined),
          }),
      );
      for (const w of workers) w.start();
      await until(async () => (await jobRows(database)).length === 0, 'all race jobs to complete');
      await Promise.all(workers.map((w) => w.stop()));
      assert.equal(runs.size, total);
      assert.ok(
        [...runs.values()].every((n) => n === 1),
        'each job ran exactly once',
      );
      assert.equal(maxInGroup, 1, 'group g never ran two at once');
    });

    it('survives waves of work at three workers, with flaky handlers, each job succeeding once', async () => {
      const others = [await t.openAnother(), await t.openAnother()];
      const successes = new Map<string, number>();
      const failedOnce = new Set<string>();
      const handler = async (job: { payload: unknown }) => {
        const name = job.payload as string;
        // Every fifth job fails its first attempt: retries must interleave with fresh waves.
        if (Number(name.split('-')[1]) % 5 === 0 && !failedOnce.has(name)) {
          failedOnce.add(name);
          throw new Error('flaky');
        }
        successes.set(name, (successes.get(name) ?? 0) + 1);
      };
      const workers = [database, ...others].map(
        (db, i) =>
          new Worker({
            database: db,
            workerId: `wave-${i}`,
            handlers: { wave: handler },
            concurrency: 3,
            pollIntervalMs: 5,
            backoff: { baseMs: 1, maxMs: 5 },
          }),
      );
      for (const w of workers) w.start();
      let total = 0;
      for (let wave = 0; wave < 4; wave++) {
        await database.writeTransaction(async (trx) => {
          for (let i = 0; i < 25; i++) await enqueueJob(trx, { kind: 'wave', payload: `${wave}-${i}` });
        });
        total += 25;
        await sleep(20);
      }
      await until(async () => (await jobRows(database)).length === 0, 'all waves to drain');
      await Promise.all(workers.map((w) => w.stop()));
      assert.equal(successes.size, total);
      assert.ok([...successes.values()].every((n) => n === 1));
      assert.equal(failedOnce.size, 4 * 5);
    });

    it('worker retries a failing handler, and on stop releases a job still running', async () => {
      await enqueue({ kind: 'flaky', payload: null, maxAttempts: 5 }, Date.now());
      let calls = 0;
      const worker = new Worker({
        database,
        handlers: {
          flaky: async () => {
            if (++calls < 3) throw new Error(`flake ${calls}`);
          },
        },
        pollIntervalMs: 5,
        backoff: { baseMs: 1, maxMs: 2 },
      });
      const failures: string[] = [];
      worker.on('failed', (_job, _error, outcome) => failures.push(outcome));
      worker.start();
      await until(async () => (await jobRows(database)).length === 0, 'flaky job to succeed');
      await worker.stop();
      assert.deepEqual([calls, failures], [3, ['retrying', 'retrying']]);

      await enqueue({ kind: 'slow', payload: null }, Date.now());
      let aborted = false;
      const stopping = new Worker({
        database,
        handlers: {
          slow: (_job, { signal }) =>
            new Promise<void>((_resolve, reject) =>
              signal.addEventListener('abort', () => {
                aborted = true;
                reject(signal.reason);
              }),
            ),
        },
        pollIntervalMs: 5,
      });
      stopping.start();
      await until(async () => stopping.runningCount === 1, 'slow job to start');
      await stopping.stop({ graceMs: 10 });
      assert.equal(aborted, true);
      const [row] = await jobRows(database);
      assert.deepEqual([row!.locked_by, row!.attempts, row!.state], [null, 0, 'pending']);
    });

    it('leaves kinds it has no handler for untouched', async () => {
      await enqueue({ kind: 'fax.send', payload: null }, Date.now());
      const worker = new Worker({ database, handlers: { other: async () => {} }, pollIntervalMs: 5 });
      worker.start();
      await sleep(30);
      await worker.stop();
      const [row] = await jobRows(database);
      assert.deepEqual([row!.attempts, row!.locked_by], [0, null]);
    });
  });
}
