import {
  ApplicationFailure,
  condition,
  defineQuery,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  DEFAULT_JOB_TIMEOUT_MS,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_PRODUCTS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_REBUILD_INTERVAL_MS,
  FULL_FEED_MAX_BYTES,
  INGEST_PROGRESS_QUERY,
  type IngestCatalogInput,
  type IngestProgress,
  type IngestSummary,
  type JobOutcome,
} from '../src/domain';
import { checkIngestInput } from '../src/domain-validation';
import { RECORD_OPTIONS, STAGE_OPTIONS, SUBMIT_OPTIONS, pollOptions } from './activity-options';

export const progressQuery = defineQuery<IngestProgress>(INGEST_PROGRESS_QUERY);

const { stageSource } = proxyActivities<Activities>(STAGE_OPTIONS);
const { submitBatch } = proxyActivities<Activities>(SUBMIT_OPTIONS);
const { recordIngestionOutcome, requestIndexRebuild } = proxyActivities<Activities>(RECORD_OPTIONS);

interface BatchFailure {
  seq: number;
  jobId?: string;
  reason: string;
}

/**
 * Ingests one source into one catalog: stage and validate into the warehouse, submit the
 * batches, wait for every job, record the outcome, then ask the catalog's index singleton for a
 * rebuild. Any batch whose job does not end in `success` fails the ingestion, with no rebuild.
 * Only references (ingestion id, batch numbers, job ids) pass through history.
 */
export async function ingestCatalog(input: IngestCatalogInput): Promise<IngestSummary> {
  const invalid = checkIngestInput(input);
  if (invalid)
    throw ApplicationFailure.nonRetryable(
      `invalid ingestCatalog input: ${invalid}`,
      'InvalidInput',
    );
  const info = workflowInfo();
  // Records a source pull staged keep the pull's id; a file gets this run's id.
  const ingestionId =
    input.source.kind === 'staged' ? input.source.ingestionId : info.firstExecutionRunId;
  const started = Date.now();
  const mode = input.mode ?? 'delta';
  // Without an explicit account each tenant gets its own, so tenants never share a catalog.
  const account = input.catalogApi?.account ?? input.tenant;
  const keyRef = input.catalogApi?.keyRef ?? 'default';
  const progress: IngestProgress = {
    phase: 'staging',
    batches: 0,
    submitted: 0,
    finished: 0,
    failed: 0,
  };
  setHandler(progressQuery, () => progress);

  const stage = await stageSource({
    ingestionId,
    workflowId: info.workflowId,
    tenant: input.tenant,
    catalog: input.catalog,
    source: input.source,
    mode,
    maxProducts:
      mode === 'full'
        ? Number.MAX_SAFE_INTEGER
        : (input.batching?.maxProducts ?? DEFAULT_MAX_BATCH_PRODUCTS),
    maxBytes:
      mode === 'full' ? FULL_FEED_MAX_BYTES : (input.batching?.maxBytes ?? DEFAULT_MAX_BATCH_BYTES),
    keyRef,
    maxRejectedShare: input.maxRejectedShare ?? 0.5,
    allowShrink: input.allowShrink ?? false,
    resend: input.resend ?? false,
    account,
    ...(info.parent ? { parentWorkflowId: info.parent.workflowId } : {}),
  }).catch(async (err: unknown) => {
    const from = input.source.kind === 'file' ? input.source.path : input.source.description;
    const error = `ingestion failed while reading ${from}: ${causeMessage(err)}`;
    progress.phase = 'failed';
    // Records staged by a sync belong to it: a run started by hand records nothing on them.
    const owns = input.source.kind !== 'staged' || info.parent !== undefined;
    if (owns) await recordIngestionOutcome({ ingestionId, status: 'failed', error });
    // The cause keeps the activity's failure type (CI_SOURCE_FORMAT, ...) for callers and the UI.
    throw ApplicationFailure.create({
      message: error,
      type: 'IngestionFailed',
      nonRetryable: true,
      ...(err instanceof Error ? { cause: err } : {}),
    });
  });
  progress.phase = 'submitting';
  progress.batches = stage.batches;

  const { awaitJob } = proxyActivities<Activities>(
    pollOptions(
      input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      input.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
    ),
  );
  const jobs: IngestSummary['jobs'] = [];
  const failures: BatchFailure[] = [];
  const waits: Promise<void>[] = [];
  const maxInFlight = Math.max(1, input.maxJobsInFlight ?? 4);
  let inFlight = 0;

  for (let seq = 0; seq < stage.batches && failures.length === 0; seq++) {
    await condition(() => inFlight < maxInFlight || failures.length > 0);
    if (failures.length > 0) break;

    let jobId: string;
    try {
      ({ jobId } = await submitBatch({
        ingestionId,
        tenant: input.tenant,
        catalog: input.catalog,
        seq,
        mode,
        account,
        keyRef,
      }));
    } catch (err) {
      failures.push({ seq, reason: `could not be submitted: ${causeMessage(err)}` });
      break;
    }
    progress.submitted++;
    inFlight++;
    const batchSeq = seq;
    waits.push(
      awaitJob({ jobId, keyRef })
        .then((outcome: JobOutcome) => {
          jobs.push({ seq: batchSeq, jobId, state: outcome.rawStatus, polls: outcome.polls });
          if (outcome.state !== 'success') {
            failures.push({
              seq: batchSeq,
              jobId,
              reason: `ended ${outcome.rawStatus}${outcome.message ? `: ${outcome.message}` : ''}`,
            });
          }
        })
        .catch((err: unknown) => {
          jobs.push({ seq: batchSeq, jobId, state: 'unknown', polls: 0 });
          failures.push({ seq: batchSeq, jobId, reason: `has no known end: ${causeMessage(err)}` });
        })
        .finally(() => {
          inFlight--;
          progress.finished++;
        }),
    );
  }
  await Promise.all(waits);
  jobs.sort((a, b) => a.seq - b.seq);
  progress.phase = 'recording';

  if (failures.length > 0) {
    progress.failed = failures.length;
    const error = describeFailures(failures);
    await recordIngestionOutcome({ ingestionId, status: 'failed', error });
    progress.phase = 'failed';
    throw ApplicationFailure.nonRetryable(error, 'IngestionFailed');
  }
  await recordIngestionOutcome({ ingestionId, status: 'succeeded' });

  const rebuild = input.requestIndexRebuild !== false && stage.batches > 0;
  if (rebuild) {
    await requestIndexRebuild({
      singleton: {
        tenant: input.tenant,
        catalog: input.catalog,
        account,
        keyRef,
        minIntervalMs: input.rebuildIntervalMs ?? DEFAULT_REBUILD_INTERVAL_MS,
        pollIntervalMs: input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      },
      request: { ingestionId, requestedAt: Date.now() },
    });
  }
  progress.phase = 'done';
  return {
    ingestionId,
    tenant: input.tenant,
    catalog: input.catalog,
    stage,
    jobs,
    polls: jobs.reduce((sum, j) => sum + j.polls, 0),
    indexRebuildRequested: rebuild,
    durationMs: Date.now() - started,
  };
}

function describeFailures(failures: BatchFailure[]): string {
  const sorted = [...failures].sort((a, b) => a.seq - b.seq);
  const parts = sorted.map(
    (f) => `batch ${f.seq}${f.jobId ? ` (job ${f.jobId})` : ''} ${f.reason}`,
  );
  return `ingestion failed, no index rebuild requested: ${parts.join('; ')}`;
}

/** The innermost message of an activity failure: what actually went wrong. */
function causeMessage(err: unknown): string {
  let current = err as { message?: string; cause?: unknown } | undefined;
  while (current?.cause) current = current.cause as { message?: string; cause?: unknown };
  return current?.message ?? String(err);
}
