import { Context, activityInfo } from '@temporalio/activity';
import type { StageInput, StageSummary } from '../src/domain';
import { isPreset, loadMapping, type Mapping } from '../src/products/mapping';
import { type FileFormat, detectFormat, readRecords } from '../src/products/readers';
import {
  SourceFormatError,
  SourceNotAllowedError,
  TooManyRejectedError,
  UnsafeFullFeedError,
} from '../src/errors';
import { type ActivityDeps, activityLogger, resolveKey } from './deps';
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
      const log = activityLogger(deps, {
        tenant: input.tenant,
        catalog: input.catalog,
        ingestionId: input.ingestionId,
      });
      const ingestion = { id: input.ingestionId, tenant: input.tenant, catalog: input.catalog };
      const limits = {
        maxProducts: input.maxProducts,
        maxBytes: input.maxBytes,
        full: input.mode === 'full',
        resend: input.resend,
        target: `${deps.catalogApiBaseUrl.replace(/\/+$/, '')}|${input.account}`,
      };
      const source = input.source;
      resolveKey(deps, input.keyRef);

      if (source.kind === 'staged') {
        // A source pull already staged and validated the records under this id. Only that
        // pull's own workflow may hand them over, for its tenant and catalog: anyone else
        // could otherwise send another tenant's products to their own catalog.
        const owner = await deps.warehouse.ingestionOwner(source.ingestionId);
        if (
          !owner ||
          owner.workflowId !== input.parentWorkflowId ||
          owner.tenant !== input.tenant ||
          owner.catalog !== input.catalog
        ) {
          throw new SourceNotAllowedError(
            `records staged under ${source.ingestionId} can only be ingested by the sync that ` +
              'pulled them, for its own tenant and catalog',
          );
        }
        const counts = await deps.warehouse.readCounts(source.ingestionId);
        const totals = await deps.warehouse.finishStaging(ingestion, limits, counts);
        const summary: StageSummary = {
          format: 'api',
          mapping: source.description,
          ...counts,
          ...totals,
        };
        log.info(summary, 'pulled records staged');
        return summary;
      }
      await deps.warehouse.beginIngestion({
        ...ingestion,
        workflowId: input.workflowId,
        source: source.path,
        mode: input.mode,
      });
      const path = await deps.sourceFiles.resolve(source.path);
      const mappingRef = await mappingFile(deps, source.mapping);

      const format: FileFormat = source.format ?? (await detectFormat(path));
      const resume = activityInfo().heartbeatDetails as StageCheckpoint | undefined;
      const checkpoint: StageCheckpoint = resume ?? { position: 0, recordsRead: 0, rejected: 0 };
      if (resume) log.info({ position: resume.position }, 'resuming staging from checkpoint');

      let mapping: { name: string; mapping: Mapping } | undefined;
      let chunk = new RecordChunk();
      for await (const rec of readRecords(path, format)) {
        mapping ??= await loadMapping(mappingRef, 'record' in rec ? rec.record : undefined);
        if (rec.position <= checkpoint.position) continue;

        checkpoint.recordsRead++;
        chunk.add(rec, mapping.mapping);
        if (chunk.size >= CHUNK_SIZE) {
          await flush(chunk, rec.position);
          chunk = new RecordChunk();
        }
      }
      await flush(chunk, checkpoint.position);
      await checkRejections(deps, ingestion.id, source.path, checkpoint, input.maxRejectedShare);
      if (limits.full) await checkFullFeedSize(deps, ingestion, input.allowShrink);

      const totals = await beating({ ...checkpoint }, () =>
        deps.warehouse.finishStaging(ingestion, limits, checkpoint),
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

      async function flush(c: RecordChunk, position: number): Promise<void> {
        await deps.warehouse.stageItems(input.ingestionId, c.itemList());
        await deps.warehouse.rejectRecords(ingestion, c.rejected);
        checkpoint.position = Math.max(checkpoint.position, c.lastPosition, position);
        checkpoint.rejected += c.rejected.length;
        deps.metrics.records.inc(
          { tenant: input.tenant, catalog: input.catalog, outcome: 'accepted' },
          c.items.size,
        );
        deps.metrics.records.inc(
          { tenant: input.tenant, catalog: input.catalog, outcome: 'rejected' },
          c.rejected.length,
        );
        Context.current().heartbeat({ ...checkpoint });
      }
    },
  };
}

/**
 * Keeps heartbeating the last checkpoint while one long statement runs, so a slow warehouse is
 * not taken for a dead worker and the activity started again beside itself.
 */
async function beating<T>(details: unknown, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => Context.current().heartbeat(details), 10_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** A mapping given as a file must be inside the roots too; a preset name passes as it is. */
async function mappingFile(
  deps: ActivityDeps,
  ref: string | undefined,
): Promise<string | undefined> {
  if (ref === undefined || ref === 'auto' || isPreset(ref)) return ref;
  return deps.sourceFiles.resolve(ref, 'mapping file');
}

/** An empty source, or one whose records are mostly rejected, fails: its format or mapping is wrong. */
async function checkRejections(
  deps: ActivityDeps,
  ingestionId: string,
  path: string,
  counts: { recordsRead: number; rejected: number },
  maxShare: number,
): Promise<void> {
  if (counts.recordsRead === 0) throw new SourceFormatError(`${path} holds no records`);
  if (counts.rejected / counts.recordsRead <= maxShare) return;

  const reasons = await deps.warehouse.topRejectionReasons(ingestionId, 3);
  const listed = reasons.map((r) => `${r.count} x ${r.reason}`).join('; ');
  throw new TooManyRejectedError(
    `${counts.rejected} of ${counts.recordsRead} records were rejected (over ${Math.round(maxShare * 100)}%), ` +
      `so nothing was sent; check the format and mapping. Most common reasons: ${listed}`,
  );
}

/**
 * A full feed replaces the catalog: refuse one that carries no product at all (removal records
 * only, say), and unless allowed, one that would drop more than half of it.
 */
async function checkFullFeedSize(
  deps: ActivityDeps,
  ingestion: { id: string; tenant: string; catalog: string },
  allowShrink: boolean,
): Promise<void> {
  const { staged, current } = await deps.warehouse.fullFeedSizes(ingestion);
  if (staged === 0) {
    throw new UnsafeFullFeedError(
      'this full feed carries no products, only removals: it would empty the catalog; ' +
        'send the removals as a delta',
    );
  }
  if (!allowShrink && current > 0 && staged < current / 2) {
    throw new UnsafeFullFeedError(
      `this full feed has ${staged} products but the catalog has ${current}: it would remove more than half of it; ` +
        'send it as a delta, or set allowShrink to replace the catalog anyway',
    );
  }
}
