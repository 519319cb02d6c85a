import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { type SourcePage, createConnector, rateLimitOf } from '../src/connectors';
import {
  type ApiSource,
  type PullSegmentInput,
  type PullSegmentResult,
  sourceKey,
} from '../src/domain';
import {
  CursorLoopError,
  HttpStatusError,
  QuotaExhaustedError,
  RateLimitedError,
} from '../src/errors';
import { mappingSchema } from '../src/products/mapping';
import { PRESETS, type PresetName } from '../src/products/presets';
import type { PullCheckpoint } from '../src/warehouse/warehouse';
import { type ActivityDeps, activityLogger, resolveSourceToken } from './deps';
import { RecordChunk } from './record-chunk';

/** Waits longer than this are handed to the workflow as a durable timer, freeing the worker slot. */
const LONG_WAIT_MS = 10_000;
/** Pages in a row with no records but a next link before the cursor counts as stuck. */
const MAX_EMPTY_PAGES = 3;
/** Wait before trying again after a daily quota ran out (its window rolls). Default: 15 min. */
const QUOTA_RETRY_MS = 15 * 60_000;

export function createSyncActivities(deps: ActivityDeps) {
  return {
    /** The tenant's watermark for the source's products, as ISO-8601, or null before any sync. */
    async readWatermark(input: {
      tenant: string;
      catalog: string;
      source: ApiSource;
    }): Promise<string | null> {
      const value = await deps.warehouse.getWatermark(
        input.tenant,
        sourceKey(input.source),
        productStream(input.catalog),
      );
      return value ? value.toISOString() : null;
    },

    /** Moves the watermark forward once the records it covers are in the warehouse. */
    async advanceWatermark(input: {
      tenant: string;
      catalog: string;
      source: ApiSource;
      value: number;
    }): Promise<string> {
      const value = await deps.warehouse.advanceWatermark(
        input.tenant,
        sourceKey(input.source),
        productStream(input.catalog),
        new Date(input.value),
      );
      return value.toISOString();
    },

    /**
     * Reads pages from the source into the warehouse staging of one ingestion, up to a record
     * budget. Spends the shared rate limit before every call, heartbeats its cursor after every
     * page, and resumes from it when retried. Long waits (throttling, an exhausted quota) end
     * the pull early with `waitUntil`, so the workflow sleeps instead of a worker.
     */
    async pullSegment(input: PullSegmentInput): Promise<PullSegmentResult> {
      const log = activityLogger(deps, { tenant: input.tenant, ingestionId: input.segmentId });
      const connector = createConnector(
        deps.httpClient,
        input.source,
        resolveSourceToken(deps, input.source.keyRef),
      );
      const limit = rateLimitOf(input.source);
      const mapping = mappingSchema.parse(PRESETS[connector.preset as PresetName]);
      const ingestion = { id: input.segmentId, tenant: input.tenant, catalog: input.catalog };
      await deps.warehouse.beginIngestion({
        ...ingestion,
        workflowId: input.workflowId,
        source: sourceKey(input.source),
        mode: 'delta',
      });

      // The committed checkpoint is the truth; a retry resumes from the last page it covers.
      const resumed = await deps.warehouse.pullCheckpoint(input.segmentId);
      if (resumed) log.info({ pages: resumed.pages }, 'resuming the pull from its checkpoint');
      const cp: PullCheckpoint = resumed ?? {
        cursor: input.cursor,
        records: 0,
        rejected: 0,
        pages: 0,
        emptyPages: 0,
      };
      // Of this attempt only: a retried attempt reports its own waits.
      const pacing = { pacedMs: 0, rateLimited: 0 };
      const result = async (extra: Partial<PullSegmentResult> = {}): Promise<PullSegmentResult> => {
        await deps.warehouse.recordReadCounts(ingestion.id, cp.records + cp.rejected, cp.rejected);
        // No record means no child ingestion to finish it: close it here, so it holds no catalog.
        if (cp.records + cp.rejected === 0) {
          await deps.warehouse.finishIngestion(ingestion.id, 'succeeded');
        }
        return {
          records: cp.records,
          rejected: cp.rejected,
          pages: cp.pages,
          next: cp.cursor,
          ...pacing,
          ...extra,
        };
      };
      const signal = Context.current().cancellationSignal;

      while (cp.records + cp.rejected < input.maxRecords) {
        const waitMs = await deps.warehouse.reserveCall(
          connector.limiterKey,
          limit.capacity,
          limit.perSecond,
        );
        if (waitMs > LONG_WAIT_MS)
          return result({ waitUntil: Date.now() + waitMs, waitReason: 'throttled' });
        if (waitMs > 0) await sleep(waitMs, undefined, { signal });
        pacing.pacedMs += waitMs;

        let page;
        try {
          const since = cp.cursor === null && input.since ? { since: input.since } : {};
          page = await connector.readPage({
            cursor: cp.cursor,
            pageSize: input.pageSize,
            signal,
            ...since,
          });
        } catch (err) {
          if (err instanceof QuotaExhaustedError) {
            log.warn({ cursor: cp.cursor }, 'daily quota exhausted: pausing the sync');
            return result({
              waitUntil:
                Date.now() +
                (input.source.kind === 'salesforce'
                  ? (input.source.quotaRetryMs ?? QUOTA_RETRY_MS)
                  : QUOTA_RETRY_MS),
              waitReason: 'quota',
            });
          }
          if (
            err instanceof RateLimitedError ||
            (err instanceof HttpStatusError && err.status === 423)
          ) {
            const delay = err.retryAfterMs ?? 2_000;
            pacing.rateLimited++;
            await deps.warehouse.penalize(connector.limiterKey, delay);
            if (delay > LONG_WAIT_MS)
              return result({ waitUntil: Date.now() + delay, waitReason: 'throttled' });
            continue;
          }
          throw err;
        }

        checkAdvancing(cp, page.next, page.records.length);
        await stagePage(deps, ingestion, page, cp, mapping);
        Context.current().heartbeat({ pages: cp.pages });
        if (page.next === null) break;
      }
      log.info(
        { records: cp.records, rejected: cp.rejected, pages: cp.pages, done: cp.cursor === null },
        'segment pulled',
      );
      return result();
    },
  };
}

/** Fails fast on a cursor that repeats or keeps answering empty pages with a next link. */
function checkAdvancing(cp: PullCheckpoint, next: string | null, records: number): void {
  if (next !== null && next === cp.cursor) {
    throw new CursorLoopError(
      `the source answered the same cursor it was given after ${cp.pages} pages; stopping instead of paging forever`,
    );
  }
  cp.emptyPages = records === 0 && next !== null ? cp.emptyPages + 1 : 0;
  if (cp.emptyPages >= MAX_EMPTY_PAGES) {
    throw new CursorLoopError(
      `${cp.emptyPages} empty pages in a row, each with a next link: the cursor is not advancing`,
    );
  }
}

/** Validates a page and commits its records with the checkpoint that moves past them. */
async function stagePage(
  deps: ActivityDeps,
  ingestion: { id: string; tenant: string; catalog: string },
  page: SourcePage,
  cp: PullCheckpoint,
  mapping: ReturnType<typeof mappingSchema.parse>,
): Promise<void> {
  const chunk = new RecordChunk();
  const first = cp.records + cp.rejected;
  page.records.forEach((record, i) => chunk.add({ position: first + i + 1, record }, mapping));
  const next: PullCheckpoint = {
    ...cp,
    cursor: page.next,
    pages: cp.pages + 1,
    records: cp.records + page.records.length - chunk.rejected.length,
    rejected: cp.rejected + chunk.rejected.length,
  };
  await deps.warehouse.stagePulledPage(ingestion, chunk.itemList(), chunk.rejected, next);
  Object.assign(cp, next);
}

/** Each catalog fed from a source keeps its own watermark. */
function productStream(catalog: string): string {
  return `products/${catalog}`;
}
