/**
 * @module cli/start-command
 * `faxwire start`: the whole platform in one process — the API, the store and the job worker. On the
 * first start with an empty database it creates an account, two loopback numbers and an API key,
 * written to `<data-dir>/initial-api-key` (mode 0600). SIGINT/SIGTERM shut it down gracefully: stop
 * accepting requests, drain the worker (releasing leases of jobs that do not finish), close the store.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { createApiMetrics } from '../api/api-metrics.ts';
import { buildApp } from '../api/build-app.ts';
import { type Config, ConfigError, loadConfig } from '../config/config.ts';
import { closePdfWorkers } from '../documents/index.ts';
import { bootstrapAccount } from '../domain/accounts.ts';
import { claimableLoopbackRange } from '../domain/claim-loopback-number.ts';
import { SEND_JOB } from '../domain/create-outbound-fax.ts';
import type { DocumentInspector } from '../domain/document-inspector.ts';
import type { FaxLine } from '../domain/fax-line.ts';
import { mediaPrefixesBetween } from '../domain/media-keys.ts';
import { RenderingDocumentInspector } from '../domain/rendering-document-inspector.ts';
import { createSendFaxHandler } from '../domain/send-fax-job.ts';
import { accountSequencerOf } from '../events/account-sequencer.ts';
import type { LiveStreamOptions } from '../events/live-event-stream.ts';
import { startEventBus } from '../events/start-event-bus.ts';
import type { JobHandler } from '../jobs/worker.ts';
import { Worker } from '../jobs/worker.ts';
import { startLines } from '../lines/start-lines.ts';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { type Database, openDatabase } from '../store/database.ts';
import { EncryptedBlobStore } from '../store/encrypted-blob-store.ts';
import { LocalBlobStore } from '../store/local-blob-store.ts';
import { SpooledBlobStore } from '../store/spooled-blob-store.ts';
import { startStorageSweeps } from '../store/sweep-orphan-blobs.ts';
import { writePrivateFile } from '../store/write-private-file.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../webhooks/webhook-dispatcher.ts';

export interface PlatformOptions {
  /**
   * Sends outbound faxes; without one the configured lines run here (loopback by default), and with
   * FAXWIRE_LINES=off `fax.send` jobs stay queued for a process that has a line.
   */
  readonly line?: FaxLine;
  readonly inspector?: DocumentInspector;
  readonly logger?: Logger;
  /** Extra job handlers (webhook delivery, inbound processing…) by job kind. */
  readonly handlers?: Readonly<Record<string, JobHandler>>;
  /** Whether to bind the port; tests use `app.inject()` instead. */
  readonly listen?: boolean;
  readonly shutdownGraceMs?: number;
  /** Which addresses webhooks may reach; default from the configuration (FAXWIRE_WEBHOOK_ALLOW_NETS). */
  readonly webhookPolicy?: OutboundAddressPolicy;
  /** How often live streams and the webhook dispatcher re-read the log unprompted (tests slow it down). */
  readonly eventPolls?: {
    readonly streams?: Pick<LiveStreamOptions, 'keepAliveMs'>;
    readonly webhooks?: Pick<
      WebhookDispatcherOptions,
      'pollIntervalMs' | 'recentSweepIntervalMs' | 'fullSweepIntervalMs'
    >;
  };
}

export interface Platform {
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly blobs: BlobStore;
  readonly worker: Worker;
  readonly webhooks: WebhookDispatcher;
  /** Where the first API key was written, when this start created it. */
  readonly initialKeyPath: string | null;
  readonly address: string | null;
  close(): Promise<void>;
}

export const INITIAL_KEY_FILE = 'initial-api-key';

/** Request URLs carry phone numbers (`/v1/numbers/%2B1…`, `?number=`); logs keep their shape only. */
export function redactUrl(url: string): string {
  return url.replace(/(?<![A-Za-z0-9])(%2B|\+)?[0-9]{7,15}(?![A-Za-z0-9])/gi, '[number]');
}

/** The server's logger: JSON lines, no phone numbers in request logs, no credentials. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    serializers: {
      req: (req: { method: string; url: string; id?: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
      }),
    },
    redact: ['req.headers.authorization', 'headers.authorization'],
  });
}

export function openBlobStore(config: Config): BlobStore {
  const local = new LocalBlobStore(join(config.dataDir, 'blobs'));
  return config.blobEncryptionKey ? new EncryptedBlobStore(local, config.blobEncryptionKey) : local;
}

export async function startPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const logger = options.logger ?? createLogger(config);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = await openDatabase(config.database);
  // On PostgreSQL other processes may write events too; LISTEN/NOTIFY brings them here at once.
  const eventBus = await startEventBus(database, config.database, logger);
  // PostgreSQL: account stream positions are handed out after the commits (events/account-sequencer.ts);
  // the sweeps number what a process that died in between left.
  const sequencer = database.engine === 'postgres' ? accountSequencerOf(database) : null;
  sequencer?.startSweeps({ logger: logger.child({ component: 'account-sequencer' }) });
  // Small documents and received pages are spooled in the transactions that record them (one fsync
  // instead of two on the way to a 202 or an MCF) and moved on to the blob store right after.
  const stored = openBlobStore(config);
  const blobs = new SpooledBlobStore(database, stored, {
    sealing: stored instanceof EncryptedBlobStore ? stored : undefined,
    logger: logger.child({ component: 'blob-spool' }),
  });
  blobs.start();

  let initialKeyPath: string | null = null;
  // The key file is written inside the bootstrap transaction: of processes starting together one bootstraps,
  // and whenever its account exists, so does the file with its key.
  const keyPath = join(config.dataDir, INITIAL_KEY_FILE);
  const boot = await bootstrapAccount(database, claimableLoopbackRange(config), {
    keep: (b) => writePrivateFile(keyPath, `${b.key}\n`),
  });
  if (boot) {
    initialKeyPath = keyPath;
    logger.info(
      { accountId: boot.accountId, numbers: boot.numbers.length, keyFile: initialKeyPath },
      'first start: created an account, two loopback numbers and an API key',
    );
  }

  // Without a line of its own, the process runs the configured carriers (loopback by default).
  const lines = options.line ? null : await startLines({ config, database, blobs, logger });
  const line = options.line ?? lines ?? undefined;
  const handlers: Record<string, JobHandler> = { ...options.handlers };
  if (line) {
    handlers[SEND_JOB] = createSendFaxHandler({ database, blobs, line, config, logger });
  } else {
    logger.warn(
      'no fax line configured: outbound faxes are accepted and stay queued until a process with a line runs',
    );
  }
  const worker = new Worker({
    database,
    handlers,
    leaseMs: config.jobLeaseMs,
    logger: logger.child({ component: 'worker' }),
    ...(lines ? { groupConcurrency: lines.groupConcurrency } : {}),
  });

  const webhookPolicy = options.webhookPolicy ?? new OutboundAddressPolicy(config.webhookAllowNets);
  // On PostgreSQL the dispatcher gets its own pool, so its writes do not queue behind the fax writes.
  const webhookStore = database.engine === 'postgres' ? await openDatabase(config.database) : database;
  const webhooks = new WebhookDispatcher({
    database,
    store: webhookStore,
    policy: webhookPolicy,
    logger: logger.child({ component: 'webhooks' }),
    ...options.eventPolls?.webhooks,
  });

  const inspector = options.inspector ?? new RenderingDocumentInspector();
  let ready = true;
  const app = await buildApp(
    {
      database,
      blobs,
      inspector,
      config,
      metrics: createApiMetrics({ database }),
      onFaxQueued: () => worker.notify(),
      isReady: () => ready,
      webhooks: { policy: webhookPolicy, notify: () => webhooks.notify() },
      ...(options.eventPolls?.streams ? { streams: options.eventPolls.streams } : {}),
    },
    { loggerInstance: logger },
  );
  worker.start();
  webhooks.start();
  // Blobs and upload files a crash left without a row; the blob store's own scratch directory is `.tmp`.
  const sweeps = startStorageSweeps({
    database,
    blobs,
    scratchDirectories: [join(config.dataDir, 'tmp'), join(config.dataDir, 'blobs', '.tmp')],
    // Hourly over the media of the last two days, the whole store at start and once a day.
    recentPrefixes: (now) => mediaPrefixesBetween(now - 48 * 3600_000, now),
    fullEvery: 24,
    blobRoot: join(config.dataDir, 'blobs'),
    keepDirectories: ['.tmp'],
    logger: logger.child({ component: 'storage-sweep' }),
  });

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      ready = false;
      await app.close();
      await sweeps.stop();
      await worker.stop({ graceMs: options.shutdownGraceMs ?? 10_000 });
      await lines?.close();
      await webhooks.stop();
      await blobs.stop();
      await sequencer?.stop();
      if (webhookStore !== database) await webhookStore.close();
      await inspector.close?.();
      await closePdfWorkers();
      await eventBus.close();
      await database.close();
    })();
    return closing;
  };

  let address: string | null = null;
  if (options.listen !== false) {
    try {
      address = await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      await close();
      throw error;
    }
  }

  return {
    app,
    database,
    blobs,
    worker,
    webhooks,
    initialKeyPath,
    address,
    close,
  };
}

/** Reads the configuration; on invalid settings prints every problem and exits with status 2. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`faxwire: ${error.message}\n`);
    process.exit(2);
  }
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the API, the store and the job worker (configured by FAXWIRE_* environment variables)')
    .action(async () => {
      const config = loadConfigOrExit();
      const logger = createLogger(config);
      const platform = await startPlatform(config, { logger });
      if (platform.initialKeyPath) {
        process.stdout.write(`Your first API key is in ${platform.initialKeyPath}\n`);
      }
      process.stdout.write(`Faxwire listening on ${platform.address} (docs: ${platform.address}/docs)\n`);
      const shutdown = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        platform.close().then(
          () => process.exit(0),
          (error) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
