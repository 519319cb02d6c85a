/**
 * Backfill benchmark: prints figures, asserts nothing.
 *   npm run bench:backfill [-- --products 100000 --bucket 40 --leak 2]
 * A Shopify-style fake with the given limits, a real Temporal dev server and warehouse.
 */
import type { SyncSummary } from '../../src/domain';
import { FakeShopify } from '../../src/fakes/fake-shopify';
import { startTestStack } from '../helpers/stack';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PRODUCTS = arg('products', 20_000);
const BUCKET = arg('bucket', 40);
const LEAK = arg('leak', 2);
const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const s = await startTestStack({
    sourceTokens: { shop: 'shpat_bench' },
    fakeApi: { jobDurationMs: [0, 0] },
  });
  const shopify = await new FakeShopify({
    bench: { token: 'shpat_bench', products: PRODUCTS, bucketSize: BUCKET, leakPerSecond: LEAK },
  }).start();
  try {
    const started = performance.now();
    const summary = (await s.env.client.workflow.execute('syncSource', {
      taskQueue: s.taskQueue,
      workflowId: `bench-backfill-${Date.now()}`,
      args: [
        {
          tenant: 'bench',
          catalog: 'main',
          source: {
            kind: 'shopify',
            baseUrl: shopify.shopUrl('bench'),
            keyRef: 'shop',
            bucketSize: BUCKET,
            leakPerSecond: LEAK,
          },
          mode: 'backfill',
          pollIntervalMs: 200,
        },
      ],
    })) as SyncSummary;
    const wall = (performance.now() - started) / 1000;
    const stats = shopify.stats('bench');
    const bound = Math.max(0, stats.requests - BUCKET) / LEAK;
    const rows = await s.pool.query(
      `SELECT count(*)::int AS n FROM products WHERE tenant = 'bench'`,
    );
    out(`backfill of ${PRODUCTS} products, bucket ${BUCKET}, leak ${LEAK}/s`);
    out(
      `records ${summary.records}, warehouse rows ${rows.rows[0].n}, ` +
        `pages ${summary.pages}, segments ${summary.segments}`,
    );
    out(
      `requests ${stats.requests}, 429s ${stats.throttled} (the sync saw ${summary.rateLimited}), ` +
        `paced ${(summary.pacedMs / 1000).toFixed(1)} s, throttled waits ${summary.throttledWaits}`,
    );
    out(
      `wall ${wall.toFixed(1)} s; rate-limit lower bound ${bound.toFixed(1)} s ` +
        `(${((bound / wall) * 100).toFixed(0)}% of wall)`,
    );
  } finally {
    await shopify.stop();
    await s.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
