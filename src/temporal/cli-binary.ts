import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The CLI release that builds with `go install` (later tags carry a `replace` directive). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, pathVar = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathVar.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface FindCliOptions {
  /** The project root; the tools folder is `<root>/.tools/bin`. */
  projectRoot: string;
  /** An explicit binary (`TEMPORAL_CLI_PATH`), tried first. */
  explicitPath?: string;
  /** Build with Go when nothing is found. Default: true. */
  build?: boolean;
  /** Told what is happening (a build takes minutes). */
  say?: (message: string) => void;
}

/**
 * Finds the `temporal` CLI: an explicit path, then PATH, then the project's tools folder; else
 * builds it there with Go from the module proxy. Returns undefined when none of that works, so
 * the caller can fall back to the SDK's own download where the internet is reachable.
 */
export async function findTemporalCli(options: FindCliOptions): Promise<string | undefined> {
  const say = options.say ?? (() => undefined);
  const toolsBin = join(options.projectRoot, '.tools', 'bin');
  const local = join(toolsBin, 'temporal');

  if (options.explicitPath && (await isExecutable(options.explicitPath)))
    return options.explicitPath;
  const found = (await onPath('temporal')) ?? ((await isExecutable(local)) ? local : undefined);
  if (found || options.build === false) return found;

  const go = await onPath('go');
  if (!go) {
    say(
      'no temporal CLI and no Go toolchain found: leaving the dev server download to the Temporal SDK',
    );
    return undefined;
  }
  say(
    `building the temporal CLI with Go (${TEMPORAL_CLI_MODULE}) into ${toolsBin}; the first run takes a few minutes`,
  );
  const ok = await run(go, ['install', TEMPORAL_CLI_MODULE], {
    ...process.env,
    GOBIN: toolsBin,
    GOTOOLCHAIN: 'local',
  });
  if (ok && (await isExecutable(local))) return local;
  say('building the temporal CLI failed: leaving the dev server download to the Temporal SDK');
  return undefined;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}
