import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../src/paths';
import { findTemporalCli } from '../src/temporal/cli-binary';
import { isListening } from '../src/temporal/dev-server';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

describe('the dev server a process starts', () => {
  it('stops when that process is killed outright', async () => {
    const cliPath = await findTemporalCli({ projectRoot: PROJECT_ROOT, say: () => undefined });
    assert.ok(cliPath, 'the temporal CLI is available');
    const [port, uiPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'fixtures/dev-server-child.ts'),
        cliPath,
        `${port}`,
        `${uiPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(child.stdout!, 'data');
    assert.ok(await isListening('127.0.0.1', port));

    child.kill('SIGKILL');
    let open = true;
    for (let i = 0; i < 60 && open; i++) {
      await new Promise((r) => setTimeout(r, 250));
      open = await isListening('127.0.0.1', port);
    }
    assert.equal(open, false, 'the dev server stopped within 15 s of its parent');
  });
});
