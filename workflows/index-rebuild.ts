import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  DEFAULT_JOB_TIMEOUT_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_REBUILD_INTERVAL_MS,
  type IndexRebuildInput,
  REBUILD_STATUS_QUERY,
  REQUEST_REBUILD_SIGNAL,
  type RebuildRequest,
  type RebuildStatus,
} from '../src/domain';
import { RECORD_OPTIONS, SUBMIT_OPTIONS, pollOptions } from './activity-options';

export const requestRebuildSignal = defineSignal<[RebuildRequest]>(REQUEST_REBUILD_SIGNAL);
export const rebuildStatusQuery = defineQuery<RebuildStatus>(REBUILD_STATUS_QUERY);

const { startIndexJob } = proxyActivities<Activities>(SUBMIT_OPTIONS);
const { finishIndexRebuild } = proxyActivities<Activities>(RECORD_OPTIONS);

/** Rebuilds before a fresh run is started, keeping the history short. */
const DEFAULT_REBUILDS_PER_RUN = 50;
const DEFAULT_RETRY_AFTER_FAILURE_MS = 10 * 60_000;

/**
 * The index singleton of one catalog (workflow id `index-rebuild/<tenant>/<catalog>`).
 * Coalesces every request it receives into rebuilds that start at most once per interval and
 * never overlap. It idles for free between requests and continues as new before its history
 * grows large, carrying its pending requests and the time of its last rebuild.
 */
export async function indexRebuild(input: IndexRebuildInput): Promise<void> {
  const minIntervalMs = input.minIntervalMs ?? DEFAULT_REBUILD_INTERVAL_MS;
  const retryAfterFailureMs =
    input.retryAfterFailureMs ?? Math.min(minIntervalMs, DEFAULT_RETRY_AFTER_FAILURE_MS);
  const { awaitJob } = proxyActivities<Activities>(
    pollOptions(input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, DEFAULT_JOB_TIMEOUT_MS),
  );

  const pending: RebuildRequest[] = [...(input.carried?.pending ?? [])];
  let lastStartedAt = input.carried?.lastStartedAt ?? null;
  let nextEarliestAt = input.carried?.nextEarliestAt ?? 0;
  let rebuilds = input.carried?.rebuilds ?? 0;
  let running = false;
  let rebuildsThisRun = 0;

  setHandler(requestRebuildSignal, (request) => {
    if (!pending.some((p) => p.ingestionId === request.ingestionId)) pending.push(request);
  });
  setHandler(rebuildStatusQuery, () => ({
    pending: pending.length,
    running,
    rebuilds,
    lastStartedAt,
    nextEarliestAt: pending.length > 0 ? Math.max(nextEarliestAt, Date.now()) : null,
  }));

  const rebuildsPerRun = input.rebuildsPerRun ?? DEFAULT_REBUILDS_PER_RUN;
  const timeForNewRun = () =>
    workflowInfo().continueAsNewSuggested || rebuildsThisRun >= rebuildsPerRun;

  for (;;) {
    await condition(() => pending.length > 0 || timeForNewRun());
    const wait = nextEarliestAt - Date.now();
    if (wait > 0) await condition(timeForNewRun, wait);
    if (timeForNewRun()) break;

    const covered = pending.splice(0, pending.length);
    running = true;
    const startedAt = Date.now();
    const rebuildKey = `${workflowInfo().workflowId}/${workflowInfo().runId}/${rebuildsThisRun}`;
    const succeeded = await rebuildOnce(input, rebuildKey, startedAt, covered, awaitJob);
    running = false;
    rebuildsThisRun++;
    rebuilds++;
    lastStartedAt = startedAt;

    if (succeeded) {
      nextEarliestAt = startedAt + minIntervalMs;
    } else {
      // Failed requests are not lost: they go back in line for the next attempt.
      pending.unshift(
        ...covered.filter((c) => !pending.some((p) => p.ingestionId === c.ingestionId)),
      );
      nextEarliestAt = Date.now() + retryAfterFailureMs;
    }
  }

  await condition(allHandlersFinished);
  await continueAsNew<typeof indexRebuild>({
    ...input,
    carried: { pending, lastStartedAt, nextEarliestAt, rebuilds },
  });
}

async function rebuildOnce(
  input: IndexRebuildInput,
  rebuildKey: string,
  startedAt: number,
  covered: RebuildRequest[],
  awaitJob: Activities['awaitJob'],
): Promise<boolean> {
  const base = { rebuildKey, tenant: input.tenant, catalog: input.catalog };
  let jobId: string;
  try {
    ({ jobId } = await startIndexJob({
      ...base,
      workflowId: workflowInfo().workflowId,
      account: input.account,
      keyRef: input.keyRef,
      ingestionIds: covered.map((c) => c.ingestionId),
      startedAt,
    }));
  } catch {
    await finishIndexRebuild({ ...base, state: 'not_started', stoppedAt: Date.now() });
    return false;
  }

  let state = 'unknown';
  let stoppedAt = Date.now();
  try {
    const outcome = await awaitJob({ jobId, keyRef: input.keyRef });
    state = outcome.state;
    stoppedAt = outcome.stoppedAt;
  } catch {
    // The job's end is unknown: count it as failed, the requests are retried.
  }
  await finishIndexRebuild({ ...base, state, stoppedAt });
  return state === 'success';
}
