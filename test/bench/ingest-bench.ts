/**
 * Ingestion benchmark: prints figures, asserts nothing.
 *   npm run bench:ingest [-- --products 50000]
 * Needs a Postgres server in TEST_DATABASE_URL (or DATABASE_URL): the worker runs in its own process.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCatalog } from '../../src/demo/generate';
import type { IngestCatalogInput, IngestSummary } from '../../src/domain';
import { PROJECT_ROOT } from '../../src/stack';
import { catalogFile, haveRealCatalogs } from '../helpers/catalogs';
import { needsPostgresServer } from '../helpers/postgres';
import { type TestStack, startTestStack } from '../helpers/stack';
import { startWorkerProcess, stopWorkerProcess } from '../helpers/worker-process';

const args = process.argv.slice(2);
const PRODUCTS = Number(args[args.indexOf('--products') + 1] ?? 50_000) || 50_000;
const out = (line = '') => process.stdout.write(`${line}\n`);

/** VmHWM (peak resident set) and VmRSS of a process, in MB, from /proc. */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

async function run(s: TestStack, input: IngestCatalogInput) {
  const workflowId = `bench/${input.tenant}/${input.catalog}/${randomUUID()}`;
  const started = performance.now();
  const summary = (await s.env.client.workflow.execute('ingestCatalog', {
    taskQueue: s.taskQueue,
    workflowId,
    args: [input],
  })) as IngestSummary;
  const wallMs = performance.now() - started;
  const history = await s.env.client.workflow.getHandle(workflowId).fetchHistory();
  return {
    summary,
    wallMs,
    events: history.events!.length,
    historyBytes: JSON.stringify(history).length,
  };
}

function input(
  tenant: string,
  catalog: string,
  path: string,
  extra: Partial<IngestCatalogInput> = {},
): IngestCatalogInput {
  return {
    tenant,
    catalog,
    source: { kind: 'file', path },
    pollIntervalMs: 200,
    requestIndexRebuild: false,
    ...extra,
  };
}

async function main(): Promise<void> {
  if (needsPostgresServer) {
    process.stderr.write(`bench:ingest ${needsPostgresServer}\n`);
    process.exit(2);
  }
  const s = await startTestStack({
    fakeApi: { jobDurationMs: [0, 0], endpointIntervalMs: 0 },
    worker: false,
  });
  out(
    `warehouse: ${s.db.server ? 'Postgres server' : 'embedded PGlite'}; machine: ${availableParallelism()} cores`,
  );
  const worker = await startWorkerProcess(s);
  try {
    const dir = join(PROJECT_ROOT, '.data', 'bench');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `catalog-${PRODUCTS}.jsonl`);
    await generateCatalog(file, PRODUCTS);
    const before = memoryOf(worker.pid!);

    const big = await run(s, input('bench', 'big', file));
    const st = big.summary.stage;
    out();
    out(`== ${PRODUCTS} generated products, job time ~0, delta batches of <= 5000 / 4.5 MB`);
    out(
      `end to end:        ${(big.wallMs / 1000).toFixed(2)} s, ` +
        `${Math.round(st.recordsRead / (big.wallMs / 1000))} products/s`,
    );
    out(
      `batches / jobs:    ${st.batches} batches, ${big.summary.jobs.length} jobs, ` +
        `${big.summary.polls} status checks, ${(st.bytes / 1e6).toFixed(1)} MB sent`,
    );
    const afterRun = memoryOf(worker.pid!);
    out(
      `worker memory:     peak RSS ${afterRun.peak.toFixed(0)} MB (${before.peak.toFixed(0)} MB of it at start-up, ` +
        `prebuilt workflow bundle), RSS after the run ${afterRun.now.toFixed(0)} MB`,
    );
    out(
      `history:           ${big.events} events, ${(big.historyBytes / 1024).toFixed(0)} KiB ` +
        `per ingestion; ${(big.events / st.batches).toFixed(1)} events per batch`,
    );

    const again = await run(s, input('bench', 'big', file));
    out(
      `re-run same data:  ${(again.wallMs / 1000).toFixed(2)} s, ` +
        `${again.summary.stage.upserted} rows changed, ${again.summary.stage.unchanged} unchanged, ` +
        `${again.summary.stage.alreadyDelivered} already delivered, ${again.summary.stage.batches} batches sent; ` +
        `peak RSS so far ${memoryOf(worker.pid!).peak.toFixed(0)} MB`,
    );

    // Statistics as autovacuum leaves them after a large load: a new catalog then looks empty.
    await s.pool.query('ANALYZE');
    const other = await run(s, input('bench', 'big-copy', file));
    out(
      `same data, new catalog: ${(other.wallMs / 1000).toFixed(2)} s, ` +
        `${other.summary.stage.upserted} rows inserted, ${other.summary.stage.batches} batches; ` +
        `peak RSS so far ${memoryOf(worker.pid!).peak.toFixed(0)} MB`,
    );

    const small = join(dir, 'small.jsonl');
    await generateCatalog(small, 100);
    const byPolls: string[] = [];
    for (const duration of [2_500, 29_500]) {
      s.fakeApi.setJobDuration([duration, duration]);
      const r = await run(s, input('bench', `polls-${duration}`, small, { pollIntervalMs: 1_000 }));
      byPolls.push(`${r.summary.polls} status checks -> ${r.events} events`);
    }
    s.fakeApi.setJobDuration([0, 0]);
    out(`history vs polls:  ${byPolls.join('; ')}`);

    if (haveRealCatalogs) {
      out();
      out('== real catalogs (batches of <= 1000 products, poll 200 ms, job time ~0)');
      const files = [
        'bestbuy_typesense_ecommerce.json',
        'amazon_meilisearch_demos_ecommerce.json',
        'googlemerchstore_retail_api_products.jsonl',
        'dummyjson_products.json',
        'feed_samples/bloomreach_pacifichome_mini_en.jsonl',
        'feed_samples/googlemerchstore_retail_api_products_some_invalid.jsonl',
      ];
      for (const [i, name] of files.entries()) {
        const r = await run(
          s,
          input('real', `catalog-${i}`, catalogFile(name), {
            batching: { maxProducts: 1_000 },
          }),
        );
        const t = r.summary.stage;
        out(
          `${name}: ${t.recordsRead} records, ${t.rejected} rejected, ` +
            `${t.products} products, ${t.batches} batches, ${r.summary.jobs.length} jobs, ` +
            `${(r.wallMs / 1000).toFixed(2)} s`,
        );
      }
    }
    out();
    out(`worker peak RSS over the whole benchmark: ${memoryOf(worker.pid!).peak.toFixed(0)} MB`);
  } finally {
    await stopWorkerProcess(worker);
    await s.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
