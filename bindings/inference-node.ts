/**
 * @module lightning-ts/inference (node) — the inference entry for Node: kernels read from the package.
 *
 * Importing it starts the wasm backend (top-level await), so a plain import is ready to run
 * `forward`. Nothing of training is in its bundle (see runtime/inference/index.ts).
 *
 * @example
 * import { readFile } from 'node:fs/promises';
 * import { nn, tensor, loadWeights } from 'lightning-ts/inference';
 * const encoder = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
 * await loadWeights(encoder, await readFile('model.ckpt'), { prefix: 'encoder.' });
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Backend } from '../runtime/backend.ts';
import { BackendError, LightningError } from '../runtime/errors.ts';
import { type InferenceHost, type InferenceInitOptions, initInference } from '../runtime/inference/init.ts';

const host: InferenceHost = {
  name: 'node',
  async loadKernelBytes(variant) {
    // The package's build/ is one folder up from bindings/*.ts and from dist/lightning-ts.*.js.
    // (Not bindings/package-root.ts: it imports runtime/setup.ts, and with it the reference backend.)
    const url = new URL(`../build/kernels-${variant}.wasm`, import.meta.url);
    try {
      return new Uint8Array(await readFile(url));
    } catch (error) {
      throw new BackendError(
        `node: kernel build missing; expected ${fileURLToPath(url)} (run npm run build:wasm), got ${(error as { code?: string }).code ?? String(error)}`,
        { cause: error },
      );
    }
  },
  async readUrl(url) {
    const resolved = new URL(url, pathToFileURL(join(process.cwd(), '/')));
    if (resolved.protocol === 'file:') return new Uint8Array(await readFile(fileURLToPath(resolved)));
    const response = await fetch(resolved);
    if (!response.ok) {
      throw new LightningError(
        `node: cannot fetch; expected HTTP 200 from ${resolved.href}, got ${response.status} ${response.statusText}`,
      );
    }
    return new Uint8Array(await response.arrayBuffer());
  },
};

/**
 * Starts the wasm backend and makes it the default. The import already ran `await init()`;
 * call it again for the deterministic simd128 kernels or another kernel source.
 * @example await init({ deterministic: true });
 */
export function init(options?: InferenceInitOptions): Promise<Backend> {
  return initInference(host, options);
}

await init();

export * from '../runtime/inference/index.ts';
