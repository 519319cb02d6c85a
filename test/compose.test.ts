import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { API_KEY_ENV_PREFIX, CONFIG_ENV_VARS, loadConfig } from '../src/config';
import { API_BASE_PATH } from '../src/fakes/fake-catalog-api';

const compose = parse(readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    { environment?: Record<string, string>; ports?: string[]; command?: string[]; image?: string }
  >;
};
const svc = compose.services;
const workerEnv = svc.worker!.environment!;

function flag(command: string[], name: string): string[] {
  const values: string[] = [];
  command.forEach((arg, i) => {
    if (arg === name && command[i + 1]) values.push(command[i + 1]!);
  });
  return values;
}

describe('docker-compose.yml', () => {
  it('describes Temporal with its database, the UI, the warehouse, the worker and the fake API', () => {
    assert.deepEqual(Object.keys(svc).sort(), [
      'fake-catalog-api',
      'temporal',
      'temporal-db',
      'temporal-ui',
      'warehouse',
      'worker',
    ]);
  });

  it('sets only settings the worker reads, and they parse', () => {
    for (const key of Object.keys(workerEnv)) {
      assert.ok(
        (CONFIG_ENV_VARS as readonly string[]).includes(key) ||
          key.startsWith(API_KEY_ENV_PREFIX) ||
          key === 'NODE_OPTIONS',
        `${key} is not a setting`,
      );
    }
    const config = loadConfig(workerEnv);
    assert.equal(config.temporal.address, 'temporal:7233');
    assert.equal(config.metrics.port, 9464);
  });

  it('lets the worker read files from the mounted catalogs only', () => {
    const mounts = (svc.worker as { volumes?: string[] }).volumes ?? [];
    const target = mounts.map((m) => m.split(':')[1]).find((t) => t === '/catalogs');
    assert.ok(target, 'catalogs are mounted');
    assert.deepEqual(loadConfig(workerEnv).sourceFiles.roots, [target]);
  });

  it('points the worker and the UI at the Temporal service port', () => {
    assert.ok(svc.temporal!.ports!.includes('7233:7233'));
    assert.equal(workerEnv.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(svc['temporal-ui']!.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.ok(svc['temporal-ui']!.ports!.includes('8233:8080'), 'UI on 8233 like the dev server');
  });

  it("connects the worker to the warehouse with the warehouse's own credentials", () => {
    const url = new URL(workerEnv.DATABASE_URL!);
    const wh = svc.warehouse!.environment!;
    assert.equal(url.hostname, 'warehouse');
    assert.equal(url.username, wh.POSTGRES_USER);
    assert.equal(url.password, wh.POSTGRES_PASSWORD);
    assert.equal(url.pathname, `/${wh.POSTGRES_DB}`);
  });

  it('gives the worker the fake API address, path and a key the fake accepts', () => {
    const command = svc['fake-catalog-api']!.command!;
    const url = new URL(workerEnv.CATALOG_API_BASE_URL!);
    assert.equal(url.hostname, 'fake-catalog-api');
    assert.deepEqual(flag(command, '--port'), [url.port]);
    assert.equal(url.pathname, API_BASE_PATH);
    assert.ok(flag(command, '--key').includes(workerEnv.CATALOG_API_KEY!));
    assert.equal(workerEnv.METRICS_HOST, '0.0.0.0', 'metrics reachable from outside the container');
  });
});
