import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { connectTemporal } from './connect';
import type { Config } from '../config';
import { checkIngestInput } from '../domain-validation';
import { isPreset } from '../products/mapping';
import { PRESETS } from '../products/presets';
import { describeRetry, hasWorker, watch } from './progress';
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
  /** Let a full feed remove more than half of the catalog. */
  allowShrink?: boolean;
  /** Send products the catalog API already holds in that version. */
  resend?: boolean;
}

/** A preset name as it is, a file as an absolute path; a name that is neither is refused here. */
function mappingRef(ref: string | undefined): string | undefined {
  if (ref === undefined || ref === 'auto' || isPreset(ref)) return ref;
  if (/^[\w-]+$/.test(ref) && !existsSync(ref)) {
    const near = Object.keys(PRESETS).find((p) => p === ref.toLowerCase().replace(/_/g, '-'));
    throw new Error(
      `--mapping ${ref} is neither a preset (${Object.keys(PRESETS).join(', ')}) nor a file` +
        (near ? `; did you mean ${near}?` : ''),
    );
  }
  return resolve(ref);
}

/** Builds the workflow input exactly as `temporal workflow start --input` would carry it. */
export function buildIngestInput(o: IngestCommandOptions, config: Config): IngestCatalogInput {
  if (o.file.trim() === '') throw new Error('--file is empty: name the catalog file to ingest');
  const mapping = mappingRef(o.mapping);
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
    ...(o.allowShrink ? { allowShrink: true } : {}),
    ...(o.resend ? { resend: true } : {}),
  };
}

/** Input refused before anything started: a usage error. */
export class InvalidInputError extends Error {}

export function ingestWorkflowId(tenant: string, catalog: string): string {
  return `ingest/${tenant}/${catalog}/${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
}

/** Starts an ingestion, prints its progress, and resolves with the exit code. */
export async function runIngestCommand(
  o: IngestCommandOptions,
  config: Config,
  out = process.stdout,
): Promise<number> {
  const input = buildIngestInput(o, config);
  const invalid = checkIngestInput(input);
  if (invalid) throw new InvalidInputError(`invalid input: ${invalid}`);
  const connection = await connectTemporal(config);
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workflowId = o.workflowId ?? ingestWorkflowId(o.tenant, o.catalog);
    const handle = await client.workflow
      .start('ingestCatalog', { taskQueue: config.temporal.taskQueue, workflowId, args: [input] })
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        throw new Error(`a workflow with id ${workflowId} is already running; choose another id`);
      });
    out.write(`started ${workflowId}\n`);
    if (!(await hasWorker(client, config.temporal.namespace, config.temporal.taskQueue))) {
      out.write(
        `no worker polls task queue "${config.temporal.taskQueue}" yet: start one with \`npx catalog-ingest worker\`\n`,
      );
    }
    if (!o.wait) return 0;

    const stop = watch(() => describeProgress(handle), out);
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
      stop();
    }
  } finally {
    await connection.close();
  }
}

/** The workflow's own progress, plus any activity that is waiting to be retried and why. */
async function describeProgress(handle: WorkflowHandle): Promise<string> {
  const p = await handle.query<IngestProgress>(INGEST_PROGRESS_QUERY);
  const line = `${p.phase}: ${p.submitted}/${p.batches} batches submitted, ${p.finished} jobs ended`;
  const retry = await describeRetry(handle);
  return retry ? `${line}; ${retry}` : line;
}

export function formatSummary(s: IngestSummary): string {
  const st = s.stage;
  return [
    `ingestion ${s.ingestionId} (${s.tenant}/${s.catalog}) succeeded in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  source: ${st.recordsRead} records (${st.format}, mapping ${st.mapping}), ` +
      `${st.rejected} rejected, ${st.duplicates} duplicates`,
    `  warehouse: ${st.products} products, ${st.upserted} inserted or changed, ${st.unchanged} unchanged` +
      (st.stale ? `, ${st.stale} older than the warehouse's (its newer version sent)` : '') +
      (st.removed ? `, ${st.removed} removed` : '') +
      (st.alreadyDelivered
        ? `, ${st.alreadyDelivered} already in the catalog API (not resent)`
        : ''),
    `  catalog API: ${plural(st.batches, 'batch', 'batches')} (${st.bytes} bytes), ` +
      `${plural(s.jobs.length, 'job')}, ${plural(s.polls, 'status check')}`,
    `  index rebuild ${s.indexRebuildRequested ? 'requested' : 'not requested'}`,
    '',
  ].join('\n');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
