import pg from 'pg';

// Return numeric columns as JS numbers: prices and counts here fit comfortably in a double.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type { Pool, PoolClient } from 'pg';

/** A pool to the warehouse. Default size: 10. */
export function createPool(url: string, size = 10): pg.Pool {
  return new pg.Pool({ connectionString: url, max: size, idleTimeoutMillis: 30_000 });
}
