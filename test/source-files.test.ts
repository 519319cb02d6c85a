import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SourceFileRoots } from '../src/products/source-files';

describe('the directories a worker reads files from', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roots-'));
    await mkdir(join(dir, 'feeds/nested'), { recursive: true });
    await mkdir(join(dir, 'feeds-private'));
    await writeFile(join(dir, 'feeds/nested/a.json'), '[]');
    await writeFile(join(dir, 'feeds/..dots.json'), '[]');
    await writeFile(join(dir, 'feeds-private/secret.json'), '[]');
    await symlink(join(dir, 'feeds'), join(dir, 'feeds-link'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads files anywhere under a root, through links to the root, and named with dots', async () => {
    const roots = await SourceFileRoots.of([join(dir, 'feeds-link')]);
    assert.equal(
      await roots.resolve(join(dir, 'feeds/nested/a.json')),
      join(dir, 'feeds/nested/a.json'),
    );
    assert.equal(
      await roots.resolve(join(dir, 'feeds-link/..dots.json')),
      join(dir, 'feeds/..dots.json'),
    );
  });

  it('refuses a sibling that shares the root name as a prefix, and a climb out with ..', async () => {
    const roots = await SourceFileRoots.of([join(dir, 'feeds')]);
    for (const path of [
      join(dir, 'feeds-private/secret.json'),
      `${join(dir, 'feeds')}/../feeds-private/secret.json`,
    ]) {
      await assert.rejects(roots.resolve(path), { code: 'CI_SOURCE_NOT_ALLOWED' });
    }
  });

  it('says a file under a root is missing, and tells nothing of files outside', async () => {
    const roots = await SourceFileRoots.of([join(dir, 'feeds')]);
    await assert.rejects(roots.resolve(join(dir, 'feeds/none.json')), {
      code: 'CI_SOURCE_NOT_FOUND',
      message: /cannot read source file .*none\.json: ENOENT/,
    });
    for (const path of [
      join(dir, 'feeds-private/none.json'),
      join(dir, 'feeds-private/secret.json'),
    ]) {
      await assert.rejects(roots.resolve(path), {
        code: 'CI_SOURCE_NOT_ALLOWED',
        message: /is outside the directories this worker reads from/,
      });
    }
  });
});
