/**
 * @module bindings/make-dir-exclusive.test — `makeDirExclusive` through the Node binding: of
 * callers racing for one folder exactly one gets true, parents are created, and a file on the
 * way is a typed ENOTDIR naming the operation and the path.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFiles } from '../../bindings/node-fs.ts';
import { FileSystemError } from '../../runtime/errors.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lightning-ts-exclusive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makeDirExclusive (node)', () => {
  it('node-fs: makeDirExclusive gives one of eight racing callers the folder, creating its parents', async () => {
    const path = join(dir, 'logs', 'lightning_logs', 'version_0');
    const won = await Promise.all(Array.from({ length: 8 }, () => nodeFiles.makeDirExclusive(path)));
    expect(won.filter((w) => w).length).toBe(1);
    expect(await nodeFiles.makeDirExclusive(path)).toBe(false);
    expect(await nodeFiles.makeDirExclusive(join(dir, 'logs', 'lightning_logs', 'version_1'))).toBe(true);
    expect(await readdir(join(dir, 'logs', 'lightning_logs'))).toEqual(['version_0', 'version_1']);
  });

  it('node-fs: makeDirExclusive under a regular file is a FileSystemError ENOTDIR naming the path', async () => {
    await writeFile(join(dir, 'blocker'), '');
    const path = join(dir, 'blocker', 'runs', 'version_0');
    const error = await nodeFiles.makeDirExclusive(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FileSystemError);
    expect(error).toMatchObject({ code: 'ENOTDIR', operation: 'makeDirExclusive', path });
    expect((error as Error).message).toContain(path);
    // A file where the folder itself should be is taken: false, so the caller tries the next name.
    expect(await nodeFiles.makeDirExclusive(join(dir, 'blocker'))).toBe(false);
  });
});
