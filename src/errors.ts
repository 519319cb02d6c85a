/**
 * Named errors with stable codes. Failures are classified once, at the activity boundary
 * (`activities/failures.ts`), from these classes alone.
 */
export type ErrorCode =
  | 'CI_HTTP_NETWORK'
  | 'CI_HTTP_STATUS'
  | 'CI_HTTP_RATE_LIMITED'
  | 'CI_HTTP_BAD_ANSWER'
  | 'CI_SOURCE_FORMAT'
  | 'CI_SOURCE_NOT_FOUND'
  | 'CI_SOURCE_NOT_ALLOWED'
  | 'CI_MAPPING'
  | 'CI_SECRET_MISSING'
  | 'CI_JOB_FAILED'
  | 'CI_BATCH_MISSING'
  | 'CI_QUOTA_EXHAUSTED'
  | 'CI_TOO_MANY_REJECTED'
  | 'CI_UNSAFE_FULL_FEED'
  | 'CI_CURSOR_LOOP'
  | 'CI_CATALOG_BUSY';

export abstract class CatalogIngestError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether trying the same call again may succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Connection refused or reset, DNS failure, a timeout: the request may or may not have arrived. */
export class NetworkError extends CatalogIngestError {
  readonly code = 'CI_HTTP_NETWORK';
  readonly retryable = true;
  constructor(
    message: string,
    readonly networkCode: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server answered with a status we do not accept. 5xx retry; other 4xx do not. */
export class HttpStatusError extends CatalogIngestError {
  readonly code: ErrorCode = 'CI_HTTP_STATUS';
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly status: number,
    /** Delay the server asked for (Retry-After), already clamped, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    // 423 is Shopify's lock for clients that keep exceeding their limit: wait, then retry.
    this.retryable = status >= 500 || status === 429 || status === 408 || status === 423;
  }
}

/** 429 (or a quota answer): retry after the delay the server named. */
export class RateLimitedError extends HttpStatusError {
  override readonly code = 'CI_HTTP_RATE_LIMITED';
}

/** A 2xx whose body is not what the contract promises (HTML, no job id, bad JSON). */
export class BadAnswerError extends CatalogIngestError {
  readonly code = 'CI_HTTP_BAD_ANSWER';
  readonly retryable = true;
}

/** The source file cannot be read in the format it claims. */
export class SourceFormatError extends CatalogIngestError {
  readonly code = 'CI_SOURCE_FORMAT';
  readonly retryable = false;
}

export class SourceNotFoundError extends CatalogIngestError {
  readonly code = 'CI_SOURCE_NOT_FOUND';
  readonly retryable = false;
}

/** A file outside the directories this worker may read from. */
export class SourceNotAllowedError extends CatalogIngestError {
  readonly code = 'CI_SOURCE_NOT_ALLOWED';
  readonly retryable = false;
}

/** The mapping file or preset is unusable. */
export class MappingError extends CatalogIngestError {
  readonly code = 'CI_MAPPING';
  readonly retryable = false;
}

/** A key reference names no key known to this worker. The message names the reference only. */
export class SecretMissingError extends CatalogIngestError {
  readonly code = 'CI_SECRET_MISSING';
  readonly retryable = false;
}

/** A warehouse batch the workflow refers to does not exist. */
export class BatchMissingError extends CatalogIngestError {
  readonly code = 'CI_BATCH_MISSING';
  readonly retryable = false;
}

/** A paging cursor that repeats or stops advancing: the source would be paged forever. */
export class CursorLoopError extends CatalogIngestError {
  readonly code = 'CI_CURSOR_LOOP';
  readonly retryable = false;
}

/** A daily quota is spent; the caller waits for it to return instead of retrying. */
export class QuotaExhaustedError extends CatalogIngestError {
  readonly code = 'CI_QUOTA_EXHAUSTED';
  readonly retryable = false;
}

/** So many records were rejected that the source or its mapping is probably wrong. */
export class TooManyRejectedError extends CatalogIngestError {
  readonly code = 'CI_TOO_MANY_REJECTED';
  readonly retryable = false;
}

/** A full feed would remove most of the catalog; refused unless explicitly allowed. */
export class UnsafeFullFeedError extends CatalogIngestError {
  readonly code = 'CI_UNSAFE_FULL_FEED';
  readonly retryable = false;
}

/** A full feed replaces the whole catalog, so it and other ingestions of it never overlap. */
export class CatalogBusyError extends CatalogIngestError {
  readonly code = 'CI_CATALOG_BUSY';
  readonly retryable = false;
}
