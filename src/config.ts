import { delimiter } from 'node:path';
import { z } from 'zod';

/** Task queue the worker polls and every workflow is started on. */
export const DEFAULT_TASK_QUEUE = 'catalog-ingest';

/** Prefix of the environment variables that hold named catalog API keys. */
export const API_KEY_ENV_PREFIX = 'CATALOG_API_KEY_';

/** Prefix of the environment variables that hold named source API tokens. */
export const SOURCE_TOKEN_ENV_PREFIX = 'SOURCE_TOKEN_';

const durationMs = z.coerce.number().int().nonnegative();

/**
 * True for a single-line `postgres://` or `postgresql://` URL with a host. Catches a URL that
 * picked up a tool's notice on the way (pg_ctlcluster prints "Removed stale pid file." on stdout),
 * which `pg` would otherwise read as a host name far from the cause.
 */
export function isPostgresUrl(value: string): boolean {
  if (/\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const configSchema = z.object({
  temporal: z.object({
    /** host:port of the Temporal frontend; unset means "start a local dev server". */
    address: z.string().min(1).optional(),
    /** Default: `default`. */
    namespace: z.string().min(1).default('default'),
    /** Default: `catalog-ingest`. */
    taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  }),
  warehouse: z.object({
    /** A postgres:// URL; unset means "run the embedded PGlite warehouse". */
    url: z
      .string()
      .refine(isPostgresUrl, 'must be one postgres://user:password@host:port/database URL')
      .optional(),
    /** Directory of the embedded warehouse. Default: `.data/warehouse`. */
    embeddedDir: z.string().default('.data/warehouse'),
    /** Default: 10 connections. */
    poolSize: z.coerce.number().int().min(1).max(100).default(10),
  }),
  sourceFiles: z.object({
    /**
     * Directories the worker may read source and mapping files from (SOURCE_FILE_ROOTS, separated
     * like PATH). Default: the worker's working directory only.
     */
    roots: z.array(z.string().min(1)).min(1).optional(),
  }),
  catalogApi: z.object({
    /** Base URL up to and including `/api/v1`; unset means "start the fake catalog API". */
    baseUrl: z.url().optional(),
    /** Account used when a workflow input names none. Default: the tenant's name. */
    account: z.string().min(1).optional(),
    /** Name of the key used when a workflow input names none. Default: `default`. */
    defaultKeyRef: z.string().min(1).default('default'),
  }),
  /** Named catalog API keys, resolved in the worker only. Never logged, never sent to Temporal. */
  apiKeys: z.record(z.string(), z.string().min(1)),
  /** Named source API tokens (`SOURCE_TOKEN_<NAME>`), kept apart from the catalog API keys. */
  sourceTokens: z.record(z.string(), z.string().min(1)),
  log: z.object({
    /** Default: `info`. */
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }),
  metrics: z.object({
    /** Port of the Prometheus `/metrics` endpoint; 0 disables it. Default: 0. */
    port: z.coerce.number().int().min(0).max(65535).default(0),
    /** Interface it listens on. Default: 127.0.0.1. */
    host: z.string().min(1).default('127.0.0.1'),
  }),
  ingest: z.object({
    /** Delay between job status checks. Default: 10 s (the vendor's own cadence). */
    pollIntervalMs: durationMs.default(10_000),
    /** Minimum time between two index rebuilds of one catalog. Default: 1 hour. */
    rebuildIntervalMs: durationMs.default(3_600_000),
  }),
});

export type Config = z.infer<typeof configSchema>;
export type Env = Record<string, string | undefined>;

/** Collects `CATALOG_API_KEY` (the `default` key) and `CATALOG_API_KEY_<NAME>` (key `<name>`). */
function collectApiKeys(env: Env): Record<string, string> {
  const keys = collectPrefixed(env, API_KEY_ENV_PREFIX);
  if (env.CATALOG_API_KEY) keys.default = env.CATALOG_API_KEY;
  return keys;
}

/** `<PREFIX><NAME>=value` becomes `{ name: value }`. */
function collectPrefixed(env: Env, prefix: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix) && name.length > prefix.length && value) {
      found[name.slice(prefix.length).toLowerCase()] = value;
    }
  }
  return found;
}

/** `a:b:c` (`;` on Windows) as a list; blank means unset. */
function splitPathList(value: string | undefined): string[] | undefined {
  const parts = (value ?? '')
    .split(delimiter)
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return parts.length > 0 ? parts : undefined;
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Every environment variable the configuration reads (named keys also match the prefix). */
export const CONFIG_ENV_VARS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'DATABASE_URL',
  'WAREHOUSE_EMBEDDED_DIR',
  'DATABASE_POOL_SIZE',
  'SOURCE_FILE_ROOTS',
  'CATALOG_API_BASE_URL',
  'CATALOG_API_ACCOUNT',
  'CATALOG_API_KEY',
  'CATALOG_API_KEY_REF',
  'LOG_LEVEL',
  'METRICS_PORT',
  'METRICS_HOST',
  'JOB_POLL_INTERVAL_MS',
  'INDEX_REBUILD_INTERVAL_MS',
] as const;

/** The environment variable behind each setting, so an error names what the user set. */
const ENV_VAR_OF_SETTING: Record<string, string> = {
  'temporal.address': 'TEMPORAL_ADDRESS',
  'temporal.namespace': 'TEMPORAL_NAMESPACE',
  'temporal.taskQueue': 'TEMPORAL_TASK_QUEUE',
  'warehouse.url': 'DATABASE_URL',
  'warehouse.embeddedDir': 'WAREHOUSE_EMBEDDED_DIR',
  'warehouse.poolSize': 'DATABASE_POOL_SIZE',
  'sourceFiles.roots': 'SOURCE_FILE_ROOTS',
  'catalogApi.baseUrl': 'CATALOG_API_BASE_URL',
  'catalogApi.account': 'CATALOG_API_ACCOUNT',
  'catalogApi.defaultKeyRef': 'CATALOG_API_KEY_REF',
  'log.level': 'LOG_LEVEL',
  'metrics.port': 'METRICS_PORT',
  'metrics.host': 'METRICS_HOST',
  'ingest.pollIntervalMs': 'JOB_POLL_INTERVAL_MS',
  'ingest.rebuildIntervalMs': 'INDEX_REBUILD_INTERVAL_MS',
};

/** Parses the process environment once, at the edge; everything below receives the result. */
export function loadConfig(env: Env = process.env): Config {
  const parsed = configSchema.safeParse({
    temporal: {
      address: blankToUndefined(env.TEMPORAL_ADDRESS),
      namespace: blankToUndefined(env.TEMPORAL_NAMESPACE),
      taskQueue: blankToUndefined(env.TEMPORAL_TASK_QUEUE),
    },
    warehouse: {
      url: blankToUndefined(env.DATABASE_URL),
      embeddedDir: blankToUndefined(env.WAREHOUSE_EMBEDDED_DIR),
      poolSize: blankToUndefined(env.DATABASE_POOL_SIZE),
    },
    sourceFiles: { roots: splitPathList(env.SOURCE_FILE_ROOTS) },
    catalogApi: {
      baseUrl: blankToUndefined(env.CATALOG_API_BASE_URL),
      account: blankToUndefined(env.CATALOG_API_ACCOUNT),
      defaultKeyRef: blankToUndefined(env.CATALOG_API_KEY_REF),
    },
    apiKeys: collectApiKeys(env),
    sourceTokens: collectPrefixed(env, SOURCE_TOKEN_ENV_PREFIX),
    log: { level: blankToUndefined(env.LOG_LEVEL) },
    metrics: { port: blankToUndefined(env.METRICS_PORT), host: blankToUndefined(env.METRICS_HOST) },
    ingest: {
      pollIntervalMs: blankToUndefined(env.JOB_POLL_INTERVAL_MS),
      rebuildIntervalMs: blankToUndefined(env.INDEX_REBUILD_INTERVAL_MS),
    },
  });
  if (!parsed.success) {
    // Name the setting, never echo a value: some of them are secrets.
    const problems = parsed.error.issues.map((i) => {
      const path = i.path.join('.');
      const envVar = ENV_VAR_OF_SETTING[path];
      return `${envVar ? `${envVar} (${path})` : path}: ${i.message}`;
    });
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
