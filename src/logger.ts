import pino from 'pino';

export type Logger = pino.Logger;

/** Keys whose values are replaced before a line is written, wherever they appear. */
const REDACTED_PATHS = [
  'authorization',
  'apiKey',
  'token',
  'password',
  '*.authorization',
  '*.apiKey',
  '*.token',
  '*.password',
  'headers.authorization',
  '*.headers.authorization',
];

export interface LoggerOptions {
  /** Default: `info`. */
  level?: string;
  /** Where lines go. Default: standard output. */
  destination?: pino.DestinationStream;
}

/** One JSON line per event; child loggers add tenant, workflow, job and request ids. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'catalog-ingest' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination(1),
  );
}
