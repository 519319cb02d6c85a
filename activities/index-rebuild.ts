import { WorkflowIdConflictPolicy } from '@temporalio/common';
import {
  type IndexRebuildInput,
  type RebuildRequest,
  REQUEST_REBUILD_SIGNAL,
  indexRebuildWorkflowId,
} from '../src/domain';
import type { ActivityDeps } from './deps';
import { activityLogger, target } from './deps';

export interface RequestRebuildInput {
  singleton: IndexRebuildInput;
  request: RebuildRequest;
}

export interface StartIndexJobInput {
  rebuildKey: string;
  workflowId: string;
  tenant: string;
  catalog: string;
  account: string;
  keyRef: string;
  ingestionIds: string[];
  /** Workflow time the rebuild began (epoch ms): the time the hourly rule is measured on. */
  startedAt: number;
}

export interface FinishRebuildInput {
  rebuildKey: string;
  tenant: string;
  catalog: string;
  state: string;
  stoppedAt: number;
}

export interface RebuildLag {
  products: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function createIndexActivities(deps: ActivityDeps) {
  return {
    /** Signals the catalog's index singleton, starting it if it does not run. */
    async requestIndexRebuild(input: RequestRebuildInput): Promise<{ workflowId: string }> {
      const workflowId = indexRebuildWorkflowId(input.singleton.tenant, input.singleton.catalog);
      await deps.client.workflow.signalWithStart('indexRebuild', {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [input.singleton],
        signal: REQUEST_REBUILD_SIGNAL,
        signalArgs: [input.request],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
      activityLogger(deps, {
        tenant: input.singleton.tenant,
        catalog: input.singleton.catalog,
      }).info(
        { singleton: workflowId, ingestionId: input.request.ingestionId },
        'index rebuild requested',
      );
      return { workflowId };
    },

    /** Starts the index job of one rebuild, or returns the job already recorded for it. */
    async startIndexJob(input: StartIndexJobInput): Promise<{ jobId: string }> {
      const recorded = await deps.warehouse.beginRebuild(input);
      if (recorded) return { jobId: recorded };

      const { jobId } = await deps.catalogApi.startIndex(
        target(deps, input.account, input.catalog, input.keyRef),
      );
      await deps.warehouse.recordRebuildJob(input, jobId);
      activityLogger(deps, { tenant: input.tenant, catalog: input.catalog, jobId }).info(
        { rebuildKey: input.rebuildKey, ingestions: input.ingestionIds.length },
        'index job started',
      );
      return { jobId };
    },

    /** Records how a rebuild ended and, on success, the lag from source update to search. */
    async finishIndexRebuild(input: FinishRebuildInput): Promise<RebuildLag> {
      const lags = await deps.warehouse.finishRebuild(
        input.rebuildKey,
        input.state,
        new Date(input.stoppedAt),
      );
      for (const lag of lags) deps.metrics.observeLag(input.tenant, input.catalog, lag);
      const sorted = lags.sort((a, b) => a - b);
      const at = (q: number) =>
        sorted.length
          ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
          : null;
      return { products: lags.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
    },
  };
}
