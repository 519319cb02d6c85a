/** What an answer said about the caller's rate limit; every field is optional, all are hints. */
export interface RateLimitState {
  /** Calls used and allowed in the current window (e.g. Shopify's bucket `32/40`). */
  used?: number;
  limit?: number;
  /** Calls used and allowed today (e.g. Salesforce's `api-usage=...`). */
  dailyUsed?: number;
  dailyLimit?: number;
}

export interface SourcePage {
  records: unknown[];
  /** Opaque cursor of the next page; null when this was the last. */
  next: string | null;
  rateLimit: RateLimitState;
}

export interface ReadPageRequest {
  /** Cursor returned by the previous page; null for the first page. */
  cursor: string | null;
  /** Only records updated at or after this time (ISO-8601); first page only. */
  since?: string;
  pageSize: number;
  signal?: AbortSignal;
}

/**
 * One source API. Adding a source means one module implementing this: read a page from a
 * cursor, return its records, the next cursor and what the answer said about the rate limit.
 */
export interface SourceConnector {
  /** Mapping preset that turns this source's records into products. */
  readonly preset: string;
  /** Key of the rate limit this connector spends, shared by every worker (e.g. per shop). */
  readonly limiterKey: string;
  readPage(request: ReadPageRequest): Promise<SourcePage>;
}
