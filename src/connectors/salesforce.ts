import type { SalesforceSource } from '../domain';
import { HttpStatusError, QuotaExhaustedError } from '../errors';
import type { HttpClient } from '../http/http-client';
import type { ReadPageRequest, SourceConnector, SourcePage } from './connector';

/** Reads `Sforce-Limit-Info: api-usage=18/15000`. */
export function parseLimitInfo(value: string | string[] | undefined): {
  dailyUsed?: number;
  dailyLimit?: number;
} {
  const m = /api-usage=(\d+)\/(\d+)/.exec(String(Array.isArray(value) ? value[0] : (value ?? '')));
  return m ? { dailyUsed: Number(m[1]), dailyLimit: Number(m[2]) } : {};
}

/** Salesforce REST query, paged by `nextRecordsUrl`, oldest change first. */
export class SalesforceConnector implements SourceConnector {
  readonly preset = 'salesforce';
  readonly limiterKey: string;

  constructor(
    private readonly http: HttpClient,
    private readonly source: SalesforceSource,
    private readonly token: string,
  ) {
    this.limiterKey = `salesforce:${source.baseUrl}`;
  }

  async readPage(req: ReadPageRequest): Promise<SourcePage> {
    const base = this.source.baseUrl.replace(/\/+$/, '');
    const url = req.cursor ? `${base}${req.cursor}` : this.firstPageUrl(base, req);
    let answer;
    try {
      answer = await this.http.send({
        method: 'GET',
        url,
        endpoint: 'GET salesforce /query',
        headers: {
          authorization: `Bearer ${this.token}`,
          'sforce-query-options': `batchSize=${Math.min(2000, Math.max(200, req.pageSize))}`,
        },
        ...(req.signal ? { signal: req.signal } : {}),
      });
    } catch (err) {
      if (
        err instanceof HttpStatusError &&
        err.status === 403 &&
        /REQUEST_LIMIT_EXCEEDED/.test(err.message)
      ) {
        throw new QuotaExhaustedError(`Salesforce daily API quota exhausted for ${base}`);
      }
      throw err;
    }

    const body = JSON.parse(answer.body) as {
      records?: unknown[];
      done?: boolean;
      nextRecordsUrl?: string;
    };
    if (!Array.isArray(body.records))
      throw new HttpStatusError('Salesforce answer has no records array', 502);
    return {
      records: body.records,
      next: body.done === false && body.nextRecordsUrl ? body.nextRecordsUrl : null,
      rateLimit: parseLimitInfo(answer.headers['sforce-limit-info']),
    };
  }

  private firstPageUrl(base: string, req: ReadPageRequest): string {
    const sobject = this.source.sobject ?? 'Product2';
    const where = req.since
      ? ` WHERE LastModifiedDate >= ${new Date(req.since).toISOString()}`
      : '';
    const fields = 'Id, Name, ProductCode, Description, Family, IsActive, LastModifiedDate';
    const soql = `SELECT ${fields} FROM ${sobject}${where} ORDER BY LastModifiedDate, Id`;
    return `${base}/services/data/${this.source.apiVersion ?? 'v59.0'}/query?q=${encodeURIComponent(soql)}`;
  }
}
