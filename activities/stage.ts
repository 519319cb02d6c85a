import { Context, activityInfo } from '@temporalio/activity';
import type { StageInput, StageSummary } from '../src/domain';
import { loadMapping, type Mapping } from '../src/products/mapping';
import { type FileFormat, detectFormat, readRecords } from '../src/products/readers';
import { type ActivityDeps, activityLogger } from './deps';
import { RecordChunk } from './record-chunk';

/** Records written to the warehouse per round trip; also the heartbeat cadence. */
const CHUNK_SIZE = 2_000;

interface StageCheckpoint {
  /** Every record at or before this position is committed. */
  position: number;
  recordsRead: number;
  rejected: number;
}

/**
 * Reads the source file, validates every record, stages the valid ones in the warehouse and
 * keeps the rejected ones with their reasons; then upserts products and cuts the batches.
 * Heartbeats a checkpoint after each committed chunk and resumes from it after a retry.
 */
export function createStageActivities(deps: ActivityDeps) {
  return {
    async stageSource(input: StageInput): Promise<StageSummary> {
      const log = activityLogger(deps, { tenant: input.tenant, catalog: input.catalog, ingestionId: input.ingestionId });
      const ingestion = { id: input.ingestionId, tenant: input.tenant, catalog: input.catalog };
      const limits = { maxProducts: input.maxProducts, maxBytes: input.maxBytes };
      const source = input.source;

      if (source.kind === 'staged') {
        // A source pull already staged and validated the records under this id.
        const counts = await deps.warehouse.readCounts(source.ingestionId);
        const totals = await deps.warehouse.finishStaging(ingestion, limits, counts);
        const summary = { format: 'api', mapping: source.description, ...counts, ...totals };
        log.info(summary, 'pulled records staged');
        return summary;
      }
      await deps.warehouse.beginIngestion({ ...ingestion, workflowId: input.workflowId, source: source.path, mode: input.mode });

      const format: FileFormat = source.format ?? (await detectFormat(source.path));
      const resume = activityInfo().heartbeatDetails as StageCheckpoint | undefined;
      const checkpoint: StageCheckpoint = resume ?? { position: 0, recordsRead: 0, rejected: 0 };
      if (resume) log.info({ position: resume.position }, 'resuming staging from checkpoint');

      let mapping: { name: string; mapping: Mapping } | undefined;
      let chunk = new RecordChunk();
      for await (const rec of readRecords(source.path, format)) {
        mapping ??= await loadMapping(source.mapping, 'record' in rec ? rec.record : undefined);
        if (rec.position <= checkpoint.position) continue;

        checkpoint.recordsRead++;
        chunk.add(rec, mapping.mapping);
        if (chunk.size >= CHUNK_SIZE) {
          await flush(chunk, rec.position);
          chunk = new RecordChunk();
        }
      }
      await flush(chunk, checkpoint.position);

      const totals = await deps.warehouse.finishStaging(ingestion, limits, checkpoint);
      const summary: StageSummary = {
        format,
        mapping: mapping?.name ?? 'none (empty source)',
        recordsRead: checkpoint.recordsRead,
        rejected: checkpoint.rejected,
        ...totals,
      };
      log.info(summary, 'source staged');
      return summary;

      async function flush(c: RecordChunk, position: number): Promise<void> {
        await deps.warehouse.stageItems(input.ingestionId, c.itemList());
        await deps.warehouse.rejectRecords(ingestion, c.rejected);
        checkpoint.position = Math.max(checkpoint.position, c.lastPosition, position);
        checkpoint.rejected += c.rejected.length;
        deps.metrics.records.inc({ tenant: input.tenant, catalog: input.catalog, outcome: 'accepted' }, c.items.size);
        deps.metrics.records.inc({ tenant: input.tenant, catalog: input.catalog, outcome: 'rejected' }, c.rejected.length);
        Context.current().heartbeat({ ...checkpoint });
      }
    },
  };
}
