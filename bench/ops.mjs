// @module bench/ops — f32 matmul GFLOP/s: our wasm kernels (simd and relaxed builds)
// beside a WebAssembly SIMD peak microbenchmark and TF.js's wasm backend, in one run.
// Run with `npm run bench:ops` (Node 20 needs --experimental-wasm-relaxed-simd for the
// relaxed rows). Prints medians of several timed runs; the machine is noisy.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import ts from 'typescript';
import asc from 'assemblyscript/asc';
import { loadTfjsWasm } from './tfjs-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');

// ---- our backend: transpile the few runtime files it needs (no dependency on a full build:ts)
async function loadOurs() {
  const out = join(root, 'node_modules', '.cache', 'lightning-ts-bench');
  const files = [
    'runtime/backends/wasm/backend.ts',
    'runtime/backends/wasm/allocator.ts',
    'runtime/backends/wasm/variant.ts',
    'runtime/errors.ts',
    'runtime/dtype.ts',
    'runtime/ops.ts',
  ];
  for (const f of files) {
    const src = readFileSync(join(root, f), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
        rewriteRelativeImportExtensions: true,
      },
      fileName: f,
    }).outputText;
    const dst = join(out, f.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dst), { recursive: true });
    writeFileSync(dst, js);
  }
  const wasm = await import(pathToFileURL(join(out, 'runtime/backends/wasm/backend.js')).href);
  const variant = await import(pathToFileURL(join(out, 'runtime/backends/wasm/variant.js')).href);
  return { ...wasm, ...variant };
}

// ---- peak: 12 independent f32x4 chains, c = c * m + a (mul+add) or relaxed_madd (FMA)
async function peakModules() {
  const body = (op) => {
    const ids = [...Array(12).keys()];
    return `
export function run(iters: i32): f32 {
  const m = f32x4.splat(0.9999999); const a = f32x4.splat(1e-7);
  ${ids.map((i) => `let c${i} = f32x4.splat(${i + 1}.0);`).join(' ')}
  for (let i = 0; i < iters; i++) {
    ${ids.map((i) => `c${i} = ${op(`c${i}`)};`).join('\n    ')}
  }
  let s = f32x4.splat(0);
  ${ids.map((i) => `s = f32x4.add(s, c${i});`).join(' ')}
  return f32x4.extract_lane(s, 0);
}`;
  };
  const compile = async (src, features) => {
    const { binary, error, stderr } = await asc.compileString(src, {
      optimizeLevel: 3,
      runtime: 'stub',
      enable: features,
    });
    if (error) throw new Error(`bench: peak module failed to compile; expected a binary, got ${stderr.toString()}`);
    return binary;
  };
  const mulAdd = await compile(
    body((c) => `f32x4.add(f32x4.mul(${c}, m), a)`),
    ['simd'],
  );
  const fma = await compile(
    body((c) => `f32x4.relaxed_madd(${c}, m, a)`),
    ['simd', 'relaxed-simd'],
  );
  const inst = async (bin) =>
    WebAssembly.validate(bin) ? (await WebAssembly.instantiate(bin, {})).instance.exports.run : null;
  return { mulAdd: await inst(mulAdd), fma: await inst(fma) };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median GFLOP/s of each contender, measured round-robin: every round runs each one for
 * ~`ms`, so load changes on this shared machine hit all of them alike.
 * `contenders`: [name, fn, flopsPerCall] (fn null = skipped).
 */
function measureRoundRobin(contenders, { rounds = quick ? 3 : 7, ms = quick ? 25 : 50 } = {}) {
  const live = contenders.filter(([, fn]) => fn);
  const perCall = new Map();
  for (const [name, fn] of live) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 3 * ms || n < 3) {
      fn();
      n++;
    } // warm-up and tier-up
    perCall.set(name, (performance.now() - t0) / n);
  }
  const rates = new Map(live.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn, flops] of live) {
      const reps = Math.max(1, Math.round(ms / perCall.get(name)));
      const t = performance.now();
      for (let i = 0; i < reps; i++) fn();
      rates.get(name).push((flops * reps) / ((performance.now() - t) * 1e6));
    }
  }
  return Object.fromEntries([...rates].map(([name, xs]) => [name, median(xs)]));
}

function randArray(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

// ---- shapes: [label, M, K, N, transposeA, transposeB]
const SHAPES = [
  ...[64, 128, 256, 512, 1024].map((n) => [`${n}^3`, n, n, n, false, false]),
  ['enc fwd x·W1ᵀ 256×784·784×64', 256, 784, 64, false, true],
  ['dec fwd h·W4ᵀ 256×64·64×784', 256, 64, 784, false, true],
  ['dX g·W1 256×64·64×784', 256, 64, 784, false, false],
  ['dH g·W4 256×784·784×64', 256, 784, 64, false, false],
  ['dW1 gᵀ·x 64×256·256×784', 64, 256, 784, true, false],
  ['dW4 gᵀ·h 784×256·256×64', 784, 256, 64, true, false],
];

function oursMatmul(be, M, K, N, tA, tB) {
  const a = be.alloc('float32', M * K),
    b = be.alloc('float32', K * N),
    c = be.alloc('float32', M * N);
  be.write(a, randArray(M * K, 1));
  be.write(b, randArray(K * N, 2));
  const av = { buffer: a, dtype: 'float32', shape: [1, M, K], strides: tA ? [M * K, 1, M] : [M * K, K, 1], offset: 0 };
  const bv = { buffer: b, dtype: 'float32', shape: [1, K, N], strides: tB ? [K * N, 1, K] : [K * N, N, 1], offset: 0 };
  const cv = { buffer: c, dtype: 'float32', shape: [1, M, N], strides: [M * N, N, 1], offset: 0 };
  return {
    run: () => be.run('matmul', cv, [av, bv], {}),
    free: () => {
      be.free(a);
      be.free(b);
      be.free(c);
    },
  };
}

function tfMatmul(tf, M, K, N, tA, tB) {
  const a = tf.tensor2d(randArray(M * K, 1), tA ? [K, M] : [M, K]);
  const b = tf.tensor2d(randArray(K * N, 2), tB ? [N, K] : [K, N]);
  return {
    run: () => tf.matMul(a, b, tA, tB).dispose(),
    free: () => {
      a.dispose();
      b.dispose();
    },
  };
}

const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));

const ours = await loadOurs();
const simdBytes = readFileSync(join(root, 'build/kernels-simd.wasm'));
const relaxedBytes = readFileSync(join(root, 'build/kernels-relaxed.wasm'));
const backends = [['simd', await ours.createWasmBackend({ bytes: simdBytes, variant: 'simd' })]];
if (WebAssembly.validate(relaxedBytes))
  backends.push(['relaxed', await ours.createWasmBackend({ bytes: relaxedBytes, variant: 'relaxed' })]);
else
  console.log(
    'bench: relaxed SIMD is not available in this engine (run with --experimental-wasm-relaxed-simd on Node 20); relaxed rows skipped',
  );

const peak = await peakModules();
const peakIters = 200_000;
const peakMulAdd = peak.mulAdd ? () => peak.mulAdd(peakIters) : null;
const peakFma = peak.fma ? () => peak.fma(peakIters) : null;
const tf = await loadTfjsWasm();

console.log(
  `\nf32 matmul, 1 thread, GFLOP/s (median of ${quick ? 3 : 7} round-robin rounds); Node ${process.versions.node}, TF.js ${tf ? tf.getBackend() : '—'} single-threaded`,
);
console.log('peak / peakFMA: a wasm SIMD peak microbenchmark (12 independent f32x4 multiply-add chains;');
console.log('mul+add, and relaxed_madd) measured in the same rounds as each shape; /47 and /58 divide by');
console.log(`DESIGN.md's anchor peaks for this machine kind\n`);
// DESIGN.md's anchor peaks for this machine kind (1 core): 47 mul+add, 58 relaxed FMA.
const ANCHOR_MULADD = 47,
  ANCHOR_FMA = 58;
const header = [
  'shape',
  'peak',
  'simd',
  '/peak',
  '/47',
  'peakFMA',
  'relaxed',
  '/peakFMA',
  '/58',
  'TF.js',
  'simd/TF',
  'relaxed/TF',
];
const rows = [];
for (const [label, M, K, N, tA, tB] of SHAPES) {
  if (quick && M * K * N > 512 ** 3) continue;
  const flops = 2 * M * K * N;
  const made = backends.map(([name, be]) => [name, oursMatmul(be, M, K, N, tA, tB)]);
  const theirs = tf ? tfMatmul(tf, M, K, N, tA, tB) : null;
  const res = measureRoundRobin([
    ['peak', peakMulAdd, peakIters * 12 * 8],
    ['peakFma', peakFma, peakIters * 12 * 8],
    ...made.map(([name, m]) => [name, m.run, flops]),
    ['tf', theirs ? theirs.run : null, flops],
  ]);
  for (const [, m] of made) m.free();
  theirs?.free();
  rows.push([
    label,
    fmt(res.peak),
    fmt(res.simd),
    fmt(res.simd / res.peak, 2),
    fmt(res.simd / ANCHOR_MULADD, 2),
    fmt(res.peakFma),
    fmt(res.relaxed),
    fmt(res.relaxed / res.peakFma, 2),
    fmt(res.relaxed / ANCHOR_FMA, 2),
    fmt(res.tf),
    fmt(res.simd / res.tf, 2),
    fmt(res.relaxed / res.tf, 2),
  ]);
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
for (const r of rows) console.log(line(r));

// ---- per-call cost of small ops (the batch-1 training step is mostly these)
function perCallMicros(fn) {
  for (let i = 0; i < 20000; i++) fn();
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < 20000; i++) fn();
    times.push(((performance.now() - t) * 1000) / 20000);
  }
  return median(times);
}
const be = backends[0][1];
const small = [];
{
  const a = be.alloc('float32', 64),
    b = be.alloc('float32', 64),
    c = be.alloc('float32', 64);
  const v = (buf) => ({ buffer: buf, dtype: 'float32', shape: [64], strides: [1], offset: 0 });
  small.push([
    'add 64 (µs/call)',
    perCallMicros(() => be.run('add', v(c), [v(a), v(b)], {})),
    tf
      ? (() => {
          const x = tf.zeros([64]),
            y = tf.zeros([64]);
          const r = perCallMicros(() => tf.add(x, y).dispose());
          x.dispose();
          y.dispose();
          return r;
        })()
      : null,
  ]);
  be.free(a);
  be.free(b);
  be.free(c);
}
for (const [label, M, K, N, tA, tB] of [
  ['matmul 1×784·784×64ᵀ (µs/call)', 1, 784, 64, false, true],
  ['matmul 1×64·64×784 (µs/call)', 1, 64, 784, false, false],
]) {
  const m = oursMatmul(be, M, K, N, tA, tB);
  const ours = perCallMicros(m.run);
  m.free();
  let theirs = null;
  if (tf) {
    const t = tfMatmul(tf, M, K, N, tA, tB);
    theirs = perCallMicros(t.run);
    t.free();
  }
  small.push([label, ours, theirs]);
}
console.log('\n| small op (simd build) | ours | TF.js |');
console.log('|---|--:|--:|');
for (const [label, o, t] of small) console.log(`| ${label} | ${fmt(o, 2)} | ${fmt(t, 2)} |`);
