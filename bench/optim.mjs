// @module bench/optim — one Adam step over the seed autoencoder's 101,651 parameters
// (784→64→3→64→784, weights and biases), on the wasm backend: the fused `adam` primitive
// (one kernel call per parameter) against the same math as tensor ops (adamUpdateComposite,
// about 12 kernels per parameter), plus AdamW with amsgrad. Run: `npm run build:wasm && node bench/optim.mjs`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { transpileRuntime } from './load-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = transpileRuntime('optim');
const { createWasmBackend } = await load('runtime/backends/wasm.js');
const { Tensor } = await load('runtime/tensor.js');
const { tidy } = await load('runtime/memory.js');
const { noGrad } = await load('runtime/autograd.js');
const { adamUpdate, adamUpdateComposite } = await load('runtime/optim/adam.js');
const be = await createWasmBackend({ bytes: readFileSync(join(root, 'build/kernels-simd.wasm')), variant: 'simd' });

const SHAPES = [[64, 784], [64], [3, 64], [3], [64, 3], [64], [784, 64], [784]];
const rand = (n, seed) => {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = (s / 2 ** 32 - 0.5) * 0.1; }
  return a;
};
const make = (shape, seed) => Tensor.fromArray(be, 'float32', shape, rand(shape.reduce((a, b) => a * b, 1), seed));
const params = SHAPES.map((s, i) => ({ p: make(s, i + 1), g: make(s, i + 101), m: make(s, 0), v: Tensor.fromArray(be, 'float32', s, new Float32Array(s.reduce((a, b) => a * b, 1))), vmax: make(s, 0).abs() }));
const total = params.reduce((a, { p }) => a + p.numel(), 0);

let step = 0;
const stepWith = (update, o) => () => noGrad(() => tidy(() => {
  step++;
  for (const { p, g, m, v, vmax } of params) update(p, g, m, v, o.amsgrad ? vmax : null, { ...o, step });
}));
const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false };
const ADAMW = { ...ADAM, weightDecay: 1e-2, amsgrad: true, decoupled: true };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function micros(fn) {
  for (let i = 0; i < 50; i++) fn();
  const xs = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let i = 0; i < 50; i++) fn();
    xs.push(((performance.now() - t) * 1000) / 50);
  }
  return median(xs);
}
console.log(`\nAdam step over ${total.toLocaleString('en')} parameters (${SHAPES.length} tensors), wasm simd build, µs per step (median of 7×50); Node ${process.versions.node}`);
console.log('| optimizer | fused `adam` (µs) | composite (µs) | composite/fused |');
console.log('|---|--:|--:|--:|');
for (const [label, o] of [['Adam', ADAM], ['AdamW amsgrad wd 1e-2', ADAMW]]) {
  const fused = micros(stepWith(adamUpdate, o));
  const composite = micros(stepWith(adamUpdateComposite, o));
  console.log(`| ${label} | ${fused.toFixed(0)} | ${composite.toFixed(0)} | ${(composite / fused).toFixed(1)}× |`);
}
