// @module bench/data — DataLoader iteration overhead beside one training step, on the wasm
// backend: a TensorDataset of 60,000×784 float32 images and int32 labels (MNIST's train set
// size), batch 1, 32 and 256, in order and shuffled, µs per batch (the loader's whole cost:
// sampler, getBatch's slice or gather, async iteration, and freeing the batch); and, with the
// same tensors, one step of the seed autoencoder (linear 784→64, relu, linear 64→3,
// linear 3→64, relu, linear 64→784, mse, backward, Adam step, zeroGrad). Prints medians and
// the loader/step ratio. Run: `npm run build:wasm && node bench/data.mjs [--quick]`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { transpileRuntime } from './load-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const load = transpileRuntime('data');
const { createWasmBackend } = await load('runtime/backends/wasm/backend.js');
const { setDefaultBackend } = await load('runtime/default-backend.js');
const { Tensor } = await load('runtime/tensor/tensor.js');
const { tidy } = await load('runtime/memory.js');
const { Generator } = await load('runtime/random.js');
const { TensorDataset } = await load('runtime/data/tensor-dataset.js');
const { DataLoader } = await load('runtime/data/dataloader.js');
const { Sequential, Linear, ReLU } = await load('runtime/nn/index.js');
const { mseLoss } = await load('runtime/nn/loss-functions.js');
const { Adam } = await load('runtime/optim/adam.js');
const be = await createWasmBackend({ bytes: readFileSync(join(root, 'build/kernels-simd.wasm')), variant: 'simd' });
setDefaultBackend(be);

const N = 60_000;
const D = 784;
const images = new Float32Array(N * D);
let s = 12345;
for (let i = 0; i < images.length; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  images[i] = s / 2 ** 32;
}
const labels = new Int32Array(N);
for (let i = 0; i < N; i++) labels[i] = i % 10;
const x = Tensor.fromArray(be, 'float32', [N, D], images);
const y = Tensor.fromArray(be, 'int32', [N], labels);
const ds = new TensorDataset(x, y);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * µs per batch: chunks of `chunk` batches from fresh epochs (the first chunk of each epoch
 * is dropped: it holds the shuffle's permutation), median over the chunks.
 */
async function loaderMicros(batchSize, shuffle) {
  const loader = new DataLoader(ds, { batchSize, shuffle, generator: new Generator(0) });
  const chunk = batchSize === 1 ? 500 : batchSize === 32 ? 100 : 20;
  const chunksPerEpoch = Math.min(quick ? 4 : 12, Math.floor(loader.length / chunk) - 1);
  const xs = [];
  for (let epoch = 0; epoch < (quick ? 2 : 3); epoch++) {
    let k = 0;
    let t = performance.now();
    let c = -1;
    for await (const [xb, yb] of loader) {
      xb.dispose();
      yb.dispose();
      if (++k < chunk) continue;
      const now = performance.now();
      if (c >= 0) xs.push(((now - t) * 1000) / chunk);
      k = 0;
      t = now;
      if (++c >= chunksPerEpoch) break;
    }
  }
  return median(xs);
}

/** The seed autoencoder. */
function seedModel() {
  return new Sequential(
    new Linear(D, 64),
    new ReLU(),
    new Linear(64, 3),
    new Linear(3, 64),
    new ReLU(),
    new Linear(64, D),
  );
}

/** µs per training step at `batchSize`, on a batch taken from the same dataset. */
function stepMicros(batchSize) {
  const model = seedModel();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const indices = Array.from({ length: batchSize }, (_, i) => (i * 7919) % N);
  const [xb, yb] = ds.getBatch(indices);
  const step = () => {
    tidy(() => {
      const loss = mseLoss(model.forward(xb), xb);
      loss.backward();
    });
    opt.step();
    opt.zeroGrad();
  };
  const iters = batchSize === 256 ? 10 : 50;
  for (let i = 0; i < iters; i++) step();
  const xs = [];
  for (let r = 0; r < (quick ? 5 : 11); r++) {
    const t = performance.now();
    for (let i = 0; i < iters; i++) step();
    xs.push(((performance.now() - t) * 1000) / iters);
  }
  xb.dispose();
  yb.dispose();
  return median(xs);
}

console.log(
  `\nDataLoader over TensorDataset(60,000×784 float32, 60,000 int32), wasm simd build, µs per batch (medians); Node ${process.versions.node}`,
);
console.log('| batch | step (µs) | in order (µs) | in order / step | shuffled (µs) | shuffled / step |');
console.log('|--:|--:|--:|--:|--:|--:|');
for (const batchSize of [1, 32, 256]) {
  const step = stepMicros(batchSize);
  const seq = await loaderMicros(batchSize, false);
  const shuf = await loaderMicros(batchSize, true);
  const pct = (v) => `${((100 * v) / step).toFixed(1)}%`;
  console.log(
    `| ${batchSize} | ${step.toFixed(0)} | ${seq.toFixed(1)} | ${pct(seq)} | ${shuf.toFixed(1)} | ${pct(shuf)} |`,
  );
}
const live = be.memory().liveBuffers;
x.dispose();
y.dispose();
if (be.memory().liveBuffers !== live - 2)
  console.log(`bench/data: buffers leaked; expected ${live - 2} live, got ${be.memory().liveBuffers}`);
