import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config';

describe('configuration', () => {
  it('takes a postgres URL as the warehouse', () => {
    const url = 'postgres://app:s3cret@db.internal:5432/catalog';
    assert.equal(loadConfig({ DATABASE_URL: url }).warehouse.url, url);
    assert.equal(loadConfig({ DATABASE_URL: '  ' }).warehouse.url, undefined);
  });

  it('names the environment variable of a bad setting', () => {
    assert.throws(
      () => loadConfig({ DATABASE_POOL_SIZE: 'many' }),
      /DATABASE_POOL_SIZE \(warehouse\.poolSize\)/,
    );
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL \(log\.level\)/);
  });

  it('refuses a DATABASE_URL that is not one postgres URL, naming the setting, not the value', () => {
    for (const bad of [
      'Removed stale pid file.\npostgres://app:s3cret@127.0.0.1:5432/postgres',
      'mysql://app:s3cret@127.0.0.1/db',
      'app:s3cret@127.0.0.1',
    ]) {
      assert.throws(
        () => loadConfig({ DATABASE_URL: bad }),
        (err: Error) => {
          assert.match(err.message, /DATABASE_URL \(warehouse\.url\): must be one postgres:\/\//);
          assert.doesNotMatch(err.message, /s3cret/);
          return true;
        },
      );
    }
  });
});
