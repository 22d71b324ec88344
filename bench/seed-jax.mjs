// @module bench/seed-jax — the jax-js peer of bench/seed.mjs in a fresh Node process: trains the
// seed autoencoder (784→64→ReLU→3 / 3→64→ReLU→784, mse, Adam lr 1e-3, β 0.9/0.999, ε 1e-8) with
// @jax-js/jax on its wasm device, and prints one JSON line as bench/seed-worker.mjs does.
//
// Fairness — what it does per step, and why:
// - jax-js's recommended training path: the whole step (value_and_grad of the loss, the Adam
//   update of every parameter and moment) is one `jit`-compiled function of (params, m, v, the
//   two bias-correction scalars, x) that returns new arrays, as a JAX user writes it with
//   optax; its jit fuses the element-wise work and records one program per input shape;
//   @jax-js/optax is not a dependency here, so Adam is written out as torch's
//   (p -= lr/(1-β1^t) · m / (√v/√(1-β2^t) + ε)), the bias corrections passed in as 0-d arrays so
//   the step compiles once;
// - weights stored [in, out] (as the TF.js peer: x·W + b needs no transposed operand), drawn
//   from torch.nn.Linear's default bounds U(±1/√fan_in) by a seeded generator;
// - wasm device, one thread: jax-js starts a worker pool only where a global `Worker` exists,
//   which Node 20 lacks (checked below), so it runs single-threaded as ours and TF.js do;
// - each batch is uploaded from the resident Float32Array (np.array of the next `batch` rows,
//   wrapping), as the TF.js peer does;
// - jax-js dispatches lazily: without a wait per step the pending work of many steps piles up
//   and a step gets ~20× slower (measured), so every step ends with `blockUntilReady` on the
//   new parameters (no readback; ours' wasm steps finish synchronously as well);
// - before timing, the warm-up checks that the loss falls (the loss of the first warm-up step
//   against the last one's, read outside the timed window), so a wrong gradient cannot post a time;
// - W untimed warm-up steps (the first one compiles the jit program), N timed steps, one weight
//   read back at the end; startup mode: import → first step done (its jit compile included).
// Usage: node bench/seed-jax.mjs '{"peer":"jax-wasm","batch":32,"warmup":50,"timed":1024,
//   "data":"/tmp/x.f32","samples":8192,"mode":"time"|"startup"}'
import { performance } from 'node:perf_hooks';
import { FEATURES, readSeedData } from './seed-data.mjs';

const args = JSON.parse(process.argv[2]);
const { peer, batch, data: dataPath, mode } = args;
const startup = mode === 'startup';
const warmup = startup ? 0 : args.warmup;
const timed = startup ? 1 : args.timed; // steps
const rows = startup ? batch : args.samples;
const data = readSeedData(dataPath, rows);
const [LR, B1, B2, EPS] = [1e-3, 0.9, 0.999, 1e-8];

if (typeof globalThis.Worker !== 'undefined')
  throw new Error('seed-jax: a global Worker exists, so jax-js would start its thread pool; expected one thread');
const importStart = performance.now();
const jax = await import('@jax-js/jax');
const np = jax.numpy;
const devices = await jax.init('wasm');
if (!devices.includes('wasm')) throw new Error(`seed-jax: jax-js wasm did not start; got ${devices}`);
jax.defaultDevice('wasm');

// mulberry32, seed 0
let seed = 0;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const linear = (fin, fout) => {
  const bound = 1 / Math.sqrt(fin);
  const u = (n) => Float32Array.from({ length: n }, () => (2 * rand() - 1) * bound);
  return [np.array(u(fin * fout), { shape: [fin, fout] }), np.array(u(fout), { shape: [fout] })];
};
let params = [...linear(FEATURES, 64), ...linear(64, 3), ...linear(3, 64), ...linear(64, FEATURES)];
let m = params.map((p) => np.zerosLike(p.ref));
let v = params.map((p) => np.zerosLike(p.ref));

// jax-js takes ownership of every argument: `.ref` where an array is used again
const lossFn = (p, x) => {
  const h = jax.nn.relu(np.matmul(x.ref, p[0]).add(p[1]));
  const z = np.matmul(h, p[2]).add(p[3]);
  const h2 = jax.nn.relu(np.matmul(z, p[4]).add(p[5]));
  const y = np.matmul(h2, p[6]).add(p[7]);
  return np.mean(np.square(y.sub(x)));
};
const trainStep = jax.jit((p, m, v, c1, c2, x) => {
  const [loss, g] = jax.valueAndGrad(lossFn)(
    p.map((t) => t.ref),
    x,
  );
  const m2 = m.map((mi, i) => mi.mul(B1).add(g[i].ref.mul(1 - B1)));
  const v2 = v.map((vi, i) => vi.mul(B2).add(np.square(g[i]).mul(1 - B2)));
  const p2 = p.map((pi, i) => pi.sub(m2[i].ref.mul(c1.ref).div(np.sqrt(v2[i].ref).mul(c2.ref).add(EPS))));
  c1.dispose();
  c2.dispose();
  return [p2, m2, v2, loss];
});

let at = 0;
let t = 0;
const step = async () => {
  if (at + batch > rows) at = 0;
  const x = np.array(data.subarray(at * FEATURES, (at + batch) * FEATURES), { shape: [batch, FEATURES] });
  at += batch;
  t++;
  const c1 = np.array(LR / (1 - B1 ** t));
  const c2 = np.array(1 / Math.sqrt(1 - B2 ** t));
  const [p2, m2, v2, loss] = trainStep(params, m, v, c1, c2, x);
  params = p2;
  m = m2;
  v = v2;
  await jax.blockUntilReady(params);
  return loss;
};

let lossStart = null;
let lossEnd = null;
for (let i = 0; i < warmup; i++) {
  const loss = await step();
  if (i === 0) lossStart = (await loss.data())[0];
  else if (i === warmup - 1) lossEnd = (await loss.data())[0];
  else loss.dispose();
}
if (warmup >= 5 && !(lossEnd < lossStart))
  throw new Error(`seed-jax: the loss did not fall in the warm-up; expected < ${lossStart}, got ${lossEnd}`);
const t0 = performance.now();
let firstStepEnd = 0;
for (let i = 0; i < timed; i++) {
  (await step()).dispose();
  if (i === 0) firstStepEnd = performance.now();
}
await params[0].ref.data();
const ms = performance.now() - t0;
process.stdout.write(
  JSON.stringify({
    peer,
    batch,
    steps: timed,
    ms,
    samplesPerSec: (timed * batch * 1000) / ms,
    maxRssKB: process.resourceUsage().maxRSS,
    firstStepMs: startup ? firstStepEnd - importStart : undefined,
    lossStart,
    lossEnd,
  }) + '\n',
);
