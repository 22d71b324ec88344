// @module bench/conv — conv2d forward and forward+backward on the MNIST CNN's two layers
// (N=32: 1→32 3×3 on 28×28, and 32→64 3×3 on 13×13), our wasm backend beside TF.js wasm's
// conv2d (NHWC, its native layout), single-threaded, in one run; plus max pooling 2×2.
// Run: `npm run build:wasm && node bench/conv.mjs [--quick]`. Prints medians (ms per call)
// and ours/TF.js time ratios (< 1 means we are faster). The machine is noisy.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { transpileRuntime } from './load-runtime.mjs';
import { loadTfjsWasm } from './tfjs-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');

function randArray(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ms per call of each contender, round-robin so load changes hit all alike. */
function measure(contenders, { rounds = quick ? 3 : 7, ms = quick ? 60 : 150 } = {}) {
  const live = contenders.filter(([, fn]) => fn);
  const perCall = new Map();
  for (const [name, fn] of live) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 2 * ms || n < 3) {
      fn();
      n++;
    }
    perCall.set(name, (performance.now() - t0) / n);
  }
  const times = new Map(live.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of live) {
      const reps = Math.max(1, Math.round(ms / perCall.get(name)));
      const t = performance.now();
      for (let i = 0; i < reps; i++) fn();
      times.get(name).push((performance.now() - t) / reps);
    }
  }
  return Object.fromEntries([...times].map(([name, xs]) => [name, median(xs)]));
}

const load = transpileRuntime('conv');
const { createWasmBackend } = await load('runtime/backends/wasm/backend.js');
const { setDefaultBackend } = await load('runtime/default-backend.js');
const { Tensor } = await load('runtime/tensor/tensor.js');
const { tidy } = await load('runtime/memory.js');
const { conv2d, maxPool2d } = await load('runtime/tensor/conv.js');
const be = await createWasmBackend({ bytes: readFileSync(join(root, 'build/kernels-simd.wasm')), variant: 'simd' });
setDefaultBackend(be);
const tf = await loadTfjsWasm();

const LAYERS = [
  { label: 'conv1 32×1×28×28, 32×1×3×3', n: 32, cin: 1, h: 28, w: 28, cout: 32, k: 3, inputGrad: false },
  { label: 'conv2 32×32×13×13, 64×32×3×3', n: 32, cin: 32, h: 13, w: 13, cout: 64, k: 3, inputGrad: true },
];

const ft = (data, shape) => Tensor.fromArray(be, 'float32', shape, data);
const rows = [];
for (const L of LAYERS) {
  const oh = L.h - L.k + 1,
    ow = L.w - L.k + 1;
  const xs = randArray(L.n * L.cin * L.h * L.w, 1),
    ws = randArray(L.cout * L.cin * L.k * L.k, 2);
  const bs = randArray(L.cout, 3),
    gs = randArray(L.n * L.cout * oh * ow, 4);
  // ours: NCHW, weight [Cout, Cin, kH, kW]
  const x = ft(xs, [L.n, L.cin, L.h, L.w]);
  if (L.inputGrad) x.requiresGrad_();
  const wt = ft(ws, [L.cout, L.cin, L.k, L.k]).requiresGrad_();
  const b = ft(bs, [L.cout]).requiresGrad_();
  const g = ft(gs, [L.n, L.cout, oh, ow]);
  const oursFwd = () =>
    tidy(() => {
      conv2d(x, wt, b);
    });
  const oursFwdBwd = () =>
    tidy(() => {
      conv2d(x, wt, b).backward(g);
      for (const p of [x, wt, b]) {
        p.grad?.dispose();
        p.grad = null;
      }
    });
  // TF.js: NHWC, filter [kH, kW, Cin, Cout] (same numbers of elements; layouts are each library's native one)
  let tfFwd = null,
    tfFwdBwd = null;
  if (tf) {
    const tx = tf.tensor4d(xs, [L.n, L.h, L.w, L.cin]);
    const tw = tf.tensor4d(ws, [L.k, L.k, L.cin, L.cout]);
    const tb = tf.tensor1d(bs);
    const tg = tf.tensor4d(gs, [L.n, oh, ow, L.cout]);
    // tf.fused.conv2d is its bias-fused kernel; the backward is called kernel by kernel
    // (tfjs-core's node bundle ships no gradient registry): dX through conv2dTranspose
    // (Conv2DBackpropInput) and db as a sum. TF.js wasm has no Conv2DBackpropFilter kernel,
    // so its fwd+bwd column leaves dW out and flatters TF.js.
    tfFwd = () =>
      tf.tidy(() => {
        tf.fused.conv2d({ x: tx, filter: tw, bias: tb, strides: 1, pad: 'valid' });
      });
    tfFwdBwd = () =>
      tf.tidy(() => {
        tf.fused.conv2d({ x: tx, filter: tw, bias: tb, strides: 1, pad: 'valid' });
        if (L.inputGrad) tf.conv2dTranspose(tg, tw, [L.n, L.h, L.w, L.cin], 1, 'valid');
        tf.sum(tg, [0, 1, 2]);
      });
  }
  const r = measure([
    ['oursFwd', oursFwd],
    ['tfFwd', tfFwd],
    ['oursFwdBwd', oursFwdBwd],
    ['tfFwdBwd', tfFwdBwd],
  ]);
  rows.push([`${L.label} fwd`, r.oursFwd, r.tfFwd]);
  rows.push([
    `${L.label} fwd+bwd${L.inputGrad ? '' : ' (no input grad)'} (TF.js: without dW)`,
    r.oursFwdBwd,
    r.tfFwdBwd,
  ]);
}
{
  // max pooling 2×2 on conv1's output, forward+backward
  const shape = [32, 32, 26, 26];
  const data = randArray(32 * 32 * 26 * 26, 5);
  const x = ft(data, shape).requiresGrad_();
  const g = ft(randArray(32 * 32 * 13 * 13, 6), [32, 32, 13, 13]);
  const ours = () =>
    tidy(() => {
      maxPool2d(x, 2).backward(g);
      x.grad?.dispose();
      x.grad = null;
    });
  let theirs = null;
  if (tf) {
    const tx = tf.tensor4d(data, [32, 26, 26, 32]);
    const tg = tf.tensor4d(randArray(32 * 32 * 13 * 13, 6), [32, 13, 13, 32]);
    theirs = () =>
      tf.tidy(() => {
        const y = tf.maxPool(tx, 2, 2, 'valid');
        tf.engine().runKernel(
          'MaxPoolGrad',
          { dy: tg, input: tx, output: y },
          { filterSize: 2, strides: 2, pad: 'valid' },
        );
      });
  }
  const r = measure([
    ['ours', ours],
    ['tf', theirs],
  ]);
  rows.push(['maxPool2d 2×2 on 32×32×26×26 fwd+bwd', r.ours, r.tf]);
}

const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));
console.log(
  `\nconv2d, 1 thread, ms per call (median of ${quick ? 3 : 7} round-robin rounds); Node ${process.versions.node}; ours: wasm simd build; TF.js ${tf ? tf.getBackend() : '—'} single-threaded`,
);
console.log('| case | ours (ms) | TF.js (ms) | ours/TF.js |');
console.log('|---|--:|--:|--:|');
for (const [label, o, t] of rows) console.log(`| ${label} | ${fmt(o)} | ${fmt(t)} | ${fmt(t ? o / t : NaN)} |`);
