import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { CatalogIngestError, HttpStatusError, RateLimitedError } from '../src/errors';

/**
 * The one place failures are classified for Temporal: our named errors become
 * ApplicationFailures that are retryable or not, with the server's requested delay.
 * Anything unexpected stays retryable under the activity's policy.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (!(err instanceof CatalogIngestError)) return err;

  const delay = err instanceof HttpStatusError ? err.retryAfterMs : undefined;
  return ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.retryable,
    ...(delay !== undefined && err.retryable ? { nextRetryDelay: delay } : {}),
    // Being told to slow down is expected, not an error worth a warning per attempt.
    ...(err instanceof RateLimitedError ? { category: 'BENIGN' as const } : {}),
  });
}

/** Wraps an activity so everything it throws is classified on the way out. */
export function classified<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toActivityFailure(err);
    }
  };
}
