// @module bench/inference-bundles — what each peer of bench/inference.mjs costs a web page to
// download: JS minified + gzipped, and its .wasm gzipped (gzip level 9 for both, as
// scripts/bundle-inference.mjs prints).
//
// - ours: dist/lightning-ts.inference.browser.js as shipped (already minified, every export in
//   it) + build/kernels-simd.wasm. The same esbuild entry the peers get (below) is printed beside
//   it, as a check that tree-shaking our bundle gains nothing to speak of;
// - each peer: a tiny entry that re-exports only what the bench's forward uses (the names are
//   in ENTRIES), bundled by esbuild (bundle, minify, platform browser, esm, code splitting), so
//   each package's own `browser` / `import` conditions and `sideEffects` apply as in an app's
//   bundler; the JS counted is the entry chunk and every chunk it imports statically, not the
//   chunks behind dynamic `import()`s (jax-js's WebGPU / WebGL backends, which a page using
//   its wasm device never loads);
// - the .wasm each peer fetches at run time for its single-threaded SIMD path, read from
//   node_modules: onnxruntime-web ort-wasm-simd-threaded.wasm (the wasm EP's one build), TF.js
//   tfjs-backend-wasm-simd.wasm; jax-js ships no .wasm (it generates its kernels in JS at run time).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const pkgDir = (name) => dirname(require.resolve(`${name}/package.json`));

/** The tiny entry per peer: exactly what bench/inference-worker.mjs's forward imports. */
export const ENTRIES = {
  ours: `export { init, nn, loadWeights, tensor, tidy } from '../dist/lightning-ts.inference.browser.js';`,
  ort: `export { InferenceSession, Tensor, env } from 'onnxruntime-web/wasm';`,
  tfjs: [
    `export { tensor1d, tensor2d, tidy, setBackend, ready } from '@tensorflow/tfjs-core';`,
    `export { sequential, layers } from '@tensorflow/tfjs-layers';`,
    `export { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';`,
  ].join('\n'),
  jax: `export { init, jit, numpy, nn, defaultDevice } from '@jax-js/jax';`,
};

function wasmOf(peer) {
  switch (peer) {
    case 'ours':
      return [join(ROOT, 'build/kernels-simd.wasm')];
    case 'ort':
      return [require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm')];
    case 'tfjs':
      return [join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist/tfjs-backend-wasm-simd.wasm')];
    default:
      return [];
  }
}

/** esbuild's bundle of `ENTRIES[peer]`: min+gz bytes of the entry chunk and its static imports. */
async function entryJs(peer) {
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: ENTRIES[peer], resolveDir: join(ROOT, 'bench'), sourcefile: `${peer}-entry.js` },
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    platform: 'browser',
    target: 'es2022',
    outdir: join(ROOT, 'bench/.inference-bundle'), // not written (write: false)
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const files = new Map(result.outputFiles.map((f) => [f.path, f.contents]));
  const outputs = result.metafile.outputs;
  const key = (p) => join(ROOT, p);
  const entry = Object.keys(outputs).find((p) => outputs[p].entryPoint !== undefined);
  const seen = new Set();
  const stack = [entry];
  while (stack.length > 0) {
    const p = stack.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    for (const i of outputs[p].imports) if (i.kind === 'import-statement' && !i.external) stack.push(i.path);
  }
  let raw = 0;
  let gzBytes = 0;
  for (const p of seen) {
    const bytes = files.get(key(p));
    raw += bytes.length;
    gzBytes += gz(bytes);
  }
  const lazy = Object.keys(outputs).filter((p) => !seen.has(p) && p.endsWith('.js')).length;
  return { raw, gz: gzBytes, lazyChunks: lazy };
}

/**
 * Sizes for one peer: { jsGz, wasmGz, totalGz, jsRaw, wasmRaw, note }. For ours the JS is the
 * shipped dist file, and `entryJsGz` is the esbuild entry's figure.
 */
export async function bundleSize(peer) {
  const wasm = wasmOf(peer).map((p) => readFileSync(p));
  const wasmGz = wasm.reduce((a, b) => a + gz(b), 0);
  const wasmRaw = wasm.reduce((a, b) => a + b.length, 0);
  const entry = await entryJs(peer);
  if (peer === 'ours') {
    const js = readFileSync(join(ROOT, 'dist/lightning-ts.inference.browser.js'));
    return {
      jsGz: gz(js),
      jsRaw: js.length,
      wasmGz,
      wasmRaw,
      totalGz: gz(js) + wasmGz,
      entryJsGz: entry.gz,
      lazyChunks: 0,
    };
  }
  return {
    jsGz: entry.gz,
    jsRaw: entry.raw,
    wasmGz,
    wasmRaw,
    totalGz: entry.gz + wasmGz,
    lazyChunks: entry.lazyChunks,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const peer of Object.keys(ENTRIES)) console.log(peer, await bundleSize(peer));
}
