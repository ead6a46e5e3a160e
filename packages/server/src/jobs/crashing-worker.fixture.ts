/**
 * @module jobs/crashing-worker.fixture
 * A worker process for worker-crash.test.ts: it claims one job under a short lease, says so on
 * stdout, and then hangs until it is killed — a crash in the middle of a job.
 */
import type { DatabaseConfig } from '../config/config.ts';
import { openDatabase } from '../store/database.ts';
import { claimJobs } from './claim-jobs.ts';

const config = JSON.parse(process.env.FAXWIRE_FIXTURE_DB!) as DatabaseConfig;
const database = await openDatabase(config);
const jobs = await claimJobs(database, {
  workerId: `doomed-${process.pid}`,
  kinds: ['crash'],
  limit: 1,
  leaseMs: 300,
});
process.stdout.write(`${JSON.stringify(jobs.map((j) => j.id))}\n`);
setInterval(() => {}, 1_000);
