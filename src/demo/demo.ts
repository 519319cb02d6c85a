import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import type { Config } from '../config';
import {
  type IngestSummary,
  REBUILD_STATUS_QUERY,
  type RebuildStatus,
  indexRebuildWorkflowId,
} from '../domain';
import { buildIngestInput, formatSummary, ingestWorkflowId } from '../cli/ingest-command';
import type { Logger } from '../logger';
import { PROJECT_ROOT, type Stack, startStack } from '../stack';
import { generateCatalog } from './generate';

interface DemoIngestion {
  tenant: string;
  catalog: string;
  file: string;
}

export interface DemoOptions {
  /** Where the real catalogs are. Default: `../shared/data/catalogs` beside the project. */
  catalogsDir?: string;
  /** Stop everything after the summary even on a terminal. */
  exit: boolean;
  say: (message: string) => void;
}

/** Two tenants, each ingesting two files into one catalog at the same time. */
async function chooseIngestions(
  catalogsDir: string,
  say: (m: string) => void,
): Promise<DemoIngestion[]> {
  const real = (name: string) => join(catalogsDir, name);
  if (existsSync(real('bestbuy_typesense_ecommerce.json'))) {
    say(`using the real catalogs in ${catalogsDir}`);
    return [
      { tenant: 'acme', catalog: 'electronics', file: real('bestbuy_typesense_ecommerce.json') },
      {
        tenant: 'acme',
        catalog: 'electronics',
        file: real('amazon_meilisearch_demos_ecommerce.json'),
      },
      {
        tenant: 'globex',
        catalog: 'merch',
        file: real('googlemerchstore_retail_api_products.jsonl'),
      },
      {
        tenant: 'globex',
        catalog: 'merch',
        file: real('feed_samples/googlemerchstore_retail_api_products_some_invalid.jsonl'),
      },
    ];
  }
  const dir = resolve(PROJECT_ROOT, '.data/demo/generated');
  say(`no real catalogs at ${catalogsDir}: generating demo catalogs in ${dir}`);
  await generateCatalog(join(dir, 'acme-a.jsonl'), 3_000, { start: 1 });
  await generateCatalog(join(dir, 'acme-b.jsonl'), 1_000, { start: 3_001 });
  await generateCatalog(join(dir, 'globex-a.jsonl'), 300, { start: 1 });
  await generateCatalog(join(dir, 'globex-b.jsonl'), 30, { start: 301, invalidEvery: 10 });
  return [
    { tenant: 'acme', catalog: 'electronics', file: join(dir, 'acme-a.jsonl') },
    { tenant: 'acme', catalog: 'electronics', file: join(dir, 'acme-b.jsonl') },
    { tenant: 'globex', catalog: 'merch', file: join(dir, 'globex-a.jsonl') },
    { tenant: 'globex', catalog: 'merch', file: join(dir, 'globex-b.jsonl') },
  ];
}

/**
 * Starts everything on embedded defaults, runs four ingestions for two tenants at once, waits
 * for each catalog's single index rebuild, and prints what happened and where to look.
 */
export async function runDemo(config: Config, logger: Logger, o: DemoOptions): Promise<number> {
  const demoConfig: Config = {
    ...config,
    ingest: { ...config.ingest, pollIntervalMs: Math.min(config.ingest.pollIntervalMs, 1_000) },
  };
  const catalogsDir = o.catalogsDir ?? resolve(PROJECT_ROOT, '../shared/data/catalogs');
  const stack = await startStack({
    config: demoConfig,
    logger,
    say: o.say,
    fakeApi: { jobDurationMs: [2_000, 8_000] },
    // Every demo starts from nothing, so its figures are its own.
    isolatedDir: resolve(PROJECT_ROOT, '.data/demo'),
    extraSourceFileRoots: [catalogsDir, resolve(PROJECT_ROOT, '.data')],
  });
  try {
    const ingestions = await chooseIngestions(catalogsDir, o.say);
    o.say(
      `starting ${ingestions.length} ingestions for ${new Set(ingestions.map((i) => i.tenant)).size} tenants`,
    );

    const started = Date.now();
    const handles = await Promise.all(ingestions.map((i) => startIngestion(stack, demoConfig, i)));
    const results = await Promise.allSettled(
      handles.map((h) => h.result() as Promise<IngestSummary>),
    );
    const catalogs = [...new Set(ingestions.map((i) => `${i.tenant}/${i.catalog}`))];
    const rebuilds = await Promise.all(catalogs.map((c) => waitForRebuild(stack, c)));

    printReport(stack, results, catalogs, rebuilds, Date.now() - started, o.say);
    await printWarehouseFigures(stack, o.say);
    const failed = results.filter((r) => r.status === 'rejected').length;

    if (!o.exit && process.stdin.isTTY) {
      o.say('everything keeps running: explore the UI, then press Ctrl-C to stop');
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    }
    return failed === 0 ? 0 : 1;
  } finally {
    await stack.shutdown();
  }
}

async function startIngestion(
  stack: Stack,
  config: Config,
  i: DemoIngestion,
): Promise<WorkflowHandle> {
  const input = buildIngestInput(
    { tenant: i.tenant, catalog: i.catalog, file: i.file, wait: true },
    { ...config, catalogApi: { ...config.catalogApi } },
  );
  input.batching = { maxProducts: 1_000 };
  return stack.client.workflow.start('ingestCatalog', {
    taskQueue: config.temporal.taskQueue,
    workflowId: ingestWorkflowId(i.tenant, i.catalog),
    args: [input],
  });
}

/** Waits until the catalog's singleton has finished its first rebuild. */
async function waitForRebuild(
  stack: Stack,
  key: string,
  timeoutMs = 180_000,
): Promise<RebuildStatus | undefined> {
  const [tenant, catalog] = key.split('/') as [string, string];
  const handle = stack.client.workflow.getHandle(indexRebuildWorkflowId(tenant, catalog));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await handle.query<RebuildStatus>(REBUILD_STATUS_QUERY).catch(() => undefined);
    if (status && status.rebuilds > 0 && !status.running) return status;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

function printReport(
  stack: Stack,
  results: PromiseSettledResult<IngestSummary>[],
  catalogs: string[],
  rebuilds: (RebuildStatus | undefined)[],
  wallMs: number,
  say: (m: string) => void,
): void {
  say('');
  say(`=== summary (wall time ${(wallMs / 1000).toFixed(1)} s) ===`);
  for (const r of results) {
    if (r.status === 'fulfilled') say(formatSummary(r.value).trimEnd());
    else say(`an ingestion failed: ${failureMessage(r.reason)}`);
  }
  catalogs.forEach((c, i) => {
    const status = rebuilds[i];
    const [tenant, catalog] = c.split('/') as [string, string];
    const stored = stack.fakeApi?.catalog(tenant, catalog);
    const extra = stored ? `, ${stored.products.size} products in the catalog API` : '';
    const rebuilt = status
      ? `${status.rebuilds} index rebuild${status.rebuilds === 1 ? '' : 's'}`
      : 'no index rebuild seen yet';
    say(`catalog ${c}: ${rebuilt}${extra}`);
    if (status?.pending && status.nextEarliestAt) {
      const at = new Date(status.nextEarliestAt).toISOString();
      const later =
        status.pending === 1 ? '1 later request waits' : `${status.pending} later requests wait`;
      say(`  ${later} for the next rebuild, not before ${at} (at most one an hour per catalog)`);
    }
  });
  if (stack.uiUrl) {
    say('');
    say(`Temporal UI: ${stack.uiUrl}/namespaces/${stack.config.temporal.namespace}/workflows`);
    say(`  ingestions are the workflows named ingest/<tenant>/<catalog>/...;`);
    say(`  the index singletons are index-rebuild/<tenant>/<catalog> (query "rebuildStatus")`);
  }
}

async function printWarehouseFigures(stack: Stack, say: (m: string) => void): Promise<void> {
  const res = await stack.pool.query(
    `SELECT tenant, catalog, count(*)::int AS rebuilds, max(lag_p50_s) AS p50, max(lag_p95_s) AS p95,
       max(lag_p99_s) AS p99
     FROM index_rebuilds WHERE status = 'success' GROUP BY tenant, catalog ORDER BY tenant, catalog`,
  );
  for (const r of res.rows) {
    const fmt = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)} s`);
    say(
      `source-to-search lag ${r.tenant}/${r.catalog}: p50 ${fmt(r.p50)}, p95 ${fmt(r.p95)}, p99 ${fmt(r.p99)}`,
    );
  }
  const rejected = await stack.pool.query(`SELECT count(*)::int AS n FROM rejected_records`);
  const n = rejected.rows[0].n as number;
  const kept =
    n === 1
      ? '1 rejected record kept with its reason'
      : `${n} rejected records kept with their reasons`;
  say(`warehouse: ${kept} (table rejected_records)`);
}

function failureMessage(err: unknown): string {
  return err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err);
}
