import { gzipSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { Context, activityInfo } from '@temporalio/activity';
import { CONTENT_TYPES } from '../src/catalog-api/client';
import { isTerminal } from '../src/catalog-api/job-status';
import type { AwaitJobInput, JobOutcome, SubmitBatchInput, SubmitBatchResult } from '../src/domain';
import { BatchMissingError } from '../src/errors';
import { type ActivityDeps, activityLogger, resolveKey, target } from './deps';

/** Failure type of a status check that found the job still going; retried by the policy. */
export const JOB_NOT_FINISHED = 'JobNotFinished';

export function createCatalogJobActivities(deps: ActivityDeps) {
  return {
    /**
     * Sends one batch and records its job id before returning. A batch whose job id is already
     * recorded is not sent again: a retry after a lost completion creates no second job.
     */
    async submitBatch(input: SubmitBatchInput): Promise<SubmitBatchResult> {
      const batch = await deps.warehouse.getBatch(input.ingestionId, input.seq);
      if (!batch)
        throw new BatchMissingError(
          `batch ${input.seq} of ingestion ${input.ingestionId} does not exist`,
        );
      if (batch.jobId) return { jobId: batch.jobId, reused: true };

      const operations = await deps.warehouse.batchOperations(input.ingestionId, batch);
      const full = input.mode === 'full';
      const body = full ? gzipSync(operations.join('\n')) : `[${operations.join(',')}]`;
      const requestId = `ingest-${input.ingestionId}-b${input.seq}-a${activityInfo().attempt}`;

      const { jobId } = await deps.catalogApi.submitProducts(
        target(deps, input.account, input.catalog, input.keyRef),
        input.mode,
        body,
        full ? CONTENT_TYPES.patchLines : CONTENT_TYPES.patch,
        {
          requestId,
          signal: Context.current().cancellationSignal,
          ...(full ? { contentEncoding: 'gzip' } : {}),
        },
      );
      await deps.warehouse.recordBatchJob(
        { id: input.ingestionId, tenant: input.tenant, catalog: input.catalog },
        input.seq,
        {
          jobId,
          requestId,
          kind: full ? 'feed_full' : 'feed_delta',
        },
      );
      activityLogger(deps, { tenant: input.tenant, catalog: input.catalog, jobId, requestId }).info(
        { seq: input.seq, products: batch.products, bytes: body.length },
        'batch submitted',
      );
      return { jobId, reused: false };
    },

    /**
     * One status check per attempt. A job still running fails with a benign, retryable
     * failure, so the retry policy does the waiting and no poll is written to history.
     */
    async awaitJob(input: AwaitJobInput): Promise<JobOutcome> {
      const polls = activityInfo().attempt;
      const status = await deps.catalogApi.getJob(
        { baseUrl: deps.catalogApiBaseUrl, apiKey: resolveKey(deps, input.keyRef) },
        input.jobId,
        { signal: Context.current().cancellationSignal },
      );
      const terminal = isTerminal(status.state);
      await deps.warehouse.recordJobStatus(
        input.jobId,
        status.rawStatus,
        polls,
        terminal,
        status.message,
      );

      if (!terminal) {
        throw ApplicationFailure.create({
          type: JOB_NOT_FINISHED,
          message: `job ${input.jobId} is ${status.rawStatus}`,
          category: 'BENIGN',
        });
      }
      // The catalog API holds these versions now: a later delta need not send them again.
      if (status.state === 'success') await deps.warehouse.markDelivered(input.jobId);
      const outcome: JobOutcome = {
        jobId: input.jobId,
        state: status.state,
        rawStatus: status.rawStatus,
        polls,
        stoppedAt: (status.stoppedAt ?? new Date()).getTime(),
      };
      if (status.message) outcome.message = status.message;
      activityLogger(deps, { jobId: input.jobId }).info(
        { state: status.rawStatus, polls },
        'job ended',
      );
      return outcome;
    },
  };
}
