/**
 * @module jobs/worker-crash.test
 * Crash recovery with real processes: a worker process claims a job and is killed with SIGKILL;
 * once its lease runs out, a worker in this process takes the job over and completes it, once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { enqueueJob } from './enqueue-job.ts';
import type { Job } from './job.ts';
import { Worker } from './worker.ts';

const FIXTURE = fileURLToPath(new URL('./crashing-worker.fixture.ts', import.meta.url));

for (const engine of TEST_ENGINES) {
  describe(`worker crash recovery (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t.dispose());

    it('takes over the job of a killed worker process after its lease expires', async () => {
      const { id } = await t.database.writeTransaction((trx) =>
        enqueueJob(trx, { kind: 'crash', payload: { n: 1 } }),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
        env: { ...process.env, FAXWIRE_FIXTURE_DB: JSON.stringify(t.config) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const [line] = (await once(child.stdout!, 'data')) as [Buffer];
        assert.deepEqual(JSON.parse(line.toString()), [id]);
      } finally {
        child.kill('SIGKILL');
        await once(child, 'exit').catch(() => {});
      }
      const runs: Job[] = [];
      const worker = new Worker({
        database: t.database,
        handlers: { crash: async (job) => void runs.push(job) },
        pollIntervalMs: 20,
      });
      worker.start();
      try {
        for (let i = 0; i < 200 && runs.length === 0; i++) await sleep(25);
      } finally {
        await worker.stop();
      }
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.id, id);
      assert.equal(runs[0]!.attempts, 2, 'the crashed attempt counts');
      const left = await t.database.db.selectFrom('jobs').selectAll().execute();
      assert.deepEqual(left, []);
    });
  });
}
