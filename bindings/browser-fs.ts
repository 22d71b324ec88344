/**
 * @module bindings/browser-fs — the browser file system behind the Platform: the origin private
 * file system (OPFS), or memory for the page's lifetime where OPFS is unavailable. Every fault
 * is a typed FileSystemError (QuotaExceededError → QUOTA, NotFoundError → ENOENT, ...).
 */
import type { PlatformFiles } from '../runtime/platform.ts';
import type { FileSystemError, FileSystemErrorCode, FileSystemOperation } from '../runtime/errors.ts';
import type { FaultContext } from './fs-errors.ts';
import type { SweepHost } from './temp-files.ts';
import { LightningError } from '../runtime/errors.ts';
import { fileSystemError, hostErrorCode } from './fs-errors.ts';
import { sweepStaleTempFiles } from './temp-files.ts';

/**
 * This tab's writer id in temporary names. OPFS's `createWritable` already writes to a swap
 * file and swaps it in on `close()`, so this binding makes no temporary files of its own; the
 * sweep still takes ours that another tab or a future version left, once 10 minutes old.
 */
const TAB_ID = Math.random().toString(36).slice(2, 10) || 'tab';

/** Path parts, without empty and `.` segments: 'a//b/./c' → ['a', 'b', 'c']. */
function splitPath(path: string): string[] {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.pop() === undefined)
        throw new LightningError(
          `browser fs: path leaves the root; expected a path inside the origin's files, got '${path}'`,
        );
      continue;
    }
    parts.push(part);
  }
  return parts;
}

/** A fault the binding detects itself, with a POSIX code as its host name. */
function fault(
  operation: FileSystemOperation,
  path: string,
  code: FileSystemErrorCode,
  context: FaultContext = {},
): FileSystemError {
  return fileSystemError(operation, path, Object.assign(new Error(`browser fs: ${code}`), { code }), context);
}

/** Whether `parent` holds an entry (file or directory) named `name`. */
async function hasEntry(parent: FileSystemDirectoryHandle, name: string, path: string): Promise<boolean> {
  for (const get of [() => parent.getDirectoryHandle(name), () => parent.getFileHandle(name)] as const) {
    try {
      await get();
      return true;
    } catch (error) {
      const host = hostErrorCode(error);
      if (host !== 'NotFoundError' && host !== 'TypeMismatchError')
        throw fileSystemError('makeDirExclusive', path, error);
    }
  }
  return false;
}

/**
 * The file methods over an OPFS directory handle. Writes go through `createWritable`, which
 * is atomic: on failure it is aborted and the old file stays.
 *
 * @example const files = opfsFiles(await navigator.storage.getDirectory());
 */
export function opfsFiles(root: FileSystemDirectoryHandle): PlatformFiles {
  /** Walks to a directory; a file on the way is ENOTDIR (EEXIST for the last part under mkdirp). */
  async function dir(
    parts: readonly string[],
    create: boolean,
    op: FileSystemOperation,
    path: string,
  ): Promise<FileSystemDirectoryHandle> {
    let handle = root;
    for (const [i, part] of parts.entries()) {
      try {
        handle = await handle.getDirectoryHandle(part, { create });
      } catch (error) {
        throw fileSystemError(op, path, error, {
          mismatch: op === 'mkdirp' && i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR',
        });
      }
    }
    return handle;
  }
  /** The directory and name of a file path. */
  async function file(
    op: FileSystemOperation,
    path: string,
  ): Promise<{ parent: FileSystemDirectoryHandle; name: string }> {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) throw fault(op, path, 'EISDIR');
    return { parent: await dir(parts, false, op, path), name };
  }
  /** Names this tab's makeDirExclusive took. */
  const claimed = new Set<string>();
  const files: PlatformFiles = {
    async readFile(path) {
      const { parent, name } = await file('readFile', path);
      try {
        return new Uint8Array(await (await (await parent.getFileHandle(name)).getFile()).arrayBuffer());
      } catch (error) {
        throw fileSystemError('readFile', path, error, { mismatch: 'EISDIR' });
      }
    },
    async writeFile(path, data) {
      const { parent, name } = await file('writeFile', path);
      const context = { bytes: data.byteLength, mismatch: 'EISDIR' } as const;
      let writable: FileSystemWritableFileStream;
      try {
        writable = await (await parent.getFileHandle(name, { create: true })).createWritable();
      } catch (error) {
        throw fileSystemError('writeFile', path, error, context);
      }
      try {
        await writable.write(new Uint8Array(data));
        await writable.close();
      } catch (error) {
        await writable.abort().catch(() => undefined);
        throw fileSystemError('writeFile', path, error, context);
      }
    },
    async listDir(path) {
      const names: string[] = [];
      // TypeScript's DOM lib lacks the handle's async iteration (DOM.AsyncIterable).
      const handle = (await dir(splitPath(path), false, 'listDir', path)) as unknown as {
        keys(): AsyncIterable<string>;
      };
      try {
        for await (const name of handle.keys()) names.push(name);
      } catch (error) {
        throw fileSystemError('listDir', path, error);
      }
      return names.sort();
    },
    async mkdirp(path) {
      await dir(splitPath(path), true, 'mkdirp', path);
    },
    async makeDirExclusive(path) {
      const parts = splitPath(path);
      const name = parts.pop();
      if (name === undefined) return false; // the root always exists
      // OPFS has no exclusive create, so this tab claims the name synchronously first (two
      // loggers of one page never both win); across tabs it is look-then-create, not atomic.
      const key = [...parts, name].join('/');
      if (claimed.has(key)) return false;
      claimed.add(key);
      const parent = await dir(parts, true, 'makeDirExclusive', path);
      if (await hasEntry(parent, name, path)) return false;
      try {
        await parent.getDirectoryHandle(name, { create: true });
      } catch (error) {
        throw fileSystemError('makeDirExclusive', path, error, { mismatch: 'EEXIST' });
      }
      return true;
    },
    async removeFile(path) {
      try {
        const { parent, name } = await file('removeFile', path);
        await parent.getFileHandle(name); // a directory is TypeMismatchError: files only
        await parent.removeEntry(name);
      } catch (error) {
        const mapped = fileSystemError('removeFile', path, error, { mismatch: 'EISDIR' });
        if (mapped.code !== 'ENOENT') throw mapped;
      }
    },
    sweepTempFiles: (path) => sweepStaleTempFiles(path, sweep),
  };
  const sweep: SweepHost = {
    list: (path) => files.listDir(path),
    join: (path, name) => `${path.replace(/\/+$/, '')}/${name}`,
    writer: (writer) => (writer === TAB_ID ? 'gone' : 'unknown'),
    async ageMs(path) {
      try {
        const { parent, name } = await file('sweepTempFiles', path);
        return Date.now() - (await (await parent.getFileHandle(name)).getFile()).lastModified;
      } catch {
        return undefined;
      }
    },
    async remove(path) {
      try {
        const { parent, name } = await file('sweepTempFiles', path);
        await parent.removeEntry(name);
        return true;
      } catch (error) {
        if (hostErrorCode(error) === 'NotFoundError') return false;
        throw fileSystemError('sweepTempFiles', path, error);
      }
    },
  };
  return files;
}

/**
 * Files kept in memory for the page's lifetime, with the same faults as a disk (ENOENT for a
 * missing parent, EISDIR for a directory in the way, ...). Writes replace whole files at once.
 *
 * @example const files = memoryFiles(); await files.mkdirp('logs'); await files.writeFile('logs/a.csv', bytes);
 */
export function memoryFiles(): PlatformFiles {
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>(['']);
  const parentOf = (parts: readonly string[]): string => parts.slice(0, -1).join('/');
  /** Why `parts` cannot be a file's parent: a file on the way (ENOTDIR), or no such directory. */
  const parentFault = (parts: readonly string[]): FileSystemErrorCode | undefined => {
    for (let i = 1; i < parts.length; i++) {
      const key = parts.slice(0, i).join('/');
      if (files.has(key)) return 'ENOTDIR';
      if (!dirs.has(key)) return 'ENOENT';
    }
    return undefined;
  };
  return {
    async readFile(path) {
      const parts = splitPath(path);
      const key = parts.join('/');
      const data = files.get(key);
      if (data !== undefined) return data.slice();
      throw fault('readFile', path, dirs.has(key) ? 'EISDIR' : (parentFault(parts) ?? 'ENOENT'));
    },
    async writeFile(path, data) {
      const parts = splitPath(path);
      const key = parts.join('/');
      const code = parts.length === 0 || dirs.has(key) ? 'EISDIR' : parentFault(parts);
      if (code !== undefined) throw fault('writeFile', path, code, { bytes: data.byteLength });
      files.set(key, data.slice());
    },
    async listDir(path) {
      const parts = splitPath(path);
      const key = parts.join('/');
      if (!dirs.has(key)) throw fault('listDir', path, files.has(key) ? 'ENOTDIR' : (parentFault(parts) ?? 'ENOENT'));
      const names = new Set<string>();
      for (const entry of [...files.keys(), ...dirs]) {
        const entryParts = entry.split('/');
        if (entry !== '' && parentOf(entryParts) === key) names.add(entryParts[entryParts.length - 1] ?? '');
      }
      return [...names].sort();
    },
    async mkdirp(path) {
      const parts = splitPath(path);
      for (let i = 1; i <= parts.length; i++) {
        const key = parts.slice(0, i).join('/');
        if (files.has(key)) throw fault('mkdirp', path, i === parts.length ? 'EEXIST' : 'ENOTDIR');
        dirs.add(key);
      }
    },
    async makeDirExclusive(path) {
      const parts = splitPath(path);
      const key = parts.join('/');
      // Synchronous from the check to the insert, so one caller wins.
      if (dirs.has(key) || files.has(key)) return false;
      const code = parentFault(parts);
      if (code !== undefined && code !== 'ENOENT') throw fault('makeDirExclusive', path, code);
      for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      return true;
    },
    async removeFile(path) {
      const key = splitPath(path).join('/');
      if (dirs.has(key)) throw fault('removeFile', path, 'EISDIR');
      files.delete(key);
    },
    // Nothing here outlives the page, so nothing is ever stale.
    sweepTempFiles: async () => [],
  };
}

let store: Promise<PlatformFiles> | undefined;

/** OPFS when `navigator.storage.getDirectory()` works, else memory (said once, on the console). */
function fileStore(): Promise<PlatformFiles> {
  store ??= (async (): Promise<PlatformFiles> => {
    try {
      const storage = (globalThis.navigator as Partial<Navigator> | undefined)?.storage;
      if (storage?.getDirectory !== undefined) return opfsFiles(await storage.getDirectory());
    } catch {
      // SecurityError in opaque origins and some private modes: fall through to memory.
    }
    console.info('lightning-ts: OPFS is unavailable; files are kept in memory for this page');
    return memoryFiles();
  })();
  return store;
}

/**
 * The file methods of the browser platform: OPFS, or memory where OPFS is unavailable.
 * @example await browserFiles.writeFile('lightning_logs/version_0/metrics.csv', bytes);
 */
export const browserFiles: PlatformFiles = {
  readFile: async (path) => (await fileStore()).readFile(path),
  writeFile: async (path, data) => (await fileStore()).writeFile(path, data),
  listDir: async (path) => (await fileStore()).listDir(path),
  mkdirp: async (path) => (await fileStore()).mkdirp(path),
  makeDirExclusive: async (path) => (await fileStore()).makeDirExclusive(path),
  removeFile: async (path) => (await fileStore()).removeFile(path),
  sweepTempFiles: async (dir) => (await fileStore()).sweepTempFiles(dir),
};
