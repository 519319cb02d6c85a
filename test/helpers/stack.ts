import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { FakeCatalogApi, type FakeCatalogApiOptions } from '../../src/fakes/fake-catalog-api';
import type { Logger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { SourceFileRoots } from '../../src/products/source-files';
import { PROJECT_ROOT } from '../../src/stack';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { migrate } from '../../src/warehouse/migrations';
import { createPool, type Pool } from '../../src/warehouse/pool';
import { Warehouse } from '../../src/warehouse/warehouse';
import { type IngestWorker, createIngestWorker, installTemporalRuntime } from '../../src/worker';
import { CATALOGS_DIR } from './catalogs';
import { memoryLogger } from './logs';
import { freshDatabase, type TestDatabase } from './postgres';

export const TEST_API_KEY = 'test-key-3f9c2a71d6';

/** A real Temporal dev server, a real database, the fake catalog API and a running worker. */
export interface TestStack {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  pool: Pool;
  warehouse: Warehouse;
  fakeApi: FakeCatalogApi;
  /** Absent when the test runs its worker in another process. */
  worker: IngestWorker | undefined;
  taskQueue: string;
  /** The directories the worker reads files from. */
  sourceFiles: SourceFileRoots;
  logger: Logger;
  logLines: string[];
  metrics: Metrics;
  stop(): Promise<void>;
}

let cliPath: Promise<string | undefined> | undefined;

/** Starts the Temporal dev server from the CLI binary the project finds or builds. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  cliPath ??= findTemporalCli({
    projectRoot: PROJECT_ROOT,
    say: (m) => process.stderr.write(`${m}\n`),
  });
  const path = await cliPath;
  return TestWorkflowEnvironment.createLocal(
    path ? { server: { executable: { type: 'existing-path', path } } } : {},
  );
}

export async function startTestStack(
  options: {
    fakeApi?: FakeCatalogApiOptions;
    worker?: boolean;
    sourceTokens?: Record<string, string>;
    /** Default: the real catalogs and the system's temporary directory. */
    sourceFileRoots?: string[];
  } = {},
): Promise<TestStack> {
  const { logger, lines } = memoryLogger();
  installTemporalRuntime(logger);
  const env = await startTemporal();
  const db = await freshDatabase();
  const pool = createPool(db.url, db.server ? 10 : 1);
  await migrate(pool);
  const warehouse = new Warehouse(pool);
  const fakeApi = await new FakeCatalogApi({
    apiKeys: [TEST_API_KEY],
    jobDurationMs: [200, 600],
    // The API's own rate limits are tested against the fake directly; here they would only wait.
    endpointIntervalMs: 0,
    fullFeedIntervalMs: 0,
    indexIntervalMs: 0,
    ...options.fakeApi,
  }).start();

  const taskQueue = `test-${randomUUID()}`;
  const sourceFiles = await SourceFileRoots.of(options.sourceFileRoots ?? [CATALOGS_DIR, tmpdir()]);
  const metrics = new Metrics();
  const worker =
    options.worker === false
      ? undefined
      : await createIngestWorker({
          connection: env.nativeConnection,
          client: env.client,
          taskQueue,
          warehouse,
          catalogApiBaseUrl: fakeApi.url,
          apiKeys: { default: TEST_API_KEY },
          sourceTokens: options.sourceTokens ?? {},
          sourceFiles,
          logger,
          metrics,
        });
  const running = worker?.worker.run();

  return {
    env,
    db,
    pool,
    warehouse,
    fakeApi,
    worker,
    taskQueue,
    sourceFiles,
    logger,
    logLines: lines,
    metrics,
    async stop() {
      if (worker) {
        worker.worker.shutdown();
        await running;
        await worker.http.close();
      }
      await fakeApi.stop();
      await pool.end();
      await db.drop();
      await env.teardown();
    },
  };
}
