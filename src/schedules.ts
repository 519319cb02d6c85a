import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ScheduleSummary,
} from '@temporalio/client';
import type { ApiSource, SyncSourceInput } from './domain';

export interface SyncScheduleOptions {
  tenant: string;
  catalog: string;
  source: ApiSource;
  /** Interval such as `15m`, `1h`, `30s`. */
  every: string;
  taskQueue: string;
  /** Default: `sync/<tenant>/<catalog>/<source kind>`. */
  scheduleId?: string;
  /** Runs missed while the server was down are started if within this window. Default: 10 minutes. */
  catchupWindow?: string;
  /** Create the schedule paused. Default: false. */
  paused?: boolean;
  /** Extra sync settings (overlap, page size, catalog API account and key name...). */
  sync?: Partial<SyncSourceInput>;
}

const INTERVAL = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Whole minutes, hours or days, from one minute to one year. */
function intervalProblem(every: string): string | undefined {
  const m = INTERVAL.exec(every);
  if (!m) return `--every must look like 15m, 1h or 1d, not "${every}"`;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms < 60_000 || ms > 366 * 86_400_000)
    return `--every must be between 1m and 366d, not "${every}"`;
  return undefined;
}

export function syncScheduleId(tenant: string, catalog: string, source: ApiSource): string {
  return `sync/${tenant}/${catalog}/${source.kind}`;
}

/**
 * A Temporal Schedule that runs an incremental sync of one tenant's source. A run still going
 * when the next is due is not overlapped: the next is skipped (SKIP), explicitly.
 */
export async function createSyncSchedule(client: Client, o: SyncScheduleOptions): Promise<string> {
  const problem = intervalProblem(o.every);
  if (problem) throw new Error(problem);
  const scheduleId = o.scheduleId ?? syncScheduleId(o.tenant, o.catalog, o.source);
  const input: SyncSourceInput = {
    ...o.sync,
    tenant: o.tenant,
    catalog: o.catalog,
    source: o.source,
    mode: 'incremental',
  };
  await client.schedule
    .create({
      scheduleId,
      spec: { intervals: [{ every: o.every as `${number}m` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'syncSource',
        taskQueue: o.taskQueue,
        workflowId: scheduleId,
        args: [input],
      },
      policies: {
        overlap: ScheduleOverlapPolicy.SKIP,
        catchupWindow: (o.catchupWindow ?? '10m') as `${number}m`,
        pauseOnFailure: false,
      },
      state: {
        paused: o.paused ?? false,
        note: `incremental sync of ${o.source.kind} for ${o.tenant}/${o.catalog}`,
      },
    })
    .catch((err: unknown) => {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      throw new Error(
        `schedule ${scheduleId} already exists: delete it first to change it ` +
          `(\`catalog-ingest schedule delete ${scheduleId}\`)`,
      );
    });
  return scheduleId;
}

export async function listSyncSchedules(
  client: Client,
  tenant?: string,
): Promise<ScheduleSummary[]> {
  const found: ScheduleSummary[] = [];
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(tenant ? `sync/${tenant}/` : 'sync/')) found.push(s);
  }
  return found;
}
