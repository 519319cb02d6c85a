import type { Client, WorkflowHandle } from '@temporalio/client';

/** Whether any worker polls the task queue right now. */
export async function hasWorker(
  client: Client,
  namespace: string,
  taskQueue: string,
): Promise<boolean> {
  const queue = await client.workflowService
    .describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 })
    .catch(() => undefined);
  return (queue?.pollers?.length ?? 0) > 0;
}

/**
 * An activity of the workflow that is waiting to be retried, and why: `submitBatch attempt 3
 * (next try in 8 s) after: ...`. Job status checks are left out: waiting is their normal state.
 */
export async function describeRetry(handle: WorkflowHandle): Promise<string | undefined> {
  const { raw } = await handle.describe();
  const retrying = raw.pendingActivities?.find(
    (a) => (a.attempt ?? 0) > 1 && a.lastFailure?.message && a.activityType?.name !== 'awaitJob',
  );
  if (!retrying) return undefined;
  const next = retrying.nextAttemptScheduleTime?.seconds;
  const wait = next
    ? ` (next try in ${Math.max(0, Math.round(Number(next) - Date.now() / 1000))} s)`
    : '';
  return `${retrying.activityType?.name} attempt ${retrying.attempt}${wait} after: ${retrying.lastFailure!.message}`;
}

/** Prints a line whenever `describe` returns something new, until the returned stop is called. */
export function watch(
  describe: () => Promise<string | undefined>,
  out: NodeJS.WritableStream,
): () => void {
  let last = '';
  const timer = setInterval(() => {
    describe()
      .then((line) => {
        if (line && line !== last) out.write(`  ${line}\n`);
        last = line ?? last;
      })
      .catch(() => undefined);
  }, 1_000);
  return () => clearInterval(timer);
}
