import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SyncSummary } from '../src/domain';
import { FakeShopify } from '../src/fakes/fake-shopify';
import { needsPostgresServer } from './helpers/postgres';
import { type TestStack, startTestStack } from './helpers/stack';
import { startWorkerProcess, stopWorkerProcess } from './helpers/worker-process';

describe('a worker killed in the middle of a backfill', { skip: needsPostgresServer }, () => {
  let s: TestStack;
  let shopify: FakeShopify;

  before(async () => {
    s = await startTestStack({ worker: false, fakeApi: { jobDurationMs: [50, 200] } });
    shopify = await new FakeShopify({
      crash: { token: 'shpat_crash', products: 20_000, bucketSize: 40, leakPerSecond: 10 },
    }).start();
  });
  after(async () => {
    await shopify.stop();
    await s.stop();
  });

  it('resumes on a new worker, losing and repeating no record', async () => {
    const env = { SOURCE_TOKEN_SHOPA: 'shpat_crash' };
    const first = await startWorkerProcess(s, env);
    const handle = await s.env.client.workflow.start('syncSource', {
      taskQueue: s.taskQueue,
      workflowId: 'sync/crash/backfill',
      args: [
        {
          tenant: 'crash',
          catalog: 'main',
          source: {
            kind: 'shopify',
            baseUrl: shopify.shopUrl('crash'),
            keyRef: 'shopa',
            bucketSize: 40,
            leakPerSecond: 10,
          },
          mode: 'backfill',
          pageSize: 100,
          segmentRecords: 5_000,
          pollIntervalMs: 200,
          catalogApi: { account: 'crash' },
        },
      ],
    });

    while (shopify.stats('crash').requests < 70) await new Promise((r) => setTimeout(r, 50));
    await stopWorkerProcess(first, 'SIGKILL');
    const second = await startWorkerProcess(s, env);
    try {
      const summary = (await handle.result()) as SyncSummary;
      assert.equal(summary.records, 20_000);

      const rows = await s.pool.query(
        `SELECT count(*)::int AS n FROM products WHERE tenant = 'crash'`,
      );
      assert.equal(rows.rows[0].n, 20_000);
      const sent = [...s.fakeApi.jobs.values()]
        .filter((j) => j.accountId === 'crash' && j.outcome === 'success')
        .flatMap((j) => j.productIds);
      assert.equal(sent.length, 20_000, 'each product sent once');
      assert.equal(new Set(sent).size, 20_000);

      const stats = shopify.stats('crash');
      assert.equal(stats.throttled, 0);
      assert.ok(
        stats.requests - 200 <= 2,
        `${stats.requests - 200} pages read again after the crash`,
      );
    } finally {
      await stopWorkerProcess(second);
    }
  });
});
