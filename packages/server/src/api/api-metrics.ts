/**
 * @module api/api-metrics
 * Prometheus metrics of the API, in a registry of its own so several apps (tests) never collide.
 */
import { sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../store/database.ts';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly requestSeconds: Histogram<'method' | 'route'>;
  readonly faxesAccepted: Counter;
}

export interface ApiMetricsOptions {
  readonly defaultMetrics?: boolean;
  /** When given, each scrape also reports the job queue by kind and state. */
  readonly database?: Database;
}

export function createApiMetrics({ defaultMetrics = true, database }: ApiMetricsOptions = {}): ApiMetrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'faxwire_' });
  if (database) {
    new Gauge({
      name: 'faxwire_jobs',
      help: 'Jobs in the queue: ready (due), scheduled (later), running (leased), dead',
      labelNames: ['kind', 'state'],
      registers: [registry],
      async collect() {
        const now = Date.now();
        const { rows } = await sql<{ kind: string; bucket: string; n: number }>`
          select kind,
                 case when state = 'dead' then 'dead'
                      when locked_until >= ${now} then 'running'
                      when run_at > ${now} then 'scheduled'
                      else 'ready' end as bucket,
                 count(*) as n
          from jobs group by kind, bucket`.execute(database.db);
        this.reset();
        for (const row of rows) this.set({ kind: row.kind, state: row.bucket }, Number(row.n));
      },
    });
  }
  return {
    registry,
    requests: new Counter({
      name: 'faxwire_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'faxwire_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    faxesAccepted: new Counter({
      name: 'faxwire_faxes_accepted_total',
      help: 'Outbound faxes accepted and queued',
      registers: [registry],
    }),
  };
}
