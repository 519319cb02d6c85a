import type { ApiSource } from '../domain';
import type { HttpClient } from '../http/http-client';
import type { SourceConnector } from './connector';
import { SalesforceConnector } from './salesforce';
import { ShopifyConnector } from './shopify';

export type { SourceConnector, SourcePage } from './connector';

/** Share of the published rate we spend: clocks and latency differ between us and the server. */
const RATE_MARGIN = 0.95;

/**
 * The shared rate limit a source's calls draw from: burst capacity and steady rate, kept one
 * call and 5 % under what the source publishes so that our bucket never runs ahead of theirs.
 */
export function rateLimitOf(source: ApiSource): { capacity: number; perSecond: number } {
  if (source.kind === 'shopify') {
    const size = source.bucketSize ?? 40;
    return {
      capacity: Math.max(1, size - 1),
      perSecond: (source.leakPerSecond ?? 2) * RATE_MARGIN,
    };
  }
  const perMinute = source.perMinute ?? 200;
  return {
    capacity: Math.max(1, Math.floor(perMinute / 6)),
    perSecond: (perMinute / 60) * RATE_MARGIN,
  };
}

export function createConnector(
  http: HttpClient,
  source: ApiSource,
  token: string,
): SourceConnector {
  switch (source.kind) {
    case 'shopify':
      return new ShopifyConnector(http, source, token);
    case 'salesforce':
      return new SalesforceConnector(http, source, token);
  }
}
