/** Bounds applied to every server-requested delay. */
export interface DelayBounds {
  /** Shortest delay honoured; guards against `Retry-After: 0` hot loops. Default: 1 s. */
  floorMs: number;
  /** Longest delay honoured; guards against absurd values. Default: 10 min. */
  capMs: number;
}

export const DEFAULT_DELAY_BOUNDS: DelayBounds = { floorMs: 1_000, capMs: 600_000 };

const DELTA_SECONDS = /^\d+(\.\d+)?$/;

/**
 * Reads a `Retry-After` value (delta-seconds, possibly a float, or an HTTP-date) as a delay in
 * ms, clamped to the bounds. Returns undefined when the header is absent or unreadable, so the
 * caller falls back to its own backoff.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
  bounds: DelayBounds = DEFAULT_DELAY_BOUNDS,
): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;

  let delayMs: number;
  if (DELTA_SECONDS.test(raw)) {
    delayMs = Number(raw) * 1000;
  } else if (/[a-z]/i.test(raw)) {
    const at = Date.parse(raw);
    if (Number.isNaN(at)) return undefined;
    delayMs = at - now;
  } else {
    return undefined;
  }
  return clampDelay(delayMs, bounds);
}

export function clampDelay(delayMs: number, bounds: DelayBounds = DEFAULT_DELAY_BOUNDS): number {
  return Math.min(bounds.capMs, Math.max(bounds.floorMs, Math.ceil(delayMs)));
}
