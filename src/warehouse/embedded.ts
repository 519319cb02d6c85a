import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedWarehouse {
  /** A postgres:// URL the `pg` driver connects to. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Runs PGlite (Postgres compiled to WebAssembly) in this process and serves it over the
 * Postgres wire protocol on loopback, so the same `pg` code runs with no server installed.
 * PGlite is single-connection: interleaving two sessions breaks transactions and portals, so
 * the server takes one connection at a time and callers should use a pool of one.
 */
export async function startEmbeddedWarehouse(
  options: { dataDir?: string; port?: number } = {},
): Promise<EmbeddedWarehouse> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: 1,
  });
  await server.start();

  const address = server.getServerConn();
  return {
    url: `postgres://postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
