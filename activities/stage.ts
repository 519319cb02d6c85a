import { Context, activityInfo } from '@temporalio/activity';
import type { StageInput, StageSummary } from '../src/domain';
import { applyMapping, loadMapping, type Mapping } from '../src/products/mapping';
import { contentHash, describeIssues, toAddOperation, validateProduct } from '../src/products/product';
import { type FileFormat, detectFormat, readRecords, type SourceRecord } from '../src/products/readers';
import type { RejectedRecord, StagedItem } from '../src/warehouse/warehouse';
import { type ActivityDeps, activityLogger } from './deps';

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
      await deps.warehouse.beginIngestion({ ...ingestion, workflowId: input.workflowId, source: input.source.path, mode: input.mode });

      const format: FileFormat = input.source.format ?? (await detectFormat(input.source.path));
      const resume = activityInfo().heartbeatDetails as StageCheckpoint | undefined;
      const checkpoint: StageCheckpoint = resume ?? { position: 0, recordsRead: 0, rejected: 0 };
      if (resume) log.info({ position: resume.position }, 'resuming staging from checkpoint');

      let mapping: { name: string; mapping: Mapping } | undefined;
      let chunk = new Chunk();
      for await (const rec of readRecords(input.source.path, format)) {
        mapping ??= await loadMapping(input.source.mapping, 'record' in rec ? rec.record : undefined);
        if (rec.position <= checkpoint.position) continue;

        checkpoint.recordsRead++;
        chunk.add(rec, mapping.mapping);
        if (chunk.size >= CHUNK_SIZE) {
          await flush(chunk, rec.position);
          chunk = new Chunk();
        }
      }
      await flush(chunk, checkpoint.position);

      const totals = await deps.warehouse.finishStaging(
        ingestion,
        { maxProducts: input.maxProducts, maxBytes: input.maxBytes },
        checkpoint,
      );
      const summary: StageSummary = {
        format,
        mapping: mapping?.name ?? 'none (empty source)',
        recordsRead: checkpoint.recordsRead,
        rejected: checkpoint.rejected,
        ...totals,
      };
      log.info(summary, 'source staged');
      return summary;

      async function flush(c: Chunk, position: number): Promise<void> {
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

/** The valid and rejected records of one chunk; a repeated id keeps its latest version. */
class Chunk {
  readonly items = new Map<string, StagedItem>();
  readonly rejected: RejectedRecord[] = [];
  lastPosition = 0;
  private records = 0;

  get size(): number {
    return this.records;
  }

  add(rec: SourceRecord, mapping: Mapping): void {
    this.lastPosition = rec.position;
    this.records++;
    if ('error' in rec) {
      this.rejected.push({ position: rec.position, productId: null, reason: rec.error, issues: [], raw: rec.raw });
      return;
    }

    const candidate = applyMapping(rec.record, mapping);
    const result = validateProduct(candidate);
    if (!result.ok) {
      const productId = typeof candidate.id === 'string' ? candidate.id : null;
      const reason = describeIssues(result.issues);
      this.rejected.push({ position: rec.position, productId, reason, issues: result.issues, raw: rawText(rec.record) });
      return;
    }

    const operation = toAddOperation(result.product);
    const item: StagedItem = {
      productId: result.product.id,
      operation,
      contentHash: contentHash(operation),
      sourceUpdatedAt: result.product.updatedAt ?? null,
      position: rec.position,
    };
    const existing = this.items.get(item.productId);
    if (existing && (existing.sourceUpdatedAt ?? '') > (item.sourceUpdatedAt ?? '')) return;
    this.items.set(item.productId, item);
  }

  itemList(): StagedItem[] {
    return [...this.items.values()];
  }
}

function rawText(record: unknown): string {
  return JSON.stringify(record).slice(0, 100_000);
}
