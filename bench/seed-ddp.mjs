// @module bench/seed-ddp — the DDP peer of bench/seed.mjs in a fresh Node process: ours
// Trainer.fit with `strategy: 'ddp', devices: 2` on the seed autoencoder (784→64→ReLU→3 /
// 3→64→ReLU→784, mse, Adam lr 1e-3, β 0.9/0.999, ε 1e-8), and one JSON line from rank 0.
//
// Fairness — what it does per step, and why:
// - the same Trainer as the `ours-trainer` row of bench/seed-worker.mjs (its defaults:
//   TensorBoard logger in a temp dir, progress bar writing non-TTY lines to /dev/null, model
//   summary, checkpointing on; accelerator 'cpu'; relaxed kernels), plus `strategy: 'ddp',
//   devices: 2`: this process is rank 0 and one worker_threads worker, which re-runs this file
//   (as DDP re-runs the user's script), is rank 1; 2 ranks on this 2-core VM;
// - `batch` is the global batch, as the other rows' batch: each rank's DataLoader takes
//   batch / 2 rows per step (the DistributedSampler shards the same resident data set), so one
//   optimizer step covers `batch` samples, and samples/s counts the global samples per step;
//   there is no batch-1 row (a global batch of 1 cannot be split over 2 ranks);
// - every step: each rank's forward, backward, the all-reduce of the gradients (every step,
//   through the shared buffer), Adam on each rank; W warm-up steps, then N timed steps, timed on
//   rank 0 from the end of step W to the end of step W + N (the ranks are in lockstep at every
//   all-reduce, so rank 0's clock is the pool's);
// - startup mode: from the start of the library's import to the end of the first step on rank 0:
//   so it includes starting the pool (spawning the worker, which imports the library and this
//   file again) and the broadcast of rank 0's weights; peak RSS is the whole process (both ranks).
// Usage: node --experimental-wasm-relaxed-simd bench/seed-ddp.mjs '{"peer":"ours-ddp2","batch":32,
//   "warmup":50,"timed":1024,"data":"/tmp/x.f32","samples":8192,"mode":"time"|"startup"}'
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FEATURES, readSeedData } from './seed-data.mjs';

const DEVICES = 2;
const args = JSON.parse(process.argv[2]);
const { peer, batch, data: dataPath, mode } = args;
const startup = mode === 'startup';
const warmup = startup ? 0 : args.warmup;
const timed = startup ? 1 : args.timed; // optimizer steps
const rows = startup ? batch : args.samples;
if (batch % DEVICES !== 0) throw new Error(`seed-ddp: batch ${batch} does not split over ${DEVICES} ranks`);

const importStart = performance.now();
const lt = await import('lightning-ts');
const { LitAutoEncoder } = await import('./seed-model.mjs');
if (lt.getDefaultBackend().variant !== 'relaxed')
  throw new Error('seed-ddp: relaxed kernels did not load; run node with --experimental-wasm-relaxed-simd');
const data = readSeedData(dataPath, rows);
const x = lt.tensor(data).view(rows, FEATURES);
const loader = new lt.DataLoader(new lt.TensorDataset(x), { batchSize: batch / DEVICES, shuffle: false });
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
let t0 = startup ? importStart : 0;
let ms = 0;
let firstStepEnd = 0;
class Clock extends lt.Callback {
  onTrainBatchEnd(trainer) {
    if (trainer.globalStep === warmup) t0 = performance.now();
    if (trainer.globalStep === warmup + timed) ms = performance.now() - t0;
    if (trainer.globalStep === 1) firstStepEnd = performance.now();
  }
}
lt.manualSeed(0);
const model = new LitAutoEncoder();
const root = mkdtempSync(join(tmpdir(), 'lightning-ts-seed-ddp-'));
const trainer = new lt.Trainer({
  accelerator: 'cpu',
  strategy: 'ddp',
  devices: DEVICES,
  maxSteps: warmup + timed,
  defaultRootDir: root,
  callbacks: [new Clock()],
});
try {
  await trainer.fit(model, loader);
  await model.encoder.parameters()[0].data();
} finally {
  if (trainer.isGlobalZero) rmSync(root, { recursive: true, force: true });
}
if (trainer.isGlobalZero) {
  const out = {
    peer,
    batch,
    steps: timed,
    ms,
    samplesPerSec: (timed * batch * 1000) / ms,
    maxRssKB: process.resourceUsage().maxRSS,
    firstStepMs: startup ? firstStepEnd - importStart : undefined,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}
