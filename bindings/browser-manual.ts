/**
 * @module lightning-ts/manual — the browser entry that loads nothing until you call `init`.
 *
 * Like `lightning-ts`, but the import fetches nothing: the first `await init(options)` loads
 * the kernels, from `kernelUrl`, `kernelBytes`, or (with neither) the package's own build, the
 * one `lightning-ts` fetches at import. Until then every op throws a BackendError that says to
 * call `init`. This is the entry for kernels served from elsewhere (a CDN, a folder you copy
 * them to), as onnxruntime-web's `env.wasm.wasmPaths` is set before its first session.
 *
 * @example
 * import { init, tensor } from 'lightning-ts/manual';
 * await init({ kernelUrl: 'https://cdn.example/lightning-ts/build/' });
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
import { BackendError } from '../runtime/errors.ts';
import { initBackend } from '../runtime/setup.ts';
import { browserInitHost, createBrowserPlatform } from './browser-platform.ts';
import { fetchDefaultKernels } from './browser-kernels.ts';

/**
 * The browser implementation of {@link Platform}; `init()` without a kernel source fetches
 * the package's own build, or wherever the app's bundler put it.
 *
 * @example
 * await browserPlatform.mkdirp('lightning_logs/version_0');
 */
export const browserPlatform: Platform = createBrowserPlatform(fetchDefaultKernels);

setPlatform(browserPlatform);
setDefaultBackendFailure(
  new BackendError(
    "lightning-ts/manual: no backend yet; expected await init() before the first op, got an op first (this entry loads the kernels only in init; import from 'lightning-ts' to load them at import)",
  ),
);

/**
 * Creates the default backend (wasm unless asked otherwise) and returns it; the first call
 * is the first fetch this entry makes.
 *
 * @example
 * await init({ kernelUrl: '/static/lightning-ts/' }); // fetches /static/lightning-ts/kernels-<variant>.wasm
 */
export async function init(options?: InitOptions): Promise<Backend> {
  return initBackend(browserInitHost(browserPlatform), options);
}

export type { InitOptions } from '../runtime/setup.ts';
export * from '../runtime/index.ts';
