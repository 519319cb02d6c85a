/**
 * Checks of workflow inputs, run inside the workflows (pure: zod only, no I/O) so that input
 * typed into the Temporal UI or CLI fails at once with every problem named.
 */
import { z } from 'zod';

const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'use 1 to 64 letters, digits, dots, dashes or underscores',
  );
const keyRef = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,64}$/, 'a key name is letters, digits and underscores');
const catalogApi = z
  .object({
    account: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
        'an account is letters, digits, dots, dashes or underscores',
      )
      .optional(),
    keyRef: keyRef.optional(),
  })
  .strict();

const fileSource = z
  .object({
    kind: z.literal('file'),
    path: z.string().min(1),
    format: z.enum(['json', 'jsonl', 'csv', 'tsv']).optional(),
    mapping: z.string().min(1).optional(),
  })
  .strict();
const stagedSource = z
  .object({ kind: z.literal('staged'), ingestionId: z.string().min(1), description: z.string() })
  .strict();

const ingestInput = z
  .object({
    tenant: name,
    catalog: name,
    source: z.discriminatedUnion('kind', [fileSource, stagedSource]),
    mode: z.enum(['full', 'delta']).optional(),
    catalogApi: catalogApi.optional(),
    batching: z
      .object({
        maxProducts: z.number().int().min(1).max(100_000).optional(),
        maxBytes: z.number().int().min(1_024).max(5_000_000).optional(),
      })
      .strict()
      .optional(),
    pollIntervalMs: z.number().int().min(100).max(3_600_000).optional(),
    jobTimeoutMs: z.number().int().min(1_000).optional(),
    maxJobsInFlight: z.number().int().min(1).max(100).optional(),
    requestIndexRebuild: z.boolean().optional(),
    rebuildIntervalMs: z.number().int().min(0).optional(),
    maxRejectedShare: z.number().min(0).max(1).optional(),
    allowShrink: z.boolean().optional(),
    resend: z.boolean().optional(),
  })
  .strict();

const apiSource = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('shopify'),
      baseUrl: z.url(),
      keyRef,
      apiVersion: z.string().optional(),
      bucketSize: z.number().int().min(1).max(100_000).optional(),
      // Below one call every ten seconds a sync would sleep for years; no real plan is that slow.
      leakPerSecond: z.number().min(0.1).max(10_000).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('salesforce'),
      baseUrl: z.url(),
      keyRef,
      apiVersion: z.string().optional(),
      sobject: z.string().optional(),
      perMinute: z.number().int().min(1).max(1_000_000).optional(),
      quotaRetryMs: z.number().int().min(1_000).optional(),
    })
    .strict(),
]);

const syncInput = z
  .object({
    tenant: name,
    catalog: name,
    source: apiSource,
    mode: z.enum(['incremental', 'backfill']).optional(),
    overlapMs: z.number().int().min(0).optional(),
    pageSize: z.number().int().min(1).max(2_000).optional(),
    segmentRecords: z.number().int().min(1).optional(),
    segmentsPerRun: z.number().int().min(1).optional(),
    catalogApi: catalogApi.optional(),
    pollIntervalMs: z.number().int().min(100).optional(),
    rebuildIntervalMs: z.number().int().min(0).optional(),
    checkpoint: z.unknown().optional(),
  })
  .strict();

function problems(result: { success: boolean; error?: z.ZodError }): string | undefined {
  if (result.success) return undefined;
  return result
    .error!.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`)
    .join('; ');
}

/** Every problem of an `ingestCatalog` input, or undefined when it is valid. */
export function checkIngestInput(input: unknown): string | undefined {
  return problems(ingestInput.safeParse(input));
}

/** Every problem of a `syncSource` input, or undefined when it is valid. */
export function checkSyncInput(input: unknown): string | undefined {
  return problems(syncInput.safeParse(input));
}
