import { Connection } from '@temporalio/client';
import type { Config } from '../config';

/** Connects to the configured Temporal frontend; the error names the address and what to do. */
export async function connectTemporal(config: Config): Promise<Connection> {
  const address = config.temporal.address ?? '127.0.0.1:7233';
  return Connection.connect({ address }).catch((err: unknown) => {
    throw new Error(
      `cannot reach Temporal at ${address} (set TEMPORAL_ADDRESS, or start ` +
        `\`npx catalog-ingest worker\`): ${(err as Error).message}`,
    );
  });
}
