/**
 * @module examples/serve/worker — the encoder as a standard `fetch` handler for workerd and
 * Cloudflare Workers.
 *
 * Those runtimes refuse to compile wasm bytes at run time, so the kernels come in as a compiled
 * module (`kernels.wasm`, a CompiledWasm module in workerd's config; Wrangler does the same for a
 * `.wasm` import), and the checkpoint as a Data module (`weights.bin`, an ArrayBuffer). Both load at
 * the worker's start (top-level await), so the first request only runs `forward`. See
 * `workerd.capnp` beside this file, and README.md for the protocol.
 */
import { init } from 'lightning-ts/inference';
import kernels from './kernels.wasm';
import weights from './weights.bin';
import { handleFetch, loadEncoder } from './embed.ts';

await init({ kernelModule: kernels });
const encoder = await loadEncoder(weights);

export default {
  fetch(request: Request): Promise<Response> {
    return handleFetch(encoder, request);
  },
};
