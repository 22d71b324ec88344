/**
 * @module lightning-ts (browser) — the browser entry: OPFS files, console output, fetched kernels.
 *
 * Importing it installs the browser platform and the default wasm backend.
 * The kernels are fetched from the package's `build/` folder next to this
 * module; a bundled app that moves them passes `kernelUrl` or `kernelBytes`
 * to {@link init}. Files live in the origin private file system (OPFS), or in
 * memory for the page's lifetime where OPFS is unavailable.
 *
 * @example
 * import { tensor } from 'lightning-ts';
 * console.log(await tensor([1, 2, 3]).mul(2).data());
 */
import type { Backend } from '../runtime/backend.ts';
import type { KernelVariant, Platform } from '../runtime/platform.ts';
import type { InitOptions } from '../runtime/setup.ts';
import { setPlatform } from '../runtime/platform.ts';
import { setDefaultBackendFailure } from '../runtime/default-backend.ts';
import { initBackend } from '../runtime/setup.ts';
import { BackendError, LightningError } from '../runtime/errors.ts';
import { kernelUrlInPackage, layoutPackageRoot } from './package-root.ts';
import { navigatorGpuSource } from './gpu-navigator.ts';
import { detectGpuAdapter, requestGpuDevice } from '../runtime/backends/webgpu/device.ts';

/** The page (or worker) URL that relative paths resolve against. */
function baseUrl(): string {
  return (globalThis as { location?: { href: string } }).location?.href ?? import.meta.url;
}

async function readUrl(url: string | URL): Promise<Uint8Array> {
  const resolved = new URL(url, baseUrl());
  const response = await fetch(resolved);
  if (!response.ok) {
    throw new LightningError(`browser: cannot fetch; expected HTTP 200 from ${resolved.href}, got ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Path parts, without empty and `.` segments: 'a//b/./c' → ['a', 'b', 'c']. */
function splitPath(path: string): string[] {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.pop() === undefined) throw new LightningError(`browser fs: path leaves the root; expected a path inside the origin's files, got '${path}'`);
      continue;
    }
    parts.push(part);
  }
  return parts;
}

function notFound(op: string, path: string, cause?: unknown): LightningError {
  return new LightningError(`browser fs: ${op} failed; expected an existing path, got '${path}'`, { cause });
}

/** The file operations the platform needs, over OPFS or over memory. */
interface FileStore {
  readonly kind: 'opfs' | 'memory';
  read(path: string): Promise<Uint8Array>;
  write(path: string, data: Uint8Array): Promise<void>;
  list(path: string): Promise<string[]>;
  mkdirp(path: string): Promise<void>;
  remove(path: string): Promise<void>;
}

/** OPFS's `createWritable` writes to a swap file and swaps it in on `close()`: atomic. */
function opfsStore(root: FileSystemDirectoryHandle): FileStore {
  async function dir(parts: readonly string[], create: boolean, path: string): Promise<FileSystemDirectoryHandle> {
    let handle = root;
    for (const part of parts) {
      try {
        handle = await handle.getDirectoryHandle(part, { create });
      } catch (error) {
        throw notFound('open directory', path, error);
      }
    }
    return handle;
  }
  return {
    kind: 'opfs',
    async read(path) {
      const parts = splitPath(path);
      const name = parts.pop();
      if (name === undefined) throw notFound('read', path);
      try {
        const file = await (await (await dir(parts, false, path)).getFileHandle(name)).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (error) {
        throw error instanceof LightningError ? error : notFound('read', path, error);
      }
    },
    async write(path, data) {
      const parts = splitPath(path);
      const name = parts.pop();
      if (name === undefined) throw notFound('write', path);
      const handle = await (await dir(parts, false, path)).getFileHandle(name, { create: true });
      const writable = await handle.createWritable();
      try {
        await writable.write(new Uint8Array(data));
        await writable.close();
      } catch (error) {
        await writable.abort().catch(() => undefined);
        throw error;
      }
    },
    async list(path) {
      const names: string[] = [];
      // TypeScript's DOM lib lacks the handle's async iteration (DOM.AsyncIterable).
      const handle = (await dir(splitPath(path), false, path)) as unknown as { keys(): AsyncIterable<string> };
      for await (const name of handle.keys()) names.push(name);
      return names.sort();
    },
    async mkdirp(path) {
      await dir(splitPath(path), true, path);
    },
    async remove(path) {
      const parts = splitPath(path);
      const name = parts[parts.length - 1];
      if (name === undefined) return;
      try {
        await (await dir(parts.slice(0, -1), false, path)).removeEntry(name);
      } catch (error) {
        if (!(error instanceof DOMException && error.name === 'NotFoundError')) throw error;
      }
    },
  };
}

/** Files kept for the page's lifetime, keyed by normalised path; directories are a set. */
function memoryStore(): FileStore {
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>(['']);
  const parentOf = (parts: readonly string[]): string => parts.slice(0, -1).join('/');
  return {
    kind: 'memory',
    async read(path) {
      const data = files.get(splitPath(path).join('/'));
      if (data === undefined) throw notFound('read', path);
      return data.slice();
    },
    async write(path, data) {
      const parts = splitPath(path);
      if (parts.length === 0 || !dirs.has(parentOf(parts))) throw notFound('write', path);
      files.set(parts.join('/'), data.slice());
    },
    async list(path) {
      const key = splitPath(path).join('/');
      if (!dirs.has(key)) throw notFound('list', path);
      const names = new Set<string>();
      for (const entry of [...files.keys(), ...dirs]) {
        const parts = entry.split('/');
        if (entry !== '' && parentOf(parts) === key) names.add(parts[parts.length - 1] ?? '');
      }
      return [...names].sort();
    },
    async mkdirp(path) {
      const parts = splitPath(path);
      for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    },
    async remove(path) {
      files.delete(splitPath(path).join('/'));
    },
  };
}

let store: Promise<FileStore> | undefined;

/** OPFS when `navigator.storage.getDirectory()` works, else memory (said once, on the console). */
function fileStore(): Promise<FileStore> {
  store ??= (async (): Promise<FileStore> => {
    try {
      const storage = (globalThis.navigator as Partial<Navigator> | undefined)?.storage;
      if (storage?.getDirectory !== undefined) return opfsStore(await storage.getDirectory());
    } catch {
      // SecurityError in opaque origins and some private modes: fall through to memory.
    }
    console.info('lightning-ts: OPFS is unavailable; files are kept in memory for this page');
    return memoryStore();
  })();
  return store;
}

const lines: { pending: string } = { pending: '' };

/**
 * The browser implementation of {@link Platform}. Output goes to the console
 * a line at a time; `isTTY` is false, so progress bars print lines, not redraws.
 *
 * @example
 * await browserPlatform.mkdirp('lightning_logs/version_0');
 * await browserPlatform.writeFile('lightning_logs/version_0/metrics.csv', bytes);
 */
export const browserPlatform: Platform = {
  name: 'browser',
  async loadKernelBytes(variant: KernelVariant): Promise<Uint8Array> {
    const url = kernelUrlInPackage(layoutPackageRoot(import.meta.url), variant);
    try {
      return await readUrl(url);
    } catch (error) {
      throw new BackendError(`browser: cannot fetch the wasm kernels; expected ${url.href} served (or pass init({ kernelUrl }) / init({ kernelBytes })), got ${String(error)}`, { cause: error });
    }
  },
  readFile: async (path) => (await fileStore()).read(path),
  writeFile: async (path, data) => (await fileStore()).write(path, data),
  listDir: async (path) => (await fileStore()).list(path),
  mkdirp: async (path) => (await fileStore()).mkdirp(path),
  removeFile: async (path) => (await fileStore()).remove(path),
  now: () => performance.now(),
  env: () => undefined,
  stdout: {
    write(text: string): void {
      const parts = (lines.pending + text).split('\n');
      lines.pending = parts.pop() ?? '';
      for (const line of parts) console.log(line);
    },
    isTTY: false,
  },
  hardwareConcurrency: globalThis.navigator?.hardwareConcurrency ?? 1,
  requestGpu: (options) => requestGpuDevice(navigatorGpuSource('browser'), options),
  detectGpu: (options) => detectGpuAdapter(navigatorGpuSource('browser'), options),
};

setPlatform(browserPlatform);

/**
 * Creates the default backend (wasm unless asked otherwise) and returns it.
 * The entry already tried `await init()`; call it again to switch backends, to
 * pick deterministic kernels, or to load the kernels from elsewhere.
 *
 * @example
 * await init({ deterministic: true, kernelUrl: '/assets/lightning-ts/' });
 */
export async function init(options?: InitOptions): Promise<Backend> {
  return initBackend({ platform: browserPlatform, readUrl }, options);
}

// A bundler may move the .wasm away from the package's build/ folder. The import
// must still succeed then, so the page can call init({ kernelUrl }) or
// init({ kernelBytes }); until it does, the first tensor op throws this failure.
try {
  await init();
} catch (error) {
  setDefaultBackendFailure(error);
}

export type { InitOptions } from '../runtime/setup.ts';
export * from '../runtime/index.ts';
