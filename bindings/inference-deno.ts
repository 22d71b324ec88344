/**
 * @module lightning-ts/inference (deno) — the inference entry for Deno: kernels read from the package.
 *
 * Importing it starts the wasm backend (top-level await); reading the kernels needs `--allow-read`.
 * Nothing of training is in its bundle (see runtime/inference/index.ts).
 *
 * @example
 * // deno run --allow-read --allow-net serve.ts
 * import { nn, loadWeights } from 'npm:lightning-ts/inference';
 */
import type { Backend } from '../runtime/backend.ts';
import { BackendError, LightningError } from '../runtime/errors.ts';
import { type InferenceHost, type InferenceInitOptions, initInference } from '../runtime/inference/init.ts';

/** The few Deno APIs this binding uses (tsc has no Deno types). */
interface DenoApi {
  readFile(path: string | URL): Promise<Uint8Array>;
  cwd(): string;
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const host: InferenceHost = {
  name: 'deno',
  async loadKernelBytes(variant) {
    // The package's build/ is one folder up from bindings/*.ts and from dist/lightning-ts.*.js.
    // (Not bindings/package-root.ts: it imports runtime/setup.ts, and with it the reference backend.)
    const url = new URL(`../build/kernels-${variant}.wasm`, import.meta.url);
    try {
      return await Deno.readFile(url);
    } catch (error) {
      throw new BackendError(
        `deno: kernel build missing or unreadable; expected ${url.href} readable (run npm run build:wasm; deno run --allow-read), got ${String(error)}`,
        { cause: error },
      );
    }
  },
  async readUrl(url) {
    const cwd = Deno.cwd();
    const resolved = new URL(url, new URL(`file://${encodeURI(cwd.endsWith('/') ? cwd : `${cwd}/`)}`));
    if (resolved.protocol === 'file:') return Deno.readFile(resolved);
    const response = await fetch(resolved);
    if (!response.ok) {
      throw new LightningError(
        `deno: cannot fetch; expected HTTP 200 from ${resolved.href}, got ${response.status} ${response.statusText}`,
      );
    }
    return new Uint8Array(await response.arrayBuffer());
  },
};

/**
 * Starts the wasm backend and makes it the default. The import already ran `await init()`.
 * @example await init({ deterministic: true });
 */
export function init(options?: InferenceInitOptions): Promise<Backend> {
  return initInference(host, options);
}

await init();

export * from '../runtime/inference/index.ts';
