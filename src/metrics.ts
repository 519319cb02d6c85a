import { Counter, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';

const SIZE_BUCKETS = [256, 1024, 16_384, 131_072, 1_048_576, 4_194_304, 5_242_880, 16_777_216];
const LATENCY_BUCKETS = [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30];
const LAG_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/** The service's Prometheus metrics, on a registry of their own so tests can read them. */
export class Metrics {
  readonly registry = new Registry();

  /** Calls by endpoint template (never a raw URL with ids), method and status (or `network`). */
  readonly httpDuration = new Histogram({
    name: 'catalog_ingest_http_request_duration_seconds',
    help: 'Outgoing HTTP call duration',
    labelNames: ['endpoint', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly httpRequestBytes = new Histogram({
    name: 'catalog_ingest_http_request_bytes',
    help: 'Outgoing HTTP request body size',
    labelNames: ['endpoint', 'method'] as const,
    buckets: SIZE_BUCKETS,
    registers: [this.registry],
  });

  readonly httpResponseBytes = new Histogram({
    name: 'catalog_ingest_http_response_bytes',
    help: 'HTTP response body size',
    labelNames: ['endpoint', 'method', 'status'] as const,
    buckets: SIZE_BUCKETS,
    registers: [this.registry],
  });

  /** Source update time to a successful index rebuild covering it. */
  readonly searchLag = new Histogram({
    name: 'catalog_ingest_source_to_search_lag_seconds',
    help: 'Lag from a product update at the source to the index rebuild that makes it searchable',
    labelNames: ['tenant', 'catalog'] as const,
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  readonly searchLagQuantiles = new Summary({
    name: 'catalog_ingest_source_to_search_lag_quantiles_seconds',
    help: 'p50/p95/p99 of the source-to-search lag over the last 10 minutes',
    labelNames: ['tenant', 'catalog'] as const,
    percentiles: [0.5, 0.95, 0.99],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [this.registry],
  });

  readonly records = new Counter({
    name: 'catalog_ingest_records_total',
    help: 'Source records by outcome (accepted, rejected)',
    labelNames: ['tenant', 'catalog', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Records one lag observation in both the histogram and the quantile summary. */
  observeLag(tenant: string, catalog: string, seconds: number): void {
    this.searchLag.observe({ tenant, catalog }, seconds);
    this.searchLagQuantiles.observe({ tenant, catalog }, seconds);
  }
}
