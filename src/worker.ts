import type { Client } from '@temporalio/client';
import {
  DefaultLogger,
  type LogLevel,
  NativeConnection,
  Runtime,
  Worker,
} from '@temporalio/worker';
import { createActivities } from '../activities';
import { CatalogApiClient } from './catalog-api/client';
import { HttpClient } from './http/http-client';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { SourceFileRoots } from './products/source-files';
import { WORKFLOWS_PATH, currentPrebuiltBundle } from './temporal/workflow-bundle';
import type { Warehouse } from './warehouse/warehouse';

export interface IngestWorkerOptions {
  connection: NativeConnection;
  client: Client;
  /** Default: `default`. */
  namespace?: string;
  taskQueue: string;
  warehouse: Warehouse;
  catalogApiBaseUrl: string;
  apiKeys: Readonly<Record<string, string>>;
  /** The directories source and mapping files may be read from. */
  sourceFiles: SourceFileRoots;
  /** Default: none. */
  sourceTokens?: Readonly<Record<string, string>>;
  logger: Logger;
  metrics: Metrics;
  /** Default: 20. */
  maxConcurrentActivities?: number;
  /** Use `dist/workflow-bundle.js` when it matches the sources. Default: true. */
  prebuiltBundle?: boolean;
}

export interface IngestWorker {
  worker: Worker;
  http: HttpClient;
}

let runtimeInstalled = false;

/** Routes the SDK's own log lines into the service logger (once per process). */
export function installTemporalRuntime(logger: Logger, level: LogLevel = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const { error, ...meta } = entry.meta ?? {};
      // pino writes an Error under `err` with its message and stack; under another key, as {}.
      const fields = {
        ...meta,
        ...(error instanceof Error ? { err: error } : error !== undefined ? { error } : {}),
        source: 'temporal-sdk',
      };
      if (entry.level === 'ERROR') logger.error(fields, entry.message);
      else if (entry.level === 'WARN') logger.warn(fields, entry.message);
      else logger.debug(fields, entry.message);
    }),
  });
}

/** A worker that runs both workflows and every activity, with dependencies built here. */
export async function createIngestWorker(o: IngestWorkerOptions): Promise<IngestWorker> {
  const http = new HttpClient({ logger: o.logger, metrics: o.metrics });
  const activities = createActivities({
    warehouse: o.warehouse,
    catalogApi: new CatalogApiClient(http),
    httpClient: http,
    catalogApiBaseUrl: o.catalogApiBaseUrl,
    apiKeys: o.apiKeys,
    sourceTokens: o.sourceTokens ?? {},
    sourceFiles: o.sourceFiles,
    client: o.client,
    taskQueue: o.taskQueue,
    logger: o.logger,
    metrics: o.metrics,
  });
  const bundlePath = o.prebuiltBundle === false ? undefined : await currentPrebuiltBundle();
  o.logger.info({ bundle: bundlePath ?? 'built in process' }, 'workflow code');
  o.logger.info({ roots: o.sourceFiles.roots }, 'source files are read from these directories');
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace ?? 'default',
    taskQueue: o.taskQueue,
    ...(bundlePath
      ? { workflowBundle: { codePath: bundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities ?? 20,
  });
  return { worker, http };
}
