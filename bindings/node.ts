/**
 * @module lightning-ts (node) — the Node entry: file system, clock, env and kernels from node:*.
 *
 * Importing it installs the Node platform and the default wasm backend, so a
 * plain import is ready to compute:
 *
 * @example
 * import { tensor } from 'lightning-ts';
 * console.log(await tensor([1, 2, 3]).mul(2).data());
 */
// The declarations name GPU* types (@webgpu/types) and ship types for the `mnist` package.
/// <reference types="@webgpu/types" preserve="true" />
/// <reference path="./mnist.d.ts" preserve="true" />
/// <reference path="./comlink-node-adapter.d.ts" />
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Backend } from '../runtime/backend.ts';
import type { KernelVariant, Platform, SpawnWorkerOptions, WorkerHandle, WorkerRank } from '../runtime/platform.ts';
import { WorkerStartError } from '../runtime/lightning/errors.ts';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { InitOptions } from '../runtime/setup.ts';
import { setPlatform } from '../runtime/platform.ts';
import { initBackend } from '../runtime/setup.ts';
import { BackendError, LightningError } from '../runtime/errors.ts';
import { findPackageRoot, kernelUrlInPackage } from './package-root.ts';
import { nodeFiles } from './node-fs.ts';
import { nodeGpuSource, skipDawnProbe } from './gpu-node.ts';
import { detectGpuAdapter, requestGpuDevice } from '../runtime/backends/webgpu/device.ts';

let packageRoot: Promise<URL> | undefined;

function root(): Promise<URL> {
  packageRoot ??= findPackageRoot(import.meta.url, (url) => readFile(url, 'utf8').catch(() => undefined));
  return packageRoot;
}

async function readUrl(url: string | URL): Promise<Uint8Array> {
  const resolved = new URL(url, pathToFileURL(join(process.cwd(), '/')));
  if (resolved.protocol === 'file:') return new Uint8Array(await readFile(fileURLToPath(resolved)));
  const response = await fetch(resolved);
  if (!response.ok) {
    throw new LightningError(
      `node: cannot fetch; expected HTTP 200 from ${resolved.href}, got ${response.status} ${response.statusText}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** The workerData key that marks a worker_threads Worker as a DDP rank started by {@link spawnRankWorker}. */
const RANK_MARKER = 'lightning-ts.ddp-rank';

/**
 * Starts a worker_threads Worker on this process's entry script (process.argv[1], same execArgv
 * and argv) with the rank in its workerData: the user's script runs again there and its
 * Trainer joins the pool as that rank (Lightning re-runs the script per rank).
 */
function spawnRankWorker(options: SpawnWorkerOptions): WorkerHandle {
  const entry = process.argv[1];
  if (!isMainThread) {
    throw new WorkerStartError(
      `DDP: cannot start ranks from inside a worker thread; expected strategy 'ddp' in the main thread of a script, got a Trainer in a worker`,
    );
  }
  if (entry === undefined || entry === '' || !existsSync(entry)) {
    throw new WorkerStartError(
      `DDP: no script file to re-run in the workers; expected the Trainer in a script run as \`node train.mjs\` (each rank re-runs it), got ${entry === undefined ? 'a REPL or `node -e`/`--eval`/stdin' : `entry '${entry}'`}`,
    );
  }
  const start = (execArgv: string[]): Worker =>
    new Worker(new URL(pathToFileURL(resolve(entry))), {
      workerData: { [RANK_MARKER]: { rank: options.rank, worldSize: options.worldSize } },
      execArgv,
      argv: process.argv.slice(2),
    });
  let worker: Worker;
  try {
    worker = start(process.execArgv);
  } catch (e) {
    // V8 flags (`--experimental-wasm-relaxed-simd`, `--max-old-space-size`) are process-wide:
    // the worker already runs with them, and Worker rejects them in execArgv, naming them.
    const listed = /invalid execArgv flags: (.*)$/.exec(e instanceof Error ? e.message : '')?.[1];
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV' || listed === undefined) throw e;
    const invalid = new Set(listed.split(', '));
    worker = start(process.execArgv.filter((a) => !invalid.has(a) && !invalid.has(a.split('=')[0]!)));
  }
  let error: unknown;
  const listeners: ((exit: { code: number; error?: unknown }) => void)[] = [];
  worker.on('error', (e) => {
    error ??= e;
  });
  worker.on('exit', (code) => {
    for (const l of listeners) l(error === undefined ? { code } : { code, error });
  });
  return {
    endpoint: nodeEndpoint(worker),
    onExit: (listener) => {
      listeners.push(listener);
    },
    keepAlive: (on) => {
      if (on) worker.ref();
      else worker.unref();
    },
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** This thread's rank when {@link spawnRankWorker} started it, else null. */
function workerRank(): WorkerRank | null {
  const marker = isMainThread ? undefined : (workerData as Record<string, unknown> | null)?.[RANK_MARKER];
  if (marker === undefined || parentPort === null) return null;
  const port = parentPort;
  const { rank, worldSize } = marker as { rank: number; worldSize: number };
  return {
    rank,
    worldSize,
    endpoint: nodeEndpoint(port),
    keepAlive: (on) => {
      if (on) port.ref();
      else port.unref();
    },
    // A worker thread's process 'exit' runs on that thread, for process.exit and uncaught errors alike.
    onExit: (listener) => {
      process.on('exit', listener);
    },
  };
}

/**
 * The Node implementation of {@link Platform}. `writeFile` writes a temporary file beside
 * the target, fsyncs it and renames it over the target, so readers never see half a file;
 * file faults are FileSystemErrors (see bindings/node-fs.ts).
 *
 * @example
 * await nodePlatform.writeFile('out/model.ckpt', bytes);
 */
export const nodePlatform: Platform = {
  name: 'node',
  async loadKernelBytes(variant: KernelVariant): Promise<Uint8Array> {
    const url = kernelUrlInPackage(await root(), variant);
    try {
      return new Uint8Array(await readFile(url));
    } catch (error) {
      throw new BackendError(
        `node: kernel build missing; expected ${fileURLToPath(url)} (run npm run build:wasm), got ${(error as { code?: string }).code ?? String(error)}`,
        { cause: error },
      );
    }
  },
  ...nodeFiles,
  now: () => performance.now(),
  env: (name: string) => process.env[name],
  stdout: {
    write(text: string): void {
      process.stdout.write(text);
    },
    get isTTY(): boolean {
      return process.stdout.isTTY === true;
    },
  },
  hardwareConcurrency: availableParallelism(),
  requestGpu: async (options) => requestGpuDevice(await nodeGpuSource(), options),
  detectGpu: async (options) => {
    const skip = skipDawnProbe();
    if (skip !== undefined) return { adapter: null, reason: `detectGpu: ${skip}`, tried: [skip] };
    return detectGpuAdapter(await nodeGpuSource(), options);
  },
  spawnWorker: spawnRankWorker,
  workerRank: workerRank(),
  onInterrupt: (handler) => {
    // Node ends the process on SIGINT only while no listener is left.
    process.on('SIGINT', handler);
    return () => {
      process.off('SIGINT', handler);
    };
  },
};

setPlatform(nodePlatform);

/**
 * Creates the default backend (wasm unless asked otherwise) and returns it.
 * The entry already ran `await init()`; call it again to switch backends or
 * to pick deterministic kernels.
 *
 * @example
 * await init({ deterministic: true }); // simd128 kernels: bitwise equal across runtimes
 * await init({ backend: 'reference' });
 */
export async function init(options?: InitOptions): Promise<Backend> {
  return initBackend({ platform: nodePlatform, readUrl }, options);
}

await init();

export type { InitOptions } from '../runtime/setup.ts';
export * from '../runtime/index.ts';
