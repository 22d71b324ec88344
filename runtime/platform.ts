/**
 * @module platform — the only way `runtime/` reaches its host.
 *
 * `bindings/node.ts`, `bindings/deno.ts` and `bindings/browser.ts` implement it.
 * `runtime/` itself uses Web-standard APIs only.
 */

import type { Endpoint } from 'comlink';
import type { GpuDetection, GpuHandle, GpuRequestOptions } from './backends/webgpu/device.ts';

export type {
  GpuAdapterDescription,
  GpuDetection,
  GpuFeatures,
  GpuHandle,
  GpuRequestOptions,
} from './backends/webgpu/device.ts';

/** What {@link Platform.spawnWorker} starts: one rank of a data-parallel run. */
export interface SpawnWorkerOptions {
  readonly rank: number;
  readonly worldSize: number;
}

/** How a worker ended: its exit code, and the error that ended it where there was one. */
export interface WorkerExit {
  readonly code: number;
  readonly error?: unknown;
}

/**
 * A started worker: a comlink endpoint to it, and its lifetime. `onExit` is called once, when
 * the worker ends for any reason (its script finished, it threw, it was terminated).
 */
export interface WorkerHandle {
  readonly endpoint: Endpoint;
  onExit(listener: (exit: WorkerExit) => void): void;
  /** Whether the worker keeps the host alive (Node's ref/unref; a no-op elsewhere). */
  keepAlive(on: boolean): void;
  terminate(): Promise<void>;
}

/** What a worker started by {@link Platform.spawnWorker} learns about itself. */
export interface WorkerRank {
  readonly rank: number;
  readonly worldSize: number;
  /** The comlink endpoint to the process that spawned it (rank 0). */
  readonly endpoint: Endpoint;
  /** Whether the link to rank 0 keeps this worker alive (on during a run, off after it). */
  keepAlive(on: boolean): void;
  /**
   * Calls `listener` on this worker's own thread as the thread ends (in Node: an exit call or an
   * uncaught error), so a run can be marked failed in shared memory even while rank 0 blocks in
   * a synchronous collective and cannot hear the worker's exit event. Optional: hosts whose
   * workers only end when their script does, or when rank 0 terminates them, leave it out.
   */
  onExit?(listener: (code: number) => void): void;
}

/** Which kernel build to load: plain simd128, or relaxed-simd (FMA). */
export type KernelVariant = 'simd' | 'relaxed';

/** The services a host provides to the runtime. */
export interface Platform {
  /** 'node' | 'deno' | 'browser'. */
  readonly name: string;
  /** Bytes of the wasm kernel build `variant` (the caller chose it with WebAssembly.validate). */
  loadKernelBytes(variant: KernelVariant): Promise<Uint8Array>;
  /**
   * The file's bytes. Every file method rejects with a FileSystemError (runtime/errors.ts)
   * that names the operation, the path and the fault (`code`), with the host's error as `cause`.
   */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Atomic: writes a temporary file in the same directory (named as {@link TEMP_FILE_SUFFIX}
   * says), flushes it to the device, renames it over `path` and flushes the directory where
   * the host allows. On failure the temporary file is removed and the old `path` is intact.
   */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** The names in a directory, sorted. */
  listDir(path: string): Promise<string[]>;
  /**
   * Deletes a file; a missing file is not an error (as `rm -f`); a directory is (EISDIR). A
   * symbolic link is removed itself (unlink), never the file it points to.
   */
  removeFile(path: string): Promise<void>;
  /** Creates a directory and its parents; an existing directory is not an error. */
  mkdirp(path: string): Promise<void>;
  /**
   * Creates the directory `path` (its parents as needed) only when nothing is there yet: true
   * when this call created it, false when an entry of that name already existed. Atomic on
   * Node and Deno (`mkdir` without `recursive` is one system call that fails with EEXIST), so
   * two writers racing for one name get one true and one false; loggers reserve their
   * `version_N` folders with it. Optional: without it, loggers only list the folder.
   */
  makeDirExclusive?(path: string): Promise<boolean>;
  /**
   * Removes the temporary files of {@link Platform.writeFile} left in `dir` by writers that are
   * gone (killed mid-write): its own naming only, never a write in flight. Returns the paths
   * removed; a missing `dir` removes nothing. Components call it before writing into a directory.
   * Optional: a Platform without it leaves stale temporary files alone.
   */
  sweepTempFiles?(dir: string): Promise<string[]>;
  /** Milliseconds, monotonic, sub-millisecond where the host allows. */
  now(): number;
  env(name: string): string | undefined;
  /** A line-oriented sink; `isTTY` tells whether carriage-return redraws are fine. */
  readonly stdout: { write(text: string): void; readonly isTTY: boolean };
  readonly hardwareConcurrency: number;
  /**
   * A WebGPU device: `navigator.gpu` in browsers and Deno, the optional `webgpu` package
   * (Dawn) in Node. Software adapters are refused unless `allowFallbackAdapter` is true.
   * Rejects with a NoGpuAdapterError that lists what was tried when no adapter fits.
   */
  requestGpu(options: GpuRequestOptions): Promise<GpuHandle>;
  /**
   * Whether a hardware WebGPU adapter exists, without creating a device (`adapter: null`
   * and the reason otherwise; a software adapter counts as none).
   */
  detectGpu(options: Pick<GpuRequestOptions, 'powerPreference'>): Promise<GpuDetection>;
  /**
   * Starts a worker that re-runs the running script as rank `options.rank` (Lightning re-runs
   * the user's script per rank): Node starts a worker thread on the entry script with
   * the same execArgv. Throws a WorkerStartError when there is no script file to re-run (a
   * REPL, `node -e`). Absent where the host cannot start such workers yet.
   */
  spawnWorker?(options: SpawnWorkerOptions): WorkerHandle;
  /** In a worker started by {@link Platform.spawnWorker}: its rank and its link to rank 0; else null. */
  readonly workerRank?: WorkerRank | null;
  /**
   * Calls `handler` on the host's interrupt (Ctrl-C: SIGINT in Node and Deno) instead of the
   * host's default (ending the process) until the returned function is called, which gives the
   * default back where nothing else listens. The Trainer listens only while an entry point runs.
   * Absent where the host has no such signal (browsers).
   */
  onInterrupt?(handler: () => void): () => void;
}

/**
 * How {@link Platform.writeFile} names its temporary files: `.<name>.<writer>.<n>` then this
 * suffix, where `<writer>` is the process id (or a per-tab id in browsers), so that
 * {@link Platform.sweepTempFiles} can tell whose file it is.
 *
 * @example name.endsWith(TEMP_FILE_SUFFIX) // true for '.epoch=1.ckpt.4242.0.lts-tmp'
 */
export const TEMP_FILE_SUFFIX = '.lts-tmp';

/** The file methods of a {@link Platform}, all present: what a binding's file system provides. */
export type PlatformFiles = Required<
  Pick<Platform, 'readFile' | 'writeFile' | 'listDir' | 'removeFile' | 'mkdirp' | 'makeDirExclusive' | 'sweepTempFiles'>
>;

let current: Platform | undefined;

/** Installs the host's Platform; the bindings call this once at import. */
export function setPlatform(platform: Platform): void {
  current = platform;
}

/** The host's Platform. Throws if no binding installed one. */
export function getPlatform(): Platform {
  if (current === undefined) {
    throw new Error(
      'platform: no platform installed; expected an import of lightning-ts through its node, deno or browser entry, got runtime/ imported directly',
    );
  }
  return current;
}
