// @module bench/inference-worker — one peer of bench/inference.mjs in a fresh Node process:
// serves the seed autoencoder's encoder (784→64→ReLU→3) from the files bench/inference-model.mjs
// wrote and prints one JSON line.
//
// Fairness — what each peer does, and why:
// - one call = what an app does per request: a Float32Array of N×784 pixels in, a fresh
//   Float32Array of N×3 embeddings out: upload the input, forward, read back (`await` the
//   library's async readback), free what the call made. No peer keeps device-side results;
// - every peer computes the encoder alone, from the same checkpoint: ours reads model.ckpt (the
//   whole autoencoder, 409 KB: what a Trainer writes) with `loadWeights(encoder, bytes,
//   { prefix: 'encoder.' })`; onnxruntime-web reads encoder.onnx (the encoder only, 202 KB, from
//   our `toOnnx`); TF.js and jax-js read weights.f32 (the encoder only, 202 KB, read back from
//   model.ckpt by our loadTorch) and transpose the Linear weights to [in, out] themselves;
// - one thread everywhere, and the plain simd128 wasm builds: ours `lightning-ts/inference` under
//   node without --experimental-wasm-relaxed-simd (so kernels-simd.wasm, the build the bundle
//   size counts); onnxruntime-web `env.wasm.numThreads = 1` (ort-wasm-simd-threaded.wasm, its
//   only wasm-EP build, run without its pthreads); TF.js wasm backend through bench/tfjs-wasm.mjs
//   (setThreadsCount(1), tfjs-backend-wasm-simd.wasm) with a tfjs-layers `sequential` of two
//   `dense` layers and `model.predict`; jax-js `init('wasm')`, whose kernels it generates as wasm
//   at run time, one thread in Node (its worker pool needs a global `Worker`, which Node 20 lacks;
//   the worker checks this), the forward wrapped in `jit` (one fused program per input shape);
// - each peer's recommended inference path: ours `encoder.forward` in a `tidy`; ORT
//   `InferenceSession.run` (graphOptimizationLevel 'all', its default); TF.js `model.predict`;
//   jax-js a `jit`-compiled function of the weights and the input (weights passed by `.ref`);
// - cold start ('cold' mode, this process does nothing else): the clock starts just before the
//   library's first `import()` and stops when the first batch-1 embedding is in a Float32Array:
//   import, backend start (wasm compile), reading the model file, building the model, loading the
//   weights, the first forward (jax-js: its jit compile) and readback; the worker's own boot
//   (Node, this file, node:fs) is before the clock for every peer alike;
// - steady latency ('steady' mode): batch 1 then 64, W untimed warm-up calls (JIT tier-up,
//   allocator caches, jax-js's jit for the shape), then N calls each timed alone; the median;
//   batch b takes the next b of the 256 resident rows, wrapping; before any timing the worker
//   checks its batch-64 embeddings against ours (expected.json from bench/inference.mjs) and
//   exits non-zero on a difference above the tolerance;
// - peak memory: process.resourceUsage().maxRSS at the end of the steady run.
// Usage: node bench/inference-worker.mjs '{"peer":"ours","mode":"check"|"cold"|"steady","dir":"/tmp/x",
//   "plan":{"1":[warmup,timed],"64":[warmup,timed]}}'
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const args = JSON.parse(process.argv[2]);
const { peer, mode, dir } = args;
const FEATURES = 784;
const EMBED = 3;
const TOLERANCE = 1e-4;

const peers = { ours, ort, tfjs, jax };
if (peers[peer] === undefined)
  throw new Error(`inference-worker: unknown peer; expected ${Object.keys(peers)}, got ${peer}`);

// inputs are read before any clock starts, the same bytes for every peer
const inputBuf = readFileSync(join(dir, 'inputs.f32'));
const inputs = new Float32Array(inputBuf.buffer, inputBuf.byteOffset, inputBuf.byteLength / 4);
const rows = inputs.length / FEATURES;
const batchAt = (at, n) => inputs.subarray(at * FEATURES, (at + n) * FEATURES);

const importStart = performance.now();
const embed = await peers[peer]();

if (mode === 'cold') {
  const z = await embed(batchAt(0, 1), 1);
  const end = performance.now();
  if (!(z instanceof Float32Array) || z.length !== EMBED) throw new Error(`inference-worker: ${peer} bad first result`);
  emit({ coldMs: end - importStart, bootMs: importStart, firstResultMs: end });
  process.exit(0);
}

const check = await checkRows(64);
if (mode === 'check') {
  // batch 1 must agree with batch 64 row by row too (the latency loop runs both)
  const one = [];
  for (let r = 0; r < 8; r++) one.push(...(await embed(batchAt(r, 1), 1)));
  emit({ check64: Array.from(check), check1: one });
  process.exit(0);
}

const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const diff = maxDiff(check, expected);
if (!(diff <= TOLERANCE)) {
  console.error(`inference-worker: ${peer} disagrees with ours; expected |Δ| <= ${TOLERANCE}, got ${diff}`);
  process.exit(2);
}
const latencyMs = {};
for (const [b, [warmup, timed]] of Object.entries(args.plan)) {
  const n = Number(b);
  let at = 0;
  const next = () => {
    if (at + n > rows) at = 0;
    const x = batchAt(at, n);
    at += n;
    return x;
  };
  for (let i = 0; i < warmup; i++) await embed(next(), n);
  const times = new Float64Array(timed);
  for (let i = 0; i < timed; i++) {
    const x = next();
    const t0 = performance.now();
    const z = await embed(x, n);
    times[i] = performance.now() - t0;
    if (z.length !== n * EMBED) throw new Error(`inference-worker: ${peer} returned ${z.length} values for batch ${n}`);
  }
  times.sort();
  latencyMs[b] = { median: times[timed >> 1], p90: times[Math.floor(timed * 0.9)], calls: timed };
}
emit({ latencyMs, maxRssKB: process.resourceUsage().maxRSS, checkDiff: diff });
process.exit(0);

function emit(fields) {
  process.stdout.write(`${JSON.stringify({ peer, mode, ...fields })}\n`);
}

async function checkRows(n) {
  return Float32Array.from(await embed(batchAt(0, n), n));
}

function maxDiff(a, b) {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function weights() {
  const header = JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8'));
  const buf = readFileSync(join(dir, 'weights.f32'));
  const flat = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const get = (name) => {
    const { shape, offset } = header[name];
    return { shape, data: flat.subarray(offset, offset + shape[0] * (shape[1] ?? 1)) };
  };
  // torch Linear weight [out, in] → the [in, out] kernel of x·W
  const kernel = (name) => {
    const {
      shape: [o, i],
      data,
    } = get(name);
    const out = new Float32Array(o * i);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[c * o + r] = data[r * i + c];
    return { shape: [i, o], data: out };
  };
  return { w1: kernel('0.weight'), b1: get('0.bias'), w2: kernel('2.weight'), b2: get('2.bias') };
}

async function ours() {
  const lt = await import('lightning-ts/inference');
  if (lt.getDefaultBackend().variant !== 'simd')
    throw new Error(`inference-worker: ours runs ${lt.getDefaultBackend().variant}; expected the simd build`);
  const encoder = new lt.nn.Sequential(new lt.nn.Linear(FEATURES, 64), new lt.nn.ReLU(), new lt.nn.Linear(64, EMBED));
  await lt.loadWeights(encoder, readFileSync(join(dir, 'model.ckpt')), { prefix: 'encoder.' });
  return async (x, n) => {
    const z = lt.tidy(() => encoder.forward(lt.tensor(x).view(n, FEATURES)));
    const out = await z.data();
    z.dispose();
    return out;
  };
}

async function ort() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(readFileSync(join(dir, 'encoder.onnx')), {
    executionProviders: ['wasm'],
  });
  return async (x, n) => {
    const input = new ort.Tensor('float32', x, [n, FEATURES]);
    const { output } = await session.run({ input });
    const out = output.data;
    output.dispose();
    return out;
  };
}

async function tfjs() {
  const tf = await import('@tensorflow/tfjs-core');
  const tfl = await import('@tensorflow/tfjs-layers');
  const { useTfjsWasm } = await import('./tfjs-wasm.mjs');
  await useTfjsWasm(tf);
  const w = weights();
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [FEATURES], units: 64, activation: 'relu' }),
      tfl.layers.dense({ units: EMBED }),
    ],
  });
  tf.tidy(() =>
    model.setWeights([
      tf.tensor2d(w.w1.data, w.w1.shape),
      tf.tensor1d(w.b1.data),
      tf.tensor2d(w.w2.data, w.w2.shape),
      tf.tensor1d(w.b2.data),
    ]),
  );
  return async (x, n) => {
    const input = tf.tensor2d(x, [n, FEATURES]);
    const z = model.predict(input);
    const out = await z.data();
    input.dispose();
    z.dispose();
    return out;
  };
}

async function jax() {
  if (typeof globalThis.Worker !== 'undefined')
    throw new Error(
      'inference-worker: a global Worker exists, so jax-js would start its thread pool; expected one thread',
    );
  const jax = await import('@jax-js/jax');
  const np = jax.numpy;
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`inference-worker: jax-js wasm did not start; got ${devices}`);
  jax.defaultDevice('wasm');
  const w = weights();
  const w1 = np.array(w.w1.data, { shape: w.w1.shape });
  const b1 = np.array(w.b1.data, { shape: w.b1.shape });
  const w2 = np.array(w.w2.data, { shape: w.w2.shape });
  const b2 = np.array(w.b2.data, { shape: w.b2.shape });
  const forward = jax.jit((W1, B1, W2, B2, x) => np.matmul(jax.nn.relu(np.matmul(x, W1).add(B1)), W2).add(B2));
  return (x, n) => forward(w1.ref, b1.ref, w2.ref, b2.ref, np.array(x, { shape: [n, FEATURES] })).data();
}
