import {
  ApplicationFailure,
  continueAsNew,
  executeChild,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_REBUILD_INTERVAL_MS,
  type SyncCheckpoint,
  type SyncSourceInput,
  type SyncSummary,
  sourceKey,
} from '../src/domain';
import { checkSyncInput } from '../src/domain-validation';
import { RECORD_OPTIONS } from './activity-options';
import { ingestCatalog } from './ingest-catalog';

const { readWatermark, advanceWatermark } = proxyActivities<Activities>(RECORD_OPTIONS);
const { pullSegment } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // A page takes well under a second; a dead worker's pull is retried 20 s after its last beat.
  heartbeatTimeout: '20s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
  },
});

const DEFAULT_OVERLAP_MS = 5 * 60_000;
const DEFAULT_SEGMENT_RECORDS = 10_000;
const DEFAULT_SEGMENTS_PER_RUN = 20;

/**
 * Pulls a tenant's products from a source API into the same two-phase ingestion as files.
 * `incremental` reads from the watermark minus an overlap; `backfill` reads everything. Pages
 * are pulled in segments; each segment becomes one child ingestion (warehouse, catalog jobs,
 * index singleton). Throttling and an exhausted daily quota become durable timers, and the
 * workflow continues as new with its checkpoint before its history grows large, so a source
 * bigger than a day's quota finishes over several days without starting over. The watermark
 * moves to the sync's start time only once every segment is committed.
 */
export async function syncSource(input: SyncSourceInput): Promise<SyncSummary> {
  const invalid = checkSyncInput(input);
  if (invalid)
    throw ApplicationFailure.nonRetryable(`invalid syncSource input: ${invalid}`, 'InvalidInput');
  const info = workflowInfo();
  const mode = input.mode ?? 'incremental';
  const cp: SyncCheckpoint = input.checkpoint ?? (await firstCheckpoint(input, mode));
  const segmentsPerRun = input.segmentsPerRun ?? DEFAULT_SEGMENTS_PER_RUN;
  let segmentsThisRun = 0;

  for (;;) {
    const segmentId = `${cp.syncId}-s${cp.segments}`;
    const pulled = await pullSegment({
      segmentId,
      workflowId: info.workflowId,
      tenant: input.tenant,
      catalog: input.catalog,
      source: input.source,
      cursor: cp.cursor,
      since: cp.since,
      pageSize: input.pageSize ?? 250,
      maxRecords: input.segmentRecords ?? DEFAULT_SEGMENT_RECORDS,
    });
    if (pulled.records + pulled.rejected > 0) await ingestSegment(input, segmentId, cp.segments);

    cp.segments++;
    cp.records += pulled.records;
    cp.pages += pulled.pages;
    cp.cursor = pulled.next;
    cp.pacedMs = (cp.pacedMs ?? 0) + (pulled.pacedMs ?? 0);
    cp.rateLimited = (cp.rateLimited ?? 0) + (pulled.rateLimited ?? 0);

    if (pulled.waitUntil !== undefined) {
      if (pulled.waitReason === 'quota') cp.quotaWaits++;
      else cp.throttledWaits++;
      await sleep(Math.max(1_000, pulled.waitUntil - Date.now()));
    } else if (cp.cursor === null) {
      break;
    }
    segmentsThisRun++;
    if (segmentsThisRun >= segmentsPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof syncSource>({ ...input, checkpoint: cp });
    }
  }

  const watermark = await advanceWatermark({
    tenant: input.tenant,
    catalog: input.catalog,
    source: input.source,
    value: cp.startedAt,
  });
  return {
    syncId: cp.syncId,
    tenant: input.tenant,
    catalog: input.catalog,
    source: sourceKey(input.source),
    mode,
    since: cp.since,
    records: cp.records,
    pages: cp.pages,
    segments: cp.segments,
    throttledWaits: cp.throttledWaits,
    quotaWaits: cp.quotaWaits,
    pacedMs: cp.pacedMs ?? 0,
    rateLimited: cp.rateLimited ?? 0,
    watermark,
  };
}

async function firstCheckpoint(
  input: SyncSourceInput,
  mode: 'incremental' | 'backfill',
): Promise<SyncCheckpoint> {
  const watermark =
    mode === 'backfill'
      ? null
      : await readWatermark({ tenant: input.tenant, catalog: input.catalog, source: input.source });
  const overlap = input.overlapMs ?? DEFAULT_OVERLAP_MS;
  const since = watermark === null ? null : new Date(Date.parse(watermark) - overlap).toISOString();
  return {
    syncId: workflowInfo().firstExecutionRunId,
    cursor: null,
    since,
    startedAt: Date.now(),
    segments: 0,
    records: 0,
    pages: 0,
    throttledWaits: 0,
    quotaWaits: 0,
  };
}

/** Sends one pulled segment through the ingestion: warehouse commit, catalog jobs, index. */
async function ingestSegment(
  input: SyncSourceInput,
  segmentId: string,
  segment: number,
): Promise<void> {
  await executeChild(ingestCatalog, {
    workflowId: `${workflowInfo().workflowId}/segment-${segment}`,
    args: [
      {
        tenant: input.tenant,
        catalog: input.catalog,
        source: { kind: 'staged', ingestionId: segmentId, description: sourceKey(input.source) },
        ...(input.catalogApi ? { catalogApi: input.catalogApi } : {}),
        pollIntervalMs: input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
        rebuildIntervalMs: input.rebuildIntervalMs ?? DEFAULT_REBUILD_INTERVAL_MS,
      },
    ],
  });
}
