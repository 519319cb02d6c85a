import { HttpStatusError } from '../errors';
import type { ShopifySource } from '../domain';
import type { HttpClient } from '../http/http-client';
import type { ReadPageRequest, SourceConnector, SourcePage } from './connector';

/** Reads `rel="next"` from a Link header. */
export function nextLink(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (!value) return null;
  for (const part of value.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (m) return m[1]!;
  }
  return null;
}

/** Reads `X-Shopify-Shop-Api-Call-Limit: 32/40`. */
export function parseCallLimit(value: string | string[] | undefined): {
  used?: number;
  limit?: number;
} {
  const m = /^(\d+)\/(\d+)$/.exec(String(Array.isArray(value) ? value[0] : (value ?? '')).trim());
  return m ? { used: Number(m[1]), limit: Number(m[2]) } : {};
}

/** Shopify Admin REST products, paged by `Link` headers with `page_info`. */
export class ShopifyConnector implements SourceConnector {
  readonly preset = 'shopify';
  readonly limiterKey: string;

  constructor(
    private readonly http: HttpClient,
    private readonly source: ShopifySource,
    private readonly token: string,
  ) {
    this.limiterKey = `shopify:${source.baseUrl}`;
  }

  async readPage(req: ReadPageRequest): Promise<SourcePage> {
    const url = req.cursor ?? this.firstPageUrl(req);
    const answer = await this.http.send({
      method: 'GET',
      url,
      endpoint: 'GET shopify /products.json',
      headers: { 'x-shopify-access-token': this.token, accept: 'application/json' },
      ...(req.signal ? { signal: req.signal } : {}),
    });

    let body: { products?: unknown };
    try {
      body = JSON.parse(answer.body) as { products?: unknown };
    } catch {
      throw new HttpStatusError(
        `Shopify answered ${answer.status} with a body that is not JSON`,
        502,
      );
    }
    if (!Array.isArray(body.products))
      throw new HttpStatusError('Shopify answer has no products array', 502);
    return {
      records: body.products,
      next: nextLink(answer.headers.link),
      rateLimit: parseCallLimit(answer.headers['x-shopify-shop-api-call-limit']),
    };
  }

  private firstPageUrl(req: ReadPageRequest): string {
    const version = this.source.apiVersion ?? '2024-10';
    const url = new URL(
      `${this.source.baseUrl.replace(/\/+$/, '')}/admin/api/${version}/products.json`,
    );
    url.searchParams.set('limit', String(Math.min(250, Math.max(1, req.pageSize))));
    // Filters may only go on the first request; later pages carry page_info alone.
    if (req.since) url.searchParams.set('updated_at_min', req.since);
    return url.toString();
  }
}
