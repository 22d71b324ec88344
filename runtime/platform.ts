/**
 * @module platform — the only way `runtime/` reaches its host.
 *
 * `bindings/node.ts`, `bindings/deno.ts` and `bindings/browser.ts` implement it.
 * `runtime/` itself uses Web-standard APIs only.
 */

import type { GpuDetection, GpuHandle, GpuRequestOptions } from './backends/webgpu/device.ts';

export type { GpuAdapterDescription, GpuDetection, GpuFeatures, GpuHandle, GpuRequestOptions } from './backends/webgpu/device.ts';

/** Which kernel build to load: plain simd128, or relaxed-simd (FMA). */
export type KernelVariant = 'simd' | 'relaxed';

/** The services a host provides to the runtime. */
export interface Platform {
  /** 'node' | 'deno' | 'browser'. */
  readonly name: string;
  /** Bytes of the wasm kernel build `variant` (the caller chose it with WebAssembly.validate). */
  loadKernelBytes(variant: KernelVariant): Promise<Uint8Array>;
  readFile(path: string): Promise<Uint8Array>;
  /** Atomic: writes a temporary file, then renames it over `path`. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  listDir(path: string): Promise<string[]>;
  /** Deletes a file; a missing file is not an error (as `rm -f`). */
  removeFile(path: string): Promise<void>;
  mkdirp(path: string): Promise<void>;
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
}

let current: Platform | undefined;

/** Installs the host's Platform; the bindings call this once at import. */
export function setPlatform(platform: Platform): void {
  current = platform;
}

/** The host's Platform. Throws if no binding installed one. */
export function getPlatform(): Platform {
  if (current === undefined) {
    throw new Error('platform: no platform installed; expected an import of lightning-ts through its node, deno or browser entry, got runtime/ imported directly');
  }
  return current;
}
