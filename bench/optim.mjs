// @module bench/optim — one Adam step over the seed autoencoder's 101,651 parameters
// (784→64→3→64→784, weights and biases: 8 tensors), on the wasm backend: the fused `adam`
// primitive in ONE backend call for all 8 (adamGroupUpdate, what the optimizer runs), the same
// primitive in one call per tensor (adamUpdate ×8), and the same math as tensor ops
// (adamUpdateComposite, about 12 kernels per tensor); for Adam and for AdamW with amsgrad.
// Run: `npm run build:wasm && node bench/optim.mjs`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { transpileRuntime } from './load-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = transpileRuntime('optim');
const { createWasmBackend } = await load('runtime/backends/wasm/backend.js');
const { Tensor } = await load('runtime/tensor/tensor.js');
const { tidy } = await load('runtime/memory.js');
const { noGrad } = await load('runtime/autograd.js');
const { adamGroupUpdate, adamUpdate, adamUpdateComposite } = await load('runtime/optim/adam.js');
const be = await createWasmBackend({ bytes: readFileSync(join(root, 'build/kernels-simd.wasm')), variant: 'simd' });

const SHAPES = [[64, 784], [64], [3, 64], [3], [64, 3], [64], [784, 64], [784]];
const rand = (n, seed) => {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 0.1;
  }
  return a;
};
const make = (shape, seed) =>
  Tensor.fromArray(
    be,
    'float32',
    shape,
    rand(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
  );
const params = SHAPES.map((s, i) => ({
  p: make(s, i + 1),
  g: make(s, i + 101),
  m: make(s, 0),
  v: Tensor.fromArray(be, 'float32', s, new Float32Array(s.reduce((a, b) => a * b, 1))),
  vmax: make(s, 0).abs(),
}));
const total = params.reduce((a, { p }) => a + p.numel(), 0);

let step = 0;
const stepWith = (update, o) => () =>
  noGrad(() =>
    tidy(() => {
      step++;
      for (const { p, g, m, v, vmax } of params) update(p, g, m, v, o.amsgrad ? vmax : null, { ...o, step });
    }),
  );
const slots = params.map(({ p, g, m, v, vmax }) => ({ param: p, grad: g, expAvg: m, expAvgSq: v, maxExpAvgSq: vmax }));
const stepOneCall = (o) => () =>
  noGrad(() =>
    tidy(() => {
      step++;
      adamGroupUpdate(slots, { ...o, step });
    }),
  );
const ADAM = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
  decoupled: false,
};
const ADAMW = { ...ADAM, weightDecay: 1e-2, amsgrad: true, decoupled: true };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** µs per call of one round of `iters` calls. */
function round(fn, iters) {
  const t = performance.now();
  for (let i = 0; i < iters; i++) fn();
  return ((performance.now() - t) * 1000) / iters;
}
/**
 * Medians over 21 rounds of 20 steps, the variants interleaved round by round, so drift on
 * a shared machine hits them alike; also the minimum round (the least disturbed).
 */
function compare(fns) {
  for (const fn of fns) round(fn, 50);
  const xs = fns.map(() => []);
  for (let r = 0; r < 21; r++) fns.forEach((fn, i) => xs[i].push(round(fn, 20)));
  return xs.map((x) => ({ median: median(x), min: Math.min(...x) }));
}
console.log(
  `\nAdam step over ${total.toLocaleString('en')} parameters (${SHAPES.length} tensors), wasm simd build, µs per step: median (min) of 21 interleaved rounds of 20 steps; Node ${process.versions.node}`,
);
console.log(
  '| optimizer | one `adam` call (µs) | one call per tensor (µs) | composite (µs) | per-tensor/one | composite/one |',
);
console.log('|---|--:|--:|--:|--:|--:|');
const fmt = (x) => `${x.median.toFixed(0)} (${x.min.toFixed(0)})`;
for (const [label, o] of [
  ['Adam', ADAM],
  ['AdamW amsgrad wd 1e-2', ADAMW],
]) {
  const [a, b, c] = compare([stepOneCall(o), stepWith(adamUpdate, o), stepWith(adamUpdateComposite, o)]);
  console.log(
    `| ${label} | ${fmt(a)} | ${fmt(b)} | ${fmt(c)} | ${(b.median / a.median).toFixed(2)}× | ${(c.median / a.median).toFixed(1)}× |`,
  );
}
