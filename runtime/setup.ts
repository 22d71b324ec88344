/**
 * @module setup — picks, loads and installs the default backend; shared by every binding.
 *
 * Platform-free: the binding passes its `Platform` and a way to read a URL.
 * The wasm kernels come from, in order: `kernelBytes`, `kernelUrl`, then the
 * binding's `loadKernelBytes(variant)` (the package's own `build/` folder, the URL a bundler
 * gave it, or bytes an entry embeds). The URL of the `.wasm` file is never guessed beyond
 * that, and bytes that are not WebAssembly are refused before compiling, saying what they were.
 */
import type { Backend } from './backend.ts';
import type { KernelVariant, Platform } from './platform.ts';
import { setDefaultBackend } from './default-backend.ts';
import { BackendError, ValueError } from './errors.ts';
import { createReferenceBackend } from './backends/reference/backend.ts';
import { createWasmBackend } from './backends/wasm/backend.ts';
import { setBulkPhilox } from './random.ts';
import { selectKernelVariant } from './backends/wasm/variant.ts';

/** The backends `init` can create. */
export type InitBackendName = 'wasm' | 'reference';

/**
 * Options of `init`.
 *
 * @example
 * await init({ backend: 'reference' });
 * await init({ deterministic: true, kernelUrl: 'https://cdn.example/lightning-ts/build/' });
 */
export interface InitOptions {
  /** Which backend becomes the default. Default `'wasm'`. */
  readonly backend?: InitBackendName;
  /**
   * Use the plain simd128 kernels everywhere, so results are bitwise identical
   * across runtimes. Default `false` (relaxed-simd FMA where the host validates it).
   */
  readonly deterministic?: boolean;
  /** The kernel build's bytes, for bundlers that inline the `.wasm`. Wasm backend only. */
  readonly kernelBytes?: Uint8Array | ArrayBuffer;
  /**
   * Where to fetch the kernel build. A URL ending in `/` names a folder that
   * holds `kernels-<variant>.wasm`; any other URL is the `.wasm` file itself.
   * Relative strings resolve against the host's base (the page, or the working
   * directory). Wasm backend only.
   */
  readonly kernelUrl?: string | URL;
}

/** What `initBackend` needs from a binding. */
export interface InitHost {
  readonly platform: Platform;
  /** Bytes at `url` (fetch, or a file read for `file:` URLs). Rejects when missing. */
  readUrl(url: string | URL): Promise<Uint8Array>;
}

/** The `init` function every binding exports. */
export type InitFunction = (options?: InitOptions) => Promise<Backend>;

const BACKEND_NAMES: readonly InitBackendName[] = ['wasm', 'reference'];

/**
 * The file name of a kernel build.
 * @example kernelFileName('simd') // 'kernels-simd.wasm'
 */
export function kernelFileName(variant: KernelVariant): string {
  return `kernels-${variant}.wasm`;
}

/** The first four bytes of every WebAssembly module: `\0asm`. */
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;

/**
 * Whether `bytes` starts with the WebAssembly magic `00 61 73 6d`.
 * @example isWasm(new TextEncoder().encode('<!doctype html>')) // false
 */
export function isWasm(bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((byte, i) => bytes[i] === byte);
}

/**
 * What bytes that are not WebAssembly start with, for an error message.
 * @example describeNotWasm(new TextEncoder().encode('<!doctype html>')) // '3c 21 64 6f ("<!doctype html>"), 15 bytes'
 */
export function describeNotWasm(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty body';
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = Array.from(bytes.subarray(0, 16), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join(
    '',
  );
  return `${head} (${JSON.stringify(`${text}${bytes.length > 16 ? '…' : ''}`)}), ${bytes.length} bytes`;
}

/**
 * Creates the backend `options` ask for, makes it the default and returns it.
 * An earlier default backend is left alive: tensors on it still work.
 *
 * @example
 * const backend = await initBackend({ platform, readUrl }, { deterministic: true });
 * backend.name // 'wasm'
 */
export async function initBackend(host: InitHost, options: InitOptions = {}): Promise<Backend> {
  const name = options.backend ?? 'wasm';
  if (!BACKEND_NAMES.includes(name)) {
    throw new ValueError(
      `init: unknown backend; expected one of ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')}, got ${JSON.stringify(name)}`,
    );
  }
  const deterministic = options.deterministic ?? false;
  if (typeof deterministic !== 'boolean') {
    throw new ValueError(
      `init: deterministic must be a boolean; expected true or false, got ${JSON.stringify(deterministic)}`,
    );
  }
  if (options.kernelBytes !== undefined && options.kernelUrl !== undefined) {
    throw new ValueError('init: kernelBytes and kernelUrl both given; expected at most one kernel source, got both');
  }
  let backend: Backend;
  if (name === 'reference') {
    const extra =
      options.kernelBytes !== undefined ? 'kernelBytes' : options.kernelUrl !== undefined ? 'kernelUrl' : undefined;
    if (extra !== undefined) {
      throw new ValueError(`init: ${extra} applies to the wasm backend only; expected backend 'wasm', got 'reference'`);
    }
    backend = createReferenceBackend();
    setBulkPhilox(undefined);
  } else {
    const variant = selectKernelVariant({ deterministic });
    const bytes = await kernelBytes(host, variant, options);
    if (!isWasm(bytes)) {
      throw new BackendError(
        `init: the kernels are not WebAssembly; expected ${kernelFileName(variant)} starting 00 61 73 6d, got ${describeNotWasm(bytes)}`,
      );
    }
    try {
      const wasm = await createWasmBackend({ bytes, variant });
      setBulkPhilox((out, blocks, offset, k0, k1) => wasm.philoxFill(out, blocks, offset, k0, k1));
      backend = wasm;
    } catch (error) {
      if (error instanceof BackendError) throw error;
      throw new BackendError(
        `init: the wasm backend did not start; expected a valid ${kernelFileName(variant)} build, got an error (${String(error)})`,
        { cause: error },
      );
    }
  }
  setDefaultBackend(backend);
  return backend;
}

async function kernelBytes(host: InitHost, variant: KernelVariant, options: InitOptions): Promise<Uint8Array> {
  const given = options.kernelBytes;
  if (given !== undefined) {
    if (given instanceof Uint8Array) return given;
    if (given instanceof ArrayBuffer) return new Uint8Array(given);
    throw new ValueError(
      `init: kernelBytes has the wrong type; expected a Uint8Array or ArrayBuffer, got ${Object.prototype.toString.call(given)}`,
    );
  }
  if (options.kernelUrl !== undefined) {
    const raw = String(options.kernelUrl);
    const url = raw.endsWith('/') ? raw + kernelFileName(variant) : options.kernelUrl;
    try {
      return await host.readUrl(url);
    } catch (error) {
      throw new BackendError(
        `init: cannot load the wasm kernels; expected ${kernelFileName(variant)} at kernelUrl, got an error reading ${String(url)} (${String(error)})`,
        { cause: error },
      );
    }
  }
  try {
    return await host.platform.loadKernelBytes(variant);
  } catch (error) {
    if (error instanceof BackendError) throw error;
    throw new BackendError(
      `init: cannot load the wasm kernels; expected ${kernelFileName(variant)} from the ${host.platform.name} binding, got an error (${String(error)})`,
      { cause: error },
    );
  }
}
