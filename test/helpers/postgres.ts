import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { isPostgresUrl } from '../../src/config';
import { startEmbeddedWarehouse } from '../../src/warehouse/embedded';

export interface TestDatabase {
  url: string;
  /** True for a Postgres server, false for the embedded PGlite fallback. */
  server: boolean;
  drop(): Promise<void>;
}

/**
 * Why a test that runs a worker in another process cannot run, if it cannot: the embedded
 * warehouse serves one connection, held by the test process.
 */
export const needsPostgresServer =
  (process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL)
    ? false
    : 'needs a Postgres server (TEST_DATABASE_URL): the embedded warehouse serves one process';

/**
 * A fresh, empty database for one test file: a new database on the Postgres server named by
 * TEST_DATABASE_URL (or DATABASE_URL), which CI always sets; without one, embedded PGlite.
 */
export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!adminUrl) {
    const embedded = await startEmbeddedWarehouse();
    return { url: embedded.url, server: false, drop: () => embedded.stop() };
  }

  if (!isPostgresUrl(adminUrl)) {
    // Never echo the value: it holds a password.
    throw new Error('TEST_DATABASE_URL (or DATABASE_URL) is not one postgres:// URL');
  }
  const name = `catalog_ingest_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    server: true,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
