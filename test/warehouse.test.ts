import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../src/warehouse/migrations';
import { createPool, type Pool } from '../src/warehouse/pool';
import { type StagedItem, Warehouse } from '../src/warehouse/warehouse';
import { freshDatabase, type TestDatabase } from './helpers/postgres';

function item(
  productId: string,
  position: number,
  updatedAt: string | null,
  title = productId,
): StagedItem {
  const operation = JSON.stringify({
    op: 'add',
    path: `/products/${productId}`,
    value: { attributes: { title } },
  });
  return {
    productId,
    removal: false,
    operation,
    contentHash: `${productId}:${title}`,
    sourceUpdatedAt: updatedAt,
    position,
  };
}

describe('the warehouse', () => {
  let db: TestDatabase;
  let pool: Pool;
  let wh: Warehouse;

  before(async () => {
    db = await freshDatabase();
    pool = createPool(db.url, db.server ? 5 : 1);
    wh = new Warehouse(pool);
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('applies its migrations once, however often it is asked', async () => {
    assert.deepEqual(await migrate(pool), [1, 2, 3, 4]);
    assert.deepEqual(await migrate(pool), []);
    const tables = await pool.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    assert.equal(tables.rows[0].n, 12);
  });

  it('keeps the latest source update of a repeated product, whatever the order', async () => {
    const ing = { id: 'ing-dedupe', tenant: 't', catalog: 'c' };
    await wh.beginIngestion({ ...ing, workflowId: 'w', source: 'f', mode: 'delta' });
    await wh.stageItems(ing.id, [item('p1', 1, '2024-01-02T00:00:00Z', 'new')]);
    await wh.stageItems(ing.id, [item('p1', 2, '2024-01-01T00:00:00Z', 'old')]);
    const totals = await wh.finishStaging(
      ing,
      { maxProducts: 10, maxBytes: 1_000_000 },
      { recordsRead: 2, rejected: 0 },
    );
    assert.equal(totals.products, 1);
    assert.equal(totals.duplicates, 1);
    const row = await pool.query(`SELECT title FROM products WHERE product_id = 'p1'`);
    assert.equal(row.rows[0].title, 'new');
  });

  it('keeps a rejected record holding NUL bytes, with them written as \\u0000', async () => {
    const ing = { id: 'ing-nul', tenant: 't', catalog: 'c' };
    await wh.beginIngestion({ ...ing, workflowId: 'w', source: 'f', mode: 'delta' });
    await wh.rejectRecords(ing, [
      {
        position: 4,
        productId: 'a\u0000b',
        reason: 'not valid JSON',
        issues: [],
        raw: '\u0000\u0001garbage',
      },
    ]);
    const row = await pool.query(
      `SELECT product_id, raw FROM rejected_records WHERE ingestion_id = 'ing-nul'`,
    );
    assert.deepEqual(row.rows[0], { product_id: 'a\\u0000b', raw: '\\u0000\u0001garbage' });
  });

  it('cuts batches by count and by bytes, covering every product exactly once', async () => {
    const ing = { id: 'ing-batches', tenant: 't', catalog: 'c' };
    await wh.beginIngestion({ ...ing, workflowId: 'w', source: 'f', mode: 'delta' });
    const items = Array.from({ length: 25 }, (_, i) =>
      item(`b${String(i).padStart(2, '0')}`, i + 1, null),
    );
    await wh.stageItems(ing.id, items);
    const oneOp = Buffer.byteLength(items[0]!.operation) + 1;
    const totals = await wh.finishStaging(
      ing,
      { maxProducts: 10, maxBytes: 2 + 4 * oneOp },
      { recordsRead: 25, rejected: 0 },
    );

    assert.equal(totals.batches, 7); // 4 per batch by bytes: 4*6 + 1
    const seen: string[] = [];
    for (let seq = 0; seq < totals.batches; seq++) {
      const batch = (await wh.getBatch(ing.id, seq))!;
      const ops = await wh.batchOperations(ing.id, batch);
      assert.ok(ops.length <= 4);
      assert.ok(Buffer.byteLength(`[${ops.join(',')}]`) <= 2 + 4 * oneOp);
      seen.push(...ops.map((o) => JSON.parse(o).path));
    }
    assert.deepEqual(
      seen,
      items.map((i) => `/products/${i.productId}`),
    );
  });

  it('returns the same decision when staging is finished twice', async () => {
    const ing = { id: 'ing-batches', tenant: 't', catalog: 'c' };
    const again = await wh.finishStaging(
      ing,
      { maxProducts: 1, maxBytes: 100 },
      { recordsRead: 25, rejected: 0 },
    );
    assert.equal(again.batches, 7);
    const count = await pool.query(
      `SELECT count(*)::int AS n FROM batches WHERE ingestion_id = $1`,
      [ing.id],
    );
    assert.equal(count.rows[0].n, 7);
  });

  it('changes no product row when the same data is ingested again', async () => {
    const ing = { id: 'ing-again', tenant: 't', catalog: 'c' };
    await wh.beginIngestion({ ...ing, workflowId: 'w2', source: 'f', mode: 'delta' });
    await wh.stageItems(
      ing.id,
      Array.from({ length: 25 }, (_, i) => item(`b${String(i).padStart(2, '0')}`, i + 1, null)),
    );
    const before = await pool.query(
      `SELECT count(*)::int AS n, max(changed_at) AS at FROM products`,
    );
    const totals = await wh.finishStaging(
      ing,
      { maxProducts: 100, maxBytes: 1_000_000 },
      { recordsRead: 25, rejected: 0 },
    );
    const after = await pool.query(
      `SELECT count(*)::int AS n, max(changed_at) AS at FROM products`,
    );
    assert.equal(totals.upserted, 0);
    assert.equal(totals.unchanged, 25);
    assert.deepEqual(after.rows[0], before.rows[0]);
  });

  it('does not let an older source update overwrite a newer product', async () => {
    const ing = { id: 'ing-older', tenant: 't', catalog: 'c' };
    await wh.beginIngestion({ ...ing, workflowId: 'w3', source: 'f', mode: 'delta' });
    await wh.stageItems(ing.id, [item('p1', 1, '2023-01-01T00:00:00Z', 'ancient')]);
    const totals = await wh.finishStaging(
      ing,
      { maxProducts: 100, maxBytes: 1_000_000 },
      { recordsRead: 1, rejected: 0 },
    );
    assert.equal(totals.upserted, 0);
    const row = await pool.query(`SELECT title FROM products WHERE product_id = 'p1'`);
    assert.equal(row.rows[0].title, 'new');
  });

  it('records each job status change once, with its time', async () => {
    const ing = { id: 'ing-batches', tenant: 't', catalog: 'c' };
    await wh.recordBatchJob(ing, 0, { jobId: 'job-1', requestId: 'r1', kind: 'feed_delta' });
    await wh.recordJobStatus('job-1', 'running', 1, false);
    await wh.recordJobStatus('job-1', 'running', 2, false);
    await wh.recordJobStatus('job-1', 'success', 3, true);
    const events = await pool.query(
      `SELECT status FROM catalog_job_events WHERE job_id = 'job-1' ORDER BY observed_at`,
    );
    assert.deepEqual(
      events.rows.map((r) => r.status),
      ['submitted', 'running', 'success'],
    );
    const batch = await wh.getBatch(ing.id, 0);
    assert.equal(batch?.status, 'success');
    assert.equal(batch?.jobId, 'job-1');
  });
});
