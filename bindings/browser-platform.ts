/**
 * @module browser-platform — what the three browser entries share: the platform (OPFS files,
 * console output, navigator.gpu), `init`'s host, and a kernel fetch that says what came back.
 *
 * The entries differ only in where the default kernels come from and when they load:
 * `lightning-ts` (bindings/browser.ts) fetches them at import from the URL the app's bundler
 * gave them, `lightning-ts/manual` (browser-manual.ts) fetches nothing until `init()`, and
 * `lightning-ts/embedded` (browser-embedded.ts) carries them inside its JavaScript.
 */
import type { KernelVariant, Platform, SpawnWorkerOptions, WorkerHandle } from '../runtime/platform.ts';
import { WorkerStartError } from '../runtime/lightning/errors.ts';
import { moduleWorkerRank, spawnModuleWorker } from './web-worker-ranks.ts';
import type { InitHost } from '../runtime/setup.ts';
import { BackendError } from '../runtime/errors.ts';
import { describeNotWasm, isWasm } from '../runtime/setup.ts';
import { browserFiles } from './browser-fs.ts';
import { navigatorGpuSource } from './gpu-navigator.ts';
import { detectGpuAdapter, requestGpuDevice } from '../runtime/backends/webgpu/device.ts';

/** What to do when the kernels are not at the URL the page asked for; ends every fetch error. */
export const KERNEL_HINT =
  "serve node_modules/lightning-ts/build/kernels-*.wasm at that URL, import from 'lightning-ts/embedded' (the kernels inside the JavaScript), or import from 'lightning-ts/manual' and pass init({ kernelUrl }) where they are";

/** The extra advice when a server answered a `.wasm` URL with a page (a dev server's index.html). */
export const HTML_HINT =
  "a dev server or an SPA fallback answers URLs it has no file for with its index.html; under Vite 7 or older add optimizeDeps: { exclude: ['lightning-ts'] } to vite.config, otherwise";

/** `url` resolved against the page (or worker) URL; where there is none it must be absolute. */
function resolveUrl(url: string | URL): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return base === undefined ? new URL(url) : new URL(url, base);
  } catch (error) {
    throw new BackendError(
      `browser: cannot resolve the kernel URL; expected an absolute URL where there is no page location, got ${JSON.stringify(String(url))}`,
      { cause: error },
    );
  }
}

/**
 * Fetches a kernel build and checks that WebAssembly came back: a failed request names its
 * status, and an answer that is not wasm (a dev server's index.html, most often) says what it
 * was. Every failure is a BackendError.
 *
 * @example
 * const bytes = await fetchKernelBytes('/assets/kernels-simd.wasm');
 */
export async function fetchKernelBytes(url: string | URL): Promise<Uint8Array> {
  const resolved = resolveUrl(url);
  let response: Response;
  try {
    response = await fetch(resolved);
  } catch (error) {
    throw new BackendError(
      `browser: cannot fetch the wasm kernels; expected a response from ${resolved.href}, got a network error (${String(error)}); ${KERNEL_HINT}`,
      { cause: error },
    );
  }
  if (!response.ok) {
    throw new BackendError(
      `browser: cannot fetch the wasm kernels; expected HTTP 200 from ${resolved.href}, got HTTP ${response.status} ${response.statusText}; ${KERNEL_HINT}`,
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (isWasm(bytes)) return bytes;
  const type = response.headers.get('content-type') ?? 'no content-type';
  const html = /html/i.test(type) || /^\s*</.test(new TextDecoder().decode(bytes.subarray(0, 64)));
  throw new BackendError(
    html
      ? `browser: the server returned HTML (${type}) for ${resolved.href}; expected application/wasm, got ${describeNotWasm(bytes)}; ${HTML_HINT} ${KERNEL_HINT}`
      : `browser: the server returned something that is not WebAssembly (${type}) for ${resolved.href}; expected application/wasm, got ${describeNotWasm(bytes)}; ${KERNEL_HINT}`,
  );
}

const lines: { pending: string } = { pending: '' };

/**
 * Starts DDP rank `options.rank` in a browser. A page's script cannot run again in a worker (it
 * needs the DOM), so DDP trains in a module worker: the page starts
 * `new Worker('train.js', { type: 'module' })`, that worker is rank 0, and each other rank is a
 * sibling module worker that imports the same module (its `location.href`). The ranks share a
 * SharedArrayBuffer where the page is cross-origin isolated, and exchange transferred buffers
 * through rank 0 where it is not (lightning/strategies/message-collective.ts).
 */
function spawnBrowserRank(options: SpawnWorkerOptions): WorkerHandle {
  const scope = globalThis as {
    WorkerGlobalScope?: unknown;
    location?: { href: string };
  };
  if (scope.WorkerGlobalScope === undefined || scope.location === undefined) {
    throw new WorkerStartError(
      "DDP: a page's script cannot be re-run in the workers; expected the Trainer in a module worker (new Worker('train.js', { type: 'module' }), whose module each rank re-runs), got a Trainer on the page's main thread",
    );
  }
  return spawnModuleWorker(scope.location.href, options);
}

/**
 * The browser implementation of {@link Platform}, with `loadKernelBytes` from the entry.
 * Output goes to the console a line at a time; `isTTY` is false, so progress bars print lines,
 * not redraws. Files are OPFS or memory (see bindings/browser-fs.ts); faults are FileSystemErrors.
 *
 * @example
 * const platform = createBrowserPlatform((variant) => fetchKernelBytes(`/k/kernels-${variant}.wasm`));
 * await platform.mkdirp('lightning_logs/version_0');
 */
export function createBrowserPlatform(loadKernelBytes: (variant: KernelVariant) => Promise<Uint8Array>): Platform {
  return {
    name: 'browser',
    loadKernelBytes,
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
    spawnWorker: spawnBrowserRank,
    workerRank: moduleWorkerRank(),
  };
}

/**
 * What `init` needs from a browser entry: its platform, and the checked fetch for `kernelUrl`.
 * @example await initBackend(browserInitHost(platform), { kernelUrl: '/k/' });
 */
export function browserInitHost(platform: Platform): InitHost {
  return { platform, readUrl: fetchKernelBytes };
}
