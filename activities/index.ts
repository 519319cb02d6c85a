import { createCatalogJobActivities } from './catalog-jobs';
import type { ActivityDeps } from './deps';
import { classified } from './failures';
import { createIndexActivities } from './index-rebuild';
import { createStageActivities } from './stage';
import { createSyncActivities } from './sync';

export type { ActivityDeps } from './deps';

/**
 * Builds every activity from its dependencies. Workflows import the returned type only.
 *
 * ```ts
 * const activities = createActivities({ warehouse, catalogApi, catalogApiBaseUrl, apiKeys, client, ... });
 * await Worker.create({ activities, workflowsPath: require.resolve('../workflows'), ... });
 * ```
 */
export function createActivities(deps: ActivityDeps) {
  const all = {
    ...createStageActivities(deps),
    ...createCatalogJobActivities(deps),
    ...createIndexActivities(deps),
    ...createSyncActivities(deps),
    async recordIngestionOutcome(input: {
      ingestionId: string;
      status: 'succeeded' | 'failed';
      error?: string;
    }) {
      await deps.warehouse.finishIngestion(input.ingestionId, input.status, input.error);
    },
  };
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(all))
    wrapped[name] = classified(fn as (...args: unknown[]) => Promise<unknown>);
  return wrapped as typeof all;
}

export type Activities = ReturnType<typeof createActivities>;
