/**
 * @module data/setup — what the data and io suites share: a Platform over node:fs
 * (the Node binding also loads the wasm kernels, which these suites do not need),
 * the reference backend as the default, and temp folders.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../runtime/backend.ts';
import type { Platform } from '../../runtime/platform.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { setPlatform } from '../../runtime/platform.ts';
import { NoGpuAdapterError } from '../../runtime/errors.ts';

let counter = 0;

/** A Platform with a real file system (atomic writes) and nothing else that works. */
export const testPlatform: Platform = {
  name: 'node-test',
  loadKernelBytes: () => Promise.reject(new Error('test platform: no kernels')),
  async readFile(path) {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  async writeFile(path, data) {
    const temp = `${path}.${process.pid}.${counter++}.tmp`;
    await writeFile(temp, data);
    await rename(temp, path);
  },
  async listDir(path) {
    return (await readdir(path)).sort();
  },
  async mkdirp(path) {
    await mkdir(path, { recursive: true });
  },
  async removeFile(path) {
    await rm(path, { force: true });
  },
  now: () => performance.now(),
  env: (name) => process.env[name],
  stdout: { write: () => undefined, isTTY: false },
  hardwareConcurrency: 1,
  requestGpu: () =>
    Promise.reject(
      new NoGpuAdapterError(
        'requestGpu: no usable WebGPU adapter; expected a GPU, got none (tried: test platform: no GPU)',
        ['test platform: no GPU'],
      ),
    ),
  detectGpu: async () => ({
    adapter: null,
    reason: 'detectGpu: the test platform has no GPU',
    tried: ['test platform: no GPU'],
  }),
};

/** Installs the test platform and a fresh reference backend as the default; returns the backend. */
export function useTestRuntime(): Backend {
  setPlatform(testPlatform);
  const backend = createReferenceBackend();
  setDefaultBackend(backend);
  return backend;
}

/** A new empty temp folder; `cleanup()` removes it. */
export async function tempFolder(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'lightning-ts-data-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
