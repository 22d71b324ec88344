// @module bench/wasm-accuracy — max error, in f32 ulps, of the wasm transcendental
// kernels against float64 references (rounded to f32), over a dense sweep.
// Run: node bench/wasm-accuracy.mjs [build/kernels-simd.wasm]
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('../build/kernels-simd.wasm', import.meta.url);
const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
const e = instance.exports;
const N = 1 << 20;
e.memory.grow(Math.ceil((3 * N * 4 + 65536 * 2) / 65536));
const D = 65536,
  X = D + 4096,
  O = X + N * 4;
const i32 = new Int32Array(e.memory.buffer),
  f32 = new Float32Array(e.memory.buffer);

function run(name, xs, ...params) {
  f32.set(xs, X / 4);
  const w = D / 4;
  i32[w] = 1;
  i32[w + 1] = O;
  i32[w + 2] = X;
  i32[w + 5] = xs.length;
  i32[w + 37] = 4;
  i32[w + 53] = 4;
  e[name](D, ...params);
  return f32.slice(O / 4, O / 4 + xs.length);
}
function ulpDiff(a, b) {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (a === b) return 0;
  const ia = new Int32Array(new Float32Array([a]).buffer)[0],
    ib = new Int32Array(new Float32Array([b]).buffer)[0];
  const oa = ia < 0 ? 0x80000000 - ia : ia,
    ob = ib < 0 ? 0x80000000 - ib : ib;
  return Math.abs(oa - ob);
}
const erfc = (x) => {
  const t = Math.abs(x);
  let r;
  if (t < 3) {
    let s = t,
      term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      s += term / (2 * n + 1);
    }
    r = 1 - (s * 2) / Math.sqrt(Math.PI);
  } else {
    let f = 0;
    for (let n = 80; n >= 1; n--) f = n / 2 / (t + f);
    r = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  }
  return x < 0 ? 2 - r : r;
};
const sig = (x) => 1 / (1 + Math.exp(-x));
const K = Math.sqrt(2 / Math.PI);
const cases = [
  ['exp_f32', Math.exp, -103, 88.7],
  ['log_f32', Math.log, 1e-38, 1e38, true],
  ['tanh_f32', Math.tanh, -10, 10],
  ['sigmoid_f32', sig, -100, 40],
  ['silu_f32', (x) => x * sig(x), -80, 40],
  ['gelu_f32', (x) => x * 0.5 * erfc(-x / Math.SQRT2), -13, 10],
  ['gelu_tanh_f32', (x) => x * sig(2 * K * (x + 0.044715 * x ** 3)), -5, 10],
  ['gelu_tanh_f32', (x) => x * sig(2 * K * (x + 0.044715 * x ** 3)), -10, 10],
  ['elu_f32', (x) => (x > 0 ? x : Math.expm1(x)), -20, 5, false, 1],
  ['softplus_f32', (x) => (x > 20 ? x : Math.log1p(Math.exp(x))), -80, 30, false, 1, 20],
];
console.log('| kernel | range | max ulp | mean ulp |');
console.log('|---|---|--:|--:|');
for (const [name, ref, lo, hi, logScale, ...params] of cases) {
  const xs = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const t = i / (N - 1);
    xs[i] = logScale ? lo * Math.pow(hi / lo, t) : lo + (hi - lo) * t;
  }
  const got = run(name, xs, ...params);
  let max = 0,
    sum = 0,
    at = 0;
  for (let i = 0; i < N; i++) {
    const want = Math.fround(ref(xs[i]));
    const d = ulpDiff(got[i], want);
    sum += d;
    if (d > max) {
      max = d;
      at = xs[i];
    }
  }
  console.log(`| ${name} | [${lo}, ${hi}] | ${max} (at ${at.toPrecision(5)}) | ${(sum / N).toFixed(3)} |`);
}
