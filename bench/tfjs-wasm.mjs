// @module bench/tfjs-wasm — TF.js's wasm backend, single-threaded, with its .wasm files
// taken from node_modules (never fetched): the peer setup every bench shares.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Makes `tf` (the tfjs-core module) run on the wasm backend with one thread.
 * @example const tf = await import('@tensorflow/tfjs-core'); await useTfjsWasm(tf);
 */
export async function useTfjsWasm(tf) {
  const require = createRequire(import.meta.url);
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': join(dir, 'tfjs-backend-wasm.wasm'),
    'tfjs-backend-wasm-simd.wasm': join(dir, 'tfjs-backend-wasm-simd.wasm'),
    'tfjs-backend-wasm-threaded-simd.wasm': join(dir, 'tfjs-backend-wasm-threaded-simd.wasm'),
  });
  wasm.setThreadsCount(1);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
}

/** tfjs-core on the wasm backend, or null (with a line saying why) when it cannot start. */
export async function loadTfjsWasm() {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await useTfjsWasm(tf);
    return tf;
  } catch (e) {
    console.log(`bench: TF.js wasm unavailable (${e instanceof Error ? e.message : String(e)}); its column is blank`);
    return null;
  }
}
