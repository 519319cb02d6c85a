import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CONTENT_TYPES,
  CatalogApiClient,
  parseJobAnswer,
  parseSubmitAnswer,
} from '../src/catalog-api/client';
import { BadAnswerError, HttpStatusError, NetworkError, RateLimitedError } from '../src/errors';
import { FakeCatalogApi } from '../src/fakes/fake-catalog-api';
import { HttpClient } from '../src/http/http-client';
import { Metrics } from '../src/metrics';
import { memoryLogger } from './helpers/logs';

const KEY = 'secret-key-for-tests';
const op = (pid: string) => ({
  op: 'add',
  path: `/products/${pid}`,
  value: { attributes: { title: pid } },
});
const patchBody = (pids: string[]) => JSON.stringify(pids.map(op));

describe('the catalog API client against the fake over HTTP', () => {
  let fake: FakeCatalogApi;
  let http: HttpClient;
  let api: CatalogApiClient;
  const metrics = new Metrics();
  const { logger, lines } = memoryLogger();
  const target = () => ({ baseUrl: fake.url, account: 'acct', catalog: 'main', apiKey: KEY });

  before(async () => {
    fake = await new FakeCatalogApi({
      apiKeys: [KEY],
      jobDurationMs: [300, 300],
      endpointIntervalMs: 0,
    }).start();
    http = new HttpClient({ logger, metrics });
    api = new CatalogApiClient(http);
  });
  after(async () => {
    await http.close();
    await fake.stop();
  });

  it('submits a delta, follows the job through its states to success, and stores the products', async () => {
    const { jobId } = await api.submitProducts(
      target(),
      'delta',
      patchBody(['p1', 'p2']),
      CONTENT_TYPES.patch,
    );
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const status = await api.getJob(target(), jobId);
      seen.add(status.state);
      if (status.state === 'success') {
        assert.ok(status.stoppedAt instanceof Date);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(seen.has('running'));
    assert.ok(seen.has('success'));
    assert.deepEqual([...fake.catalog('acct', 'main').products.keys()].sort(), ['p1', 'p2']);
  });

  it('refuses a wrong key with a 401 that is not retried, and never echoes the key', async () => {
    const err = await api
      .getJob({ baseUrl: fake.url, apiKey: 'wrong' }, 'x')
      .catch((e: unknown) => e);
    assert.ok(err instanceof HttpStatusError);
    assert.equal(err.status, 401);
    assert.equal(err.retryable, false);
    assert.ok(!lines.join('\n').includes(KEY));
  });

  it('answers 406 to an unknown content type and 413 to a body over 5 MB', async () => {
    const e406 = await api
      .submitProducts(target(), 'delta', patchBody(['a']), 'text/csv')
      .catch((e: unknown) => e);
    assert.equal((e406 as HttpStatusError).status, 406);

    const big = patchBody(
      Array.from({ length: 60_000 }, (_, i) => `product-with-a-long-identifier-${i}`),
    );
    assert.ok(Buffer.byteLength(big) > 5 * 1024 * 1024);
    const e413 = await api
      .submitProducts(target(), 'delta', big, CONTENT_TYPES.patch)
      .catch((e: unknown) => e);
    assert.equal((e413 as HttpStatusError).status, 413);
    assert.equal((e413 as HttpStatusError).retryable, false);
  });

  it('rejects a whole PATCH with one malformed operation', async () => {
    const body = JSON.stringify([op('ok'), { op: 'replace', path: '/products/x', value: {} }]);
    const err = await api
      .submitProducts(target(), 'delta', body, CONTENT_TYPES.patch)
      .catch((e: unknown) => e);
    assert.equal((err as HttpStatusError).status, 400);
  });

  it('turns a 429 into a retryable error carrying the clamped Retry-After', async () => {
    fake.injectFault({ endpoint: 'PATCH', kind: 'status', status: 429, retryAfter: '0' });
    const err = await api
      .submitProducts(target(), 'delta', patchBody(['a']), CONTENT_TYPES.patch)
      .catch((e: unknown) => e);
    assert.ok(err instanceof RateLimitedError);
    assert.equal(err.retryAfterMs, 1_000);
    assert.equal(err.retryable, true);
  });

  it('rate-limits index requests like the real API, naming the wait', async () => {
    const strict = await new FakeCatalogApi({
      apiKeys: [KEY],
      indexIntervalMs: 600_000,
      endpointIntervalMs: 0,
    }).start();
    try {
      const t = { ...target(), baseUrl: strict.url };
      await api.startIndex(t);
      const err = await api.startIndex(t).catch((e: unknown) => e);
      assert.ok(err instanceof RateLimitedError);
      assert.ok(err.retryAfterMs! > 590_000 && err.retryAfterMs! <= 600_000);
    } finally {
      await strict.stop();
    }
  });

  it('treats a 200 with an HTML body or without a job id as a bad answer, not a success', async () => {
    fake.injectFault({ endpoint: 'PATCH', kind: 'html' });
    await assert.rejects(
      api.submitProducts(target(), 'delta', patchBody(['a']), CONTENT_TYPES.patch),
      BadAnswerError,
    );
    fake.injectFault({ endpoint: 'PATCH', kind: 'no-job-id' });
    await assert.rejects(
      api.submitProducts(target(), 'delta', patchBody(['a']), CONTENT_TYPES.patch),
      /no job id/,
    );
  });

  it('classifies a refused connection as a retryable network error', async () => {
    const err = await api
      .getJob({ baseUrl: 'http://127.0.0.1:9/dataconnect/api/v1', apiKey: KEY }, 'x')
      .catch((e: unknown) => e);
    assert.ok(err instanceof NetworkError);
    assert.equal(err.retryable, true);
  });

  it('records status and payload size per endpoint template', async () => {
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /catalog_ingest_http_request_duration_seconds_count\{endpoint="PATCH \/products",method="PATCH",status="200"\}/,
    );
    assert.match(
      text,
      /catalog_ingest_http_response_bytes_count\{endpoint="PATCH \/products",method="PATCH",status="413"\} 1/,
    );
    assert.ok(!text.includes('/jobs/'), 'job ids must not become metric labels');
  });
});

describe('answer shapes the client accepts', () => {
  it('reads v1 and v3 submit answers', () => {
    assert.equal(parseSubmitAnswer('{"jobId":"j1"}', 'x'), 'j1');
    assert.equal(parseSubmitAnswer('{"data":{"job_id":"j3"}}', 'x'), 'j3');
  });

  it('reads epoch-millisecond strings and ISO times alike', () => {
    const a = parseJobAnswer('{"id":"j","status":"success","stopped_at":"1700000000000"}', 'x');
    const b = parseJobAnswer(
      '{"data":{"job":{"id":"j","status":"success","stopped_at":"2023-11-14T22:13:20.000Z"}}}',
      'x',
    );
    assert.equal(a.stoppedAt?.getTime(), 1_700_000_000_000);
    assert.equal(b.stoppedAt?.getTime(), 1_700_000_000_000);
  });

  it('keeps an unknown state as unknown, which ends the wait and fails closed', () => {
    const s = parseJobAnswer('{"id":"j","status":"archived"}', 'x');
    assert.equal(s.state, 'unknown');
    assert.equal(s.rawStatus, 'archived');
  });
});
