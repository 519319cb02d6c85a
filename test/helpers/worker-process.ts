import { type ChildProcess, spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { TEST_API_KEY, type TestStack } from './stack';

/**
 * Runs `catalog-ingest worker` as its own process against the test stack, as in production,
 * and resolves once it polls the task queue. Extra environment adds named API keys.
 */
export async function startWorkerProcess(
  s: TestStack,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/main.ts'), 'worker'],
    {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: s.env.address,
        TEMPORAL_TASK_QUEUE: s.taskQueue,
        DATABASE_URL: s.db.url,
        CATALOG_API_BASE_URL: s.fakeApi.url,
        CATALOG_API_KEY: TEST_API_KEY,
        LOG_LEVEL: 'warn',
        // As deployed (Dockerfile, compose): a heap cap keeps the worker's memory flat.
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=384`.trim(),
        SOURCE_FILE_ROOTS: [...s.sourceFiles.roots, join(PROJECT_ROOT, '.data')].join(delimiter),
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const identity = `${child.pid}@`;
  for (let i = 0; i < 240; i++) {
    const queue = await s.env.client.workflowService
      .describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: s.taskQueue },
        taskQueueType: 1,
      })
      .catch(() => undefined);
    if (queue?.pollers?.some((p) => p.identity?.startsWith(identity))) return child;
    if (child.exitCode !== null)
      throw new Error(`worker process exited with code ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('worker process did not start polling');
}

/** Stops a worker process and waits for it to be gone. */
export async function stopWorkerProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
