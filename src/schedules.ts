import { type Client, ScheduleOverlapPolicy, type ScheduleSummary } from '@temporalio/client';
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

const INTERVAL = /^\d+(ms|s|m|h|d)$/;

export function syncScheduleId(tenant: string, catalog: string, source: ApiSource): string {
  return `sync/${tenant}/${catalog}/${source.kind}`;
}

/**
 * A Temporal Schedule that runs an incremental sync of one tenant's source. A run still going
 * when the next is due is not overlapped: the next is skipped (SKIP), explicitly.
 */
export async function createSyncSchedule(client: Client, o: SyncScheduleOptions): Promise<string> {
  if (!INTERVAL.test(o.every))
    throw new Error(`--every must look like 30s, 15m or 1h, not "${o.every}"`);
  const scheduleId = o.scheduleId ?? syncScheduleId(o.tenant, o.catalog, o.source);
  const input: SyncSourceInput = {
    ...o.sync,
    tenant: o.tenant,
    catalog: o.catalog,
    source: o.source,
    mode: 'incremental',
  };
  await client.schedule.create({
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
