import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeSourceApi } from './loopback-server';

export interface SalesforceOrgOptions {
  token: string;
  /** Requests allowed per rolling window (the daily allocation). Default: 15,000. */
  dailyLimit?: number;
  /** Length of the quota window. Default: 24 h; tests shorten it. */
  quotaWindowMs?: number;
  /** Requests per minute before 429. Default: 200. */
  perMinute?: number;
  /** Products generated at start. Default: 0. */
  products?: number;
}

interface Product2 {
  attributes: { type: 'Product2'; url: string };
  Id: string;
  Name: string;
  ProductCode: string;
  Description: string;
  Family: string;
  IsActive: boolean;
  LastModifiedDate: string;
}

interface Org {
  options: Required<SalesforceOrgOptions>;
  products: Map<string, Product2>;
  next: number;
  /** Times of accepted requests, for the daily window and the per-minute cap. */
  calls: number[];
  requests: number;
  quotaRefusals: number;
}

/**
 * A multi-org stand-in for the Salesforce REST query API: `nextRecordsUrl` paging in batches of
 * up to 2000, `Sforce-Limit-Info` on every answer, a per-minute cap (429) and a rolling daily
 * quota (403 `REQUEST_LIMIT_EXCEEDED`).
 */
export class FakeSalesforce extends FakeSourceApi {
  readonly orgs = new Map<string, Org>();
  /** Open query cursors: a frozen id list and a position. */
  private readonly locators = new Map<
    string,
    { org: string; ids: string[]; offset: number; size: number }
  >();

  constructor(orgs: Record<string, SalesforceOrgOptions> = {}) {
    super();
    for (const [name, o] of Object.entries(orgs)) this.addOrg(name, o);
  }

  orgUrl(org: string): string {
    return `${this.base}/orgs/${org}`;
  }

  addOrg(name: string, o: SalesforceOrgOptions): void {
    const org: Org = {
      options: { dailyLimit: 15_000, quotaWindowMs: 86_400_000, perMinute: 200, products: 0, ...o },
      products: new Map(),
      next: 1,
      calls: [],
      requests: 0,
      quotaRefusals: 0,
    };
    this.orgs.set(name, org);
    this.createProducts(name, org.options.products);
  }

  createProducts(orgName: string, count: number): string[] {
    const org = this.org(orgName);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const n = org.next++;
      const id = `01t${String(n).padStart(15, '0')}`;
      org.products.set(id, {
        attributes: { type: 'Product2', url: `/services/data/v59.0/sobjects/Product2/${id}` },
        Id: id,
        Name: `Product ${n}`,
        ProductCode: `PC-${n}`,
        Description: `Product number ${n}`,
        Family: ['Hardware', 'Software', 'Services'][n % 3]!,
        IsActive: true,
        LastModifiedDate: this.tick(),
      });
      ids.push(id);
    }
    return ids;
  }

  stats(orgName: string): { requests: number; quotaRefusals: number } {
    const o = this.org(orgName);
    return { requests: o.requests, quotaRefusals: o.quotaRefusals };
  }

  /** Salesforce's time format; records created in the same millisecond share it. */
  private tick(): string {
    return new Date().toISOString().replace('Z', '+0000');
  }

  private org(name: string): Org {
    const org = this.orgs.get(name);
    if (!org) throw new Error(`no org ${name}`);
    return org;
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    const m = /^\/orgs\/([^/]+)(\/services\/data\/v[\d.]+\/query(?:\/([^/]+))?)$/.exec(
      url.pathname,
    );
    const org = m ? this.orgs.get(m[1]!) : undefined;
    if (!m || !org)
      return json(res, 404, [
        { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
      ]);
    if (req.headers.authorization !== `Bearer ${org.options.token}`) {
      return json(res, 401, [
        { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
      ]);
    }

    org.requests++;
    const now = Date.now();
    org.calls = org.calls.filter((t) => t > now - org.options.quotaWindowMs);
    res.setHeader('Sforce-Limit-Info', `api-usage=${org.calls.length}/${org.options.dailyLimit}`);
    if (org.calls.length >= org.options.dailyLimit) {
      org.quotaRefusals++;
      return json(res, 403, [
        { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
      ]);
    }
    const lastMinute = org.calls.filter((t) => t > now - 60_000).length;
    if (lastMinute >= org.options.perMinute) {
      res.setHeader('Retry-After', '5');
      return json(res, 429, [
        { message: 'Too many requests this minute', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
      ]);
    }
    org.calls.push(now);

    const batch = batchSize(req.headers['sforce-query-options']);
    if (m[3]) return this.more(res, m[1]!, m[2]!.replace(/\/[^/]+$/, ''), m[3]);
    this.query(res, m[1]!, org, m[2]!, url.searchParams.get('q') ?? '', batch);
  }

  private query(
    res: ServerResponse,
    orgName: string,
    org: Org,
    path: string,
    soql: string,
    size: number,
  ): void {
    const since = /LastModifiedDate >= (\S+)/.exec(soql)?.[1];
    const min = since ? Date.parse(since) : -Infinity;
    const ids = [...org.products.values()]
      .filter((p) => Date.parse(p.LastModifiedDate.replace('+0000', 'Z')) >= min)
      .sort(
        (a, b) => a.LastModifiedDate.localeCompare(b.LastModifiedDate) || a.Id.localeCompare(b.Id),
      )
      .map((p) => p.Id);
    const locator = `01g${Math.random().toString(36).slice(2, 12)}`;
    this.locators.set(locator, { org: orgName, ids, offset: 0, size });
    this.more(res, orgName, path, locator);
  }

  private more(res: ServerResponse, orgName: string, path: string, locatorKey: string): void {
    const cursor = /^(01g[a-z0-9]+)-(\d+)$/.exec(locatorKey);
    const key = cursor ? cursor[1]! : locatorKey;
    const loc = this.locators.get(key);
    if (!loc || loc.org !== orgName)
      return json(res, 400, [
        { message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' },
      ]);
    const offset = cursor ? Number(cursor[2]) : 0;
    const org = this.org(orgName);
    const ids = loc.ids.slice(offset, offset + loc.size);
    const done = offset + ids.length >= loc.ids.length;
    const body: Record<string, unknown> = {
      totalSize: loc.ids.length,
      done,
      records: ids.map((id) => org.products.get(id)).filter(Boolean),
    };
    if (!done) body.nextRecordsUrl = `${path}/${key}-${offset + ids.length}`;
    json(res, 200, body);
  }
}

function batchSize(header: string | string[] | undefined): number {
  const m = /batchSize=(\d+)/.exec(String(header ?? ''));
  return m ? Math.min(2000, Math.max(200, Number(m[1]))) : 2000;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
  res.end(JSON.stringify(body));
}
