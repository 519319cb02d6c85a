import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { createSyncSchedule, listSyncSchedules } from '../src/schedules';
import type { ApiSource, SyncSourceInput, SyncSummary } from '../src/domain';
import { FakeSalesforce } from '../src/fakes/fake-salesforce';
import { FakeShopify } from '../src/fakes/fake-shopify';
import { type TestStack, startTestStack } from './helpers/stack';

const TOKENS = { shopa: 'shpat_test_a', shopb: 'shpat_test_b', sforg: 'sf_session_test' };

describe('syncing products from rate-limited source APIs', () => {
  let s: TestStack;
  let shopify: FakeShopify;
  let salesforce: FakeSalesforce;

  before(async () => {
    s = await startTestStack({ sourceTokens: TOKENS, fakeApi: { jobDurationMs: [50, 200] } });
    shopify = await new FakeShopify().start();
    salesforce = await new FakeSalesforce().start();
  });
  after(async () => {
    await shopify.stop();
    await salesforce.stop();
    await s.stop();
  });

  async function sync(input: SyncSourceInput): Promise<SyncSummary> {
    return (await s.env.client.workflow.execute('syncSource', {
      taskQueue: s.taskQueue,
      workflowId: `sync/${input.tenant}/${randomUUID()}`,
      args: [{ pollIntervalMs: 100, catalogApi: { account: input.tenant }, ...input }],
    })) as SyncSummary;
  }

  /** A new shop on the fake, and the source that reads it with that token and bucket. */
  function newShop(
    name: string,
    keyRef: keyof typeof TOKENS,
    products: number,
    bucket: { bucketSize?: number; leakPerSecond?: number } = {},
    churn: { updatesPerRequest?: number; createsPerRequest?: number } = {},
  ): ApiSource {
    shopify.addShop(name, { token: TOKENS[keyRef], products, ...bucket, ...churn });
    return { kind: 'shopify', baseUrl: shopify.shopUrl(name), keyRef, ...bucket };
  }

  async function warehouseIds(tenant: string): Promise<string[]> {
    const res = await s.pool.query(`SELECT product_id FROM products WHERE tenant = $1`, [tenant]);
    return res.rows.map((r) => r.product_id as string);
  }

  /** Every product id the catalog API accepted for a tenant's account, repeats kept. */
  function delivered(account: string): string[] {
    return [...s.fakeApi.jobs.values()]
      .filter((j) => j.accountId === account && j.outcome === 'success')
      .flatMap((j) => j.productIds);
  }

  it('backfills 100,000 Shopify products, each exactly once in the warehouse and the catalog API', async () => {
    const source = newShop('big', 'shopa', 100_000, { bucketSize: 400, leakPerSecond: 20 });
    const started = Date.now();
    const summary = await sync({
      tenant: 'big',
      catalog: 'main',
      source,
      mode: 'backfill',
      segmentRecords: 25_000,
      segmentsPerRun: 2,
    });
    const wallMs = Date.now() - started;

    const ids = await warehouseIds('big');
    assert.equal(summary.records, 100_000);
    assert.equal(ids.length, 100_000);
    const sent = delivered('big');
    assert.equal(sent.length, 100_000);
    assert.equal(new Set(sent).size, 100_000);
    const stats = shopify.stats('big');
    const lowerBoundS = Math.max(0, stats.requests - 400) / 20;
    process.stdout.write(
      `# backfill figures: ${summary.records} records, ${summary.pages} pages, ${stats.requests} requests, ` +
        `${stats.throttled} 429s, ${(wallMs / 1000).toFixed(1)} s wall, ` +
        `rate-limit lower bound ${lowerBoundS.toFixed(1)} s\n`,
    );
    assert.equal(stats.throttled, 0);
  });

  it('paces calls with the shared limiter so a small bucket answers no 429', async () => {
    const source = newShop('small', 'shopb', 3_000, { bucketSize: 5, leakPerSecond: 4 });
    const summary = await sync({
      tenant: 'small',
      catalog: 'main',
      source,
      mode: 'backfill',
      pageSize: 100,
    });
    assert.equal(summary.records, 3_000);
    assert.deepEqual(shopify.stats('small'), { requests: 30, throttled: 0 });
    assert.equal(summary.rateLimited, 0);
    // 25 calls beyond the bucket at no more than 4 a second.
    assert.ok(summary.pacedMs >= 5_000, `paced ${summary.pacedMs} ms`);
  });

  it('picks up exactly the changed and new records in an incremental run', async () => {
    const source: ApiSource = {
      kind: 'shopify',
      baseUrl: shopify.shopUrl('small'),
      keyRef: 'shopb',
      bucketSize: 5,
      leakPerSecond: 4,
    };
    const all = [...shopify.shops.get('small')!.products.keys()];
    const changed = all.filter((_, i) => i % 81 === 0);
    shopify.updateProducts('small', changed);
    const created = shopify.createProducts('small', 5);

    const summary = await sync({
      tenant: 'small',
      catalog: 'main',
      source,
      mode: 'incremental',
      overlapMs: 0,
    });
    assert.equal(summary.records, changed.length + created.length);
    const rows = await s.pool.query(
      `SELECT product_id FROM products WHERE tenant = 'small' AND last_ingestion_id LIKE $1 ORDER BY product_id`,
      [`${summary.syncId}%`],
    );
    assert.deepEqual(
      rows.rows.map((r) => r.product_id),
      [...changed, ...created].map(String).sort(),
    );
    assert.equal((await warehouseIds('small')).length, 3_005);
  });

  it('takes products archived in the shop out of the catalog in an incremental run', async () => {
    const source = newShop('archiving', 'shopb', 300);
    await sync({ tenant: 'archiving', catalog: 'main', source, mode: 'backfill' });
    const catalog = s.fakeApi.catalog('archiving', 'main');
    assert.equal(catalog.products.size, 300);

    const archived = [3, 50, 299].map(
      (i) => [...shopify.shops.get('archiving')!.products.keys()][i]!,
    );
    shopify.archiveProducts('archiving', archived);
    const summary = await sync({
      tenant: 'archiving',
      catalog: 'main',
      source,
      mode: 'incremental',
    });
    assert.equal(catalog.products.size, 297);
    for (const id of archived) assert.ok(!catalog.products.has(String(id)), `${id} removed`);
    const removed = await s.pool.query<{ product_id: string }>(
      `SELECT product_id FROM products WHERE tenant = 'archiving' AND removed_at IS NOT NULL ORDER BY 1`,
    );
    assert.deepEqual(
      removed.rows.map((r) => r.product_id),
      archived.map(String).sort(),
    );
    assert.ok(summary.records >= 3);

    const jobsBefore = s.fakeApi.jobs.size;
    await sync({ tenant: 'archiving', catalog: 'main', source, mode: 'incremental' });
    const feedJobs = [...s.fakeApi.jobs.values()]
      .slice(jobsBefore)
      .filter((j) => j.type !== 'index');
    assert.deepEqual(feedJobs, [], 'the overlap re-read sends nothing the catalog API holds');
    const removesSent = [...catalog.removeCounts.values()].reduce((a, b) => a + b, 0);
    assert.equal(removesSent, 3);
  });

  it("refuses a workflow that tries to ingest records another run's pull staged", async () => {
    const { rows } = await s.pool.query<{ id: string }>(
      `SELECT id FROM ingestions WHERE tenant = 'archiving' AND workflow_id LIKE 'sync/%' LIMIT 1`,
    );
    const staged = rows[0]!.id;
    const outcome = async () =>
      (await s.pool.query(`SELECT status, error FROM ingestions WHERE id = $1`, [staged])).rows[0];
    const before = await outcome();
    for (const tenant of ['evil', 'archiving']) {
      const err = await s.env.client.workflow
        .execute('ingestCatalog', {
          taskQueue: s.taskQueue,
          workflowId: `forged/${tenant}/${randomUUID()}`,
          args: [
            {
              tenant,
              catalog: 'main',
              source: { kind: 'staged', ingestionId: staged, description: 'forged' },
              catalogApi: { account: 'evil' },
              pollIntervalMs: 100,
            },
          ],
        })
        .catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, tenant);
      assert.match(err.cause!.message, /can only be ingested by the sync that pulled them/);
    }
    const jobs = [...s.fakeApi.jobs.values()].filter((j) => j.accountId === 'evil');
    assert.deepEqual(jobs, [], 'nothing reached the forger’s account');
    assert.deepEqual(await warehouseIds('evil'), []);
    assert.deepEqual(await outcome(), before, "the sync's own record of it is untouched");
  });

  it('keeps a watermark per catalog, so a second catalog fed from the same source gets everything', async () => {
    const source: ApiSource = {
      kind: 'shopify',
      baseUrl: shopify.shopUrl('small'),
      keyRef: 'shopb',
      bucketSize: 5,
      leakPerSecond: 4,
    };
    const summary = await sync({
      tenant: 'small',
      catalog: 'second',
      source,
      mode: 'incremental',
      pageSize: 250,
    });
    assert.equal(summary.since, null);
    assert.equal(summary.records, 3_005);
  });

  it('never sends a catalog API key to a source: source tokens are a separate set', async () => {
    shopify.addShop('spy', { token: 'not-the-catalog-key', products: 1 });
    const source: ApiSource = {
      kind: 'shopify',
      baseUrl: shopify.shopUrl('spy'),
      keyRef: 'default',
    };
    const err = await sync({ tenant: 'spy', catalog: 'main', source, mode: 'backfill' }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      String((err.cause?.cause as Error | undefined)?.message),
      /no source token named "default"/,
    );
    assert.equal(shopify.stats('spy').requests, 0, 'nothing was sent to the source');
  });

  it("ends with the source's final state when the catalog changes while it is read", async () => {
    const source = newShop(
      'live',
      'shopa',
      2_000,
      { bucketSize: 400, leakPerSecond: 20 },
      { updatesPerRequest: 3, createsPerRequest: 2 },
    );
    await sync({ tenant: 'live', catalog: 'main', source, mode: 'backfill', pageSize: 100 });
    const live = shopify.shops.get('live')!;
    live.options.updatesPerRequest = 0;
    live.options.createsPerRequest = 0;
    await sync({ tenant: 'live', catalog: 'main', source, mode: 'incremental', pageSize: 100 });

    const rows = await s.pool.query(`SELECT product_id, title FROM products WHERE tenant = 'live'`);
    const stored = new Map(rows.rows.map((r) => [r.product_id as string, r.title as string]));
    assert.equal(
      stored.size,
      live.products.size,
      'every product, including those created mid-read',
    );
    for (const [id, p] of live.products)
      assert.equal(stored.get(String(id)), p.title, `product ${id} is current`);
  });

  it('fails fast with a clear error when the paging cursor loops', async () => {
    const source = newShop('loop', 'shopa', 600);
    shopify.setLoopCursor('loop', true);
    const err = await sync({ tenant: 'loop', catalog: 'main', source, mode: 'backfill' }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      String((err.cause?.cause as Error | undefined)?.message ?? err.cause?.message),
      /same cursor/,
    );
    assert.ok(shopify.stats('loop').requests <= 3, `${shopify.stats('loop').requests} requests`);
  });

  it('runs syncs from a Schedule that never overlaps; pause, trigger and delete work', async () => {
    const source = newShop('scheduled', 'shopa', 120);
    const id = await createSyncSchedule(s.env.client, {
      tenant: 'scheduled',
      catalog: 'main',
      source,
      every: '1h',
      taskQueue: s.taskQueue,
      sync: { pollIntervalMs: 100, catalogApi: { account: 'scheduled' } },
    });
    assert.equal(id, 'sync/scheduled/main/shopify');
    await assert.rejects(
      createSyncSchedule(s.env.client, {
        tenant: 'scheduled',
        catalog: 'main',
        source,
        every: '5m',
        taskQueue: s.taskQueue,
      }),
      /schedule sync\/scheduled\/main\/shopify already exists: delete it first/,
    );
    const handle = s.env.client.schedule.getHandle(id);
    const described = await handle.describe();
    assert.equal(described.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(described.policies.catchupWindow, 600_000);
    assert.deepEqual(
      (await listSyncSchedules(s.env.client, 'scheduled')).map((x) => x.scheduleId),
      [id],
    );

    await handle.trigger();
    const watermark = async () =>
      (await s.pool.query(`SELECT value FROM watermarks WHERE tenant = 'scheduled'`)).rowCount;
    for (let i = 0; i < 150 && (await watermark()) === 0; i++)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal(await watermark(), 1, 'the scheduled sync finished and moved the watermark');
    assert.equal((await warehouseIds('scheduled')).length, 120);
    const runs = (await handle.describe()).info.recentActions;
    assert.equal(runs.length, 1);

    await handle.pause('test');
    assert.equal((await handle.describe()).state.paused, true);
    await handle.unpause();
    await handle.delete();
    await assert.rejects(handle.describe());
  });

  it('waits for an exhausted daily quota and resumes where it stopped', async () => {
    salesforce.addOrg('quota', {
      token: TOKENS.sforg,
      products: 1_000,
      dailyLimit: 3,
      quotaWindowMs: 3_000,
    });
    const source: ApiSource = {
      kind: 'salesforce',
      baseUrl: salesforce.orgUrl('quota'),
      keyRef: 'sforg',
      quotaRetryMs: 1_500,
    };
    const summary = await sync({
      tenant: 'quota',
      catalog: 'main',
      source,
      mode: 'backfill',
      pageSize: 200,
    });

    assert.equal(summary.records, 1_000);
    assert.equal(summary.pages, 5);
    assert.ok(summary.quotaWaits >= 1);
    const stats = salesforce.stats('quota');
    assert.equal(stats.requests - stats.quotaRefusals, 5, 'no page read twice');
    const ids = await warehouseIds('quota');
    assert.equal(ids.length, 1_000);
    assert.equal(new Set(delivered('quota')).size, 1_000);
    assert.equal(delivered('quota').length, 1_000);
  });
});
