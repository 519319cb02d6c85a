import type { Client } from '@temporalio/client';
import { activityInfo } from '@temporalio/activity';
import type { CatalogApiClient, CatalogApiTarget } from '../src/catalog-api/client';
import { SecretMissingError } from '../src/errors';
import type { HttpClient } from '../src/http/http-client';
import type { Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';
import type { SourceFileRoots } from '../src/products/source-files';
import type { Warehouse } from '../src/warehouse/warehouse';

/** Everything activities touch, built once per worker and passed in. */
export interface ActivityDeps {
  warehouse: Warehouse;
  catalogApi: CatalogApiClient;
  /** Shared HTTP client for source APIs (timeouts, request ids, metrics). */
  httpClient: HttpClient;
  /** Base URL of the catalog API, up to `/api/v1`. */
  catalogApiBaseUrl: string;
  /** Named API keys; workflow inputs carry only the names. */
  apiKeys: Readonly<Record<string, string>>;
  /** Named source API tokens, a separate set: a source never receives a catalog API key. */
  sourceTokens: Readonly<Record<string, string>>;
  /** The directories source and mapping files may be read from. */
  sourceFiles: SourceFileRoots;
  /** Reaches the index singleton (workflows cannot use a client themselves). */
  client: Client;
  taskQueue: string;
  logger: Logger;
  metrics: Metrics;
}

/** The source token for a reference; the error names the reference, never a value. */
export function resolveSourceToken(deps: ActivityDeps, tokenRef: string): string {
  const token = deps.sourceTokens[tokenRef.toLowerCase()];
  if (!token) {
    throw new SecretMissingError(
      `no source token named "${tokenRef}" in this worker (set SOURCE_TOKEN_${tokenRef.toUpperCase()})`,
    );
  }
  return token;
}

/** The key for a reference; the error names the reference, never a value. */
export function resolveKey(deps: ActivityDeps, keyRef: string): string {
  const key = deps.apiKeys[keyRef.toLowerCase()];
  if (!key) {
    throw new SecretMissingError(
      `no catalog API key named "${keyRef}" in this worker (set ${keyEnvName(keyRef)})`,
    );
  }
  return key;
}

export function target(
  deps: ActivityDeps,
  account: string,
  catalog: string,
  keyRef: string,
): CatalogApiTarget {
  return { baseUrl: deps.catalogApiBaseUrl, account, catalog, apiKey: resolveKey(deps, keyRef) };
}

/** A logger carrying the ids of the running activity and its workflow. */
export function activityLogger(deps: ActivityDeps, fields: Record<string, unknown> = {}): Logger {
  const info = activityInfo();
  return deps.logger.child({
    workflowId: info.workflowExecution?.workflowId,
    runId: info.workflowExecution?.runId,
    activity: info.activityType,
    attempt: info.attempt,
    ...fields,
  });
}

function keyEnvName(keyRef: string): string {
  return keyRef === 'default' ? 'CATALOG_API_KEY' : `CATALOG_API_KEY_${keyRef.toUpperCase()}`;
}
