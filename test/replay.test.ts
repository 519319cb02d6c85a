import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { memoryLogger } from './helpers/logs';
import { installTemporalRuntime } from '../src/worker';

const HISTORIES = join(__dirname, 'fixtures', 'histories');

/** Each fixture is `<label>.json`; its workflow id (child ids derive from it) is in the history. */
async function histories() {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => {
      const history = JSON.parse(await readFile(join(HISTORIES, f), 'utf8'));
      return { workflowId: workflowIdOf(history) ?? f.replace(/\.json$/, ''), history, label: f };
    }),
  );
}

/** The workflow id the recorded run had, from its first event. */
function workflowIdOf(history: {
  events?: { workflowExecutionStartedEventAttributes?: Record<string, any> }[];
}) {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return started?.workflowId as string | undefined;
}

async function replayAll(workflowsPath: string) {
  const results: { workflowId: string; error?: Error }[] = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath }, await histories())) {
    results.push(
      r.error ? { workflowId: r.workflowId, error: r.error } : { workflowId: r.workflowId },
    );
  }
  return results;
}

describe('replaying recorded workflow histories', () => {
  installTemporalRuntime(memoryLogger().logger);

  it('replays every recorded history against the current workflows', async () => {
    const results = await replayAll(require.resolve('../workflows'));
    assert.equal(results.length, 6);
    for (const r of results)
      assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
  });

  it('fails replay when a workflow changes without being versioned', async () => {
    const results = await replayAll(require.resolve('./fixtures/changed-workflows'));
    const ingest = results.filter((r) => r.workflowId.startsWith('ingest-'));
    assert.equal(ingest.length, 2);
    for (const r of ingest)
      assert.ok(r.error instanceof DeterminismViolationError, `${r.workflowId} replayed cleanly`);
    const others = results.filter((r) => !r.workflowId.startsWith('ingest-'));
    for (const r of others) assert.equal(r.error, undefined, r.workflowId);
  });
});
