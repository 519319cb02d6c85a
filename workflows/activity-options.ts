import type { ActivityOptions } from '@temporalio/workflow';

/** Reading and staging a whole source file: long, heartbeating, resumable. */
export const STAGE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
  },
};

/** One catalog API write. 429s wait as long as the API asks (nextRetryDelay). */
export const SUBMIT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '3 minutes',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 12,
  },
};

/** Short warehouse writes and the singleton signal. */
export const RECORD_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 20,
  },
};

/**
 * One job status check per attempt; the retry policy is the polling loop: a fixed interval,
 * no attempt cap, bounded by the job timeout. Retries write no history events.
 */
export function pollOptions(pollIntervalMs: number, jobTimeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: jobTimeoutMs,
    retry: {
      initialInterval: pollIntervalMs,
      backoffCoefficient: 1,
      maximumInterval: pollIntervalMs,
      // No maximumAttempts: unlimited, bounded by scheduleToCloseTimeout.
    },
  };
}
