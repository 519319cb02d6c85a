import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { type Config, loadConfig } from '../config';
import { runDemo } from '../demo/demo';
import { FakeCatalogApi } from '../fakes/fake-catalog-api';
import { createLogger } from '../logger';
import { PROJECT_ROOT, startStack } from '../stack';
import { createPool } from '../warehouse/pool';
import { migrate } from '../warehouse/migrations';
import { Client, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { checkSyncInput } from '../domain-validation';
import type { ApiSource, SyncSourceInput, SyncSummary } from '../domain';
import { FakeSalesforce } from '../fakes/fake-salesforce';
import { FakeShopify } from '../fakes/fake-shopify';
import { createSyncSchedule, listSyncSchedules } from '../schedules';
import { buildWorkflowBundle } from '../temporal/workflow-bundle';
import { PRESETS } from '../products/presets';
import { connectTemporal } from './connect';
import { runIngestCommand } from './ingest-command';
import { describeRetry, hasWorker, watch } from './progress';

const START_WORKER = '`npx catalog-ingest worker`';

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** Calls a second a Shopify bucket leaks: at least one every ten seconds. */
function leakRate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 10_000)
    throw new InvalidArgumentError('expected calls per second between 0.1 and 10000');
  return n;
}

/** A catch-up window: a whole number of s, m, h or d, at least the 10 s Temporal accepts. */
function catchupWindow(value: string): string {
  const m = /^(\d+)(s|m|h|d)$/.exec(value);
  const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3_600, d: 86_400 }[m[2] as 's'] : 0;
  if (seconds < 10) throw new InvalidArgumentError('expected a duration of at least 10s, e.g. 10m');
  return value;
}

function range(value: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(value);
  if (!m || Number(m[1]) > Number(m[2]))
    throw new InvalidArgumentError('expected MIN-MAX in milliseconds, e.g. 30000-300000');
  return [Number(m[1]), Number(m[2])];
}

/** Lines go to a file for commands that talk to a person on the terminal. */
function fileLogger(config: Config) {
  const dir = resolve(PROJECT_ROOT, '.data/logs');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, 'catalog-ingest.log');
  return {
    file,
    logger: createLogger({
      level: config.log.level,
      destination: pino.destination({ dest: file, sync: false }),
    }),
  };
}

/** The deepest cause's message: what actually went wrong, under the workflow wrappers. */
function innermostMessage(err: unknown): string {
  let current = err as { message?: string; cause?: unknown };
  while (current.cause) current = current.cause as { message?: string; cause?: unknown };
  return current.message ?? String(err);
}

/** The options that name a tenant's source and its limits, shared by sync and schedules. */
function withSourceOptions(command: Command): Command {
  return command
    .requiredOption('--tenant <tenant>')
    .requiredOption('--catalog <catalog>')
    .requiredOption(
      '--source <kind:url>',
      'e.g. shopify:https://acme.myshopify.com or salesforce:https://acme.my.salesforce.com',
    )
    .requiredOption(
      '--key-ref <name>',
      'name of the source token the worker resolves (SOURCE_TOKEN_<NAME>)',
    )
    .option(
      '--bucket-size <n>',
      'Shopify bucket size (40 standard, 80 Advanced, 400 Plus)',
      positiveInt,
    )
    .option(
      '--leak-per-second <n>',
      'Shopify leak rate (2 standard, 4 Advanced, 20 Plus)',
      leakRate,
    )
    .option('--per-minute <n>', 'Salesforce requests per minute for this tenant', positiveInt)
    .option('--account <account>', 'catalog API account (default: the tenant)');
}

/** A source from the sync and schedule options, with its rate-limit tuning. */
function sourceFromOptions(o: {
  source: string;
  keyRef: string;
  bucketSize?: number;
  leakPerSecond?: number;
  perMinute?: number;
}): ApiSource {
  const source = parseSource(o.source, o.keyRef);
  const foreign =
    source.kind === 'shopify'
      ? o.perMinute && '--per-minute'
      : (o.bucketSize && '--bucket-size') || (o.leakPerSecond && '--leak-per-second');
  if (foreign) throw new UsageError(`${foreign} does not apply to a ${source.kind} source`);
  if (source.kind === 'shopify') {
    if (o.bucketSize) source.bucketSize = o.bucketSize;
    if (o.leakPerSecond) source.leakPerSecond = o.leakPerSecond;
  } else if (o.perMinute) {
    source.perMinute = o.perMinute;
  }
  return source;
}

/** Input refused inside a command; Commander's own errors are printed by Commander. */
class UsageError extends Error {}

/** Refuses invalid input before anything starts: a usage error, exit code 2. */
function usageCheck(problem: string | undefined): void {
  if (problem) throw new UsageError(`invalid input: ${problem}`);
}

function parseSource(value: string, keyRef: string): ApiSource {
  const m = /^(shopify|salesforce):(https?:\/\/.+)$/.exec(value);
  if (!m) throw new UsageError('--source must be shopify:<shop URL> or salesforce:<instance URL>');
  return { kind: m[1] as 'shopify' | 'salesforce', baseUrl: m[2]!, keyRef };
}

async function withClient(config: Config, work: (client: Client) => Promise<void>): Promise<void> {
  const connection = await connectTemporal(config);
  try {
    await work(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  let exitCode = 0;
  const program = new Command('catalog-ingest')
    .description(
      'Product catalogs from files and APIs into a warehouse and a search catalog, on Temporal',
    )
    .showHelpAfterError()
    // Throw instead of exiting, so a usage error ends with code 2 like every other one.
    .exitOverride();

  program
    .command('demo')
    .description('start everything on embedded defaults and ingest catalogs for two tenants')
    .option('--exit', 'stop after the summary instead of waiting for Ctrl-C')
    .option('--catalogs <dir>', 'directory of the real catalogs (default: ../shared/data/catalogs)')
    .action(async (o: { exit?: boolean; catalogs?: string }) => {
      const { file, logger } = fileLogger(config);
      say(`catalog-ingest demo (structured logs: ${file})`);
      exitCode = await runDemo(config, logger, {
        exit: Boolean(o.exit),
        say,
        ...(o.catalogs ? { catalogsDir: resolve(o.catalogs) } : {}),
      });
    });

  program
    .command('worker')
    .description(
      'run a worker; starts locally whatever TEMPORAL_ADDRESS, DATABASE_URL and CATALOG_API_BASE_URL leave unset',
    )
    .option(
      '--fake-job-duration <min-max>',
      'job duration range of the in-process fake API, in ms',
      range,
      [30_000, 300_000] as [number, number],
    )
    .action(async (o: { fakeJobDuration: [number, number] }) => {
      const logger = createLogger({ level: config.log.level });
      const stack = await startStack({
        config,
        logger,
        say: (m) => logger.info(m),
        fakeApi: { jobDurationMs: o.fakeJobDuration },
      });
      logger.info(
        { temporal: stack.temporalAddress, taskQueue: config.temporal.taskQueue },
        'worker running',
      );
      const stop = () => void stack.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await stack.workerRun;
      await stack.shutdown();
    });

  program
    .command('ingest')
    .description(
      'ingest a catalog file (JSON array, JSON Lines, CSV or TSV) through a running worker',
    )
    .requiredOption('--tenant <tenant>')
    .requiredOption('--catalog <catalog>')
    .requiredOption('--file <path>')
    .option(
      '--mapping <preset-or-file>',
      `${Object.keys(PRESETS).join(', ')}, or a mapping JSON file (default: detected)`,
    )
    .addOption(new Option('--format <format>').choices(['json', 'jsonl', 'csv', 'tsv']))
    .addOption(
      new Option('--mode <mode>', 'delta PATCHes batches; full replaces the catalog')
        .choices(['delta', 'full'])
        .default('delta'),
    )
    .option('--account <account>', 'catalog API account (default: CATALOG_API_ACCOUNT)')
    .option('--key-ref <name>', 'name of the API key the worker resolves (default: default)')
    .option('--poll-interval <ms>', 'job status check interval', positiveInt)
    .option('--workflow-id <id>')
    .option('--no-wait', 'start and return without waiting for the outcome')
    .option('--allow-shrink', 'let a full feed remove more than half of the catalog')
    .option('--resend', 'send products the catalog API already holds in that version')
    .action(async (o) => {
      exitCode = await runIngestCommand(
        {
          tenant: o.tenant,
          catalog: o.catalog,
          file: o.file,
          wait: o.wait,
          ...(o.format ? { format: o.format } : {}),
          ...(o.mapping ? { mapping: o.mapping } : {}),
          ...(o.mode ? { mode: o.mode } : {}),
          ...(o.account ? { account: o.account } : {}),
          ...(o.keyRef ? { keyRef: o.keyRef } : {}),
          ...(o.pollInterval ? { pollIntervalMs: o.pollInterval } : {}),
          ...(o.workflowId ? { workflowId: o.workflowId } : {}),
          ...(o.allowShrink ? { allowShrink: true } : {}),
          ...(o.resend ? { resend: true } : {}),
        },
        config,
      );
    });

  program
    .command('fake-catalog-api')
    .description('serve the fake Bloomreach-style catalog API')
    .option('--port <port>', 'port', positiveInt, 8090)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--key <key...>', 'accepted bearer keys', ['demo-key'])
    .option('--job-duration <min-max>', 'job duration range in ms', range, [30_000, 300_000] as [
      number,
      number,
    ])
    .option('--failure-rate <share>', 'share of feed jobs that fail', Number, 0)
    .action(
      async (o: {
        port: number;
        host: string;
        key: string[];
        jobDuration: [number, number];
        failureRate: number;
      }) => {
        const api = await new FakeCatalogApi({
          port: o.port,
          host: o.host,
          apiKeys: o.key,
          jobDurationMs: o.jobDuration,
          failureRate: o.failureRate,
        }).start();
        say(
          `fake catalog API at ${api.url} (state: ${api.url.replace(/\/dataconnect.*$/, '')}/_fake/state)`,
        );
        await new Promise<void>((r) => process.once('SIGINT', () => r()));
        await api.stop();
      },
    );

  const syncCommand = program
    .command('sync')
    .description(
      "pull a tenant's products from a source API through a running worker, and wait for the outcome",
    )
    .addOption(
      new Option('--mode <mode>').choices(['incremental', 'backfill']).default('incremental'),
    );
  withSourceOptions(syncCommand).action(async (o) => {
    const source = sourceFromOptions(o);
    const input: SyncSourceInput = {
      tenant: o.tenant,
      catalog: o.catalog,
      source,
      mode: o.mode,
      pollIntervalMs: config.ingest.pollIntervalMs,
      rebuildIntervalMs: config.ingest.rebuildIntervalMs,
      catalogApi: {
        account: o.account ?? config.catalogApi.account ?? o.tenant,
        keyRef: config.catalogApi.defaultKeyRef,
      },
    };
    usageCheck(checkSyncInput(input));
    await withClient(config, async (client) => {
      const workflowId = `sync/${o.tenant}/${o.catalog}/${source.kind}/${Date.now()}`;
      const handle = await client.workflow.start('syncSource', {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: [input],
      });
      say(`started ${workflowId}`);
      if (!(await hasWorker(client, config.temporal.namespace, config.temporal.taskQueue))) {
        say(
          `no worker polls task queue "${config.temporal.taskQueue}" yet: start one with ${START_WORKER}`,
        );
      }
      const stop = watch(() => describeRetry(handle), process.stdout);
      try {
        const r = (await handle.result()) as SyncSummary;
        say(
          `${r.mode} sync of ${r.source} for ${r.tenant}/${r.catalog}: ${r.records} records in ${r.pages} pages, ` +
            `${r.segments} segments; ${(r.pacedMs / 1000).toFixed(1)} s paced by the rate limit, ` +
            `${r.rateLimited} 429s, ${r.throttledWaits} throttled waits, ${r.quotaWaits} quota waits; ` +
            `watermark ${r.watermark}`,
        );
      } catch (err) {
        say(`sync failed: ${innermostMessage(err)}`);
        exitCode = 1;
      } finally {
        stop();
      }
    });
  });

  program
    .command('fake-sources')
    .description('serve fake Shopify- and Salesforce-style source APIs with one demo shop and org')
    .option('--port-shopify <port>', 'port', positiveInt, 8091)
    .option('--port-salesforce <port>', 'port', positiveInt, 8092)
    .option('--products <n>', 'products in each', positiveInt, 5_000)
    .option('--token <token>', 'token both accept', 'demo-source-token')
    .option('--live', 'the shop changes while it is read: 2 updates and 1 new product per request')
    .action(
      async (o: {
        portShopify: number;
        portSalesforce: number;
        products: number;
        token: string;
        live?: boolean;
      }) => {
        const churn = o.live ? { updatesPerRequest: 2, createsPerRequest: 1 } : {};
        const shopify = await new FakeShopify({
          demo: { token: o.token, products: o.products, ...churn },
        }).start(o.portShopify);
        const salesforce = await new FakeSalesforce({
          demo: { token: o.token, products: o.products },
        }).start(o.portSalesforce);
        say(
          `fake Shopify shop:      ${shopify.shopUrl('demo')}  (X-Shopify-Access-Token: ${o.token.slice(0, 4)}...)`,
        );
        say(`fake Salesforce org:    ${salesforce.orgUrl('demo')}`);
        say('Ctrl-C stops them.');
        await new Promise<void>((r) => process.once('SIGINT', () => r()));
        await Promise.all([shopify.stop(), salesforce.stop()]);
      },
    );

  const schedule = program
    .command('schedule')
    .description('Temporal Schedules of incremental source syncs');
  const createSchedule = schedule
    .command('create')
    .requiredOption('--every <interval>', 'e.g. 15m, 1h')
    .option(
      '--catchup-window <interval>',
      'start missed runs within this window',
      catchupWindow,
      '10m',
    )
    .option('--paused', 'create it paused');
  withSourceOptions(createSchedule).action(async (o) => {
    const source = sourceFromOptions(o);
    usageCheck(checkSyncInput({ tenant: o.tenant, catalog: o.catalog, source }));
    await withClient(config, async (client) => {
      const id = await createSyncSchedule(client, {
        tenant: o.tenant,
        catalog: o.catalog,
        source,
        every: o.every,
        taskQueue: config.temporal.taskQueue,
        catchupWindow: o.catchupWindow,
        paused: Boolean(o.paused),
        sync: {
          catalogApi: {
            account: o.account ?? config.catalogApi.account ?? o.tenant,
            keyRef: config.catalogApi.defaultKeyRef,
          },
        },
      });
      say(`created schedule ${id} (every ${o.every}, overlapping runs skipped)`);
    });
  });
  schedule
    .command('list')
    .option('--tenant <tenant>')
    .action(async (o: { tenant?: string }) => {
      await withClient(config, async (client) => {
        for (const s of await listSyncSchedules(client, o.tenant)) {
          const next = s.info.nextActionTimes[0]?.toISOString() ?? '-';
          say(
            `${s.scheduleId}  ${s.state.paused ? 'paused' : 'active'}  next ${next}  ${s.state.note ?? ''}`,
          );
        }
      });
    });
  for (const [name, what] of [
    ['pause', 'pause a schedule'],
    ['resume', 'resume a paused schedule'],
    ['trigger', 'start a run now'],
    ['delete', 'delete a schedule'],
  ] as const) {
    schedule
      .command(`${name} <schedule-id>`)
      .description(what)
      .action(async (id: string) => {
        await withClient(config, async (client) => {
          const handle = client.schedule.getHandle(id);
          try {
            if (name === 'pause') await handle.pause('paused from catalog-ingest');
            else if (name === 'resume') await handle.unpause('resumed from catalog-ingest');
            // The SDK's trigger defaults to ALLOW_ALL; keep the schedule's rule: never overlap.
            else if (name === 'trigger') await handle.trigger(ScheduleOverlapPolicy.SKIP);
            else await handle.delete();
          } catch (err) {
            if (err instanceof ScheduleNotFoundError) {
              throw new UsageError(
                `no schedule ${id} (\`catalog-ingest schedule list\` shows them)`,
              );
            }
            throw err;
          }
          say(`${name}: ${id}`);
        });
      });
  }

  program
    .command('build-workflows')
    .description('bundle the workflow code ahead of time (workers then start faster and smaller)')
    .action(async () => {
      say(`wrote ${await buildWorkflowBundle()}`);
    });

  program
    .command('migrate')
    .description('apply warehouse migrations to DATABASE_URL')
    .action(async () => {
      if (!config.warehouse.url) throw new Error('DATABASE_URL is not set');
      const pool = createPool(config.warehouse.url, 1);
      try {
        const applied = await migrate(pool);
        say(
          applied.length
            ? `applied migrations ${applied.join(', ')}`
            : 'warehouse schema is up to date',
        );
      } finally {
        await pool.end();
      }
    });

  await program.parseAsync(argv);
  return exitCode;
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Commander has already printed its message (and the help, when asked for).
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    process.stderr.write(`catalog-ingest: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
