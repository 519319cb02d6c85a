import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../src/paths';

/** Runs the CLI the way users do; these cases end before it connects to anything. */
function cli(...args: string[]): { code: number | null; stderr: string } {
  const run = spawnSync(join(PROJECT_ROOT, 'bin/catalog-ingest'), args, {
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  return { code: run.status, stderr: run.stderr };
}

describe('the command line', () => {
  it('ends a usage error with exit code 2 and says what is wrong', () => {
    const source = '--source shopify:http://127.0.0.1:1';
    const cases: [string | string[], RegExp][] = [
      ['ingest --catalog c --file f.json', /required option '--tenant <tenant>'/],
      ['ingest --tenant t --catalog c --file f --mode x', /'x' is invalid/],
      [['ingest', '--tenant', 't', '--catalog', 'c', '--file', ''], /--file is empty/],
      [
        'ingest --tenant t --catalog c --file f --mapping nosuch',
        /--mapping nosuch is neither a preset \(bestbuy, shopify, .*\) nor a file/,
      ],
      ['ingest --tenant t --catalog c --file f --mapping Shopify', /did you mean shopify\?/],
      ['--bogus', /unknown option '--bogus'/],
      [`sync --tenant t --catalog c ${source}`, /--key-ref/],
      [
        `sync --tenant t --catalog c ${source} --key-ref k --leak-per-second 0`,
        /'0' is invalid. expected calls per second between 0.1 and 10000/,
      ],
      [
        'schedule create --tenant t --catalog c --every 5m --key-ref k',
        /required option '--source/,
      ],
      [
        `schedule create --tenant t --catalog c ${source} --key-ref k --every 5m --catchup-window -5m`,
        /expected a duration of at least 10s/,
      ],
      ['schedule list', /cannot reach Temporal at 127\.0\.0\.1:1/],
    ];
    for (const [line, message] of cases) {
      const args = typeof line === 'string' ? line.split(' ') : line;
      const { code, stderr } = cli(...args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, message);
    }
  });

  it('ends with 0 when asked for help', () => {
    assert.equal(cli('--help').code, 0);
    assert.equal(cli('ingest', '--help').code, 0);
  });
});
