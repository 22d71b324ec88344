/**
 * @module lightning-ts/inference (browser, worker) — the inference entry for browsers and edge runtimes.
 *
 * The import fetches and starts nothing: call `await init()` once before the first op. Edge
 * runtimes that refuse to compile wasm bytes at run time (workerd, Cloudflare Workers) bind the
 * `.wasm` as a module and pass it: `init({ kernelModule })`. Without a source, `init()` fetches the
 * build from `new URL('../build/kernels-<variant>.wasm', import.meta.url)`, the literal pattern
 * that Vite, webpack 5, Rollup and Parcel copy and rewrite. Nothing of training is in its bundle.
 *
 * @example
 * import { nn, loadWeights, init } from 'lightning-ts/inference';
 * import kernels from './kernels-simd.wasm'; // workerd: a CompiledWasm module
 * await init({ kernelModule: kernels });
 */
import type { Backend } from '../runtime/backend.ts';
import { setDefaultBackendFailure } from '../runtime/default-backend.ts';
import { BackendError } from '../runtime/errors.ts';
import { type InferenceHost, type InferenceInitOptions, initInference } from '../runtime/inference/init.ts';

async function readUrl(url: string | URL): Promise<Uint8Array> {
  const base = (globalThis as { location?: { href: string } }).location?.href ?? import.meta.url;
  const resolved = new URL(url, base);
  const response = await fetch(resolved);
  if (!response.ok) {
    throw new BackendError(
      `browser: cannot fetch; expected HTTP 200 from ${resolved.href}, got ${response.status} ${response.statusText}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

const host: InferenceHost = {
  name: 'browser',
  loadKernelBytes: (variant) =>
    readUrl(
      variant === 'relaxed'
        ? new URL('../build/kernels-relaxed.wasm', import.meta.url)
        : new URL('../build/kernels-simd.wasm', import.meta.url),
    ),
  readUrl,
};

setDefaultBackendFailure(
  new BackendError(
    'lightning-ts/inference: no backend yet; expected await init() (or init({ kernelModule })) before the first op, got an op first',
  ),
);

/**
 * Starts the wasm backend and makes it the default; the first call is the first fetch this entry makes.
 * @example await init({ kernelUrl: '/static/lightning-ts/' });
 */
export function init(options?: InferenceInitOptions): Promise<Backend> {
  return initInference(host, options);
}

export * from '../runtime/inference/index.ts';
