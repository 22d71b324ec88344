/**
 * @module bindings/deno-fs — the Deno file system behind the Platform: every fault a typed
 * FileSystemError, durable atomic writes, and the sweep of temporary files killed writers left.
 *
 * It imports no kernels and starts no backend. Writing needs `--allow-write`; the sweep tells
 * a live writer from a gone one through `/proc/<pid>` (Linux, with read access there) and
 * falls back to the file's age elsewhere.
 */
import type { PlatformFiles } from '../runtime/platform.ts';
import type { SweepHost, WriterState } from './temp-files.ts';
import { fileSystemError, hostErrorCode } from './fs-errors.ts';
import { sweepStaleTempFiles, tempFileName } from './temp-files.ts';

/** An open file, as far as this module uses it. */
interface DenoFile {
  write(data: Uint8Array): Promise<number>;
  sync(): Promise<void>;
  close(): void;
}

/** What `Deno.lstat` tells. */
interface DenoFileInfo {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly mtime: Date | null;
}

/** The few Deno file APIs this module uses (tsc has no Deno types). */
interface DenoFsApi {
  readFile(path: string): Promise<Uint8Array>;
  open(
    path: string,
    options: { read?: boolean; write?: boolean; create?: boolean; truncate?: boolean },
  ): Promise<DenoFile>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  readDir(path: string): AsyncIterable<{ readonly name: string }>;
  lstat(path: string): Promise<DenoFileInfo>;
  statSync(path: string): DenoFileInfo;
  readonly pid: number;
  readonly build: { readonly os: string };
}

const Deno = (globalThis as unknown as { Deno: DenoFsApi }).Deno;
const inFlight = new Set<string>();
let tempCounter = 0;

/** Where a directory cannot be opened or flushed (Windows, some file systems), the rename stands as it is. */
const DIR_SYNC_UNSUPPORTED = new Set([
  'EISDIR',
  'EPERM',
  'EINVAL',
  'ENOTSUP',
  'EBADF',
  'EACCES',
  'NotCapable',
  'NotSupported',
]);

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? '.' : cut === 0 ? '/' : path.slice(0, cut);
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** Flushes a directory's entries (the rename) to the device where the host allows it. */
async function syncDirectory(dir: string): Promise<void> {
  let file: DenoFile | undefined;
  try {
    file = await Deno.open(dir, { read: true });
    await file.sync();
  } catch (error) {
    if (!DIR_SYNC_UNSUPPORTED.has(hostErrorCode(error))) throw error;
  } finally {
    file?.close();
  }
}

/** A live process has `/proc/<pid>` on Linux; without that (or read access to it), unknown. */
function writerState(writer: string, path: string): WriterState {
  if (!/^\d+$/.test(writer) || Number(writer) <= 0) return 'unknown';
  if (Number(writer) === Deno.pid) return inFlight.has(path) ? 'in-flight' : 'gone';
  if (Deno.build.os !== 'linux') return 'unknown';
  try {
    Deno.statSync(`/proc/${writer}`);
    return 'alive';
  } catch (error) {
    return hostErrorCode(error) === 'ENOENT' ? 'gone' : 'unknown';
  }
}

const sweepHost: SweepHost = {
  async list(dir) {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    } catch (error) {
      throw fileSystemError('sweepTempFiles', dir, error);
    }
    return names;
  },
  join: joinPath,
  writer: writerState,
  async ageMs(path) {
    try {
      const info = await Deno.lstat(path);
      return info.isFile ? Date.now() - (info.mtime?.getTime() ?? Date.now()) : undefined;
    } catch {
      return undefined;
    }
  },
  async remove(path) {
    try {
      await Deno.remove(path);
      return true;
    } catch (error) {
      if (hostErrorCode(error) === 'ENOENT') return false;
      throw fileSystemError('sweepTempFiles', path, error);
    }
  },
};

/**
 * The file methods of the Deno platform, with the Node binding's semantics: `writeFile` writes
 * `.<name>.<pid>.<n>.lts-tmp`, syncs it, renames it over the target and syncs the directory.
 *
 * @example
 * await denoFiles.writeFile('runs/last.ckpt', bytes);
 */
export const denoFiles: PlatformFiles = {
  async readFile(path) {
    try {
      return await Deno.readFile(path);
    } catch (error) {
      throw fileSystemError('readFile', path, error);
    }
  },
  async writeFile(path, data) {
    const dir = parentOf(path);
    const temp = joinPath(dir, tempFileName(path.slice(path.lastIndexOf('/') + 1), Deno.pid, tempCounter++));
    inFlight.add(temp);
    try {
      const file = await Deno.open(temp, { write: true, create: true, truncate: true });
      try {
        for (let done = 0; done < data.byteLength; ) done += await file.write(data.subarray(done));
        await file.sync();
      } finally {
        file.close();
      }
      await Deno.rename(temp, path);
    } catch (error) {
      await Deno.remove(temp).catch(() => undefined);
      throw fileSystemError('writeFile', path, error, { bytes: data.byteLength });
    } finally {
      inFlight.delete(temp);
    }
    try {
      await syncDirectory(dir);
    } catch (error) {
      throw fileSystemError('writeFile', path, error, { bytes: data.byteLength });
    }
  },
  async listDir(path) {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(path)) names.push(entry.name);
    } catch (error) {
      throw fileSystemError('listDir', path, error);
    }
    return names.sort();
  },
  async mkdirp(path) {
    try {
      await Deno.mkdir(path, { recursive: true });
    } catch (error) {
      throw fileSystemError('mkdirp', path, error);
    }
  },
  async makeDirExclusive(path) {
    try {
      await Deno.mkdir(parentOf(path), { recursive: true });
    } catch (error) {
      // Deno's recursive mkdir reports a file on the way as AlreadyExists; for the parent that is ENOTDIR.
      const code = hostErrorCode(error);
      const host =
        code === 'AlreadyExists' || code === 'EEXIST'
          ? Object.assign(new Error(`mkdir '${parentOf(path)}': a file is in the way`), {
              code: 'ENOTDIR',
              cause: error,
            })
          : error;
      throw fileSystemError('makeDirExclusive', path, host);
    }
    try {
      // Not recursive: one mkdir(2), which fails with AlreadyExists for every caller but the first.
      await Deno.mkdir(path, { recursive: false });
      return true;
    } catch (error) {
      const code = hostErrorCode(error);
      if (code === 'AlreadyExists' || code === 'EEXIST') return false;
      throw fileSystemError('makeDirExclusive', path, error);
    }
  },
  async removeFile(path) {
    try {
      // Deno.remove takes empty directories too; the Platform removes files only, as Node's rm does.
      if ((await Deno.lstat(path)).isDirectory)
        throw Object.assign(new Error(`remove '${path}': is a directory`), { code: 'EISDIR' });
      await Deno.remove(path);
    } catch (error) {
      if (hostErrorCode(error) !== 'ENOENT') throw fileSystemError('removeFile', path, error);
    }
  },
  sweepTempFiles: (dir) => sweepStaleTempFiles(dir, sweepHost),
};
