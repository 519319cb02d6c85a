/**
 * Inputs and results that cross the workflow/activity boundary. Pure types and constants only:
 * workflows import this file, so it must never import I/O.
 */

export type FeedMode = 'full' | 'delta';

export interface FileSource {
  kind: 'file';
  /** Path as the worker sees it. */
  path: string;
  /** `json`, `jsonl`, `csv` or `tsv`. Default: detected from the extension and first bytes. */
  format?: 'json' | 'jsonl' | 'csv' | 'tsv';
  /** A preset name (`bestbuy`, `shopify`, `google-retail`, ...) or a mapping file. Default: detected. */
  mapping?: string;
}

/** Records already staged in the warehouse under an ingestion id (by a source pull). */
export interface StagedSource {
  kind: 'staged';
  ingestionId: string;
  /** Where the records came from, for people. */
  description: string;
}

export interface ShopifySource {
  kind: 'shopify';
  /** The shop's base URL, e.g. `https://acme.myshopify.com`. */
  baseUrl: string;
  /** Name of the access token the worker resolves. */
  keyRef: string;
  /** Default: `2024-10`. */
  apiVersion?: string;
  /** Bucket size. Default: 40 (standard plan; 80 Advanced, 400 Plus). */
  bucketSize?: number;
  /** Requests per second the bucket leaks. Default: 2 (standard plan; 4 Advanced, 20 Plus). */
  leakPerSecond?: number;
}

export interface SalesforceSource {
  kind: 'salesforce';
  /** The org's instance URL, e.g. `https://acme.my.salesforce.com`. */
  baseUrl: string;
  keyRef: string;
  /** Default: `v59.0`. */
  apiVersion?: string;
  /** SObject holding the products. Default: `Product2`. */
  sobject?: string;
  /** Requests per minute allowed for this tenant. Default: 200. */
  perMinute?: number;
  /** Wait before trying again once the daily quota is spent. Default: 15 minutes. */
  quotaRetryMs?: number;
}

export type ApiSource = ShopifySource | SalesforceSource;

/** A source's identity in watermarks and schedules: kind and base URL. */
export function sourceKey(source: ApiSource): string {
  return `${source.kind}:${source.baseUrl.replace(/\/+$/, '')}`;
}

export interface CatalogApiRef {
  /** Catalog API account. Default: the worker's `CATALOG_API_ACCOUNT`. */
  account?: string;
  /** Name of the API key, resolved in the worker. Never the key itself. Default: `default`. */
  keyRef?: string;
}

export interface IngestCatalogInput {
  tenant: string;
  catalog: string;
  source: FileSource | StagedSource;
  /** `delta` PATCHes batches; `full` replaces the catalog with one PUT. Default: `delta`. */
  mode?: FeedMode;
  catalogApi?: CatalogApiRef;
  batching?: { maxProducts?: number; maxBytes?: number };
  /** Delay between job status checks. Default: 10 s. */
  pollIntervalMs?: number;
  /** Give up on a job after this long. Default: 2 hours, as the vendor's connector. */
  jobTimeoutMs?: number;
  /** Jobs waited on at once. Default: 4. */
  maxJobsInFlight?: number;
  /** Ask the index singleton for a rebuild after success. Default: true. */
  requestIndexRebuild?: boolean;
  /** Minimum time between index rebuilds, used if this ingestion starts the singleton. Default: 1 h. */
  rebuildIntervalMs?: number;
  /** Fail the ingestion when more than this share of records is rejected. Default: 0.5. */
  maxRejectedShare?: number;
  /** Allow a full feed to remove more than half of the catalog's products. Default: false. */
  allowShrink?: boolean;
  /** Send every product, even those the catalog API already holds in that version. Default: false. */
  resend?: boolean;
}

export interface StageInput {
  ingestionId: string;
  workflowId: string;
  tenant: string;
  catalog: string;
  source: FileSource | StagedSource;
  mode: FeedMode;
  maxProducts: number;
  maxBytes: number;
  /** Checked before anything is written, so a wrong key name fails at once. */
  keyRef: string;
  /** Fail when more than this share of the records is rejected. */
  maxRejectedShare: number;
  /** Let a full feed drop more than half of the catalog's products. */
  allowShrink: boolean;
  /** Send products the catalog API already holds in that version. */
  resend: boolean;
  /** The catalog API account the batches go to. */
  account: string;
  /** The workflow that started this one: only it may hand over records it staged itself. */
  parentWorkflowId?: string;
}

export interface StageSummary {
  format: string;
  mapping: string;
  recordsRead: number;
  rejected: number;
  duplicates: number;
  products: number;
  upserted: number;
  unchanged: number;
  /** Staged products not sent because the warehouse already holds a newer version. */
  stale: number;
  /** Products a full feed removed from the catalog (absent from the feed). */
  removed: number;
  /** Products the catalog API already held in this exact version: not sent. */
  alreadyDelivered: number;
  batches: number;
  bytes: number;
}

export interface SubmitBatchInput {
  ingestionId: string;
  tenant: string;
  catalog: string;
  seq: number;
  mode: FeedMode;
  account: string;
  keyRef: string;
}

export interface SubmitBatchResult {
  jobId: string;
  /** True when the job id was already recorded and nothing was sent. */
  reused: boolean;
}

export interface AwaitJobInput {
  jobId: string;
  keyRef: string;
}

export interface JobOutcome {
  jobId: string;
  state: string;
  rawStatus: string;
  polls: number;
  message?: string;
  /** Epoch ms the job stopped, as the API reported (or when it was seen ended). */
  stoppedAt: number;
}

export interface RebuildRequest {
  ingestionId: string;
  /** Epoch ms. */
  requestedAt: number;
}

export interface IndexRebuildInput {
  tenant: string;
  catalog: string;
  account: string;
  keyRef: string;
  /** Minimum time between two rebuilds. Default: 1 hour. */
  minIntervalMs?: number;
  /** Default: 10 s. */
  pollIntervalMs?: number;
  /** Wait after a failed index job before trying again. Default: 10 minutes. */
  retryAfterFailureMs?: number;
  /** Rebuilds before the workflow continues as new. Default: 50. */
  rebuildsPerRun?: number;
  /** State carried over continue-as-new. */
  carried?: {
    pending: RebuildRequest[];
    lastStartedAt: number | null;
    nextEarliestAt: number;
    rebuilds: number;
  };
}

export interface RebuildStatus {
  pending: number;
  running: boolean;
  rebuilds: number;
  lastStartedAt: number | null;
  nextEarliestAt: number | null;
}

export interface IngestSummary {
  ingestionId: string;
  tenant: string;
  catalog: string;
  stage: StageSummary;
  jobs: { seq: number; jobId: string; state: string; polls: number }[];
  polls: number;
  indexRebuildRequested: boolean;
  durationMs: number;
}

export interface IngestProgress {
  phase: 'staging' | 'submitting' | 'recording' | 'done' | 'failed';
  batches: number;
  submitted: number;
  finished: number;
  failed: number;
}

export interface SyncSourceInput {
  tenant: string;
  catalog: string;
  source: ApiSource;
  /** `incremental` reads from the watermark; `backfill` reads everything. Default: incremental. */
  mode?: 'incremental' | 'backfill';
  /** Re-read this much before the watermark, for clock skew and equal timestamps. Default: 5 min. */
  overlapMs?: number;
  /** Records per page requested. Default: 250. */
  pageSize?: number;
  /** Records pulled before they are sent on as one ingestion. Default: 10,000. */
  segmentRecords?: number;
  /** Segments before the workflow continues as new. Default: 20. */
  segmentsPerRun?: number;
  catalogApi?: CatalogApiRef;
  pollIntervalMs?: number;
  rebuildIntervalMs?: number;
  /** State carried over continue-as-new and quota waits. */
  checkpoint?: SyncCheckpoint;
}

export interface SyncCheckpoint {
  syncId: string;
  /** Cursor of the next page to read; null before the first page. */
  cursor: string | null;
  since: string | null;
  /** Workflow time the sync started; becomes the watermark when it ends. Epoch ms. */
  startedAt: number;
  segments: number;
  records: number;
  pages: number;
  throttledWaits: number;
  quotaWaits: number;
  /** Time spent waiting for the shared rate limit inside pulls, in ms. */
  pacedMs?: number;
  /** Answers 429 (or 423) from the source. */
  rateLimited?: number;
}

export interface PullSegmentInput {
  segmentId: string;
  workflowId: string;
  tenant: string;
  catalog: string;
  source: ApiSource;
  cursor: string | null;
  since: string | null;
  pageSize: number;
  maxRecords: number;
}

export interface PullSegmentResult {
  records: number;
  rejected: number;
  pages: number;
  /** Cursor of the first page not read; null when the source is exhausted. */
  next: string | null;
  /** Set when the pull stopped early to let the workflow wait without holding a worker slot. */
  waitUntil?: number;
  waitReason?: 'throttled' | 'quota';
  /** Time this pull waited for the shared rate limit, in ms. */
  pacedMs?: number;
  /** Answers 429 (or 423) this pull received. */
  rateLimited?: number;
}

export interface SyncSummary {
  syncId: string;
  tenant: string;
  catalog: string;
  source: string;
  mode: 'incremental' | 'backfill';
  since: string | null;
  records: number;
  pages: number;
  segments: number;
  /** Waits too long for a worker slot, spent in durable timers. */
  throttledWaits: number;
  quotaWaits: number;
  /** Time spent waiting for the shared rate limit inside pulls, in ms. */
  pacedMs: number;
  /** Answers 429 (or 423) from the source. */
  rateLimited: number;
  watermark: string;
}

/** The index singleton's workflow id: one per tenant and catalog. */
export function indexRebuildWorkflowId(tenant: string, catalog: string): string {
  return `index-rebuild/${tenant}/${catalog}`;
}

export const REQUEST_REBUILD_SIGNAL = 'requestRebuild';
export const REBUILD_STATUS_QUERY = 'rebuildStatus';
export const INGEST_PROGRESS_QUERY = 'progress';

export const DEFAULT_POLL_INTERVAL_MS = 10_000;
export const DEFAULT_REBUILD_INTERVAL_MS = 3_600_000;
export const DEFAULT_JOB_TIMEOUT_MS = 2 * 3_600_000;
/** Under the API's 5 MiB body limit, with room for headers and rounding. */
export const DEFAULT_MAX_BATCH_BYTES = 4_500_000;
export const DEFAULT_MAX_BATCH_PRODUCTS = 5_000;
/** A full feed is one jsonlines PUT (it replaces the catalog), up to the API's 1 GB limit. */
export const FULL_FEED_MAX_BYTES = 900_000_000;
