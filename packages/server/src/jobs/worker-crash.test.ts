/**
 * @module jobs/worker-crash.test
 * Crash recovery with real processes: a worker process holds two jobs under a short lease, renewing it,
 * and is killed with SIGKILL. Once the lease runs out a worker in this process takes over: the job with
 * attempts left runs again, once; the one that was on its last attempt is declared dead with the reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { enqueueJob } from './enqueue-job.ts';
import type { Job } from './job.ts';
import { Worker } from './worker.ts';

const FIXTURE = fileURLToPath(new URL('./crashing-worker.fixture.ts', import.meta.url));
/** Short, so the takeover comes within a second or two; FAXWIRE_JOB_LEASE_MS sets the platform's. */
const LEASE_MS = 1000;

for (const engine of TEST_ENGINES) {
  describe(`worker crash recovery (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t.dispose());

    const jobRow = (id: string) =>
      t.database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    /** Bounded, so a bug fails the test instead of hanging it. */
    const until = async (condition: () => Promise<boolean> | boolean, what: string) => {
      for (let i = 0; i < 400; i++) {
        if (await condition()) return;
        await sleep(25);
      }
      assert.fail(`timed out waiting for ${what}`);
    };

    it('takes over the jobs of a killed worker process once their lease runs out', async () => {
      const enqueue = (maxAttempts: number) =>
        t.database.writeTransaction((trx) => enqueueJob(trx, { kind: 'crash', payload: {}, maxAttempts }));
      const retryable = (await enqueue(3)).id;
      const lastAttempt = (await enqueue(1)).id;

      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
        env: {
          ...process.env,
          FAXWIRE_FIXTURE_DB: JSON.stringify(t.config),
          FAXWIRE_FIXTURE_LEASE_MS: String(LEASE_MS),
          FAXWIRE_FIXTURE_EXPECT: '2',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let leaseAtKill: number;
      try {
        const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
        const held = JSON.parse(line) as { workerId: string; jobs: string[] };
        assert.deepEqual(held.jobs.sort(), [retryable, lastAttempt].sort());
        const claimed = await jobRow(retryable);
        assert.equal(claimed.locked_by, held.workerId);
        assert.equal(claimed.locked_until! - claimed.updated_at, LEASE_MS, 'claimed under the given lease');
        // The heartbeat keeps the job past its first lease: the worker was alive, so nobody may take it.
        await until(async () => (await jobRow(retryable)).locked_until! > claimed.locked_until!, 'a renewal');
        const renewed = await jobRow(retryable);
        assert.equal(renewed.locked_by, held.workerId);
        assert.equal(renewed.attempts, 1);
      } finally {
        child.kill('SIGKILL');
        await once(child, 'exit').catch(() => {});
        leaseAtKill = (await jobRow(retryable)).locked_until!;
      }

      const runs: Job[] = [];
      const worker = new Worker({
        database: t.database,
        handlers: { crash: async (job) => void runs.push(job) },
        leaseMs: LEASE_MS,
        pollIntervalMs: 20,
      });
      worker.start();
      try {
        await until(async () => {
          const dead = await t.database.db
            .selectFrom('jobs')
            .select('id')
            .where('state', '=', 'dead')
            .executeTakeFirst();
          return runs.length > 0 && dead !== undefined;
        }, 'the takeover');
      } finally {
        await worker.stop();
      }
      assert.deepEqual(
        runs.map((j) => j.id),
        [retryable],
        'the job with attempts left ran once more; the other did not run again',
      );
      assert.equal(runs[0]!.attempts, 2, 'the crashed attempt counts');
      assert.ok(runs[0]!.lockedUntil! - LEASE_MS >= leaseAtKill, 'taken over only after the lease ran out');
      const left = await t.database.db.selectFrom('jobs').selectAll().execute();
      assert.deepEqual(
        left.map((j) => [j.id, j.state, j.attempts, j.last_error, j.locked_by]),
        [[lastAttempt, 'dead', 1, 'lease expired on the last attempt', null]],
      );
    });
  });
}
