import { createServer, type Server } from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';
import { FakeCatalogApi, type FakeCatalogApiOptions } from './fakes/fake-catalog-api';
import type { Logger } from './logger';
import { Metrics } from './metrics';
import { findTemporalCli } from './temporal/cli-binary';
import { type DevServer, isListening, startDevServer } from './temporal/dev-server';
import { type EmbeddedWarehouse, startEmbeddedWarehouse } from './warehouse/embedded';
import { migrate } from './warehouse/migrations';
import { createPool, type Pool } from './warehouse/pool';
import { Warehouse } from './warehouse/warehouse';
import { type IngestWorker, createIngestWorker, installTemporalRuntime } from './worker';

export { PROJECT_ROOT } from './paths';
import { PROJECT_ROOT } from './paths';
import { SourceFileRoots } from './products/source-files';

/** Key the in-process fake catalog API accepts when no real API is configured. */
export const FAKE_API_KEY = 'demo-key';

export interface StackOptions {
  config: Config;
  logger: Logger;
  /** Told about slow or notable steps, for people watching a terminal. */
  say?: (message: string) => void;
  /** Options of the fake catalog API started when no base URL is configured. */
  fakeApi?: FakeCatalogApiOptions;
  /** Start a worker. Default: true. */
  worker?: boolean;
  /**
   * Run on a state of its own in this directory, emptied first: never join a Temporal server
   * that is already running, and keep the dev server's and embedded warehouse's data here.
   */
  isolatedDir?: string;
  /** Directories the worker may read files from besides SOURCE_FILE_ROOTS (or the working one). */
  extraSourceFileRoots?: string[];
}

/** Everything a run needs, started from configuration; whatever is not configured runs locally. */
export interface Stack {
  config: Config;
  client: Client;
  warehouse: Warehouse;
  pool: Pool;
  metrics: Metrics;
  temporalAddress: string;
  /** The Temporal Web UI, when this process started the dev server or knows it. */
  uiUrl: string | undefined;
  catalogApiBaseUrl: string;
  apiKeys: Record<string, string>;
  fakeApi: FakeCatalogApi | undefined;
  worker: IngestWorker | undefined;
  /** Resolves when the worker stops. */
  workerRun: Promise<void> | undefined;
  shutdown(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const say = o.say ?? (() => undefined);
  const stops: (() => Promise<void>)[] = [];
  const shutdown = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    installTemporalRuntime(o.logger);
    const metrics = new Metrics({ defaultMetrics: true });
    if (o.isolatedDir) {
      await rm(o.isolatedDir, { recursive: true, force: true });
      await mkdir(o.isolatedDir, { recursive: true });
    }
    const temporal = await resolveTemporal(o.config, say, stops, o.isolatedDir);
    const warehouseConfig = o.isolatedDir
      ? {
          ...o.config,
          warehouse: { ...o.config.warehouse, embeddedDir: resolve(o.isolatedDir, 'warehouse') },
        }
      : o.config;
    const { pool, warehouse } = await openWarehouse(warehouseConfig, say, stops);

    let fakeApi: FakeCatalogApi | undefined;
    let catalogApiBaseUrl = o.config.catalogApi.baseUrl;
    const apiKeys = { ...o.config.apiKeys };
    if (!catalogApiBaseUrl) {
      fakeApi = await new FakeCatalogApi({ apiKeys: [FAKE_API_KEY], ...o.fakeApi }).start();
      stops.push(() => fakeApi!.stop());
      catalogApiBaseUrl = fakeApi.url;
      apiKeys.default ??= FAKE_API_KEY;
      say(`fake catalog API listening at ${catalogApiBaseUrl}`);
    }

    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: o.config.temporal.namespace });

    let worker: IngestWorker | undefined;
    let workerRun: Promise<void> | undefined;
    if (o.worker !== false) {
      const workerConnection = await NativeConnection.connect({ address: temporal.address });
      worker = await createIngestWorker({
        connection: workerConnection,
        client,
        namespace: o.config.temporal.namespace,
        taskQueue: o.config.temporal.taskQueue,
        warehouse,
        catalogApiBaseUrl,
        apiKeys,
        sourceTokens: o.config.sourceTokens,
        sourceFiles: await SourceFileRoots.of([
          ...(o.config.sourceFiles.roots ?? [process.cwd()]),
          ...(o.extraSourceFileRoots ?? []),
        ]),
        logger: o.logger,
        metrics,
      });
      workerRun = worker.worker.run();
      const w = worker;
      stops.push(async () => {
        if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await workerRun;
        await w.http.close();
        await workerConnection.close();
      });
    }
    const metricsServer = await serveMetrics(metrics, o.config.metrics.port, o.config.metrics.host);
    if (metricsServer) stops.push(() => new Promise((r) => metricsServer.close(() => r())));

    return {
      config: o.config,
      client,
      warehouse,
      pool,
      metrics,
      temporalAddress: temporal.address,
      uiUrl: temporal.uiUrl,
      catalogApiBaseUrl,
      apiKeys,
      fakeApi,
      worker,
      workerRun,
      shutdown,
    };
  } catch (err) {
    await shutdown();
    throw err;
  }
}

async function resolveTemporal(
  config: Config,
  say: (m: string) => void,
  stops: (() => Promise<void>)[],
  isolatedDir: string | undefined,
): Promise<{ address: string; uiUrl: string | undefined }> {
  if (config.temporal.address) return { address: config.temporal.address, uiUrl: undefined };
  const busy = await isListening('127.0.0.1', 7233);
  if (busy && !isolatedDir) {
    say('a Temporal server already listens on 127.0.0.1:7233: using it');
    return { address: '127.0.0.1:7233', uiUrl: 'http://localhost:8233' };
  }
  const cliPath = await findTemporalCli({ projectRoot: PROJECT_ROOT, say, ...envCliPath() });
  if (!cliPath)
    throw new Error('no temporal CLI available: install it on PATH or set TEMPORAL_ADDRESS');

  const port = busy ? await freePort() : 7233;
  const uiPort = busy || (await isListening('127.0.0.1', 8233)) ? await freePort() : 8233;
  if (busy)
    say(`port 7233 is taken by another Temporal server: starting a separate one on ${port}`);
  say(`starting the Temporal dev server (${cliPath})`);
  const dbFile = resolve(isolatedDir ?? resolve(PROJECT_ROOT, '.data'), 'temporal.db');
  const server: DevServer = await startDevServer({ cliPath, dbFile, port, uiPort });
  stops.push(() => server.stop());
  return { address: server.address, uiUrl: server.uiUrl.replace('127.0.0.1', 'localhost') };
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function envCliPath(): { explicitPath?: string } {
  const p = process.env.TEMPORAL_CLI_PATH;
  return p ? { explicitPath: p } : {};
}

async function openWarehouse(
  config: Config,
  say: (m: string) => void,
  stops: (() => Promise<void>)[],
): Promise<{ pool: Pool; warehouse: Warehouse }> {
  let url = config.warehouse.url;
  let poolSize = config.warehouse.poolSize;
  if (!url) {
    const dataDir = resolve(PROJECT_ROOT, config.warehouse.embeddedDir);
    const embedded: EmbeddedWarehouse = await startEmbeddedWarehouse({ dataDir });
    stops.push(() => embedded.stop());
    url = embedded.url;
    poolSize = 1;
    say(`embedded warehouse (PGlite) in ${dataDir}, served at ${url}`);
  }
  const pool = createPool(url, poolSize);
  stops.push(() => pool.end());
  await migrate(pool);
  return { pool, warehouse: new Warehouse(pool) };
}

async function serveMetrics(
  metrics: Metrics,
  port: number,
  host: string,
): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void metrics.registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(port, host, () => r()));
  return server;
}
