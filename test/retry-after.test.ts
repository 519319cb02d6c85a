import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter } from '../src/http/retry-after';

const bounds = { floorMs: 1_000, capMs: 600_000 };
const now = Date.parse('2026-12-04T12:00:00Z');

describe('Retry-After parsing', () => {
  it('reads whole and fractional delta-seconds', () => {
    assert.equal(parseRetryAfter('3', now, bounds), 3_000);
    assert.equal(parseRetryAfter('2.0', now, bounds), 2_000);
    assert.equal(parseRetryAfter('1.5', now, bounds), 1_500);
  });

  it('raises zero and past dates to the floor instead of retrying hot', () => {
    assert.equal(parseRetryAfter('0', now, bounds), 1_000);
    assert.equal(parseRetryAfter('Thu, 03 Dec 2026 12:00:00 GMT', now, bounds), 1_000);
  });

  it('reads an HTTP-date as the delay until then', () => {
    assert.equal(parseRetryAfter('Fri, 04 Dec 2026 12:00:30 GMT', now, bounds), 30_000);
  });

  it('caps absurd values', () => {
    assert.equal(parseRetryAfter('86400', now, bounds), 600_000);
  });

  it('ignores what it cannot read, leaving the caller its own backoff', () => {
    assert.equal(parseRetryAfter(undefined, now, bounds), undefined);
    assert.equal(parseRetryAfter('', now, bounds), undefined);
    assert.equal(parseRetryAfter('soon', now, bounds), undefined);
    assert.equal(parseRetryAfter('-5', now, bounds), undefined);
  });
});
