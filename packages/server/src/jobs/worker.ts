/**
 * @module jobs/worker
 * Polls the queue, runs handlers under a lease it keeps renewing, and on stop drains: it claims
 * nothing new, lets running jobs finish within a grace period, then aborts the rest and releases
 * their leases so another worker picks them up at once. A worker claims only the kinds it has
 * handlers for, so work nobody here can do stays queued for a worker that can.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Database } from '../store/database.ts';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.ts';
import { claimJobs } from './claim-jobs.ts';
import { completeJob } from './complete-job.ts';
import { describeError, failJob } from './fail-job.ts';
import { heartbeatJobs } from './heartbeat-jobs.ts';
import { type Job, PermanentJobError } from './job.ts';
import { recoverJobs } from './recover-jobs.ts';
import { releaseJobs } from './release-jobs.ts';

export interface JobContext {
  /** Aborted when the lease is lost or the worker stops; the handler should give up promptly. */
  readonly signal: AbortSignal;
  readonly workerId: string;
}

export type JobHandler = (job: Job, context: JobContext) => Promise<void>;

export interface WorkerOptions {
  readonly database: Database;
  readonly handlers: Readonly<Record<string, JobHandler>>;
  readonly workerId?: string;
  /** Jobs run at once by this worker; default 4. */
  readonly concurrency?: number;
  readonly pollIntervalMs?: number;
  /** How long a claim holds without renewal; default 30 s (the platform passes FAXWIRE_JOB_LEASE_MS). */
  readonly leaseMs?: number;
  /** How often held leases are renewed; default a third of the lease, so one missed beat loses nothing. */
  readonly heartbeatIntervalMs?: number;
  readonly groupConcurrency?: (groupKey: string) => number | undefined;
  readonly backoff?: BackoffOptions;
  readonly logger?: Logger;
}

interface Running {
  readonly job: Job;
  readonly controller: AbortController;
  released: boolean;
  done: Promise<void>;
}

/**
 * Events: `completed` (job), `failed` (job, error, outcome), `error` (error) for queue-level
 * failures such as a lost database connection; the loop keeps going after them.
 */
export class Worker extends EventEmitter {
  readonly workerId: string;
  readonly #options: WorkerOptions;
  readonly #concurrency: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #running = new Map<string, Running>();
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #lastRecoverAt = 0;

  constructor(options: WorkerOptions) {
    super();
    this.#options = options;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.#concurrency = options.concurrency ?? 4;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.floor(this.#leaseMs / 3);
    if (!(this.#heartbeatIntervalMs > 0 && this.#heartbeatIntervalMs < this.#leaseMs)) {
      throw new RangeError(
        `job heartbeat every ${this.#heartbeatIntervalMs} ms cannot keep a ${this.#leaseMs} ms lease`,
      );
    }
    // Without listeners an 'error' event would throw; queue-level errors are logged instead.
    this.on('error', (error) => this.#options.logger?.error({ err: error }, 'job queue error'));
  }

  get kinds(): string[] {
    return Object.keys(this.#options.handlers);
  }

  get runningCount(): number {
    return this.#running.size;
  }

  start(): void {
    if (this.#state !== 'idle') throw new Error(`worker ${this.workerId} already ${this.#state}`);
    this.#state = 'running';
    if (this.kinds.length === 0) {
      this.#options.logger?.warn('job worker has no handlers; it will claim nothing');
    }
    this.#heartbeat = setInterval(() => void this.#renewLeases(), this.#heartbeatIntervalMs);
    this.#heartbeat.unref();
    this.#loop = this.#run();
  }

  /** Wakes the poll loop now, e.g. right after enqueueing in this process. */
  notify(): void {
    this.#wake?.();
  }

  /**
   * Stops claiming, waits up to `graceMs` for running jobs, then aborts the rest and releases
   * their leases (their attempt is not counted).
   */
  async stop({ graceMs = 10_000 }: { graceMs?: number } = {}): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'stopped';
      return;
    }
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#wake?.();
    await this.#loop;
    const all = Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    const left = [...this.#running.values()];
    if (left.length > 0) {
      for (const r of left) {
        r.released = true;
        r.controller.abort(new Error('worker stopping'));
      }
      try {
        await releaseJobs(
          this.#options.database,
          left.map((r) => r.job.id),
          this.workerId,
        );
      } catch (error) {
        this.emit('error', error);
      }
      await Promise.all(left.map((r) => r.done));
    }
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#state = 'stopped';
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      let claimed = 0;
      const free = this.#concurrency - this.#running.size;
      try {
        await this.#recoverNow();
        if (free > 0) {
          const jobs = await claimJobs(this.#options.database, {
            workerId: this.workerId,
            kinds: this.kinds,
            limit: free,
            leaseMs: this.#leaseMs,
            groupConcurrency: this.#options.groupConcurrency,
          });
          claimed = jobs.length;
          for (const job of jobs) this.#execute(job);
        }
      } catch (error) {
        this.emit('error', error);
      }
      // Claimed some with room to spare: more may be waiting, so claim again at once. Otherwise sleep
      // until the next poll, or until a finishing job or notify() wakes the loop.
      if (this.#state === 'running' && (claimed === 0 || this.#running.size >= this.#concurrency)) {
        await this.#sleep(this.#pollIntervalMs);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #recoverNow(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastRecoverAt < this.#leaseMs) return;
    this.#lastRecoverAt = now;
    const { requeued, dead } = await recoverJobs(this.#options.database, now);
    if (requeued + dead > 0)
      this.#options.logger?.warn({ requeued, dead }, 'recovered jobs with expired leases');
  }

  #execute(job: Job): void {
    const controller = new AbortController();
    const entry: Running = { job, controller, released: false, done: Promise.resolve() };
    this.#running.set(job.id, entry);
    entry.done = (async () => {
      const handler = this.#options.handlers[job.kind]!;
      let failure: unknown = null;
      let failed = false;
      try {
        await handler(job, { signal: controller.signal, workerId: this.workerId });
      } catch (error) {
        failed = true;
        failure = error;
      }
      try {
        if (entry.released) return;
        if (!failed) {
          if (await completeJob(this.#options.database, job.id, this.workerId)) this.emit('completed', job);
          else this.#options.logger?.warn({ jobId: job.id }, 'job finished after its lease was lost');
        } else {
          const outcome = await failJob(this.#options.database, job, this.workerId, failure, {
            permanent: failure instanceof PermanentJobError,
            backoff: this.#options.backoff ?? DEFAULT_BACKOFF,
          });
          this.#options.logger?.warn(
            { jobId: job.id, kind: job.kind, outcome, error: describeError(failure) },
            'job failed',
          );
          this.emit('failed', job, failure, outcome);
        }
      } catch (error) {
        this.emit('error', error);
      } finally {
        this.#running.delete(job.id);
        this.#wake?.();
      }
    })();
  }

  async #renewLeases(): Promise<void> {
    const ids = [...this.#running.values()].filter((r) => !r.released).map((r) => r.job.id);
    if (ids.length === 0) return;
    try {
      const held = await heartbeatJobs(this.#options.database, ids, this.workerId, this.#leaseMs);
      for (const id of ids) {
        const entry = this.#running.get(id);
        if (entry && !held.has(id)) {
          entry.released = true;
          entry.controller.abort(new Error('job lease lost'));
        }
      }
    } catch (error) {
      this.emit('error', error);
    }
  }
}
