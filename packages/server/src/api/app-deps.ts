/**
 * @module api/app-deps
 * What the API needs from the rest of the platform; tests build it with fakes where they want to.
 */
import type { Config } from '../config/config.ts';
import type { DocumentInspector } from '../domain/document-inspector.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Database } from '../store/database.ts';
import type { ApiMetrics } from './api-metrics.ts';

export interface AppDeps {
  readonly database: Database;
  readonly blobs: BlobStore;
  readonly inspector: DocumentInspector;
  readonly config: Pick<
    Config,
    'dataDir' | 'limits' | 'loopbackRange' | 'lines' | 'webhookAllowNets' | 'fetchAllowNets'
  >;
  readonly metrics?: ApiMetrics;
  /** Called after a fax was queued, e.g. to wake an in-process worker. */
  readonly onFaxQueued?: () => void;
  /** Whether the server is ready to take work; /healthz reports it. */
  readonly isReady?: () => boolean;
  readonly now?: () => number;
}
