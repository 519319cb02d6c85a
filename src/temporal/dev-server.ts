import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';

export interface DevServerOptions {
  cliPath: string;
  /** Default: 127.0.0.1. */
  host?: string;
  /** Frontend gRPC port. Default: 7233. */
  port?: number;
  /** Web UI port. Default: 8233. */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; unset keeps them in memory. */
  dbFile?: string;
  /** Default: `default`. */
  namespace?: string;
  /** How long to wait for the port to open. Default: 60 s. */
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** Resolves true when something accepts TCP connections at host:port. */
export function isListening(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Starts `temporal server start-dev` as a child process and waits for its frontend. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const args = [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
  ];
  args.push('--namespace', options.namespace ?? 'default', '--log-level', 'error');
  if (options.dbFile) {
    await mkdir(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }

  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid !== undefined) stopWithParent(child.pid);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  await waitForPort(child, host, port, options.startTimeoutMs ?? 60_000, () => stderr);

  return {
    address: `${host}:${port}`,
    uiUrl: `http://${host === '0.0.0.0' ? 'localhost' : host}:${uiPort}`,
    stop: () => stopChild(child),
  };
}

/**
 * A process killed outright (SIGKILL, OOM) runs no exit handler, and its dev server would live
 * on, holding the ports. A small shell outlives it, sees it gone and stops the server.
 */
function stopWithParent(childPid: number): void {
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'kill -0 "$1" 2>/dev/null || kill -TERM "$2" 2>/dev/null';
  const watchdog = spawn(
    '/bin/sh',
    ['-c', script, 'watchdog', String(process.pid), String(childPid)],
    {
      stdio: 'ignore',
    },
  );
  watchdog.on('error', () => undefined);
  watchdog.unref();
}

async function waitForPort(
  child: ChildProcess,
  host: string,
  port: number,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`temporal dev server exited with code ${child.exitCode}: ${stderr().trim()}`);
    }
    if (await isListening(host, port)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`temporal dev server did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
