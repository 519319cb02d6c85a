import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { CatalogApiClient } from '../src/catalog-api/client';
import { generateCatalog } from '../src/demo/generate';
import {
  type IngestCatalogInput,
  type IngestSummary,
  REBUILD_STATUS_QUERY,
  type RebuildStatus,
  type StageSummary,
  type SubmitBatchResult,
  indexRebuildWorkflowId,
} from '../src/domain';
import { CATALOGS_DIR, catalogFile, needsCatalogs } from './helpers/catalogs';
import { expectedIds } from './helpers/expected';
import { TEST_API_KEY, type TestStack, startTestStack } from './helpers/stack';

describe('ingesting catalogs through Temporal, the warehouse and the catalog API', () => {
  let s: TestStack;
  let dir: string;
  const summaries = new Map<string, IngestSummary>();
  const lastFailed = new Map<string, string>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingest-'));
    // The worker reads from the real catalogs and this test's directory only.
    s = await startTestStack({
      fakeApi: { jobDurationMs: [200, 800] },
      sourceFileRoots: [CATALOGS_DIR, dir],
    });
  });
  after(async () => {
    await s.stop();
  });

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
      catalogApi: { account: tenant },
      batching: { maxProducts: 1_000 },
      pollIntervalMs: 100,
      ...extra,
    };
  }

  async function ingest(
    i: IngestCatalogInput,
    workflowId = `ingest/${i.tenant}/${i.catalog}/${randomUUID()}`,
  ) {
    lastFailed.set(i.tenant, workflowId);
    const summary = (await s.env.client.workflow.execute('ingestCatalog', {
      taskQueue: s.taskQueue,
      workflowId,
      args: [i],
    })) as IngestSummary;
    summaries.set(workflowId, summary);
    return summary;
  }

  function activities() {
    return createActivities({
      warehouse: s.warehouse,
      catalogApi: new CatalogApiClient(s.worker!.http),
      httpClient: s.worker!.http,
      catalogApiBaseUrl: s.fakeApi.url,
      apiKeys: { default: TEST_API_KEY },
      sourceTokens: {},
      sourceFiles: s.sourceFiles,
      client: s.env.client,
      taskQueue: s.taskQueue,
      logger: s.logger,
      metrics: s.metrics,
    });
  }

  function workflowIdOf(tenant: string): string {
    return (
      [...summaries.keys()].find((id) => id.startsWith(`ingest/${tenant}/`)) ??
      lastFailed.get(tenant)!
    );
  }

  /** Product ids the fake accepted for one ingestion, across all of its jobs, repeats kept. */
  function deliveredIds(ingestionId: string): string[] {
    return [...s.fakeApi.jobs.values()]
      .filter((j) => j.requestId?.startsWith(`ingest-${ingestionId}-`) && j.outcome === 'success')
      .flatMap((j) => j.productIds);
  }

  async function rebuildStatus(
    tenant: string,
    catalog: string,
    until: (r: RebuildStatus) => boolean,
  ) {
    const handle = s.env.client.workflow.getHandle(indexRebuildWorkflowId(tenant, catalog));
    for (let i = 0; i < 300; i++) {
      const status = await handle.query<RebuildStatus>(REBUILD_STATUS_QUERY).catch(() => undefined);
      if (status && until(status)) return status;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`index singleton of ${tenant}/${catalog} never reached the expected state`);
  }

  it(
    'ingests the real catalogs for two tenants at once, each valid product exactly once',
    { skip: needsCatalogs },
    async () => {
      const files = {
        bestbuy: 'bestbuy_typesense_ecommerce.json',
        amazon: 'amazon_meilisearch_demos_ecommerce.json',
        google: 'googlemerchstore_retail_api_products.jsonl',
        invalid: 'feed_samples/googlemerchstore_retail_api_products_some_invalid.jsonl',
      };
      const [bestbuy, amazon, google, invalid] = await Promise.all([
        ingest(input('acme', 'electronics', catalogFile(files.bestbuy))),
        ingest(input('acme', 'electronics', catalogFile(files.amazon))),
        ingest(input('globex', 'merch', catalogFile(files.google))),
        ingest(input('globex', 'merch', catalogFile(files.invalid))),
      ]);

      for (const [summary, name] of [
        [bestbuy, files.bestbuy],
        [amazon, files.amazon],
        [google, files.google],
        [invalid, files.invalid],
      ] as const) {
        const expected = expectedIds(name);
        const delivered = deliveredIds(summary!.ingestionId);
        // A product the other ingestion of the catalog already delivered in this version is
        // not sent twice (the Google samples overlap): it counts as already delivered.
        assert.equal(
          delivered.length + summary!.stage.alreadyDelivered,
          expected.valid.size,
          `${name}: each valid product delivered once`,
        );
        assert.equal(new Set(delivered).size, delivered.length, `${name}: no repeats`);
        assert.ok(
          delivered.every((id) => expected.valid.has(id)),
          `${name}: only valid products`,
        );
        assert.equal(summary!.stage.rejected, expected.invalid.size);
        assert.equal(summary!.stage.recordsRead, expected.valid.size + expected.invalid.size);
        assert.ok(summary!.jobs.every((j) => j.state === 'success'));
      }
      assert.equal(bestbuy!.stage.batches, 4);
      const merch = new Set([
        ...deliveredIds(google!.ingestionId),
        ...deliveredIds(invalid!.ingestionId),
      ]);
      assert.equal(merch.size, 316, 'the catalog received every Google product');

      const products = await s.pool.query(
        `SELECT tenant, catalog, count(*)::int AS n FROM products GROUP BY tenant, catalog ORDER BY tenant`,
      );
      assert.deepEqual(products.rows, [
        { tenant: 'acme', catalog: 'electronics', n: 4_291 },
        { tenant: 'globex', catalog: 'merch', n: 316 },
      ]);
      const rejected = await s.pool.query(
        `SELECT product_id, reason, raw FROM rejected_records WHERE tenant = 'globex'`,
      );
      assert.equal(rejected.rowCount, 1);
      assert.equal(rejected.rows[0].product_id, 'GGCOGOAC101259');
      assert.match(rejected.rows[0].reason, /^availability: /);
      assert.match(rejected.rows[0].raw, /INVALID_VALUE/);

      // Two ingestions per catalog, rebuild interval one hour: exactly one rebuild has run.
      for (const [tenant, catalog] of [
        ['acme', 'electronics'],
        ['globex', 'merch'],
      ] as const) {
        const status = await rebuildStatus(tenant, catalog, (r) => r.rebuilds >= 1 && !r.running);
        assert.equal(status.rebuilds, 1);
        assert.equal(s.fakeApi.catalog(tenant, catalog).indexedAt.length, 1);
        const rows = await s.pool.query(
          `SELECT status, cardinality(ingestion_ids) AS covered, lag_p50_s, lag_p99_s
             FROM index_rebuilds WHERE tenant = $1`,
          [tenant],
        );
        assert.equal(rows.rowCount, 1);
        assert.equal(rows.rows[0].status, 'success');
        assert.equal(
          rows.rows[0].covered + status.pending,
          2,
          'every request is covered or waits for the next slot',
        );
        assert.ok(rows.rows[0].lag_p50_s > 0);
      }
    },
  );

  it(
    'changes no warehouse row when a catalog is ingested again',
    { skip: needsCatalogs },
    async () => {
      const again = await ingest(
        input('globex', 'merch', catalogFile('googlemerchstore_retail_api_products.jsonl')),
      );
      assert.equal(again.stage.products, 316);
      assert.equal(again.stage.upserted, 0);
      assert.equal(again.stage.unchanged, 316);
      assert.equal(again.stage.alreadyDelivered, 316, 'the catalog API holds these versions');
      assert.equal(again.stage.batches, 0);

      const elsewhere = await ingest(
        input('globex', 'merch', catalogFile('googlemerchstore_retail_api_products.jsonl'), {
          catalogApi: { account: 'globex-staging' },
          requestIndexRebuild: false,
        }),
      );
      assert.equal(elsewhere.stage.alreadyDelivered, 0, 'another account holds nothing yet');
      assert.equal(s.fakeApi.catalog('globex-staging', 'merch').products.size, 316);

      const jobsBefore = s.fakeApi.jobs.size;
      const resent = await ingest(
        input('globex', 'merch', catalogFile('googlemerchstore_retail_api_products.jsonl'), {
          resend: true,
          requestIndexRebuild: false,
        }),
      );
      assert.equal(resent.stage.alreadyDelivered, 0);
      const sent = [...s.fakeApi.jobs.values()].slice(jobsBefore).flatMap((j) => j.productIds);
      assert.equal(sent.length, 316, 'resend sends every product again');
    },
  );

  it('coalesces fifty concurrent rebuild requests: one rebuild now, at most one after the interval', async () => {
    const { requestIndexRebuild } = activities();
    const singleton = {
      tenant: 'fifty',
      catalog: 'main',
      account: 'fifty',
      keyRef: 'default',
      minIntervalMs: 3_000,
      pollIntervalMs: 100,
    };
    const ids = Array.from({ length: 50 }, (_, i) => `ingestion-${i}`);
    await Promise.all(
      ids.map((ingestionId) =>
        new MockActivityEnvironment().run(requestIndexRebuild, {
          singleton,
          request: { ingestionId, requestedAt: Date.now() },
        }),
      ),
    );
    const status = await rebuildStatus(
      'fifty',
      'main',
      (r) => r.rebuilds >= 1 && r.pending === 0 && !r.running,
    );
    assert.ok(status.rebuilds <= 2, `${status.rebuilds} rebuilds`);

    const rows = await s.pool.query(
      `SELECT ingestion_ids, started_at FROM index_rebuilds WHERE tenant = 'fifty' ORDER BY started_at`,
    );
    const covered = rows.rows.flatMap((r) => r.ingestion_ids as string[]);
    assert.equal(covered.length, 50, 'each request covered exactly once');
    assert.deepEqual(new Set(covered), new Set(ids));
    if (rows.rows.length === 2) {
      const gap = rows.rows[1].started_at.getTime() - rows.rows[0].started_at.getTime();
      assert.ok(gap >= 3_000, `second rebuild only ${gap} ms after the first`);
    }
    assert.equal(s.fakeApi.catalog('fifty', 'main').indexedAt.length, rows.rowCount);
  });

  for (const outcome of ['failed', 'killed', 'archived']) {
    it(`fails closed when a job ends ${outcome}: names the batch and job, asks for no rebuild`, async () => {
      const path = join(dir, `fail-${outcome}.jsonl`);
      await generateCatalog(path, 30);
      s.fakeApi.injectFault({
        endpoint: 'PATCH',
        kind: 'outcome',
        outcome,
        message: 'feed rejected by the fake',
      });
      const tenant = `fails-${outcome}`;

      const err = await ingest(input(tenant, 'main', path)).catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        err.cause!.message,
        new RegExp(`batch 0 \\(job [0-9a-f-]{36}\\) ended ${outcome}`),
      );

      const row = await s.pool.query(`SELECT status, error FROM ingestions WHERE tenant = $1`, [
        tenant,
      ]);
      assert.equal(row.rows[0].status, 'failed');
      await assert.rejects(
        s.env.client.workflow.getHandle(indexRebuildWorkflowId(tenant, 'main')).describe(),
        WorkflowNotFoundError,
      );
    });
  }

  it('fails when most records are rejected, naming the commonest reasons, and sends nothing', async () => {
    const path = join(dir, 'all-bad.jsonl');
    await generateCatalog(path, 30, { invalidEvery: 1 });
    const err = await ingest(input('allbad', 'main', path)).catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(err.cause!.message, /30 of 30 records were rejected .*15 x price: Too small/);
    const kept = await s.pool.query(
      `SELECT count(*)::int AS n FROM rejected_records WHERE tenant = 'allbad'`,
    );
    assert.equal(kept.rows[0].n, 30, 'rejected records are kept with their reasons');
    assert.equal([...s.fakeApi.jobs.values()].filter((j) => j.accountId === 'allbad').length, 0);
  });

  it('never sends an older version of a product than the warehouse holds', async () => {
    const newer = join(dir, 'newer.jsonl');
    const older = join(dir, 'older.jsonl');
    await generateCatalog(newer, 5, {
      updatedAt: new Date('2024-06-02T00:00:00Z'),
      descriptionBytes: 10,
    });
    await generateCatalog(older, 5, {
      updatedAt: new Date('2024-06-01T00:00:00Z'),
      descriptionBytes: 20,
    });
    await ingest(input('versions', 'main', newer));
    const second = await ingest(input('versions', 'main', older));
    assert.equal(second.stage.stale, 5);
    assert.equal(second.stage.upserted, 0);
    const stored = s.fakeApi.catalog('versions', 'main').products.get('SKU-0000001') as {
      attributes: { description: string };
    };
    assert.equal(
      stored.attributes.description.length,
      10,
      'the newer version is what the catalog holds',
    );
  });

  it('removes products a delta marks as gone, unless the warehouse holds a newer version', async () => {
    const base = join(dir, 'removals-base.jsonl');
    await generateCatalog(base, 10, { updatedAt: new Date('2024-06-02T00:00:00Z') });
    const mapping = join(dir, 'removals-mapping.json');
    await writeFile(
      mapping,
      JSON.stringify({
        fields: { id: 'id', title: 'title', price: 'price', updatedAt: 'updated_at' },
        remove: { path: 'deleted', values: [true, 'yes'] },
      }),
    );
    const delta = join(dir, 'removals-delta.jsonl');
    const at = (day: number) => `2024-06-0${day}T00:00:00Z`;
    const lines = [
      { id: 'SKU-0000001', deleted: true, updated_at: at(3) },
      { id: 'SKU-0000002', deleted: 'yes' },
      // Older than the version the warehouse holds: the newer version stays, nothing is sent.
      { id: 'SKU-0000003', deleted: true, updated_at: at(1) },
      // Removed, then added again later in the same file: the later record wins.
      { id: 'SKU-0000004', deleted: true, updated_at: at(3) },
      { id: 'SKU-0000004', title: 'Back again', price: 5, updated_at: at(4) },
      { id: 'SKU-9999999', deleted: true },
      { deleted: true },
    ];
    await writeFile(delta, lines.map((l) => JSON.stringify(l)).join('\n'));

    await ingest(
      input('removals', 'main', base, { source: { kind: 'file', path: base, mapping } }),
    );
    const summary = await ingest(
      input('removals', 'main', delta, { source: { kind: 'file', path: delta, mapping } }),
    );
    assert.equal(summary.stage.rejected, 1);
    assert.equal(summary.stage.removed, 3, 'SKU-0000001, SKU-0000002 and the unknown SKU-9999999');
    assert.equal(summary.stage.stale, 1, 'SKU-0000003');

    const catalog = s.fakeApi.catalog('removals', 'main');
    assert.deepEqual([...catalog.products.keys()].sort(), [
      'SKU-0000003',
      'SKU-0000004',
      'SKU-0000005',
      'SKU-0000006',
      'SKU-0000007',
      'SKU-0000008',
      'SKU-0000009',
      'SKU-0000010',
    ]);
    assert.equal(catalog.removeCounts.get('SKU-9999999'), 1, 'an unknown id is removed too');
    const rows = await s.pool.query<{ product_id: string; removed: boolean; title: string }>(
      `SELECT product_id, removed_at IS NOT NULL AS removed, title FROM products
        WHERE tenant = 'removals' AND product_id IN ('SKU-0000001', 'SKU-0000003', 'SKU-0000004')
        ORDER BY product_id`,
    );
    assert.deepEqual(
      rows.rows.map((r) => [r.product_id, r.removed]),
      [
        ['SKU-0000001', true],
        ['SKU-0000003', false],
        ['SKU-0000004', false],
      ],
    );
    assert.equal(rows.rows[2]!.title, 'Back again');
    const reason = await s.pool.query<{ reason: string }>(
      `SELECT reason FROM rejected_records WHERE tenant = 'removals'`,
    );
    assert.match(reason.rows[0]!.reason, /^removal: id: product id is missing/);

    const again = await ingest(
      input('removals', 'main', delta, { source: { kind: 'file', path: delta, mapping } }),
    );
    assert.equal(again.stage.batches, 0, 'every removal, of a known id or not, was delivered');
    assert.equal(again.stage.alreadyDelivered, 5);

    const full = await ingest(
      input('removals', 'full', delta, {
        mode: 'full',
        source: { kind: 'file', path: delta, mapping },
      }),
    );
    assert.equal(full.stage.products, 1, 'a full feed carries no removals');
    assert.deepEqual([...s.fakeApi.catalog('removals', 'full').products.keys()], ['SKU-0000004']);
  });

  it('never lets a full feed overlap another ingestion of its catalog', async () => {
    const full = join(dir, 'busy-full.jsonl');
    const delta = join(dir, 'busy-delta.jsonl');
    await generateCatalog(full, 20);
    await generateCatalog(delta, 5, { start: 100 });
    s.fakeApi.setJobDuration([2_000, 2_000]);
    try {
      const workflowId = `busy-full-${randomUUID()}`;
      const running = s.env.client.workflow.execute('ingestCatalog', {
        taskQueue: s.taskQueue,
        workflowId,
        args: [input('busy', 'main', full, { mode: 'full' })],
      });
      const started = async () =>
        (await s.pool.query(`SELECT 1 FROM ingestions WHERE tenant = 'busy'`)).rowCount;
      for (let i = 0; i < 100 && !(await started()); i++)
        await new Promise((r) => setTimeout(r, 50));

      const refused = await ingest(input('busy', 'main', delta)).catch((e: unknown) => e);
      assert.ok(refused instanceof WorkflowFailedError);
      assert.match(
        refused.cause!.message,
        new RegExp(`busy/main is being ingested by ${workflowId} \\(a full feed.*runs alone`),
      );
      assert.ok(failureTypes(refused).includes('CI_CATALOG_BUSY'));
      await running;

      await ingest(input('busy', 'main', delta));
      assert.equal(s.fakeApi.catalog('busy', 'main').products.size, 25);
    } finally {
      s.fakeApi.setJobDuration([200, 800]);
    }
  });

  it('keeps a full feed removal time, and refuses a full feed of removals only', async () => {
    const mapping = join(dir, 'removals-mapping.json');
    const write = async (name: string, lines: object[]) => {
      const path = join(dir, name);
      await writeFile(path, lines.map((l) => JSON.stringify(l)).join('\n'));
      return input('fullrm', 'main', path, { source: { kind: 'file', path, mapping } });
    };
    const at = (day: number) => `2024-07-0${day}T00:00:00Z`;
    await ingest(
      await write('fullrm-1.jsonl', [
        { id: 'A', title: 'A', updated_at: at(1) },
        { id: 'B', title: 'B', updated_at: at(1) },
      ]),
    );
    const full = await write('fullrm-2.jsonl', [
      { id: 'A', deleted: true, updated_at: at(3) },
      { id: 'B', title: 'B', updated_at: at(3) },
    ]);
    await ingest({ ...full, mode: 'full' });
    // An older version of A, replayed: the removal is newer and wins.
    await ingest(await write('fullrm-3.jsonl', [{ id: 'A', title: 'A again', updated_at: at(2) }]));
    const a = await s.pool.query(
      `SELECT removed_at IS NOT NULL AS removed FROM products WHERE tenant = 'fullrm' AND product_id = 'A'`,
    );
    assert.equal(a.rows[0].removed, true);
    assert.deepEqual([...s.fakeApi.catalog('fullrm', 'main').products.keys()], ['B']);

    const onlyRemovals = await write('fullrm-4.jsonl', [{ id: 'B', deleted: true }]);
    const err = await ingest({ ...onlyRemovals, mode: 'full', allowShrink: true }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      err.cause!.message,
      /carries no products, only removals: it would empty the catalog/,
    );
  });

  it('refuses a full feed that would remove most of the catalog, and marks removals of a smaller one', async () => {
    const hundred = join(dir, 'full-100.jsonl');
    const sixty = join(dir, 'full-60.jsonl');
    const thirty = join(dir, 'full-30.jsonl');
    await generateCatalog(hundred, 100);
    await generateCatalog(sixty, 60);
    await generateCatalog(thirty, 30);
    s.fakeApi.setJobDuration([50, 50]);
    try {
      await ingest(input('fullfeed', 'main', hundred, { mode: 'full' }));
      const refused = await ingest(input('fullfeed', 'main', thirty, { mode: 'full' })).catch(
        (e: unknown) => e,
      );
      assert.ok(refused instanceof WorkflowFailedError);
      assert.match(
        refused.cause!.message,
        /30 products but the catalog has 100: it would remove more than half/,
      );

      const smaller = await ingest(
        input('fullfeed', 'main', sixty, { mode: 'full', allowShrink: false }),
      );
      assert.equal(smaller.stage.removed, 40);
      const live = await s.pool.query(
        `SELECT count(*)::int AS n FROM products WHERE tenant = 'fullfeed' AND removed_at IS NULL`,
      );
      assert.equal(live.rows[0].n, 60);
    } finally {
      s.fakeApi.setJobDuration([200, 800]);
    }
  });

  it('refuses invalid input at once, naming every problem', async () => {
    const bad = {
      ...input('../acme', 'main', join(dir, 'x.json')),
      batching: { maxProducts: 0 },
      source: { kind: 'fil', path: 'x' },
    };
    const err = await ingest(bad as unknown as IngestCatalogInput).catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      err.cause!.message,
      /^invalid ingestCatalog input: tenant: .*source.kind: .*batching.maxProducts: /,
    );
  });

  it('fails at once, naming the file, when the source does not exist', async () => {
    const err = await ingest(input('missing', 'main', join(dir, 'no-such-file.json'))).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(err.cause!.message, /cannot read source file .*no-such-file\.json: ENOENT/);
    const history = await s.env.client.workflow.getHandle(workflowIdOf('missing')).fetchHistory();
    const attempts = history
      .events!.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.deepEqual(attempts.slice(0, 1), [1], 'not retried');
  });

  it('reads no file outside its directories, even through a symbolic link', async () => {
    const outside = join(await mkdtemp(join(tmpdir(), 'outside-')), 'products.json');
    await writeFile(outside, '[{"id": "secret", "title": "not for this worker"}]');
    const link = join(dir, 'link-to-outside.json');
    await symlink(outside, link);
    const inside = join(dir, 'inside.jsonl');
    await generateCatalog(inside, 5);

    const cases = [
      { tenant: 'outside-file', i: input('outside-file', 'main', outside), what: 'source file' },
      { tenant: 'outside-link', i: input('outside-link', 'main', link), what: 'source file' },
      {
        tenant: 'outside-mapping',
        i: input('outside-mapping', 'main', inside),
        what: 'mapping file',
      },
    ];
    cases[2]!.i.source = { kind: 'file', path: inside, mapping: outside };
    for (const c of cases) {
      const err = await ingest(c.i).catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, c.tenant);
      assert.match(
        err.cause!.message,
        new RegExp(
          `${c.what} .* is outside the directories this worker reads from .*SOURCE_FILE_ROOTS`,
        ),
      );
      assert.ok(failureTypes(err).includes('CI_SOURCE_NOT_ALLOWED'), failureTypes(err).join());
    }
    const { rows } = await s.pool.query<{ status: string; error: string; staged: string }>(
      `SELECT status, error,
              (SELECT count(*) FROM rejected_records r WHERE r.ingestion_id = i.id)
            + (SELECT count(*) FROM ingestion_items t WHERE t.ingestion_id = i.id) AS staged
         FROM ingestions i WHERE tenant LIKE 'outside-%'`,
    );
    assert.equal(rows.length, 3, 'each refusal is recorded');
    for (const row of rows) {
      assert.equal(row.status, 'failed');
      assert.match(row.error, /SOURCE_FILE_ROOTS/);
      assert.equal(Number(row.staged), 0, 'nothing of those files reached the warehouse');
    }
  });

  it('writes the same history whether a job is checked 3 times or 30', async () => {
    const path = join(dir, 'history.jsonl');
    await generateCatalog(path, 20);
    const lengths: number[] = [];
    const polls: number[] = [];
    for (const duration of [300, 6_000]) {
      s.fakeApi.setJobDuration([duration, duration]);
      const workflowId = `history-${duration}-${randomUUID()}`;
      const summary = await ingest(
        input('history', `c${duration}`, path, { requestIndexRebuild: false }),
        workflowId,
      );
      polls.push(summary.polls);
      const history = await s.env.client.workflow.getHandle(workflowId).fetchHistory();
      lengths.push(history.events!.length);
    }
    s.fakeApi.setJobDuration([200, 800]);
    assert.ok(polls[1]! >= 3 * polls[0]!, `polls ${polls.join(' vs ')}`);
    assert.equal(lengths[0], lengths[1]);
  });

  it('does not submit a batch again once its job id is recorded', async () => {
    const summary = [...summaries.values()].find((v) => v.stage.batches > 0);
    const jobsBefore = s.fakeApi.jobs.size;
    const { submitBatch } = activities();
    const result: SubmitBatchResult = await new MockActivityEnvironment().run(submitBatch, {
      ingestionId: summary!.ingestionId,
      tenant: summary!.tenant,
      catalog: summary!.catalog,
      seq: 0,
      mode: 'delta' as const,
      account: summary!.tenant,
      keyRef: 'default',
    });
    assert.equal(result.reused, true);
    assert.equal(result.jobId, summary!.jobs[0]!.jobId);
    assert.equal(s.fakeApi.jobs.size, jobsBefore);
  });

  it('resumes staging from the checkpoint it heartbeated', async () => {
    const path = join(dir, 'resume.jsonl');
    await generateCatalog(path, 300);
    const { stageSource } = activities();
    const env = new MockActivityEnvironment({
      heartbeatDetails: { position: 100, recordsRead: 100, rejected: 0 },
    });
    const ingestionId = `resume-${randomUUID()}`;
    const summary: StageSummary = await env.run(stageSource, {
      ingestionId,
      workflowId: 'resume',
      tenant: 'resume',
      catalog: 'main',
      source: { kind: 'file' as const, path },
      mode: 'delta' as const,
      maxProducts: 1_000,
      maxBytes: 4_000_000,
      keyRef: 'default',
      maxRejectedShare: 0.5,
      allowShrink: false,
      resend: false,
      account: 'resume',
    });
    assert.equal(summary.recordsRead, 300);
    const staged = await s.pool.query(
      `SELECT min(position)::int AS first, count(*)::int AS n FROM ingestion_items WHERE ingestion_id = $1`,
      [ingestionId],
    );
    assert.deepEqual(staged.rows[0], { first: 101, n: 200 });
  });

  it(
    'keeps the API key out of history and logs, and product data out of history',
    { skip: needsCatalogs },
    async () => {
      for (const workflowId of summaries.keys()) {
        const history = JSON.stringify(
          await s.env.client.workflow.getHandle(workflowId).fetchHistory(),
        );
        assert.ok(!history.includes(TEST_API_KEY), `key found in the history of ${workflowId}`);
        assert.ok(!history.includes('Durable, well reviewed'), 'product text found in history');
        assert.ok(history.length < 200_000, `${workflowId} history is ${history.length} bytes`);
      }
      assert.ok(s.logLines.length > 0);
      assert.ok(!s.logLines.some((l) => l.includes(TEST_API_KEY)));
    },
  );
});

/** The types of every ApplicationFailure in an error's cause chain. */
function failureTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && e.type) types.push(e.type);
  }
  return types;
}
