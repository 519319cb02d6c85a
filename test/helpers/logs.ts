import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger';

/** A logger whose lines are kept in memory, so tests can read what would have been logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
