import { randomUUID } from 'node:crypto';
import type { KnownJobState } from '../catalog-api/job-status';

export type FakeJobType = 'feed_full' | 'feed_delta' | 'index';

/** What a finished job does to the catalog it belongs to. */
export type JobEffect = (catalog: FakeCatalog) => void;

export interface FakeJob {
  id: string;
  type: FakeJobType;
  accountId: string;
  catalogName: string;
  createdAt: number;
  /** Time the job leaves `queued` (index jobs queue behind each other). */
  startsAt: number;
  stopsAt: number;
  /** Final state decided at creation; reported once `stopsAt` has passed. */
  outcome: KnownJobState | string;
  message?: string;
  applied: boolean;
  effect: JobEffect;
  requestId: string | undefined;
  /** Product ids of the operations the job carried, in order. */
  productIds: string[];
}

/** A catalog as the fake stores it: the current products and how often each was written. */
export interface FakeCatalog {
  products: Map<string, unknown>;
  /** Every accepted `add` per product id, to prove exactly-once delivery. */
  addCounts: Map<string, number>;
  removeCounts: Map<string, number>;
  indexedAt: number[];
}

export function emptyCatalog(): FakeCatalog {
  return { products: new Map(), addCounts: new Map(), removeCounts: new Map(), indexedAt: [] };
}

/** The job's state at `now`, derived from its timeline: creating, queued, running, outcome. */
export function jobStateAt(job: FakeJob, now: number): string {
  if (now >= job.stopsAt) return job.outcome;
  if (now >= job.startsAt) return 'running';
  const creatingEnds = job.createdAt + Math.min(200, (job.startsAt - job.createdAt) / 2);
  return now < creatingEnds ? 'creating' : 'queued';
}

export function newJobId(): string {
  return randomUUID();
}
