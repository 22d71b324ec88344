/**
 * @module bindings/fs-faults.test — file-system faults through the Node binding are typed
 * FileSystemErrors naming the operation and the path; a failed write leaves the old file and
 * no temporary file; a killed write's temporary file is swept by the next start.
 *
 * Faults are real where this machine allows: ENOTDIR/EISDIR/ENOENT/EEXIST in this process,
 * EFBIG under `ulimit -f`, ENOSPC on a small tmpfs and EROFS on a read-only remount (in a
 * private mount namespace, `unshare -m`, as root), EACCES as user nobody (`setpriv`). Where
 * the machine does not allow one, that test is skipped and the injected-error test of the
 * same code still runs.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileSystemError, formatBytes } from '../../bindings/fs-errors.ts';
import { nodeFiles } from '../../bindings/node-fs.ts';
import {
  LIVE_WRITER_STALE_MS,
  parseTempFileName,
  tempFileName,
  UNKNOWN_WRITER_STALE_MS,
} from '../../bindings/temp-files.ts';
import { FileSystemError, inComponent, LightningError } from '../../runtime/errors.ts';
import { describeRun, runChild } from '../helpers/child-process.ts';
import type { ChildResult, ChildStep } from './fs-child.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const isRoot = process.getuid?.() === 0;

/** Whether a command line succeeds here (probes for unshare, mount and setpriv). */
function works(command: string, args: readonly string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

const probeDir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
const canMount =
  process.platform === 'linux' &&
  isRoot &&
  works('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs ${probeDir}`]);
const canDropPrivileges =
  process.platform === 'linux' &&
  (!isRoot || works('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']));
const hasUlimit = process.platform !== 'win32' && works('bash', ['-c', 'ulimit -f 64']);
spawnSync('rmdir', [probeDir]);

let bundleDir = '';
let childScript = '';
let dir = '';

beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), 'lightning-ts-fs-child-'));
  childScript = join(bundleDir, 'fs-child.mjs');
  await build({
    entryPoints: [join(HERE, 'fs-child.ts')],
    outfile: childScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  await chmod(bundleDir, 0o755); // readable by the unprivileged child
  await chmod(childScript, 0o644);
});

afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lightning-ts-fs-faults-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs the child's steps through `sh -c wrap`, where `wrap` starts it as `"$NODE_BIN" "$CHILD_JS"`
 * (its steps come in FS_CHILD_STEPS, the test folder in FS_DIR), and returns its results.
 */
async function child(
  steps: readonly ChildStep[],
  wrap = 'exec "$NODE_BIN" "$CHILD_JS"',
  env: Record<string, string> = {},
): Promise<ChildResult[]> {
  const r = await runChild('sh', ['-c', wrap], {
    cwd: HERE,
    timeoutMs: 30_000,
    env: {
      NODE_BIN: process.execPath,
      CHILD_JS: childScript,
      FS_CHILD_STEPS: JSON.stringify(steps),
      FS_DIR: dir,
      ...env,
    },
  });
  if (r.code !== 0) throw new Error(describeRun('fs-child', r));
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ChildResult);
}

/** The typed error a failing step reported. */
function failure(result: ChildResult | undefined): {
  typed: boolean;
  code?: string;
  path?: string;
  operation?: string;
  message: string;
} {
  if (result === undefined || result.ok) throw new Error(`expected a failed step, got ${JSON.stringify(result)}`);
  return result.error;
}

/** Awaits `promise`, expecting a FileSystemError, and returns it. */
async function rejection(promise: Promise<unknown>): Promise<FileSystemError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof FileSystemError)) throw new Error(`expected a FileSystemError, got ${String(error)}`);
  return error;
}

/** Writes `old` to `name`, then checks a failed write left it and no temporary file. */
async function expectIntact(path: string, old: Uint8Array, names: readonly string[]): Promise<void> {
  expect(new Uint8Array(await readFile(path))).toEqual(old);
  expect((await readdir(dir)).sort()).toEqual([...names].sort());
}

describe('node file system: faults are typed', () => {
  it('node-fs: writing under a regular file is ENOTDIR naming writeFile and the path', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const path = join(dir, 'file', 'x.ckpt');
    const e = await rejection(nodeFiles.writeFile(path, new Uint8Array(10)));
    expect(e).toBeInstanceOf(LightningError);
    expect([e.code, e.path, e.operation, e.component]).toEqual(['ENOTDIR', path, 'writeFile', 'writeFile']);
    expect(e.message).toBe(
      `writeFile: a part of the path is a file, not a directory, writing ${path}; expected directories along ${join(dir, 'file')}, got ENOTDIR`,
    );
    expect((e.cause as { code?: string }).code).toBe('ENOTDIR');
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('node-fs: writing over a directory is EISDIR, and the directory and its contents stay', async () => {
    await mkdir(join(dir, 'd'));
    await writeFile(join(dir, 'd', 'inner'), 'keep');
    const e = await rejection(nodeFiles.writeFile(join(dir, 'd'), new Uint8Array(3)));
    expect(e.code).toBe('EISDIR');
    expect(e.message).toMatch(
      /^writeFile: a directory is in the way writing .*\/d; expected a file or nothing at the path, got EISDIR$/,
    );
    await expectIntact(join(dir, 'd', 'inner'), new TextEncoder().encode('keep'), ['d']);
  });

  it('node-fs: reading a missing file is ENOENT; writing into a missing directory says to mkdirp', async () => {
    const missing = join(dir, 'missing.ckpt');
    const read = await rejection(nodeFiles.readFile(missing));
    expect(read.message).toBe(`readFile: no such file reading ${missing}; expected an existing file, got ENOENT`);
    const write = await rejection(nodeFiles.writeFile(join(dir, 'sub', 'x.bin'), new Uint8Array(1)));
    expect(write.code).toBe('ENOENT');
    expect(write.message).toBe(
      `writeFile: the directory does not exist writing ${join(dir, 'sub', 'x.bin')}; expected an existing directory ${join(dir, 'sub')}, got ENOENT (call mkdirp first)`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('node-fs: listDir, mkdirp and removeFile map their faults; removing a missing file is fine', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await mkdir(join(dir, 'd'));
    expect((await rejection(nodeFiles.listDir(join(dir, 'nope')))).code).toBe('ENOENT');
    expect((await rejection(nodeFiles.listDir(join(dir, 'file')))).code).toBe('ENOTDIR');
    expect((await rejection(nodeFiles.readFile(join(dir, 'd')))).code).toBe('EISDIR');
    const mk = await rejection(nodeFiles.mkdirp(join(dir, 'file')));
    expect([mk.code, mk.operation]).toEqual(['EEXIST', 'mkdirp']);
    expect((await rejection(nodeFiles.mkdirp(join(dir, 'file', 'sub')))).code).toBe('ENOTDIR');
    const rmDir = await rejection(nodeFiles.removeFile(join(dir, 'd')));
    expect([rmDir.code, rmDir.operation]).toEqual(['EISDIR', 'removeFile']);
    await expect(nodeFiles.removeFile(join(dir, 'nope'))).resolves.toBeUndefined();
  });

  it('node-fs: writeFile replaces atomically, leaves no temporary file, and overwrites with new bytes', async () => {
    const path = join(dir, 'x.bin');
    await nodeFiles.writeFile(path, new Uint8Array([1, 2, 3]));
    await nodeFiles.writeFile(path, new Uint8Array([4, 5]));
    expect(Array.from(await nodeFiles.readFile(path))).toEqual([4, 5]);
    expect(await readdir(dir)).toEqual(['x.bin']);
  });

  it.skipIf(!hasUlimit)(
    'node-fs: a write past `ulimit -f` is EFBIG, keeps the old file and removes its temporary file',
    async () => {
      const path = join(dir, 'big.ckpt');
      await writeFile(path, new Uint8Array(100).fill(1));
      const [result] = await child(
        [{ op: 'write', path, bytes: 200_000, fill: 2 }],
        'ulimit -f 64; exec "$NODE_BIN" "$CHILD_JS"',
      );
      const e = failure(result);
      expect([e.typed, e.code, e.path, e.operation]).toEqual([true, 'EFBIG', path, 'writeFile']);
      expect(e.message).toBe(
        `writeFile: the file is larger than this process may write writing ${path}; expected a file size limit above 200.0 kB, got EFBIG (raise ulimit -f)`,
      );
      await expectIntact(path, new Uint8Array(100).fill(1), ['big.ckpt']);
    },
  );

  it.skipIf(!canMount)(
    'node-fs: a full disk (64 kB tmpfs) is ENOSPC, keeps the old file and removes its temporary file',
    async () => {
      const path = join(dir, 'x.ckpt');
      const results = await child(
        [
          { op: 'write', path, bytes: 1000, fill: 1 },
          { op: 'write', path, bytes: 200_000, fill: 2 },
          { op: 'read', path },
          { op: 'list', path: dir },
        ],
        `exec unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "$FS_DIR" && exec "$NODE_BIN" "$CHILD_JS"'`,
      );
      expect(results[0]).toEqual({ ok: true, value: null });
      const e = failure(results[1]);
      expect([e.typed, e.code, e.path]).toEqual([true, 'ENOSPC', path]);
      expect(e.message).toBe(
        `writeFile: no space left on the device writing ${path}; expected room for 200.0 kB, got ENOSPC (free some space, or write elsewhere)`,
      );
      expect(results[2]).toEqual({ ok: true, value: { length: 1000, first: 1 } });
      expect(results[3]).toEqual({ ok: true, value: ['x.ckpt'] });
    },
  );

  it.skipIf(!canMount)(
    'node-fs: a read-only file system is EROFS for writeFile, mkdirp and removeFile; the old file stays',
    async () => {
      const path = join(dir, 'x.ckpt');
      const seed = JSON.stringify([{ op: 'write', path, bytes: 10, fill: 3 }]);
      const steps: ChildStep[] = [
        { op: 'write', path, bytes: 20, fill: 4 },
        { op: 'mkdirp', path: join(dir, 'sub') },
        { op: 'remove', path },
        { op: 'read', path },
        { op: 'list', path: dir },
      ];
      const results = await child(
        steps,
        `exec unshare -m sh -c 'mount -t tmpfs tmpfs "$FS_DIR" && FS_CHILD_STEPS="$SEED" "$NODE_BIN" "$CHILD_JS" >/dev/null && mount -o remount,ro "$FS_DIR" && exec "$NODE_BIN" "$CHILD_JS"'`,
        { SEED: seed },
      );
      const write = failure(results[0]);
      expect([write.code, write.operation]).toEqual(['EROFS', 'writeFile']);
      expect(write.message).toBe(
        `writeFile: the file system is read-only writing ${path}; expected a writable file system, got EROFS`,
      );
      expect(failure(results[1]).code).toBe('EROFS');
      expect(failure(results[2]).code).toBe('EROFS');
      expect(results[3]).toEqual({ ok: true, value: { length: 10, first: 3 } });
      expect(results[4]).toEqual({ ok: true, value: ['x.ckpt'] });
    },
  );

  it.skipIf(!canDropPrivileges)(
    'node-fs: permission denied (as user nobody) is EACCES; the old file stays',
    async () => {
      const path = join(dir, 'x.ckpt');
      const secret = join(dir, 'secret.bin');
      await writeFile(path, new Uint8Array(5).fill(9));
      await writeFile(secret, 'no');
      await chmod(secret, 0o600);
      await chmod(path, 0o444);
      await chmod(dir, isRoot ? 0o755 : 0o555);
      try {
        const wrap = `exec ${isRoot ? 'setpriv --reuid=65534 --regid=65534 --clear-groups ' : ''}"$NODE_BIN" "$CHILD_JS"`;
        const results = await child(
          [
            { op: 'write', path, bytes: 5, fill: 1 },
            { op: 'read', path: secret },
            { op: 'read', path },
          ],
          wrap,
        );
        const write = failure(results[0]);
        expect([write.code, write.path, write.operation]).toEqual(['EACCES', path, 'writeFile']);
        expect(write.message).toBe(
          `writeFile: permission denied writing ${path}; expected write permission on the path and its directory, got EACCES`,
        );
        if (isRoot)
          expect(failure(results[1]).message).toBe(
            `readFile: permission denied reading ${secret}; expected read permission on the path and its directory, got EACCES`,
          );
        expect(results[2]).toEqual({ ok: true, value: { length: 5, first: 9 } });
      } finally {
        await chmod(dir, 0o700);
      }
      await expectIntact(path, new Uint8Array(5).fill(9), ['secret.bin', 'x.ckpt']);
    },
  );
});

describe('node file system: host errors map to one code (injected)', () => {
  const host = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });

  it('fs-errors: POSIX, Deno and OPFS names map to FileSystemError codes', () => {
    const cases: readonly (readonly [unknown, string])[] = [
      [host('ENOSPC'), 'ENOSPC'],
      [host('EDQUOT'), 'QUOTA'],
      [host('EROFS'), 'EROFS'],
      [host('EPERM'), 'EPERM'],
      [host('EACCES'), 'EACCES'],
      [host('EMFILE'), 'EMFILE'],
      [host('ENFILE'), 'EMFILE'],
      [host('EIO'), 'EIO'],
      [host('ERR_FS_EISDIR'), 'EISDIR'],
      [host('EXDEV'), 'UNKNOWN'],
      [Object.assign(new Error('x'), { name: 'NotCapable' }), 'EACCES'],
      [new DOMException('full', 'QuotaExceededError'), 'QUOTA'],
      [new DOMException('gone', 'NotFoundError'), 'ENOENT'],
      [new DOMException('locked', 'NoModificationAllowedError'), 'EPERM'],
      [new DOMException('kind', 'TypeMismatchError'), 'ENOTDIR'],
    ];
    for (const [error, code] of cases) expect(fileSystemError('writeFile', '/runs/x.ckpt', error).code).toBe(code);
  });

  it('fs-errors: messages name the operation, the path, the size and the host code', () => {
    const bytes = { bytes: 1_200_000 };
    expect(fileSystemError('writeFile', '/runs/x.ckpt', host('ENOSPC'), bytes).message).toBe(
      'writeFile: no space left on the device writing /runs/x.ckpt; expected room for 1.2 MB, got ENOSPC (free some space, or write elsewhere)',
    );
    expect(fileSystemError('writeFile', '/runs/x.ckpt', host('EPERM')).message).toBe(
      'writeFile: permission denied writing /runs/x.ckpt; expected write permission on the path and its directory, got EPERM',
    );
    expect(
      fileSystemError('writeFile', 'logs/m.csv', new DOMException('full', 'QuotaExceededError'), bytes).message,
    ).toBe(
      'writeFile: the storage quota is used up writing logs/m.csv; expected room for 1.2 MB within the quota, got QuotaExceededError (free some space, or write elsewhere)',
    );
    expect(
      fileSystemError('readFile', 'a', Object.assign(new Error('Requires read access'), { name: 'NotCapable' }))
        .message,
    ).toBe(
      'readFile: permission denied reading a; expected read permission on the path and its directory, got NotCapable (deno run --allow-read)',
    );
    expect(
      fileSystemError('writeFile', 'a/b', new DOMException('kind', 'TypeMismatchError'), { mismatch: 'EISDIR' }).code,
    ).toBe('EISDIR');
    expect(fileSystemError('removeFile', 'a', host('EXDEV')).message).toBe(
      'removeFile: the file system failed removing a; expected success, got EXDEV',
    );
    expect(fileSystemError('listDir', 'a', new Error('boom')).message).toBe(
      'listDir: the file system failed listing a; expected success, got Error: boom',
    );
    expect([formatBytes(1), formatBytes(999), formatBytes(1500), formatBytes(3_000_000_000)]).toEqual([
      '1 byte',
      '999 bytes',
      '1.5 kB',
      '3.0 GB',
    ]);
  });

  it('inComponent: a FileSystemError gets the component prefix and keeps code, path, operation and cause', () => {
    const cause = host('ENOSPC');
    const original = fileSystemError('writeFile', '/runs/x.ckpt', cause, { bytes: 1_200_000 });
    let wrapped: unknown;
    try {
      inComponent('ModelCheckpoint', original, { hint: 'free some space, or point dirpath elsewhere' });
    } catch (e) {
      wrapped = e;
    }
    expect(wrapped).toBeInstanceOf(FileSystemError);
    const e = wrapped as FileSystemError;
    expect(e.message).toBe(
      'ModelCheckpoint: no space left on the device writing /runs/x.ckpt; expected room for 1.2 MB, got ENOSPC (free some space, or point dirpath elsewhere)',
    );
    expect([e.code, e.path, e.operation, e.component, e.cause]).toEqual([
      'ENOSPC',
      '/runs/x.ckpt',
      'writeFile',
      'ModelCheckpoint',
      cause,
    ]);
    // The innermost component stays; other errors pass through as they are.
    expect(() => inComponent('Trainer', e)).toThrow(e);
    const other = new RangeError('not a file fault');
    expect(() => inComponent('CSVLogger', other)).toThrow(other);
    expect(() => inComponent('CSVLogger', original)).toThrow(
      /^CSVLogger: no space left .* \(free some space, or write elsewhere\)$/,
    );
  });
});

describe('node file system: stale temporary files', () => {
  /** A pid that was alive a moment ago and is not now. */
  function deadPid(): number {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(r.stdout);
  }

  it('temp-files: names carry the target, the writer and a counter, and parse back', () => {
    expect(tempFileName('epoch=1.ckpt', 4242, 3)).toBe('.epoch=1.ckpt.4242.3.lts-tmp');
    expect(parseTempFileName('.epoch=1.ckpt.4242.3.lts-tmp')).toEqual({
      target: 'epoch=1.ckpt',
      writer: '4242',
      counter: 3,
    });
    for (const name of ['.hidden', 'a.ckpt', '.a.ckpt.1.0.tmp', '.x.lts-tmp', 'a.ckpt.1.0.lts-tmp'])
      expect(parseTempFileName(name)).toBeUndefined();
  });

  it('node-fs: sweepTempFiles removes only our temporary files whose writer is gone or that lay untouched too long', async () => {
    const dead = deadPid();
    const old = (ms: number): Date => new Date(Date.now() - ms - 60_000);
    const files: Record<string, Date | undefined> = {
      [tempFileName('a.ckpt', dead, 0)]: undefined, // writer gone: stale
      [tempFileName('b.ckpt', process.pid, 99_999)]: undefined, // this process, not in flight: stale
      [tempFileName('c.ckpt', 1, 0)]: undefined, // a live foreign writer: kept
      [tempFileName('d.ckpt', 1, 1)]: old(LIVE_WRITER_STALE_MS), // a live pid, untouched for a day: a reused pid, stale
      [tempFileName('e.ckpt', 'tab7x', 0)]: undefined, // unknowable writer, fresh: kept
      [tempFileName('f.ckpt', 'tab7x', 1)]: old(UNKNOWN_WRITER_STALE_MS), // unknowable writer, 10 minutes untouched: stale
      '.hidden': old(LIVE_WRITER_STALE_MS),
      [`.g.ckpt.${dead}.0.tmp`]: old(LIVE_WRITER_STALE_MS), // not our naming
      'h.ckpt': undefined,
    };
    for (const [name, mtime] of Object.entries(files)) {
      await writeFile(join(dir, name), 'x');
      if (mtime !== undefined) await utimes(join(dir, name), mtime, mtime);
    }
    await mkdir(join(dir, tempFileName('dir', dead, 0))); // a directory is never ours to remove
    const removed = await nodeFiles.sweepTempFiles(dir);
    const stale = [
      tempFileName('a.ckpt', dead, 0),
      tempFileName('b.ckpt', process.pid, 99_999),
      tempFileName('d.ckpt', 1, 1),
      tempFileName('f.ckpt', 'tab7x', 1),
    ];
    expect(removed.sort()).toEqual(stale.map((n) => join(dir, n)).sort());
    const left = [...Object.keys(files).filter((n) => !stale.includes(n)), tempFileName('dir', dead, 0)];
    expect((await readdir(dir)).sort()).toEqual(left.sort());
    expect(await nodeFiles.sweepTempFiles(join(dir, 'missing'))).toEqual([]);
  });

  it('node-fs: sweepTempFiles leaves a write in flight in this process alone', async () => {
    const path = join(dir, 'big.ckpt');
    const writing = nodeFiles.writeFile(path, new Uint8Array(64 << 20).fill(5));
    let done = false;
    void writing.finally(() => {
      done = true;
    });
    let seen: string | undefined;
    while (!done && seen === undefined) {
      seen = (await readdir(dir)).find((n) => n.endsWith('.lts-tmp'));
      if (seen !== undefined) expect(await nodeFiles.sweepTempFiles(dir)).toEqual([]);
      await new Promise((r) => setTimeout(r, 1));
    }
    await writing;
    expect(seen).toMatch(new RegExp(`^\\.big\\.ckpt\\.${process.pid}\\.\\d+\\.lts-tmp$`));
    expect(await readdir(dir)).toEqual(['big.ckpt']);
  });

  it('node-fs: a write SIGKILLed mid-way leaves its temporary file and the old file; the next start sweeps it', async () => {
    const path = join(dir, 'last.ckpt');
    await writeFile(path, new Uint8Array(10).fill(1));
    const steps = JSON.stringify([{ op: 'kill-mid-write', path, bytes: 32 << 20 }]);
    const r = await runChild(process.execPath, [childScript], {
      cwd: HERE,
      timeoutMs: 30_000,
      env: { FS_CHILD_STEPS: steps },
    });
    expect(r.signal).toBe('SIGKILL');
    const names = await readdir(dir);
    const temps = names.filter((n) => n.endsWith('.lts-tmp'));
    expect(temps).toHaveLength(1);
    const temp = join(dir, temps[0] ?? '');
    const size = (await readFile(temp)).byteLength;
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThan(32 << 20);
    expect(new Uint8Array(await readFile(path))).toEqual(new Uint8Array(10).fill(1));
    expect(await nodeFiles.sweepTempFiles(dir)).toEqual([temp]);
    expect(await readdir(dir)).toEqual(['last.ckpt']);
  });
});
