/**
 * @module bindings/deno-fs.test — the Deno binding's file system (bindings/deno-fs.ts, run from
 * source by `deno run -A`): ENOTDIR and EISDIR are typed FileSystemErrors, atomic writes leave
 * no temporary file, and the sweep takes only stale temporary files of our naming.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempFileName } from '../../bindings/temp-files.ts';
import { describeRun, runChild } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');

describe('deno file system', () => {
  it('deno-fs: faults are typed FileSystemErrors, writes leave no temporary file, stale temporary files are swept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lightning-ts-deno-fs-'));
    try {
      const dead = Number(
        spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout,
      );
      const r = await runChild(DENO, ['run', '-A', 'test/bindings/deno-fs-check.ts', dir, String(dead)], {
        cwd: ROOT,
        timeoutMs: 60_000,
      });
      if (r.code !== 0) throw new Error(describeRun('deno-fs-check', r));
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out['enotdir']).toEqual({
        threw: true,
        typed: true,
        code: 'ENOTDIR',
        path: `${dir}/file/x.ckpt`,
        operation: 'writeFile',
        message: `writeFile: a part of the path is a file, not a directory, writing ${dir}/file/x.ckpt; expected directories along ${dir}/file, got ENOTDIR`,
      });
      expect(out['eisdir']).toMatchObject({ typed: true, code: 'EISDIR', operation: 'writeFile' });
      expect(out['enoent']).toMatchObject({ typed: true, code: 'ENOENT', operation: 'readFile' });
      expect(out['removeDir']).toMatchObject({ typed: true, code: 'EISDIR', operation: 'removeFile' });
      expect(out['read']).toEqual([4, 5]);
      expect(out['afterWrites']).toEqual(['a.ckpt', 'd', 'file']);
      expect((out['swept'] as string[]).sort()).toEqual((out['stale'] as string[]).map((n) => `${dir}/${n}`).sort());
      expect(out['afterSweep']).toEqual([tempFileName('e.ckpt', 1, 0), '.hidden', 'a.ckpt', 'd', 'file']);
      expect((out['exclusive'] as boolean[]).sort()).toEqual([false, true]);
      expect(out['exclusiveAgain']).toBe(false);
      expect(out['exclusiveNew']).toBe(true);
      expect(out['exclusiveUnderFile']).toMatchObject({ typed: true, code: 'ENOTDIR', operation: 'makeDirExclusive' });
      expect(out['exclusiveList']).toEqual(['deep', 'v0']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
