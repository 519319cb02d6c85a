import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher, request } from 'undici';
import { HttpStatusError, NetworkError, RateLimitedError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { DEFAULT_DELAY_BOUNDS, type DelayBounds, parseRetryAfter } from './retry-after';

/** Header carrying our request id on every call, echoed in logs for correlation. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** undici error codes that mean "the exchange failed on the wire": always retryable. */
const NETWORK_ERROR_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

export interface HttpTimeouts {
  /** Default: 5 s. */
  connectMs: number;
  /** Time to the response headers. Default: 30 s. */
  headersMs: number;
  /** Time between two body chunks. Default: 30 s. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  connectMs: 5_000,
  headersMs: 30_000,
  bodyMs: 30_000,
};

export interface HttpClientOptions {
  logger: Logger;
  metrics: Metrics;
  /** Default: {@link DEFAULT_TIMEOUTS}. */
  timeouts?: Partial<HttpTimeouts>;
  /** Bounds for Retry-After. Default: {@link DEFAULT_DELAY_BOUNDS}. */
  delayBounds?: DelayBounds;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Low-cardinality label for metrics, e.g. `PATCH /products`. */
  endpoint: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Aborts the call, e.g. on activity cancellation. */
  signal?: AbortSignal;
  /** Default: a new UUID. */
  requestId?: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  requestId: string;
}

/** Every outgoing HTTP call: timeouts, a request id, metrics, one classification of failures. */
export class HttpClient {
  private readonly dispatcher: Dispatcher;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly bounds: DelayBounds;

  constructor(options: HttpClientOptions) {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.dispatcher = new Agent({
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.bounds = options.delayBounds ?? DEFAULT_DELAY_BOUNDS;
  }

  /** Sends the call; resolves on 2xx, throws a classified error otherwise. */
  async send(call: HttpCall): Promise<HttpAnswer> {
    const requestId = call.requestId ?? randomUUID();
    const started = performance.now();
    const bodyBytes = call.body === undefined ? 0 : Buffer.byteLength(call.body);
    this.metrics.httpRequestBytes.observe(
      { endpoint: call.endpoint, method: call.method },
      bodyBytes,
    );

    let answer: HttpAnswer;
    try {
      answer = await this.exchange(call, requestId);
    } catch (err) {
      this.observe(call, 'network', started, 0);
      throw this.classifyThrown(err, call, requestId);
    }

    this.observe(call, String(answer.status), started, Buffer.byteLength(answer.body));
    this.logger.debug(
      { requestId, endpoint: call.endpoint, status: answer.status, bytes: bodyBytes },
      'http call',
    );
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw this.statusError(call, answer);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async exchange(call: HttpCall, requestId: string): Promise<HttpAnswer> {
    const res = await request(call.url, {
      method: call.method,
      headers: { ...call.headers, [REQUEST_ID_HEADER]: requestId },
      body: call.body ?? null,
      signal: call.signal ?? null,
      dispatcher: this.dispatcher,
    });
    const body = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body, requestId };
  }

  private observe(call: HttpCall, status: string, started: number, bytes: number): void {
    const labels = { endpoint: call.endpoint, method: call.method, status };
    this.metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
    this.metrics.httpResponseBytes.observe(labels, bytes);
  }

  private classifyThrown(err: unknown, call: HttpCall, requestId: string): unknown {
    if (call.signal?.aborted) return err;
    const code = (err as { code?: string }).code;
    const reason = code && NETWORK_ERROR_CODES.has(code) ? code : (err as Error).message;
    return new NetworkError(
      `${call.endpoint} failed before an answer (${reason}), request ${requestId}`,
      code,
      {
        cause: err,
      },
    );
  }

  private statusError(call: HttpCall, answer: HttpAnswer): HttpStatusError {
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], Date.now(), this.bounds);
    const snippet = answer.body.slice(0, 200).replace(/\s+/g, ' ');
    const message = `${call.endpoint} answered ${answer.status}, request ${answer.requestId}: ${snippet}`;
    if (answer.status === 429) return new RateLimitedError(message, answer.status, retryAfterMs);
    return new HttpStatusError(message, answer.status, retryAfterMs);
  }
}
