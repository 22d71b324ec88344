// @module scripts/bundle — one ESM file per entry point, so an import loads one module.
//
// `tsc` emits dist/bindings/*.js as ~110 small modules; Node spends most of a cold
// import resolving and compiling them (about 70 ms of a 95 ms import on the 2-core
// bench VM, against about 25 ms for the same code as one file). The package's
// exports map points at these bundles; dist/bindings/*.js stay for the declaration
// files and the runtime smoke programs. Packages a user installs beside ours
// (`mnist`, `webgpu`, `comlink`) stay external imports.
import { build } from 'esbuild';

const ENTRIES = [
  { entry: 'dist/bindings/node.js', out: 'dist/lightning-ts.node.js', platform: 'node' },
  { entry: 'dist/bindings/browser.js', out: 'dist/lightning-ts.browser.js', platform: 'browser' },
];

for (const { entry, out, platform } of ENTRIES) {
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    sourcemap: true,
    external: ['mnist', 'webgpu', 'comlink'],
    logLevel: 'warning',
  });
}
