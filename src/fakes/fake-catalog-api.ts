import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { CONTENT_TYPES, MAX_PATCH_BODY_BYTES } from '../catalog-api/client';
import {
  type FakeCatalog,
  type FakeJob,
  type FakeJobType,
  emptyCatalog,
  jobStateAt,
  newJobId,
} from './catalog-jobs';
import { LoopbackServer } from './loopback-server';

/** Base path of the v1 API, as in the vendor's base URL. */
export const API_BASE_PATH = '/dataconnect/api/v1';

export interface FakeCatalogApiOptions {
  /** Default: 0 (any free port). */
  port?: number;
  /** Default: 127.0.0.1. */
  host?: string;
  /** Bearer keys accepted for any account. Default: `['demo-key']`. */
  apiKeys?: string[];
  /** Range a job's duration is drawn from. Default: 30 s to 300 s, as the real API. */
  jobDurationMs?: [number, number];
  /** Share of feed jobs that end `failed`. Default: 0. */
  failureRate?: number;
  /** Job times as ISO-8601 or epoch-millisecond strings (old docs). Default: `iso`. */
  timeFormat?: 'iso' | 'epoch-ms';
  /** Minimum spacing of calls per key and endpoint; 0 disables. Default: 1000 (1/s). */
  endpointIntervalMs?: number;
  /** Minimum spacing of full feeds per catalog. Default: 600000 (10 min). */
  fullFeedIntervalMs?: number;
  /** Minimum spacing of index requests per catalog. Default: 600000 (10 min). */
  indexIntervalMs?: number;
  /** Share of malformed products a full feed tolerates. Default: 0.05. */
  malformedTolerance?: number;
  /** Largest `json-patch+json` body. Default: 5 MiB. */
  maxPatchBytes?: number;
  /** Random source for durations and failures. Default: Math.random. */
  random?: () => number;
}

/** A one-shot misbehaviour for the next matching call. */
export type Fault =
  | { endpoint: FaultEndpoint; kind: 'status'; status: number; retryAfter?: string; times?: number }
  | { endpoint: FaultEndpoint; kind: 'html' | 'no-job-id' | 'drop-after-accept'; times?: number }
  | {
      endpoint: 'PATCH' | 'PUT' | 'POST';
      kind: 'outcome';
      outcome: string;
      message?: string;
      times?: number;
    };

type FaultEndpoint = 'PATCH' | 'PUT' | 'POST' | 'GET';

interface Route {
  method: string;
  account?: string;
  catalog?: string;
  resource: 'products' | 'indexes' | 'jobs' | 'admin';
  jobId?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A faithful stand-in for the Bloomreach v1 catalog management API, over real HTTP. */
export class FakeCatalogApi {
  readonly jobs = new Map<string, FakeJob>();
  readonly catalogs = new Map<string, FakeCatalog>();
  /** Every call seen, in order: method, path, status answered, bytes received. */
  readonly calls: {
    method: string;
    path: string;
    status: number;
    bytes: number;
    requestId?: string;
  }[] = [];

  private readonly options: Required<FakeCatalogApiOptions>;
  private readonly lastCall = new Map<string, number>();
  private readonly faults: Fault[] = [];
  private readonly server = new LoopbackServer((req, res) => void this.handle(req, res));
  private baseUrl = '';

  constructor(options: FakeCatalogApiOptions = {}) {
    this.options = {
      port: 0,
      host: '127.0.0.1',
      apiKeys: ['demo-key'],
      jobDurationMs: [30_000, 300_000],
      failureRate: 0,
      timeFormat: 'iso',
      endpointIntervalMs: 1_000,
      fullFeedIntervalMs: 600_000,
      indexIntervalMs: 600_000,
      malformedTolerance: 0.05,
      maxPatchBytes: MAX_PATCH_BODY_BYTES,
      random: Math.random,
      ...options,
    };
  }

  /** Base URL to configure the client with, e.g. `http://127.0.0.1:PORT/dataconnect/api/v1`. */
  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<this> {
    const base = await this.server.start(this.options.port, this.options.host);
    this.baseUrl = `${base}${API_BASE_PATH}`;
    return this;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  /** Changes the range new jobs' durations are drawn from. */
  setJobDuration(range: [number, number]): void {
    this.options.jobDurationMs = range;
  }

  /** Queues a misbehaviour for the next matching call(s). */
  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** The catalog's stored state (created empty on first use). */
  catalog(account: string, catalog: string): FakeCatalog {
    const key = `${account}/${catalog}`;
    let found = this.catalogs.get(key);
    if (!found) {
      found = emptyCatalog();
      this.catalogs.set(key, found);
    }
    return found;
  }

  /** Applies the effects of every job whose end has passed. */
  settle(now = Date.now()): void {
    const due = [...this.jobs.values()].filter((j) => !j.applied && j.stopsAt <= now);
    due.sort((a, b) => a.stopsAt - b.stopsAt);
    for (const job of due) {
      job.applied = true;
      if (job.outcome === 'success') job.effect(this.catalog(job.accountId, job.catalogName));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = header(req, 'x-request-id');
    let bytes = 0;
    try {
      const body = await readBody(req);
      bytes = body.length;
      const answer = await this.route(req, body, res);
      if (answer === 'dropped') return;
      this.record(req, answer.status, bytes, requestId);
      send(res, answer.status, answer.body, answer.contentType);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      this.record(req, status, bytes, requestId);
      const headers = err instanceof HttpError ? err.headers : {};
      send(res, status, JSON.stringify({ message, status }), 'application/json', headers);
    }
  }

  private record(req: IncomingMessage, status: number, bytes: number, requestId?: string): void {
    const entry = { method: req.method ?? '', path: req.url ?? '', status, bytes };
    this.calls.push(requestId ? { ...entry, requestId } : entry);
  }

  private async route(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
  ): Promise<{ status: number; body: string; contentType?: string } | 'dropped'> {
    const route = parseRoute(req.method ?? 'GET', req.url ?? '/');
    if (route.resource === 'admin') return { status: 200, body: JSON.stringify(this.summary()) };

    const key = this.authenticate(req);
    const fault = this.takeFault(route.method as FaultEndpoint, ['status', 'html', 'no-job-id']);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter
        ? { 'retry-after': fault.retryAfter }
        : {};
      throw new HttpError(fault.status, 'injected fault', headers);
    }
    if (fault?.kind === 'html')
      return { status: 200, body: '<html>maintenance</html>', contentType: 'text/html' };
    if (fault?.kind === 'no-job-id') return { status: 200, body: '{"status":"ok"}' };

    this.throttle(`${key}:${route.method}:${route.resource}`, this.options.endpointIntervalMs);
    const now = Date.now();
    if (route.resource === 'jobs')
      return { status: 200, body: JSON.stringify(this.jobView(route.jobId!, now)) };

    const job =
      route.resource === 'indexes'
        ? this.createIndexJob(route, now)
        : this.createFeedJob(route, req, body, now);
    job.requestId = header(req, 'x-request-id');

    if (this.takeFault(route.method as FaultEndpoint, ['drop-after-accept'])) {
      // The job exists but the client never hears of it: the ambiguous-submit case.
      res.socket?.destroy();
      return 'dropped';
    }
    return { status: 200, body: JSON.stringify({ jobId: job.id }) };
  }

  private authenticate(req: IncomingMessage): string {
    const auth = header(req, 'authorization') ?? '';
    const match = /^Bearer (.+)$/.exec(auth);
    if (!match || !this.options.apiKeys.includes(match[1]!))
      throw new HttpError(401, 'Unauthorized');
    return match[1]!;
  }

  private throttle(key: string, intervalMs: number): void {
    if (intervalMs <= 0) return;
    const now = Date.now();
    const last = this.lastCall.get(key);
    if (last !== undefined && now - last < intervalMs) {
      const waitSeconds = Math.ceil((intervalMs - (now - last)) / 1000);
      throw new HttpError(429, 'Too Many Requests', { 'retry-after': String(waitSeconds) });
    }
    this.lastCall.set(key, now);
  }

  private takeFault(endpoint: FaultEndpoint, kinds: Fault['kind'][]): Fault | undefined {
    const index = this.faults.findIndex((f) => f.endpoint === endpoint && kinds.includes(f.kind));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private drawDuration(): number {
    const [min, max] = this.options.jobDurationMs;
    return Math.round(min + (max - min) * this.options.random());
  }

  private newJob(
    route: Route,
    type: FakeJobType,
    now: number,
    startsAt: number,
    productIds: string[],
  ): FakeJob {
    const outcomeFault = this.takeFault(route.method as FaultEndpoint, ['outcome']);
    const failed = type !== 'index' && this.options.random() < this.options.failureRate;
    const job: FakeJob = {
      id: newJobId(),
      type,
      accountId: route.account!,
      catalogName: route.catalog!,
      createdAt: now,
      startsAt,
      stopsAt: startsAt + this.drawDuration(),
      outcome:
        outcomeFault?.kind === 'outcome' ? outcomeFault.outcome : failed ? 'failed' : 'success',
      applied: false,
      effect: () => {},
      requestId: undefined,
      productIds,
    };
    if (outcomeFault?.kind === 'outcome' && outcomeFault.message)
      job.message = outcomeFault.message;
    else if (job.outcome === 'failed') job.message = 'feed processing failed';
    this.jobs.set(job.id, job);
    setTimeout(() => this.settle(), Math.max(0, job.stopsAt - now) + 1).unref();
    return job;
  }

  private createIndexJob(route: Route, now: number): FakeJob {
    this.throttle(`index:${route.account}/${route.catalog}`, this.options.indexIntervalMs);
    // Index jobs of one catalog run one after another.
    const queuedBehind = [...this.jobs.values()]
      .filter(
        (j) =>
          j.type === 'index' && j.accountId === route.account && j.catalogName === route.catalog,
      )
      .reduce((latest, j) => Math.max(latest, j.stopsAt), now);
    const job = this.newJob(route, 'index', now, Math.max(now + 50, queuedBehind), []);
    job.effect = (catalog) => catalog.indexedAt.push(job.stopsAt);
    return job;
  }

  private createFeedJob(route: Route, req: IncomingMessage, body: Buffer, now: number): FakeJob {
    const full = route.method === 'PUT';
    const ops = parseOperations(req, body, this.options.maxPatchBytes);
    const { valid, malformed } = checkOperations(ops, full);
    const tolerated = full && malformed <= this.options.malformedTolerance * ops.length;
    if (malformed > 0 && !tolerated) {
      throw new HttpError(400, `${malformed} of ${ops.length} operations are malformed`);
    }
    if (full)
      this.throttle(`put:${route.account}/${route.catalog}`, this.options.fullFeedIntervalMs);

    const pids = valid.map((op) => decodePointer(PRODUCT_PATH.exec(op.path as string)![1]!));
    const job = this.newJob(route, full ? 'feed_full' : 'feed_delta', now, now + 50, pids);
    job.effect = (catalog) => applyOperations(catalog, valid, full);
    return job;
  }

  private jobView(jobId: string, now: number): Record<string, unknown> {
    this.settle(now);
    const job = this.jobs.get(jobId);
    if (!job) throw new HttpError(404, `job ${jobId} not found`);
    const time = (t: number) =>
      this.options.timeFormat === 'iso' ? new Date(t).toISOString() : String(t);
    const view: Record<string, unknown> = {
      id: job.id,
      type: job.type,
      status: jobStateAt(job, now),
      account_id: job.accountId,
      catalog_name: job.catalogName,
      created_at: time(job.createdAt),
      started_at: now >= job.startsAt ? time(job.startsAt) : null,
      stopped_at: now >= job.stopsAt ? time(job.stopsAt) : null,
      attempts: 1,
    };
    if (now >= job.stopsAt && job.message) view.message = job.message;
    return view;
  }

  private summary(): Record<string, unknown> {
    this.settle();
    const catalogs: Record<string, unknown> = {};
    for (const [key, c] of this.catalogs) {
      catalogs[key] = { products: c.products.size, indexRebuilds: c.indexedAt.length };
    }
    return { jobs: this.jobs.size, calls: this.calls.length, catalogs };
  }
}

interface Operation {
  op?: unknown;
  path?: unknown;
  value?: unknown;
}

const PRODUCT_PATH = /^\/products\/(.+)$/;

function parseOperations(req: IncomingMessage, raw: Buffer, maxPatchBytes: number): Operation[] {
  const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const body = header(req, 'content-encoding') === 'gzip' ? gunzipSync(raw) : raw;

  if (type === CONTENT_TYPES.patch) {
    if (body.length > maxPatchBytes)
      throw new HttpError(413, `payload of ${body.length} bytes exceeds 5MB`);
    const parsed = tryJson(body.toString('utf8'));
    if (!Array.isArray(parsed)) throw new HttpError(400, 'body must be a JSON Patch array');
    return parsed as Operation[];
  }
  if (type === CONTENT_TYPES.patchLines) {
    const lines = body
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return lines.map((l) => tryJson(l) as Operation);
  }
  throw new HttpError(406, `content type ${JSON.stringify(type)} is not acceptable`);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

function checkOperations(
  ops: Operation[],
  full: boolean,
): { valid: Operation[]; malformed: number } {
  const valid: Operation[] = [];
  for (const op of ops) {
    const pathOk = typeof op?.path === 'string' && PRODUCT_PATH.test(op.path);
    const isAdd = op?.op === 'add' && isObject(op.value) && isObject(op.value.attributes);
    const isRemove = !full && op?.op === 'remove';
    if (pathOk && (isAdd || isRemove)) valid.push(op);
  }
  return { valid, malformed: ops.length - valid.length };
}

function applyOperations(catalog: FakeCatalog, ops: Operation[], full: boolean): void {
  if (full) catalog.products.clear();
  for (const op of ops) {
    const pid = decodePointer(PRODUCT_PATH.exec(op.path as string)![1]!);
    if (op.op === 'add') {
      catalog.products.set(pid, op.value);
      catalog.addCounts.set(pid, (catalog.addCounts.get(pid) ?? 0) + 1);
    } else {
      catalog.products.delete(pid);
      catalog.removeCounts.set(pid, (catalog.removeCounts.get(pid) ?? 0) + 1);
    }
  }
}

/** Undoes JSON Pointer escaping (`~1` is `/`, `~0` is `~`). */
export function decodePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRoute(method: string, rawUrl: string): Route {
  const path = new URL(rawUrl, 'http://fake').pathname;
  if (path === '/_fake/state') return { method, resource: 'admin' };
  if (!path.startsWith(API_BASE_PATH)) throw new HttpError(404, `no route for ${path}`);
  const parts = path.slice(API_BASE_PATH.length).split('/').filter(Boolean).map(decodeURIComponent);

  if (parts.length === 2 && parts[0] === 'jobs' && method === 'GET') {
    return { method, resource: 'jobs', jobId: parts[1]! };
  }
  const [accounts, account, catalogs, catalog, resource] = parts;
  if (parts.length === 5 && accounts === 'accounts' && catalogs === 'catalogs') {
    if (resource === 'products' && (method === 'PUT' || method === 'PATCH')) {
      return { method, account: account!, catalog: catalog!, resource };
    }
    if (resource === 'indexes' && method === 'POST')
      return { method, account: account!, catalog: catalog!, resource };
    throw new HttpError(405, `${method} not allowed on ${resource}`);
  }
  throw new HttpError(404, `no route for ${path}`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': contentType, ...headers });
  res.end(body);
}
