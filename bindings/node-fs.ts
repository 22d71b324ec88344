/**
 * @module bindings/node-fs — the Node file system behind the Platform: every fault a typed
 * FileSystemError, durable atomic writes, and the sweep of temporary files killed writers left.
 *
 * It imports no kernels and starts no backend, so a test or a tool can use it alone.
 */
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { PlatformFiles } from '../runtime/platform.ts';
import type { SweepHost, WriterState } from './temp-files.ts';
import { fileSystemError, hostErrorCode } from './fs-errors.ts';
import { sweepStaleTempFiles, tempFileName } from './temp-files.ts';

/** Absolute paths of this process's temporary files being written now: the sweep leaves them. */
const inFlight = new Set<string>();
let tempCounter = 0;

/**
 * Where a directory cannot be opened or flushed (Windows: EISDIR/EPERM; some file systems:
 * EINVAL/ENOTSUP), the rename is as durable as the host makes it, and that is not a failure.
 */
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EBADF', 'EACCES']);

/** Flushes a directory's entries (the rename) to the device where the host allows it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!DIR_SYNC_UNSUPPORTED.has(hostErrorCode(error))) throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Node's recursive mkdir reports ENOENT for faults met on the way (EROFS, for one): creating
 * the first missing part alone gives the real error.
 */
async function mkdirFault(path: string, error: unknown): Promise<unknown> {
  if (hostErrorCode(error) !== 'ENOENT') return error;
  let first: string | undefined;
  for (let at = resolve(path); ; at = dirname(at)) {
    try {
      await stat(at);
      break;
    } catch {
      if (dirname(at) === at) return error;
      first = at;
    }
  }
  if (first === undefined) return error;
  try {
    await mkdir(first);
  } catch (real) {
    return real;
  }
  return error;
}

/** Whether the process that wrote a temporary file still runs (`kill(pid, 0)`: ESRCH means gone). */
function writerState(writer: string, path: string): WriterState {
  if (!/^\d+$/.test(writer) || Number(writer) <= 0) return 'unknown';
  const pid = Number(writer);
  if (pid === process.pid) return inFlight.has(resolve(path)) ? 'in-flight' : 'gone';
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (error) {
    const code = hostErrorCode(error);
    return code === 'ESRCH' ? 'gone' : code === 'EPERM' ? 'alive' : 'unknown';
  }
}

const sweepHost: SweepHost = {
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (error) {
      throw fileSystemError('sweepTempFiles', dir, error);
    }
  },
  join,
  writer: writerState,
  async ageMs(path) {
    try {
      const info = await lstat(path);
      return info.isFile() ? Date.now() - info.mtimeMs : undefined;
    } catch {
      return undefined;
    }
  },
  async remove(path) {
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (hostErrorCode(error) === 'ENOENT') return false;
      throw fileSystemError('sweepTempFiles', path, error);
    }
  },
};

/**
 * The file methods of the Node platform. `writeFile` writes `.<name>.<pid>.<n>.lts-tmp` beside
 * the target, fsyncs it, renames it over the target and fsyncs the directory; a failure
 * removes the temporary file and leaves the old target as it was.
 *
 * @example
 * await nodeFiles.writeFile('runs/last.ckpt', bytes);
 * await nodeFiles.sweepTempFiles('runs'); // ['runs/.epoch=3.ckpt.81723.0.lts-tmp'] after a killed run
 */
export const nodeFiles: PlatformFiles = {
  async readFile(path) {
    try {
      const bytes = await readFile(path);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      throw fileSystemError('readFile', path, error);
    }
  },
  async writeFile(path, data) {
    const temp = join(dirname(path), tempFileName(basename(path), process.pid, tempCounter++));
    const key = resolve(temp);
    inFlight.add(key);
    try {
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw fileSystemError('writeFile', path, error, { bytes: data.byteLength });
    } finally {
      inFlight.delete(key);
    }
    try {
      await syncDirectory(dirname(path));
    } catch (error) {
      throw fileSystemError('writeFile', path, error, { bytes: data.byteLength });
    }
  },
  async listDir(path) {
    try {
      return (await readdir(path)).sort();
    } catch (error) {
      throw fileSystemError('listDir', path, error);
    }
  },
  async mkdirp(path) {
    try {
      await mkdir(path, { recursive: true });
    } catch (error) {
      throw fileSystemError('mkdirp', path, await mkdirFault(path, error));
    }
  },
  async makeDirExclusive(path) {
    try {
      await mkdir(dirname(path), { recursive: true });
    } catch (error) {
      throw fileSystemError('makeDirExclusive', path, await mkdirFault(dirname(path), error));
    }
    try {
      // Not recursive: one mkdir(2), which fails with EEXIST for every caller but the first.
      await mkdir(path);
      return true;
    } catch (error) {
      if (hostErrorCode(error) === 'EEXIST') return false;
      throw fileSystemError('makeDirExclusive', path, error);
    }
  },
  async removeFile(path) {
    try {
      await rm(path, { force: true });
    } catch (error) {
      throw fileSystemError('removeFile', path, error);
    }
  },
  sweepTempFiles: (dir) => sweepStaleTempFiles(dir, sweepHost),
};
