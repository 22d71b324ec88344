/**
 * @module inference/init — starts the wasm backend for the inference entry.
 *
 * The full entries start it through runtime/setup.ts, which also offers the reference backend;
 * this one starts only the wasm kernels, so the reference backend stays out of the bundle. The
 * kernels come from, in order: `kernelModule` (a compiled `WebAssembly.Module`, what workerd and
 * Cloudflare Workers bind, since they refuse to compile bytes at run time), `kernelBytes`,
 * `kernelUrl`, then the binding's own `loadKernelBytes`.
 */
import type { Backend } from '../backend.ts';
import { createWasmBackend } from '../backends/wasm/backend.ts';
import { selectKernelVariant } from '../backends/wasm/variant.ts';
import { setDefaultBackend } from '../default-backend.ts';
import { BackendError, ValueError } from '../errors.ts';
import type { KernelVariant } from '../platform.ts';
import { setBulkPhilox } from '../random.ts';

/**
 * Options of the inference entry's `init`.
 * @example
 * import kernels from './kernels-simd.wasm'; // a CompiledWasm module in workerd
 * await init({ kernelModule: kernels });
 */
export interface InferenceInitOptions {
  /** The plain simd128 kernels everywhere, bitwise equal across runtimes (default false). */
  readonly deterministic?: boolean;
  /** A compiled kernel build. Its variant is `kernelVariant` (default `'simd'`). */
  readonly kernelModule?: WebAssembly.Module;
  /** Which build `kernelModule` is (default `'simd'`). */
  readonly kernelVariant?: KernelVariant;
  /** The kernel build's bytes. */
  readonly kernelBytes?: Uint8Array | ArrayBuffer;
  /** Where to fetch the kernel build: a folder ending in `/` holding `kernels-<variant>.wasm`, or the file. */
  readonly kernelUrl?: string | URL;
}

/** What the binding gives {@link initInference}. */
export interface InferenceHost {
  /** The binding's name, for errors ('node', 'deno', 'browser'). */
  readonly name: string;
  /** The package's own kernel build `variant`. */
  loadKernelBytes(variant: KernelVariant): Promise<Uint8Array>;
  /** Bytes at `url`. */
  readUrl(url: string | URL): Promise<Uint8Array>;
}

/**
 * Creates the wasm backend from the kernel source `options` names, makes it the default and returns it.
 * @example const backend = await initInference(host, { deterministic: true }); backend.name // 'wasm'
 */
export async function initInference(host: InferenceHost, options: InferenceInitOptions = {}): Promise<Backend> {
  const sources = (['kernelModule', 'kernelBytes', 'kernelUrl'] as const).filter((k) => options[k] !== undefined);
  if (sources.length > 1) {
    throw new ValueError(`init: several kernel sources; expected at most one, got ${sources.join(' and ')}`);
  }
  let source: Uint8Array | ArrayBuffer | WebAssembly.Module;
  let variant: KernelVariant;
  if (options.kernelModule !== undefined) {
    if (!(options.kernelModule instanceof WebAssembly.Module)) {
      throw new ValueError(
        `init: kernelModule has the wrong type; expected a WebAssembly.Module, got ${Object.prototype.toString.call(options.kernelModule)}`,
      );
    }
    source = options.kernelModule;
    variant = options.kernelVariant ?? 'simd';
  } else {
    variant = selectKernelVariant({ deterministic: options.deterministic ?? false });
    const bytes = await kernelBytes(host, variant, options);
    if (!(bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d)) {
      throw new BackendError(
        `init: the kernels are not WebAssembly; expected kernels-${variant}.wasm starting 00 61 73 6d, got ${bytes.length} bytes starting ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`,
      );
    }
    source = bytes;
  }
  const wasm = await createWasmBackend({ bytes: source, variant });
  setBulkPhilox((out, blocks, offset, k0, k1) => wasm.philoxFill(out, blocks, offset, k0, k1));
  setDefaultBackend(wasm);
  return wasm;
}

async function kernelBytes(host: InferenceHost, variant: KernelVariant, options: InferenceInitOptions) {
  const given = options.kernelBytes;
  if (given instanceof Uint8Array) return given;
  if (given instanceof ArrayBuffer) return new Uint8Array(given);
  if (given !== undefined) {
    throw new ValueError(
      `init: kernelBytes has the wrong type; expected a Uint8Array or ArrayBuffer, got ${Object.prototype.toString.call(given)}`,
    );
  }
  const file = `kernels-${variant}.wasm`;
  try {
    if (options.kernelUrl === undefined) return await host.loadKernelBytes(variant);
    const raw = String(options.kernelUrl);
    return await host.readUrl(raw.endsWith('/') ? raw + file : options.kernelUrl);
  } catch (error) {
    if (error instanceof BackendError) throw error;
    throw new BackendError(
      `init: cannot load the wasm kernels; expected ${file} from ${options.kernelUrl === undefined ? `the ${host.name} binding` : String(options.kernelUrl)}, got an error (${String(error)})`,
      { cause: error },
    );
  }
}
