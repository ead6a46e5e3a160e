/**
 * @module config/config
 * The server's configuration, read once from the environment, validated, typed and frozen.
 * Every setting has a default that runs the embedded deployment (SQLite and a local blob directory).
 */
import { resolve } from 'node:path';
import { type LinesConfig, parseLinesConfig } from '../lines/lines-config.ts';
import { parseCidr } from '../net/outbound-address-policy.ts';

/** Raised with every invalid variable listed, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type DatabaseConfig =
  | { readonly engine: 'sqlite'; readonly path: string }
  | {
      readonly engine: 'postgres';
      readonly url: string;
      /** Connections of this process's pool (FAXWIRE_DATABASE_POOL_SIZE); default 10. */
      readonly poolSize?: number;
    };

export interface LimitsConfig {
  /** Largest single document accepted, in bytes (after base64 decoding). */
  readonly documentMaxBytes: number;
  /** Most documents in one fax. */
  readonly documentsPerFax: number;
  /** Most pages in one fax, across all documents. */
  readonly pagesPerFax: number;
  /** Largest HTTP body accepted; JSON bodies carry base64, a third larger than the bytes. */
  readonly requestMaxBytes: number;
  /** Requests a second per API key (token bucket; burst is the same figure). 0 turns it off. */
  readonly requestsPerSecond: number;
  /** A document given by URL: time to resolve and connect to each server it is fetched from. */
  readonly documentFetchConnectTimeoutMs: number;
  /** A document given by URL: time for the whole fetch, redirects and body included. */
  readonly documentFetchTimeoutMs: number;
}

export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  /** Inclusive range of E.164 numbers the built-in loopback carrier hands out. */
  readonly loopbackRange: { readonly first: string; readonly last: string };
  /** Carriers of this process: the loopback carrier, SIP trunks (lines/lines-config.ts). */
  readonly lines: LinesConfig;
  readonly limits: LimitsConfig;
  /** 32-byte key for AES-256-GCM encryption of blobs at rest; null stores blobs in clear. */
  readonly blobEncryptionKey: Buffer | null;
  /** Private networks webhooks may reach anyway (FAXWIRE_WEBHOOK_ALLOW_NETS, comma-separated CIDRs). */
  readonly webhookAllowNets: readonly string[];
  /** Private networks document URLs may point at anyway (FAXWIRE_FETCH_ALLOW_NETS, comma-separated CIDRs). */
  readonly fetchAllowNets: readonly string[];
  /**
   * How long a claimed job stays leased to its worker without a heartbeat (FAXWIRE_JOB_LEASE_MS). A crashed
   * worker's jobs are taken over once it runs out; workers renew it every third of it.
   */
  readonly jobLeaseMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const E164 = /^\+[1-9][0-9]{6,14}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads the configuration from `env` (defaults to `process.env`).
 * @throws ConfigError listing every invalid variable.
 * @example
 * const config = loadConfig({ FAXWIRE_DATA_DIR: '/var/lib/faxwire', FAXWIRE_PORT: '8080' });
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^[0-9]+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  };

  const dataDir = resolve(env.FAXWIRE_DATA_DIR || './data');
  const port = int('FAXWIRE_PORT', 8080, 0, 65535);
  const host = env.FAXWIRE_HOST || '127.0.0.1';

  let database: DatabaseConfig = { engine: 'sqlite', path: resolve(dataDir, 'faxwire.db') };
  const url = env.FAXWIRE_DATABASE_URL;
  if (url) {
    if (/^postgres(ql)?:\/\//.test(url)) {
      database = { engine: 'postgres', url, poolSize: int('FAXWIRE_DATABASE_POOL_SIZE', 10, 1, 500) };
    } else if (url.startsWith('sqlite:'))
      database = { engine: 'sqlite', path: resolve(url.slice('sqlite:'.length)) };
    else problems.push('FAXWIRE_DATABASE_URL must start with postgres://, postgresql:// or sqlite:');
  }

  let loopbackRange = { first: '+14155550100', last: '+14155550199' };
  const rawRange = env.FAXWIRE_LOOPBACK_NUMBERS;
  if (rawRange) {
    const [first, last, ...rest] = rawRange.split('-').map((s) => s.trim());
    if (rest.length > 0 || !first || !last || !E164.test(first) || !E164.test(last)) {
      problems.push(`FAXWIRE_LOOPBACK_NUMBERS must be "<first E.164>-<last E.164>", got "${rawRange}"`);
    } else if (first.length !== last.length || first > last) {
      problems.push('FAXWIRE_LOOPBACK_NUMBERS: both ends must have the same length and first ≤ last');
    } else {
      loopbackRange = { first, last };
    }
  }

  const lines = parseLinesConfig(env, loopbackRange, problems);

  const documentMaxBytes = int('FAXWIRE_DOCUMENT_MAX_BYTES', 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const documentsPerFax = int('FAXWIRE_DOCUMENTS_PER_FAX', 10, 1, 100);
  const pagesPerFax = int('FAXWIRE_PAGES_PER_FAX', 200, 1, 10000);
  const requestsPerSecond = int('FAXWIRE_RATE_LIMIT_PER_SECOND', 100, 0, 1_000_000);
  const documentFetchConnectTimeoutMs = int('FAXWIRE_FETCH_CONNECT_TIMEOUT_MS', 10_000, 1, 120_000);
  const documentFetchTimeoutMs = int('FAXWIRE_FETCH_TIMEOUT_MS', 60_000, 1, 600_000);
  // Below a second the heartbeat (a third of the lease) would race ordinary database latency.
  const jobLeaseMs = int('FAXWIRE_JOB_LEASE_MS', 30_000, 1000, 3_600_000);
  // base64 costs 4/3; a whole fax's documents must fit, plus room for the other fields.
  const requestMaxBytes = Math.ceil((documentMaxBytes * documentsPerFax * 4) / 3) + 64 * 1024;

  let blobEncryptionKey: Buffer | null = null;
  const rawKey = env.FAXWIRE_BLOB_ENCRYPTION_KEY;
  if (rawKey) {
    const key = /^[0-9a-fA-F]{64}$/.test(rawKey) ? Buffer.from(rawKey, 'hex') : Buffer.from(rawKey, 'base64');
    if (key.length !== 32)
      problems.push('FAXWIRE_BLOB_ENCRYPTION_KEY must be 32 bytes as 64 hex digits or base64');
    else blobEncryptionKey = key;
  }

  const allowNets = (name: string): string[] => {
    const nets: string[] = [];
    for (const net of (env[name] ?? '').split(',').map((s) => s.trim())) {
      if (net === '') continue;
      try {
        // parseCidr reads "10.0.0.0/" as /0 and ignores a second slash; neither is a network anyone means.
        if (!/^[^/]+(\/[0-9]{1,3})?$/.test(net)) throw new RangeError(`not a CIDR: "${net}"`);
        parseCidr(net);
        nets.push(net);
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
      }
    }
    return nets;
  };
  const webhookAllowNets = allowNets('FAXWIRE_WEBHOOK_ALLOW_NETS');
  const fetchAllowNets = allowNets('FAXWIRE_FETCH_ALLOW_NETS');

  const logLevel = (env.FAXWIRE_LOG_LEVEL || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`FAXWIRE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    dataDir,
    host,
    port,
    database: Object.freeze(database),
    loopbackRange: Object.freeze(loopbackRange),
    lines,
    limits: Object.freeze({
      documentMaxBytes,
      documentsPerFax,
      pagesPerFax,
      requestMaxBytes,
      requestsPerSecond,
      documentFetchConnectTimeoutMs,
      documentFetchTimeoutMs,
    }),
    blobEncryptionKey,
    webhookAllowNets: Object.freeze(webhookAllowNets),
    fetchAllowNets: Object.freeze(fetchAllowNets),
    jobLeaseMs,
    logLevel,
  });
}
