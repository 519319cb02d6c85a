import type { Pool, PoolClient } from 'pg';
import { CatalogBusyError } from '../errors';
import { REMOVED_HASH } from '../products/product';

export interface IngestionRow {
  id: string;
  workflowId: string;
  tenant: string;
  catalog: string;
  source: string;
  mode: string;
}

export interface StagedItem {
  productId: string;
  /** True for a `remove` operation. */
  removal: boolean;
  operation: string;
  contentHash: string;
  sourceUpdatedAt: string | null;
  position: number;
}

export interface RejectedRecord {
  position: number;
  productId: string | null;
  reason: string;
  issues: unknown[];
  raw: string;
}

/** Where a source pull stands: the next cursor and what has been committed so far. */
export interface PullCheckpoint {
  cursor: string | null;
  records: number;
  rejected: number;
  pages: number;
  emptyPages: number;
}

export interface BatchLimits {
  maxProducts: number;
  maxBytes: number;
  /** A full feed: products it does not carry are marked removed. */
  full?: boolean;
  /** Send products even when the catalog API already holds that exact version. */
  resend?: boolean;
  /** The catalog API and account the batches go to: what it already holds is not resent. */
  target?: string;
}

export interface StagingTotals {
  products: number;
  upserted: number;
  unchanged: number;
  /** Records that repeated a product id already read; the latest source update won. */
  duplicates: number;
  /** Products the warehouse already held in a newer version: that version is sent instead. */
  stale: number;
  /** Products a full feed no longer carries, marked removed. */
  removed: number;
  /** Products whose exact version the catalog API already accepted: not sent again. */
  alreadyDelivered: number;
  batches: number;
  bytes: number;
}

export interface BatchRow {
  seq: number;
  firstProductId: string;
  lastProductId: string;
  products: number;
  bytes: number;
  status: string;
  jobId: string | null;
}

/**
 * The statements below join a whole ingestion with a whole catalog. Table statistics cannot know
 * a brand-new ingestion or catalog (both look empty), so the planner picks a nested loop that
 * scans the catalog once per staged item: quadratic, minutes for 30,000 products. Without nested
 * loops it merges or hashes the two sides, linear whatever the statistics say.
 */
async function preferSetJoins(client: PoolClient): Promise<void> {
  await client.query('SET LOCAL enable_nestloop = off');
}

/** Postgres text cannot hold U+0000: a rejected record keeps it visible as `\u0000` instead. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replace(/\u0000/g, '\\u0000') : text;
}

/** A pool or a client inside a transaction. */
type Queryable = Pick<Pool, 'query'> | PoolClient;

/** Bytes a JSON Patch array adds around its operations: brackets and commas. */
const ARRAY_OVERHEAD_PER_ITEM = 1;
const ARRAY_OVERHEAD = 2;

/** The warehouse: every read and write of the ingestion tables goes through here. */
export class Warehouse {
  constructor(readonly pool: Pool) {}

  /**
   * Records the start of an ingestion (again on a retry: a no-op). A full feed replaces the
   * catalog, and jobs of one catalog may finish in any order, so a full feed never overlaps
   * another ingestion of its catalog: whichever comes second is refused, naming the first.
   * An ingestion left unfinished (its workflow terminated) stops counting after 3 hours.
   */
  async beginIngestion(row: IngestionRow): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `ingest:${row.tenant}/${row.catalog}`,
      ]);
      const known = await client.query('SELECT 1 FROM ingestions WHERE id = $1', [row.id]);
      if (known.rowCount) return;

      const running = await client.query<{ id: string; workflow_id: string; mode: string }>(
        `SELECT id, workflow_id, mode FROM ingestions
          WHERE tenant = $1 AND catalog = $2 AND finished_at IS NULL
            AND started_at > now() - interval '3 hours' AND ($3 = 'full' OR mode = 'full')
          ORDER BY started_at LIMIT 1`,
        [row.tenant, row.catalog, row.mode],
      );
      const other = running.rows[0];
      if (other) {
        throw new CatalogBusyError(
          `${row.tenant}/${row.catalog} is being ingested by ${other.workflow_id} ` +
            `(a ${other.mode === 'full' ? 'full feed' : 'delta'}, ingestion ${other.id}); a full ` +
            'feed replaces the catalog and runs alone: start this one when that one ends',
        );
      }
      await client.query(
        `INSERT INTO ingestions (id, workflow_id, tenant, catalog, source, mode, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'staging')`,
        [row.id, row.workflowId, row.tenant, row.catalog, row.source, row.mode],
      );
    });
  }

  /** Stages one chunk of valid products; for a repeated id the latest source update wins. */
  async stageItems(
    ingestionId: string,
    items: StagedItem[],
    db: Queryable = this.pool,
  ): Promise<void> {
    if (items.length === 0) return;
    await db.query(
      `INSERT INTO ingestion_items (ingestion_id, product_id, operation, content_hash, source_updated_at, position,
                                    removal)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::boolean[])
       ON CONFLICT (ingestion_id, product_id) DO UPDATE SET
         operation = excluded.operation, content_hash = excluded.content_hash, removal = excluded.removal,
         source_updated_at = excluded.source_updated_at, position = excluded.position
       WHERE (coalesce(excluded.source_updated_at, '-infinity'), excluded.position)
          >= (coalesce(ingestion_items.source_updated_at, '-infinity'), ingestion_items.position)`,
      [
        ingestionId,
        items.map((i) => i.productId),
        items.map((i) => i.operation),
        items.map((i) => i.contentHash),
        items.map((i) => i.sourceUpdatedAt),
        items.map((i) => i.position),
        items.map((i) => i.removal),
      ],
    );
  }

  async rejectRecords(
    ingestion: Pick<IngestionRow, 'id' | 'tenant' | 'catalog'>,
    rows: RejectedRecord[],
    db: Queryable = this.pool,
  ): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO rejected_records (ingestion_id, tenant, catalog, position, product_id, reason, issues, raw)
       SELECT $1, $2, $3, * FROM unnest($4::int[], $5::text[], $6::text[], $7::jsonb[], $8::text[])
       ON CONFLICT (ingestion_id, position) DO NOTHING`,
      [
        ingestion.id,
        ingestion.tenant,
        ingestion.catalog,
        rows.map((r) => r.position),
        rows.map((r) => (r.productId === null ? null : storable(r.productId))),
        rows.map((r) => storable(r.reason)),
        rows.map((r) => storable(JSON.stringify(r.issues))),
        rows.map((r) => storable(r.raw)),
      ],
    );
  }

  /**
   * Moves the staged products into `products` and cuts the batches, in one transaction.
   * Run again for the same ingestion, it returns what the first run decided.
   */
  async finishStaging(
    ingestion: Pick<IngestionRow, 'id' | 'tenant' | 'catalog'>,
    limits: BatchLimits,
    counts: { recordsRead: number; rejected: number },
  ): Promise<StagingTotals> {
    return this.transaction(async (client) => {
      const locked = await client.query(
        `SELECT status, products_upserted, products_unchanged, duplicates, products_stale, products_removed,
                products_skipped
         FROM ingestions WHERE id = $1 FOR UPDATE`,
        [ingestion.id],
      );
      const row = locked.rows[0];
      if (row && row.status !== 'staging') return this.stagingTotals(client, ingestion.id, row);
      await preferSetJoins(client);

      const upsert = await client.query(
        `INSERT INTO products AS p (tenant, catalog, product_id, title, price, currency, body, content_hash,
                                    source_updated_at, last_ingestion_id)
         SELECT $2, $3, i.product_id, o.value->'attributes'->>'title', (o.value->'attributes'->>'price')::numeric,
                o.value->'attributes'->>'currency', o.value, i.content_hash, i.source_updated_at, $1
         FROM ingestion_items i, LATERAL (SELECT (i.operation::jsonb)->'value' AS value) o
         WHERE i.ingestion_id = $1 AND NOT i.removal
         ON CONFLICT (tenant, catalog, product_id) DO UPDATE SET
           title = excluded.title, price = excluded.price, currency = excluded.currency, body = excluded.body,
           content_hash = excluded.content_hash, source_updated_at = excluded.source_updated_at,
           changed_at = now(), last_ingestion_id = excluded.last_ingestion_id, removed_at = NULL
         WHERE (p.content_hash <> excluded.content_hash OR p.removed_at IS NOT NULL)
           AND coalesce(excluded.source_updated_at, 'infinity') >= coalesce(p.source_updated_at, '-infinity')`,
        [ingestion.id, ingestion.tenant, ingestion.catalog],
      );
      const removals = await client.query(
        // A full feed's PUT drops the product at once, so the catalog API no longer holds it.
        `UPDATE products p SET removed_at = now(), changed_at = now(), last_ingestion_id = $1,
           source_updated_at = coalesce(i.source_updated_at, p.source_updated_at),
           delivered_hash = CASE WHEN $4::boolean THEN NULL ELSE p.delivered_hash END
         FROM ingestion_items i
         WHERE i.ingestion_id = $1 AND i.removal AND p.tenant = $2 AND p.catalog = $3
           AND p.product_id = i.product_id AND p.removed_at IS NULL
           AND coalesce(i.source_updated_at, 'infinity') >= coalesce(p.source_updated_at, '-infinity')`,
        [ingestion.id, ingestion.tenant, ingestion.catalog, Boolean(limits.full)],
      );
      // A removal of a product never seen here: kept, so once delivered it is not sent again.
      let tombstones = 0;
      if (!limits.full) {
        const inserted = await client.query(
          `INSERT INTO products (tenant, catalog, product_id, title, body, content_hash, source_updated_at,
                                 last_ingestion_id, removed_at)
           SELECT $2, $3, i.product_id, '', '{}', $4, i.source_updated_at, $1, now()
             FROM ingestion_items i WHERE i.ingestion_id = $1 AND i.removal
           ON CONFLICT (tenant, catalog, product_id) DO NOTHING`,
          [ingestion.id, ingestion.tenant, ingestion.catalog, REMOVED_HASH],
        );
        tombstones = inserted.rowCount ?? 0;
      }
      // Never send a version older than the one the warehouse holds: send the newer one instead,
      // whether that is a product or its removal.
      const staleAdds = await client.query(
        `UPDATE ingestion_items i SET operation = jsonb_build_object(
             'op', 'add', 'path', '/products/' || replace(replace(i.product_id, '~', '~0'), '/', '~1'),
             'value', p.body)::text,
           removal = false, content_hash = p.content_hash, source_updated_at = p.source_updated_at
         FROM products p
         WHERE i.ingestion_id = $1 AND p.tenant = $2 AND p.catalog = $3 AND p.product_id = i.product_id
           AND p.removed_at IS NULL
           AND i.source_updated_at IS NOT NULL AND p.source_updated_at > i.source_updated_at`,
        [ingestion.id, ingestion.tenant, ingestion.catalog],
      );
      const staleRemovals = await client.query(
        `UPDATE ingestion_items i SET operation = jsonb_build_object(
             'op', 'remove', 'path', '/products/' || replace(replace(i.product_id, '~', '~0'), '/', '~1'))::text,
           removal = true, content_hash = $4, source_updated_at = p.source_updated_at
         FROM products p
         WHERE i.ingestion_id = $1 AND p.tenant = $2 AND p.catalog = $3 AND p.product_id = i.product_id
           AND p.removed_at IS NOT NULL
           AND i.source_updated_at IS NOT NULL AND p.source_updated_at > i.source_updated_at`,
        [ingestion.id, ingestion.tenant, ingestion.catalog, REMOVED_HASH],
      );
      // A full feed replaces the catalog: a removal there is a product it does not carry (its
      // time is kept above, so an older version cannot bring it back).
      const droppedRemovals = limits.full
        ? ((
            await client.query(`DELETE FROM ingestion_items WHERE ingestion_id = $1 AND removal`, [
              ingestion.id,
            ])
          ).rowCount ?? 0)
        : 0;
      // A delta need not resend what the catalog API already accepted in this exact version.
      const skipped =
        limits.full || limits.resend
          ? undefined
          : await client.query(
              `UPDATE ingestion_items i SET delivered = true FROM products p
               WHERE i.ingestion_id = $1 AND p.tenant = $2 AND p.catalog = $3
                 AND p.product_id = i.product_id AND p.delivered_hash = i.content_hash
                 AND p.delivered_to = $4`,
              [ingestion.id, ingestion.tenant, ingestion.catalog, limits.target ?? null],
            );
      const removed = limits.full
        ? await client.query(
            `UPDATE products p SET removed_at = now(), changed_at = now(), delivered_hash = NULL
             WHERE p.tenant = $2 AND p.catalog = $3 AND p.removed_at IS NULL AND NOT EXISTS (
               SELECT 1 FROM ingestion_items i WHERE i.ingestion_id = $1 AND i.product_id = p.product_id)`,
            [ingestion.id, ingestion.tenant, ingestion.catalog],
          )
        : undefined;
      const batches = await this.cutBatches(client, ingestion.id, limits);
      const staged = await client.query(
        `SELECT count(*)::int AS n, (count(*) FILTER (WHERE removal))::int AS removals
         FROM ingestion_items WHERE ingestion_id = $1`,
        [ingestion.id],
      );
      const products: number = staged.rows[0].n;
      const removalItems: number = staged.rows[0].removals;
      const skippedCount = skipped?.rowCount ?? 0;
      const upserted = upsert.rowCount ?? 0;
      const duplicates = counts.recordsRead - counts.rejected - products - droppedRemovals;
      const staleCount = (staleAdds.rowCount ?? 0) + (staleRemovals.rowCount ?? 0);
      const removedCount = (removed?.rowCount ?? 0) + (removals.rowCount ?? 0) + tombstones;
      const unchanged = products - upserted - removalItems;

      await client.query(
        `UPDATE ingestions SET status = 'staged', staged_at = clock_timestamp(), records_read = $2,
           records_rejected = $3, duplicates = $4, products_upserted = $5, products_unchanged = $6, batches = $7,
           products_stale = $8, products_removed = $9, products_skipped = $10, target = $11 WHERE id = $1`,
        [
          ingestion.id,
          counts.recordsRead,
          counts.rejected,
          duplicates,
          upserted,
          unchanged,
          batches.length,
          staleCount,
          removedCount,
          skippedCount,
          limits.target ?? null,
        ],
      );
      const bytes = batches.reduce((sum, b) => sum + b.bytes, 0);
      return {
        products,
        upserted,
        unchanged,
        duplicates,
        stale: staleCount,
        removed: removedCount,
        alreadyDelivered: skippedCount,
        batches: batches.length,
        bytes,
      };
    });
  }

  private async stagingTotals(
    client: PoolClient,
    ingestionId: string,
    row: {
      products_upserted: number;
      products_unchanged: number;
      duplicates: number;
      products_stale: number;
      products_removed: number;
      products_skipped: number;
    },
  ): Promise<StagingTotals> {
    const agg = await client.query(
      `SELECT count(*)::int AS batches, coalesce(sum(bytes), 0)::int AS bytes,
         (SELECT count(*)::int FROM ingestion_items WHERE ingestion_id = $1) AS products
       FROM batches WHERE ingestion_id = $1`,
      [ingestionId],
    );
    const a = agg.rows[0];
    return {
      products: a.products,
      upserted: row.products_upserted,
      unchanged: row.products_unchanged,
      duplicates: row.duplicates,
      stale: row.products_stale ?? 0,
      removed: row.products_removed ?? 0,
      alreadyDelivered: row.products_skipped ?? 0,
      batches: a.batches,
      bytes: a.bytes,
    };
  }

  /** Walks the staged products in id order and closes a batch before it passes either limit. */
  private async cutBatches(
    client: PoolClient,
    ingestionId: string,
    limits: BatchLimits,
  ): Promise<BatchRow[]> {
    const items = await client.query<{ product_id: string; bytes: number }>(
      `SELECT product_id, octet_length(operation) AS bytes FROM ingestion_items
       WHERE ingestion_id = $1 AND NOT delivered ORDER BY product_id`,
      [ingestionId],
    );
    const batches: BatchRow[] = [];
    let current: BatchRow | undefined;
    for (const item of items.rows) {
      const size = item.bytes + ARRAY_OVERHEAD_PER_ITEM;
      const full =
        current &&
        (current.products >= limits.maxProducts || current.bytes + size > limits.maxBytes);
      if (!current || full) {
        current = {
          seq: batches.length,
          firstProductId: item.product_id,
          lastProductId: item.product_id,
          products: 0,
          bytes: ARRAY_OVERHEAD,
          status: 'staged',
          jobId: null,
        };
        batches.push(current);
      }
      current.lastProductId = item.product_id;
      current.products++;
      current.bytes += size;
    }
    if (batches.length > 0) {
      await client.query(
        `INSERT INTO batches (ingestion_id, seq, first_product_id, last_product_id, products, bytes)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::int[])`,
        [
          ingestionId,
          batches.map((b) => b.seq),
          batches.map((b) => b.firstProductId),
          batches.map((b) => b.lastProductId),
          batches.map((b) => b.products),
          batches.map((b) => b.bytes),
        ],
      );
    }
    return batches;
  }

  async getBatch(ingestionId: string, seq: number): Promise<BatchRow | undefined> {
    const res = await this.pool.query(
      `SELECT seq, first_product_id, last_product_id, products, bytes, status, job_id FROM batches
       WHERE ingestion_id = $1 AND seq = $2`,
      [ingestionId, seq],
    );
    const r = res.rows[0];
    if (!r) return undefined;
    return {
      seq: r.seq,
      firstProductId: r.first_product_id,
      lastProductId: r.last_product_id,
      products: r.products,
      bytes: r.bytes,
      status: r.status,
      jobId: r.job_id,
    };
  }

  /** The catalog operations of a batch, one JSON line each, in product id order. */
  async batchOperations(ingestionId: string, batch: BatchRow): Promise<string[]> {
    const res = await this.pool.query<{ operation: string }>(
      `SELECT operation FROM ingestion_items
       WHERE ingestion_id = $1 AND product_id >= $2 AND product_id <= $3 AND NOT delivered
       ORDER BY product_id`,
      [ingestionId, batch.firstProductId, batch.lastProductId],
    );
    return res.rows.map((r) => r.operation);
  }

  /** Records a job the moment its id is known, so a retried submit finds it. */
  async recordBatchJob(
    ingestion: Pick<IngestionRow, 'id' | 'tenant' | 'catalog'>,
    seq: number,
    job: { jobId: string; requestId: string; kind: string },
  ): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(
        `UPDATE batches SET status = 'submitted', job_id = $3, request_id = $4, submitted_at = now()
         WHERE ingestion_id = $1 AND seq = $2`,
        [ingestion.id, seq, job.jobId, job.requestId],
      );
      await insertJob(client, {
        ...job,
        tenant: ingestion.tenant,
        catalog: ingestion.catalog,
        ingestionId: ingestion.id,
        seq,
      });
    });
  }

  /** Stores a status the job reported, once per change, and closes its batch when it ends. */
  async recordJobStatus(
    jobId: string,
    status: string,
    polls: number,
    terminal: boolean,
    message?: string,
  ): Promise<void> {
    await this.transaction(async (client) => {
      const res = await client.query(
        `UPDATE catalog_jobs SET status = $2, polls = greatest(polls, $3), message = coalesce($4, message),
           finished_at = CASE WHEN $5 THEN now() ELSE finished_at END
         WHERE job_id = $1 AND status IS DISTINCT FROM $2 RETURNING job_id`,
        [jobId, status, polls, message ?? null, terminal],
      );
      if (res.rowCount === 0) return;
      await client.query(`INSERT INTO catalog_job_events (job_id, status) VALUES ($1, $2)`, [
        jobId,
        status,
      ]);
      if (terminal) {
        await client.query(
          `UPDATE batches SET status = $2, finished_at = now() WHERE job_id = $1`,
          [jobId, status],
        );
      }
    });
  }

  /**
   * After a feed job succeeded: the catalog API now holds these versions of its products, so a
   * later delta need not send them again. Idempotent; a no-op for jobs without batches.
   */
  async markDelivered(jobId: string): Promise<number> {
    const res = await this.pool.query(
      `UPDATE products p SET delivered_hash = i.content_hash, delivered_to = g.target
       FROM batches b
       JOIN ingestions g ON g.id = b.ingestion_id
       JOIN ingestion_items i ON i.ingestion_id = b.ingestion_id
         AND i.product_id >= b.first_product_id AND i.product_id <= b.last_product_id AND NOT i.delivered
       WHERE b.job_id = $1 AND p.tenant = g.tenant AND p.catalog = g.catalog AND p.product_id = i.product_id`,
      [jobId],
    );
    return res.rowCount ?? 0;
  }

  async finishIngestion(id: string, status: 'succeeded' | 'failed', error?: string): Promise<void> {
    await this.pool.query(
      `UPDATE ingestions SET status = $2, error = $3, finished_at = coalesce(finished_at, now()) WHERE id = $1`,
      [id, status, error ?? null],
    );
  }

  /** Starts (or finds) the record of one index rebuild; returns its job id if one was recorded. */
  async beginRebuild(r: {
    rebuildKey: string;
    tenant: string;
    catalog: string;
    workflowId: string;
    ingestionIds: string[];
    startedAt: number;
  }): Promise<string | null> {
    await this.pool.query(
      `INSERT INTO index_rebuilds (rebuild_key, tenant, catalog, workflow_id, ingestion_ids, started_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (rebuild_key) DO NOTHING`,
      [r.rebuildKey, r.tenant, r.catalog, r.workflowId, r.ingestionIds, new Date(r.startedAt)],
    );
    const res = await this.pool.query(`SELECT job_id FROM index_rebuilds WHERE rebuild_key = $1`, [
      r.rebuildKey,
    ]);
    return res.rows[0]?.job_id ?? null;
  }

  async recordRebuildJob(
    r: { rebuildKey: string; tenant: string; catalog: string },
    jobId: string,
  ): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(
        `UPDATE index_rebuilds SET job_id = $2, status = 'submitted' WHERE rebuild_key = $1`,
        [r.rebuildKey, jobId],
      );
      await insertJob(client, {
        jobId,
        kind: 'index',
        tenant: r.tenant,
        catalog: r.catalog,
        rebuildKey: r.rebuildKey,
      });
    });
  }

  /**
   * Closes a rebuild. On success, returns the lag of every product it made searchable: from its
   * source update (or, lacking one, the start of its ingestion) to the end of the index job.
   */
  async finishRebuild(rebuildKey: string, status: string, stoppedAt: Date): Promise<number[]> {
    return this.transaction(async (client) => {
      let lags: number[] = [];
      let quantiles: (number | null)[] = [null, null, null];
      if (status === 'success') {
        const res = await client.query<{ lag: number }>(
          `SELECT greatest(0, extract(epoch FROM ($2::timestamptz - coalesce(i.source_updated_at,
             g.started_at))))::float8 AS lag
           FROM index_rebuilds r JOIN ingestion_items i ON i.ingestion_id = ANY (r.ingestion_ids)
           JOIN ingestions g ON g.id = i.ingestion_id WHERE r.rebuild_key = $1`,
          [rebuildKey, stoppedAt],
        );
        lags = res.rows.map((row) => row.lag);
        quantiles = [0.5, 0.95, 0.99].map((q) => quantile(lags, q));
      }
      await client.query(
        `UPDATE index_rebuilds SET status = $2, finished_at = $3, lag_p50_s = $4, lag_p95_s = $5, lag_p99_s = $6
         WHERE rebuild_key = $1`,
        [rebuildKey, status, stoppedAt, ...quantiles],
      );
      return lags;
    });
  }

  /**
   * Stages one page of a source pull and its checkpoint in one transaction, so the
   * checkpoint never claims records that are not committed.
   */
  async stagePulledPage(
    ingestion: Pick<IngestionRow, 'id' | 'tenant' | 'catalog'>,
    items: StagedItem[],
    rejected: RejectedRecord[],
    checkpoint: PullCheckpoint,
  ): Promise<void> {
    await this.transaction(async (client) => {
      await this.stageItems(ingestion.id, items, client);
      await this.rejectRecords(ingestion, rejected, client);
      await client.query(
        `INSERT INTO pull_checkpoints (ingestion_id, cursor, records, rejected, pages, empty_pages)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (ingestion_id) DO UPDATE SET cursor = excluded.cursor, records = excluded.records,
           rejected = excluded.rejected, pages = excluded.pages, empty_pages = excluded.empty_pages,
           updated_at = now()`,
        [
          ingestion.id,
          checkpoint.cursor,
          checkpoint.records,
          checkpoint.rejected,
          checkpoint.pages,
          checkpoint.emptyPages,
        ],
      );
    });
  }

  async pullCheckpoint(ingestionId: string): Promise<PullCheckpoint | undefined> {
    const res = await this.pool.query(
      `SELECT cursor, records, rejected, pages, empty_pages FROM pull_checkpoints WHERE ingestion_id = $1`,
      [ingestionId],
    );
    const r = res.rows[0];
    return r
      ? {
          cursor: r.cursor,
          records: r.records,
          rejected: r.rejected,
          pages: r.pages,
          emptyPages: r.empty_pages,
        }
      : undefined;
  }

  async topRejectionReasons(
    ingestionId: string,
    limit: number,
  ): Promise<{ reason: string; count: number }[]> {
    const res = await this.pool.query(
      `SELECT reason, count(*)::int AS count FROM rejected_records WHERE ingestion_id = $1
       GROUP BY reason ORDER BY count(*) DESC, reason LIMIT $2`,
      [ingestionId, limit],
    );
    return res.rows;
  }

  /** Products a full feed carries, and products the catalog holds now. */
  async fullFeedSizes(
    ingestion: Pick<IngestionRow, 'id' | 'tenant' | 'catalog'>,
  ): Promise<{ staged: number; current: number }> {
    const res = await this.pool.query(
      `SELECT (SELECT count(*)::int FROM ingestion_items WHERE ingestion_id = $1 AND NOT removal) AS staged,
              (SELECT count(*)::int FROM products WHERE tenant = $2 AND catalog = $3
                AND removed_at IS NULL) AS current`,
      [ingestion.id, ingestion.tenant, ingestion.catalog],
    );
    return res.rows[0];
  }

  /** Stores what a source pull read, for an ingestion whose records were staged by the pull. */
  async recordReadCounts(id: string, recordsRead: number, rejected: number): Promise<void> {
    await this.pool.query(
      `UPDATE ingestions SET records_read = $2, records_rejected = $3 WHERE id = $1`,
      [id, recordsRead, rejected],
    );
  }

  /** Who began an ingestion: its workflow, tenant and catalog. */
  async ingestionOwner(
    id: string,
  ): Promise<{ workflowId: string; tenant: string; catalog: string } | undefined> {
    const res = await this.pool.query(
      `SELECT workflow_id AS "workflowId", tenant, catalog FROM ingestions WHERE id = $1`,
      [id],
    );
    return res.rows[0];
  }

  async readCounts(id: string): Promise<{ recordsRead: number; rejected: number }> {
    const res = await this.pool.query(
      `SELECT coalesce(records_read, 0) AS read, coalesce(records_rejected, 0) AS rejected
         FROM ingestions WHERE id = $1`,
      [id],
    );
    return { recordsRead: res.rows[0]?.read ?? 0, rejected: res.rows[0]?.rejected ?? 0 };
  }

  async getWatermark(tenant: string, source: string, stream: string): Promise<Date | null> {
    const res = await this.pool.query(
      `SELECT value FROM watermarks WHERE tenant = $1 AND source = $2 AND stream = $3`,
      [tenant, source, stream],
    );
    return res.rows[0]?.value ?? null;
  }

  /** Moves a watermark forward, never back. */
  async advanceWatermark(
    tenant: string,
    source: string,
    stream: string,
    value: Date,
  ): Promise<Date> {
    const res = await this.pool.query(
      `INSERT INTO watermarks (tenant, source, stream, value) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant, source, stream) DO UPDATE SET value = greatest(watermarks.value,
         excluded.value), updated_at = now()
       RETURNING value`,
      [tenant, source, stream, value],
    );
    return res.rows[0].value;
  }

  /**
   * Reserves one call on a shared token bucket and returns how long the caller must wait
   * before making it (0 when a token was free). Atomic across every worker.
   */
  async reserveCall(key: string, capacity: number, refillPerSec: number): Promise<number> {
    const res = await this.pool.query<{ tokens: number }>(
      `INSERT INTO rate_limit_buckets AS b (key, capacity, refill_per_sec, tokens) VALUES ($1,
         $2::float8, $3::float8, $2::float8 - 1)
       ON CONFLICT (key) DO UPDATE SET
         capacity = excluded.capacity, refill_per_sec = excluded.refill_per_sec,
         tokens = least(excluded.capacity, b.tokens + extract(epoch
           FROM clock_timestamp() - b.updated_at) * excluded.refill_per_sec) - 1,
         updated_at = clock_timestamp()
       RETURNING tokens`,
      [key, capacity, refillPerSec],
    );
    const tokens = res.rows[0]!.tokens;
    return tokens >= 0 ? 0 : Math.ceil((-tokens / refillPerSec) * 1000);
  }

  /** After a 429: empties the bucket so every worker waits out the server's delay. */
  async penalize(key: string, waitMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE rate_limit_buckets SET tokens = least(tokens, -($2::float8 / 1000) * refill_per_sec),
         updated_at = clock_timestamp()
       WHERE key = $1`,
      [key, waitMs],
    );
  }

  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

async function insertJob(
  client: PoolClient,
  j: {
    jobId: string;
    kind: string;
    tenant: string;
    catalog: string;
    ingestionId?: string;
    seq?: number;
    rebuildKey?: string;
  },
): Promise<void> {
  const inserted = await client.query(
    `INSERT INTO catalog_jobs (job_id, kind, tenant, catalog, ingestion_id, batch_seq, rebuild_key, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted') ON CONFLICT (job_id) DO NOTHING`,
    [
      j.jobId,
      j.kind,
      j.tenant,
      j.catalog,
      j.ingestionId ?? null,
      j.seq ?? null,
      j.rebuildKey ?? null,
    ],
  );
  if (inserted.rowCount) {
    await client.query(`INSERT INTO catalog_job_events (job_id, status) VALUES ($1, 'submitted')`, [
      j.jobId,
    ]);
  }
}

/** Nearest-rank quantile of unsorted values; null for none. */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
