/**
 * @module platform — the only way `runtime/` reaches its host.
 *
 * `bindings/node.ts`, `bindings/deno.ts` and `bindings/browser.ts` implement it.
 * `runtime/` itself uses Web-standard APIs only.
 */

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
