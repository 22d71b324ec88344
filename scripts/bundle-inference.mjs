// Bundles the inference entry (`lightning-ts/inference`) into dist/:
//   dist/lightning-ts.inference.node.js     (platform node)
//   dist/lightning-ts.inference.browser.js  (platform browser; also the `worker` condition)
//   dist/lightning-ts.inference.deno.js     (platform neutral, as the main Deno bundle)
// from bindings/inference-{node,browser,deno}.ts, minified, with esbuild.
//
// Nothing of training goes in: the plugin below resolves every import of runtime/autograd.ts to
// runtime/inference/no-autograd.ts (the same names; no tape, and backward() throws), and the
// entry imports neither runtime/lightning/, runtime/optim/ nor runtime/amp/; the ONNX exporter
// (module.toOnnx) is replaced by runtime/inference/no-onnx-export.ts the same way. After each build the
// metafile is checked: a forbidden input fails the build, naming it and who imported it.
// test/inference/bundle.test.ts runs the same check.
//
//   node scripts/bundle-inference.mjs           # build, print sizes (min+gz JS, gz wasm)
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const AUTOGRAD = fileURLToPath(new URL('../runtime/autograd.ts', import.meta.url));
const NO_AUTOGRAD = fileURLToPath(new URL('../runtime/inference/no-autograd.ts', import.meta.url));
const ONNX_EXPORT = fileURLToPath(new URL('../runtime/nn/onnx-export.ts', import.meta.url));
const NO_ONNX_EXPORT = fileURLToPath(new URL('../runtime/inference/no-onnx-export.ts', import.meta.url));

export const INFERENCE_ENTRIES = [
  { entry: 'bindings/inference-node.ts', out: 'dist/lightning-ts.inference.node.js', platform: 'node' },
  { entry: 'bindings/inference-browser.ts', out: 'dist/lightning-ts.inference.browser.js', platform: 'browser' },
  { entry: 'bindings/inference-deno.ts', out: 'dist/lightning-ts.inference.deno.js', platform: 'neutral' },
];

/** Inputs that must not be in the bundle: training, logging, optimizers, mixed precision, other backends. */
export const FORBIDDEN = [
  /^runtime\/lightning\//,
  /^runtime\/optim\//,
  /^runtime\/amp\//,
  /^runtime\/autograd\.ts$/,
  /loggers?\//,
  /grad-scaler/,
  /^runtime\/backends\/(reference|webgpu)\//,
  /^runtime\/data\//,
  /^runtime\/nn\/onnx-export\.ts$/,
];

/**
 * Resolves runtime/autograd.ts, however it is imported, to the no-op module, and
 * runtime/nn/onnx-export.ts (module.toOnnx's tracer and writer) to a stub that throws.
 */
export const noAutograd = {
  name: 'no-autograd',
  setup(b) {
    b.onResolve({ filter: /(autograd|onnx-export)\.ts$/ }, async (args) => {
      if (args.pluginData === 'no-autograd') return undefined;
      const r = await b.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        importer: args.importer,
        pluginData: 'no-autograd',
      });
      if (r.path === AUTOGRAD) return { path: NO_AUTOGRAD };
      if (r.path === ONNX_EXPORT) return { path: NO_ONNX_EXPORT };
      return r;
    });
  },
};

/**
 * The files of `out` in a metafile that match {@link FORBIDDEN}: those that put bytes into the
 * output (an import esbuild shook out entirely adds none), and runtime/autograd.ts if it was
 * resolved at all. Each comes with one importer.
 */
export function forbiddenInputs(metafile, out) {
  const inOutput = metafile.outputs[out]?.inputs ?? {};
  const bad = [];
  for (const path of Object.keys(metafile.inputs)) {
    const used =
      (inOutput[path]?.bytesInOutput ?? 0) > 0 ||
      path === 'runtime/autograd.ts' ||
      path === 'runtime/nn/onnx-export.ts';
    if (used && FORBIDDEN.some((re) => re.test(path))) {
      const importer = Object.entries(metafile.inputs).find(([, i]) => i.imports.some((x) => x.path === path));
      bad.push(`${path} (imported by ${importer?.[0] ?? '?'})`);
    }
  }
  return bad;
}

/** Builds one entry; returns esbuild's result (with its metafile). */
export function bundleInference({ entry, out, platform }, { write = true } = {}) {
  return build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    minify: true,
    keepNames: true, // error classes print their names (LightningError sets `name` from the class)
    sourcemap: write ? 'external' : false,
    write,
    metafile: true,
    plugins: [noAutograd],
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const e of INFERENCE_ENTRIES) {
    const result = await bundleInference(e);
    const bad = forbiddenInputs(result.metafile, e.out);
    if (bad.length > 0) {
      console.error(`bundle-inference: ${e.out} holds training code; expected none, got:\n  ${bad.join('\n  ')}`);
      process.exit(1);
    }
    const js = readFileSync(new URL(e.out, new URL('../', import.meta.url)));
    console.log(
      `${e.out}: ${(js.length / 1024).toFixed(1)} KiB min, ${(gzipSync(js, { level: 9 }).length / 1024).toFixed(1)} KiB min+gz`,
    );
  }
  for (const v of ['simd', 'relaxed']) {
    const wasm = readFileSync(new URL(`../build/kernels-${v}.wasm`, import.meta.url));
    console.log(
      `build/kernels-${v}.wasm: ${(wasm.length / 1024).toFixed(1)} KiB, ${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(1)} KiB gz`,
    );
  }
}
