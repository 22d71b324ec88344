// @module bench/seed-worker — one peer of bench/seed.mjs in a fresh Node process: trains the
// seed autoencoder (784→64→ReLU→3 / 3→64→ReLU→784, mse, Adam lr 1e-3, β 0.9/0.999, ε 1e-8) on
// the shared float32 file, in file order (it was shuffled once when written), and prints one
// JSON line: timed samples/s, peak RSS (process.resourceUsage().maxRSS).
//
// Fairness — what each peer does per step, and why:
// - every peer holds the whole data set resident in its own tensor memory and takes each batch
//   as the next `batch` rows (wrapping at the end), as a DataLoader over an in-memory data set
//   does; no peer re-reads the file or converts pixels inside the timed loop;
// - every step is: take the batch, forward, mse loss, backward, Adam update, clear gradients;
//   no peer reads the loss back per step (ours: the Trainer row logs `train_loss`, batched by
//   its logEveryNSteps, because that is what "default logging" costs);
// - after W untimed warm-up steps (JIT tier-up, wasm memory growth, allocator caches), N steps
//   are timed, and one weight is read back at the end so queued work cannot escape the clock;
// - ours-relaxed / ours-simd: our bare loop (bench/seed-model.mjs, the same loop as
//   bench/trainer.mjs): DataLoader over a TensorDataset (one slice per batch), one tidy per step;
//   relaxed = init() under --experimental-wasm-relaxed-simd (FMA), simd = init({ deterministic: true });
// - ours-trainer: Trainer.fit with its defaults: TensorBoard logger in a temp dir, progress bar
//   on but writing non-TTY lines to /dev/null (as in a CI log), model summary, checkpointing on
//   (the checkpoint is written when fit ends, after the timed window); relaxed kernels;
//   accelerator 'cpu' stated, because this table compares CPU training (the default 'auto'
//   would first probe for a WebGPU adapter through Dawn, ~80 ms and ~60 MB in Node);
// - tfjs-wasm / tfjs-cpu: TF.js's fastest honest loop: tf.variable weights stored [in, out]
//   (pre-transposed, so the forward matMul needs no transposed operand, which TF.js runs slowly),
//   a tf.customGrad linear whose gradient transposes explicitly and then runs plain matMuls,
//   `optimizer.minimize` with tf.train.adam, one tf.tidy per step, each batch uploaded from the
//   resident Float32Array (tf.slice of a big tensor is slower than a step on wasm); wasm
//   single-threaded (as ours). TF.js gradients come from importing @tensorflow/tfjs-layers (its
//   Node bundle registers them, as the @tensorflow/tfjs bundle users import does);
// - tfjs-wasm-fit: tf.LayersModel (@tensorflow/tfjs-layers) `model.fit` with Dense layers,
//   shuffle off, verbose 0; the timed call covers the N samples in whole epochs (its per-call
//   and per-epoch setup is part of what model.fit costs).
// Usage: node --experimental-wasm-relaxed-simd bench/seed-worker.mjs '{"peer":...,"batch":32,
//   "warmup":50,"timed":1024,"data":"/tmp/x.f32","samples":8192,"mode":"time"|"startup"}'
import { join } from 'node:path';
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { FEATURES, readSeedData } from './seed-data.mjs';
import { useTfjsWasm } from './tfjs-wasm.mjs';

const args = JSON.parse(process.argv[2]);
const { peer, batch, data: dataPath, mode } = args;
const startup = mode === 'startup';
const warmup = startup ? 0 : args.warmup;
const timed = startup ? 1 : args.timed; // steps
const rows = startup ? batch : args.samples;
const data = readSeedData(dataPath, rows);

// startup mode: ms from the start of the library's import to the end of the first training
// step, in this process (the spawn-to-exit wall time is taken by bench/seed.mjs)
let importStart = 0;
let firstStepEnd = 0;
const result = (ms) => {
  if (firstStepEnd === 0) firstStepEnd = performance.now();
  const firstStepMs = startup ? firstStepEnd - importStart : undefined;
  const out = {
    peer,
    batch,
    steps: timed,
    ms,
    samplesPerSec: (timed * batch * 1000) / ms,
    maxRssKB: process.resourceUsage().maxRSS,
    firstStepMs,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
};

if (peer.startsWith('ours')) await ours();
else await tfjs();

async function ours() {
  importStart = performance.now();
  const lt = await import('lightning-ts');
  const { LitAutoEncoder, bareLoop } = await import('./seed-model.mjs');
  if (peer === 'ours-simd') await lt.init({ deterministic: true });
  else if (lt.getDefaultBackend().variant !== 'relaxed')
    throw new Error('seed-worker: relaxed kernels did not load; run node with --experimental-wasm-relaxed-simd');
  const x = lt.tensor(data).view(rows, FEATURES);
  const loader = new lt.DataLoader(new lt.TensorDataset(x), { batchSize: batch, shuffle: false });
  if (peer === 'ours-trainer') {
    const devnull = openSync('/dev/null', 'w');
    lt.setPlatform({
      ...lt.nodePlatform,
      stdout: {
        write: (text) => {
          writeSync(devnull, text);
        },
        isTTY: false,
      },
    });
    let t0 = startup ? performance.now() : 0;
    let ms = 0;
    class Clock extends lt.Callback {
      onTrainBatchEnd(trainer) {
        if (trainer.globalStep === warmup) t0 = performance.now();
        if (trainer.globalStep === warmup + timed) ms = performance.now() - t0;
        if (trainer.globalStep === 1) firstStepEnd = performance.now();
      }
    }
    lt.manualSeed(0);
    const model = new LitAutoEncoder();
    const root = mkdtempSync(join(tmpdir(), 'lightning-ts-seed-'));
    try {
      await new lt.Trainer({
        accelerator: 'cpu',
        maxSteps: warmup + timed,
        defaultRootDir: root,
        callbacks: [new Clock()],
      }).fit(model, loader);
      await model.encoder.parameters()[0].data();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    result(ms);
    return;
  }
  const bare = bareLoop(loader, 0);
  for (let i = 0; i < warmup; i++) await bare.step();
  const t0 = performance.now();
  for (let i = 0; i < timed; i++) await bare.step();
  await bare.model.encoder.parameters()[0].data();
  result(performance.now() - t0);
  await bare.close();
}

async function tfjs() {
  importStart = performance.now();
  const tf = await import('@tensorflow/tfjs-core');
  // tfjs-core's Node build registers no gradients; the layers bundle (part of @tensorflow/tfjs,
  // what users import) registers them all, as the full tfjs bundle does
  const tfl = await import('@tensorflow/tfjs-layers');
  if (peer.startsWith('tfjs-wasm')) {
    await useTfjsWasm(tf);
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  }
  await tf.ready();
  // a batch is uploaded from the resident Float32Array: tf.slice of one big [rows, 784] tensor
  // costs the wasm backend ~6 ms per batch (measured), more than a training step
  const upload = (at, n) => tf.tensor2d(data.subarray(at * FEATURES, (at + n) * FEATURES), [n, FEATURES]);
  const adam = () => tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  if (peer === 'tfjs-wasm-fit') {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [FEATURES], units: 64, activation: 'relu' }),
        tfl.layers.dense({ units: 3 }),
        tfl.layers.dense({ units: 64, activation: 'relu' }),
        tfl.layers.dense({ units: FEATURES }),
      ],
    });
    model.compile({ optimizer: adam(), loss: 'meanSquaredError' });
    const fit = async (steps) => {
      // whole epochs over the first rows: steps*batch samples, as few epochs as the data allows
      const n = steps * batch;
      const epochs = Math.ceil(n / rows);
      const per = n / epochs;
      if (!Number.isInteger(per / batch))
        throw new Error(`seed-worker: ${n} samples do not split into ${epochs} epochs of whole batches`);
      const xs = upload(0, per);
      await model.fit(xs, xs, { batchSize: batch, epochs, shuffle: false, verbose: 0 });
      xs.dispose();
    };
    if (warmup > 0) await fit(warmup);
    const t0 = performance.now();
    await fit(timed);
    model.getWeights()[0].dataSync();
    result(performance.now() - t0);
    return;
  }
  // weights [in, out] (pre-transposed): y = x·W + b; torch.nn.Linear's default init bounds.
  // The gradient transposes explicitly (tf.transpose, then a plain matMul): TF.js's built-in
  // matMul gradient uses transposed matMuls, ~2× slower per step on wasm (measured).
  const mm = tf.customGrad((x, w, save) => {
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy, [xs, ws]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)],
    };
  });
  const lin = (fin, fout) => {
    const bound = 1 / Math.sqrt(fin);
    return [
      tf.variable(tf.randomUniform([fin, fout], -bound, bound, 'float32', 1)),
      tf.variable(tf.randomUniform([fout], -bound, bound, 'float32', 2)),
    ];
  };
  const [w1, b1] = lin(FEATURES, 64);
  const [w2, b2] = lin(64, 3);
  const [w3, b3] = lin(3, 64);
  const [w4, b4] = lin(64, FEATURES);
  const vars = [w1, b1, w2, b2, w3, b3, w4, b4];
  const opt = adam();
  let at = 0;
  const step = () =>
    tf.tidy(() => {
      if (at + batch > rows) at = 0;
      const x = upload(at, batch);
      at += batch;
      opt.minimize(
        () => {
          const h = tf.relu(tf.add(mm(x, w1), b1));
          const z = tf.add(mm(h, w2), b2);
          const h2 = tf.relu(tf.add(mm(z, w3), b3));
          const y = tf.add(mm(h2, w4), b4);
          return tf.mean(tf.squaredDifference(y, x));
        },
        false,
        vars,
      );
    });
  for (let i = 0; i < warmup; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < timed; i++) step();
  w1.dataSync();
  result(performance.now() - t0);
}
