import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../paths';

/** Where `npm run build:workflows` writes the prebuilt workflow bundle. */
export const WORKFLOW_BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
const HASH_PATH = `${WORKFLOW_BUNDLE_PATH}.sha256`;

export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows', 'index.ts');

/** A digest of every file the workflow bundle is built from. */
export async function workflowSourceHash(): Promise<string> {
  const dir = join(PROJECT_ROOT, 'workflows');
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(dir, f));
  files.push(
    join(PROJECT_ROOT, 'src', 'domain.ts'),
    join(PROJECT_ROOT, 'src', 'domain-validation.ts'),
    join(PROJECT_ROOT, 'package-lock.json'),
  );
  const hash = createHash('sha256');
  for (const file of files)
    hash.update(file.slice(PROJECT_ROOT.length)).update(await readFile(file));
  return hash.digest('hex');
}

/** Bundles the workflows once, ahead of time, so workers skip webpack (time and memory). */
export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  await mkdir(dirname(WORKFLOW_BUNDLE_PATH), { recursive: true });
  await writeFile(WORKFLOW_BUNDLE_PATH, code);
  await writeFile(HASH_PATH, await workflowSourceHash());
  return WORKFLOW_BUNDLE_PATH;
}

/** The prebuilt bundle's path if it was built from the current sources; undefined otherwise. */
export async function currentPrebuiltBundle(): Promise<string | undefined> {
  try {
    const [built, current] = await Promise.all([readFile(HASH_PATH, 'utf8'), workflowSourceHash()]);
    return built.trim() === current ? WORKFLOW_BUNDLE_PATH : undefined;
  } catch {
    return undefined;
  }
}
