/** Job states of the catalog API. `success` is the only good end. */
export const JOB_STATES = [
  'creating',
  'queued',
  'running',
  'success',
  'failed',
  'skipped',
  'killed',
] as const;
export type KnownJobState = (typeof JOB_STATES)[number];

/** A state the client does not know is kept as `unknown` and treated as a failed end. */
export type JobState = KnownJobState | 'unknown';

const TERMINAL: ReadonlySet<JobState> = new Set([
  'success',
  'failed',
  'skipped',
  'killed',
  'unknown',
]);

export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

export function toJobState(raw: string): JobState {
  const lower = raw.toLowerCase();
  return (JOB_STATES as readonly string[]).includes(lower) ? (lower as KnownJobState) : 'unknown';
}
