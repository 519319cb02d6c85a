import { z } from 'zod';
import { BadAnswerError } from '../errors';
import type { HttpClient } from '../http/http-client';
import { type JobState, toJobState } from './job-status';

/** Body types the API accepts for product writes. */
export const CONTENT_TYPES = {
  patch: 'application/json-patch+json',
  patchLines: 'application/json-patch+jsonlines',
} as const;

/** Largest direct `application/json-patch+json` body the API takes. */
export const MAX_PATCH_BODY_BYTES = 5 * 1024 * 1024;

export type FeedMode = 'full' | 'delta';

export interface JobStatus {
  id: string;
  state: JobState;
  /** The state string exactly as the API sent it. */
  rawStatus: string;
  type?: string;
  createdAt?: Date;
  startedAt?: Date;
  stoppedAt?: Date;
  message?: string;
  errorCode?: string;
}

// v1 answers `{"jobId": ...}`; v3 answers `{"data": {"job_id": ...}}`. Both are accepted.
const submitAnswer = z.union([
  z.object({ jobId: z.string().min(1) }),
  z.object({ data: z.object({ job_id: z.string().min(1) }) }),
]);

const timeValue = z.union([z.string(), z.number()]).nullish();

const jobObject = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  status: z.string().min(1),
  type: z.string().nullish(),
  created_at: timeValue,
  started_at: timeValue,
  stopped_at: timeValue,
  message: z.string().nullish(),
  error_code: z.union([z.string(), z.number()]).nullish(),
});

const jobAnswer = z.union([jobObject, z.object({ data: z.object({ job: jobObject }) })]);

/** Reads ISO-8601 or epoch-milliseconds (number or numeric string); undefined when unreadable. */
export function parseApiTime(value: string | number | null | undefined): Date | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const asNumber = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  const date = Number.isNaN(asNumber) ? new Date(String(value)) : new Date(asNumber);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new BadAnswerError(
      `${what}: answer is not JSON (starts with ${JSON.stringify(body.slice(0, 40))})`,
    );
  }
}

/** Reads a submit answer; a 2xx without a job id is an error, never a success. */
export function parseSubmitAnswer(body: string, what: string): string {
  const parsed = submitAnswer.safeParse(parseJson(body, what));
  if (!parsed.success) throw new BadAnswerError(`${what}: answer carries no job id`);
  return 'jobId' in parsed.data ? parsed.data.jobId : parsed.data.data.job_id;
}

export function parseJobAnswer(body: string, what: string): JobStatus {
  const parsed = jobAnswer.safeParse(parseJson(body, what));
  if (!parsed.success) throw new BadAnswerError(`${what}: answer is not a job object`);
  const job = 'data' in parsed.data ? parsed.data.data.job : parsed.data;

  const status: JobStatus = { id: job.id, state: toJobState(job.status), rawStatus: job.status };
  const createdAt = parseApiTime(job.created_at);
  const startedAt = parseApiTime(job.started_at);
  const stoppedAt = parseApiTime(job.stopped_at);
  if (job.type) status.type = job.type;
  if (createdAt) status.createdAt = createdAt;
  if (startedAt) status.startedAt = startedAt;
  if (stoppedAt) status.stoppedAt = stoppedAt;
  if (job.message) status.message = job.message;
  if (job.error_code !== null && job.error_code !== undefined)
    status.errorCode = String(job.error_code);
  return status;
}

export interface CatalogApiTarget {
  /** Base URL up to `/api/v1`, no trailing slash needed. */
  baseUrl: string;
  account: string;
  catalog: string;
  /** The resolved key. Only ever placed in the Authorization header. */
  apiKey: string;
}

export interface SubmitOptions {
  signal?: AbortSignal;
  requestId?: string;
}

export interface ProductSubmitOptions extends SubmitOptions {
  /** Set when the body is already gzip-compressed (jsonlines bodies). */
  contentEncoding?: 'gzip';
}

/** Client of the Bloomreach-style catalog management API (v1 paths). */
export class CatalogApiClient {
  constructor(private readonly http: HttpClient) {}

  /** Full feed (PUT, replaces the catalog) or delta (PATCH). Returns the job id. */
  async submitProducts(
    target: CatalogApiTarget,
    mode: FeedMode,
    body: string | Buffer,
    contentType: string,
    options: ProductSubmitOptions = {},
  ): Promise<{ jobId: string; requestId: string }> {
    const method = mode === 'full' ? 'PUT' : 'PATCH';
    const endpoint = `${method} /products`;
    const { contentEncoding, ...rest } = options;
    const headers: Record<string, string> = { ...authHeader(target), 'content-type': contentType };
    if (contentEncoding) headers['content-encoding'] = contentEncoding;
    const answer = await this.http.send({
      method,
      url: `${catalogPath(target)}/products`,
      endpoint,
      headers,
      body,
      ...rest,
    });
    return { jobId: parseSubmitAnswer(answer.body, endpoint), requestId: answer.requestId };
  }

  /** Asks for an index rebuild. Returns the job id. */
  async startIndex(
    target: CatalogApiTarget,
    options: SubmitOptions = {},
  ): Promise<{ jobId: string }> {
    const endpoint = 'POST /indexes';
    const answer = await this.http.send({
      method: 'POST',
      url: `${catalogPath(target)}/indexes`,
      endpoint,
      headers: authHeader(target),
      ...options,
    });
    return { jobId: parseSubmitAnswer(answer.body, endpoint) };
  }

  async getJob(
    target: Pick<CatalogApiTarget, 'baseUrl' | 'apiKey'>,
    jobId: string,
    options: SubmitOptions = {},
  ): Promise<JobStatus> {
    const endpoint = 'GET /jobs';
    const answer = await this.http.send({
      method: 'GET',
      url: `${trimSlash(target.baseUrl)}/jobs/${encodeURIComponent(jobId)}`,
      endpoint,
      headers: authHeader(target),
      ...options,
    });
    return parseJobAnswer(answer.body, endpoint);
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function catalogPath(t: CatalogApiTarget): string {
  return `${trimSlash(t.baseUrl)}/accounts/${encodeURIComponent(t.account)}/catalogs/${encodeURIComponent(t.catalog)}`;
}

function authHeader(t: Pick<CatalogApiTarget, 'apiKey'>): Record<string, string> {
  return { authorization: `Bearer ${t.apiKey}` };
}
