import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Config } from '../config';
import {
  type FeedMode,
  type FileSource,
  INGEST_PROGRESS_QUERY,
  type IngestCatalogInput,
  type IngestProgress,
  type IngestSummary,
} from '../domain';

export interface IngestCommandOptions {
  tenant: string;
  catalog: string;
  file: string;
  format?: FileSource['format'];
  mapping?: string;
  mode?: FeedMode;
  account?: string;
  keyRef?: string;
  pollIntervalMs?: number;
  workflowId?: string;
  wait: boolean;
}

/** Builds the workflow input exactly as `temporal workflow start --input` would carry it. */
export function buildIngestInput(o: IngestCommandOptions, config: Config): IngestCatalogInput {
  const mapping = o.mapping && !/^[a-z-]+$/.test(o.mapping) ? resolve(o.mapping) : o.mapping;
  const source: FileSource = { kind: 'file', path: resolve(o.file) };
  if (o.format) source.format = o.format;
  if (mapping) source.mapping = mapping;
  return {
    tenant: o.tenant,
    catalog: o.catalog,
    source,
    mode: o.mode ?? 'delta',
    catalogApi: {
      account: o.account ?? config.catalogApi.account ?? o.tenant,
      keyRef: o.keyRef ?? config.catalogApi.defaultKeyRef,
    },
    pollIntervalMs: o.pollIntervalMs ?? config.ingest.pollIntervalMs,
    rebuildIntervalMs: config.ingest.rebuildIntervalMs,
  };
}

export function ingestWorkflowId(tenant: string, catalog: string): string {
  return `ingest/${tenant}/${catalog}/${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
}

/** Starts an ingestion, prints its progress, and resolves with the exit code. */
export async function runIngestCommand(
  o: IngestCommandOptions,
  config: Config,
  out = process.stdout,
): Promise<number> {
  const address = config.temporal.address ?? '127.0.0.1:7233';
  const connection = await Connection.connect({ address }).catch((err: unknown) => {
    throw new Error(
      `cannot reach Temporal at ${address} (set TEMPORAL_ADDRESS, or start \`npx catalog-ingest worker\`): ${(err as Error).message}`,
    );
  });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workflowId = o.workflowId ?? ingestWorkflowId(o.tenant, o.catalog);
    const handle = await client.workflow.start('ingestCatalog', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [buildIngestInput(o, config)],
    });
    out.write(`started ${workflowId}\n`);
    if (!(await hasWorker(client, config.temporal.namespace, config.temporal.taskQueue))) {
      out.write(
        `no worker polls task queue "${config.temporal.taskQueue}" yet: start one with \`npx catalog-ingest worker\`\n`,
      );
    }
    if (!o.wait) return 0;

    let last = '';
    const timer = setInterval(() => {
      describeProgress(handle)
        .then((line) => {
          if (line !== last) out.write(`  ${line}\n`);
          last = line;
        })
        .catch(() => undefined);
    }, 1_000);
    try {
      const summary = (await handle.result()) as IngestSummary;
      out.write(formatSummary(summary));
      return 0;
    } catch (err) {
      const cause =
        err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err);
      out.write(`ingestion failed: ${cause}\n`);
      return 1;
    } finally {
      clearInterval(timer);
    }
  } finally {
    await connection.close();
  }
}

async function hasWorker(client: Client, namespace: string, taskQueue: string): Promise<boolean> {
  const queue = await client.workflowService
    .describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 })
    .catch(() => undefined);
  return (queue?.pollers?.length ?? 0) > 0;
}

/** The workflow's own progress, plus any activity that is waiting to be retried and why. */
async function describeProgress(handle: WorkflowHandle): Promise<string> {
  const p = await handle.query<IngestProgress>(INGEST_PROGRESS_QUERY);
  let line = `${p.phase}: ${p.submitted}/${p.batches} batches submitted, ${p.finished} jobs ended`;
  const { raw } = await handle.describe();
  const retrying = raw.pendingActivities?.find(
    (a) => (a.attempt ?? 0) > 1 && a.lastFailure?.message && a.activityType?.name !== 'awaitJob',
  );
  if (retrying) {
    const next = retrying.nextAttemptScheduleTime?.seconds;
    const wait = next
      ? ` (next try in ${Math.max(0, Math.round(Number(next) - Date.now() / 1000))} s)`
      : '';
    line += `; ${retrying.activityType?.name} attempt ${retrying.attempt}${wait} after: ${retrying.lastFailure!.message}`;
  }
  return line;
}

export function formatSummary(s: IngestSummary): string {
  const st = s.stage;
  return [
    `ingestion ${s.ingestionId} (${s.tenant}/${s.catalog}) succeeded in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  source: ${st.recordsRead} records (${st.format}, mapping ${st.mapping}), ${st.rejected} rejected, ${st.duplicates} duplicates`,
    `  warehouse: ${st.products} products, ${st.upserted} inserted or changed, ${st.unchanged} unchanged` +
      (st.stale ? `, ${st.stale} older than the warehouse's (its newer version sent)` : '') +
      (st.removed ? `, ${st.removed} removed by this full feed` : ''),
    `  catalog API: ${plural(st.batches, 'batch', 'batches')} (${st.bytes} bytes), ${plural(s.jobs.length, 'job')}, ${plural(s.polls, 'status check')}`,
    `  index rebuild ${s.indexRebuildRequested ? 'requested' : 'not requested'}`,
    '',
  ].join('\n');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
