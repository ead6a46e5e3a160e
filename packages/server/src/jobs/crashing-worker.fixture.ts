/**
 * @module jobs/crashing-worker.fixture
 * A worker process for worker-crash.test.ts: a real Worker under the lease FAXWIRE_FIXTURE_LEASE_MS, whose
 * handler never finishes. Once it holds `FAXWIRE_FIXTURE_EXPECT` jobs it prints their ids and its worker id
 * as one JSON line, and keeps renewing their leases until it is killed — a crash in the middle of the jobs.
 */
import type { DatabaseConfig } from '../config/config.ts';
import { openDatabase } from '../store/database.ts';
import { Worker } from './worker.ts';

const config = JSON.parse(process.env.FAXWIRE_FIXTURE_DB!) as DatabaseConfig;
const leaseMs = Number(process.env.FAXWIRE_FIXTURE_LEASE_MS);
const expect = Number(process.env.FAXWIRE_FIXTURE_EXPECT ?? '1');
const database = await openDatabase(config);
const held: string[] = [];
const worker = new Worker({
  database,
  leaseMs,
  pollIntervalMs: 20,
  handlers: {
    crash: (job) => {
      held.push(job.id);
      if (held.length === expect) {
        process.stdout.write(`${JSON.stringify({ workerId: worker.workerId, jobs: held })}\n`);
      }
      return new Promise<void>(() => {});
    },
  },
});
worker.start();
