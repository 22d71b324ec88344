/**
 * @module ddp/ddp.test — `strategy: 'ddp'` end to end under Node: each case runs
 * test/ddp/fixtures/*.mjs as a child process (rank 0), which starts its worker_threads ranks
 * by re-running itself, exactly as a user's script would. The build (dist/lightning-ts.node.js)
 * is refreshed first when it is older than the sources.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, mtime, newestMtime, runChild, type RunResult } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'lightning-ts.node.js');
const TRAIN = join(ROOT, 'test', 'ddp', 'fixtures', 'train.mjs');
const MISMATCH = join(ROOT, 'test', 'ddp', 'fixtures', 'mismatch.mjs');
const BAD_WORKER = join(ROOT, 'test', 'ddp', 'fixtures', 'bad-worker.mjs');
/** A fault must end the run within seconds; this bounds the whole child process. */
const RUN_TIMEOUT_MS = 30_000;

interface TrainResult {
  losses: number[];
  globalStep: number;
  val?: Record<string, number>;
  test?: Record<string, number>;
  preds?: number[][];
  lastCkpt?: string;
  aloneAfterFit?: boolean;
}

const scratch: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lightning-ts-ddp-'));
  scratch.push(d);
  return d;
}

async function train(
  options: Record<string, unknown>,
): Promise<{ run: RunResult; result: TrainResult; weights: Float32Array; out: string }> {
  const out = tempDir();
  const run = await runChild(process.execPath, [TRAIN, JSON.stringify({ out, ...options })], {
    cwd: out,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  if (run.code !== 0)
    throw new Error(describeRun(`ddp: train.mjs ${JSON.stringify(options)} failed; expected exit 0`, run));
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, 'rank 0 printed its RESULT line').toBeDefined();
  const weights = readFloats(join(out, 'weights.bin'));
  return { run, result: JSON.parse(line!.slice(7)) as TrainResult, weights, out };
}

function readFloats(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * The CNN's losses and state (parameters, running stats, batch count) against one process: DDP
 * sums each BatchNorm statistic and each gradient as two half-batch sums added across the ranks,
 * where one process sums the global batch in one kernel, so they differ by float32 rounding
 * (~1e-7 relative each step); 50 SGD steps (lr 0.05, momentum 0.9) leave that near 1e-6
 * (measured: 7e-7 on losses, 6e-7 on the state), well under this bound.
 */
const CNN_TOL = 1e-5;
/** Parameters of test/ddp/fixtures/cnn.mjs (conv 40, BatchNorm 8, linear 650), then 9 buffer values. */
const CNN_PARAMS = 698;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('ddp (Node worker_threads)', () => {
  beforeAll(async () => {
    const sources = Math.max(newestMtime(join(ROOT, 'runtime'), ['.ts']), newestMtime(join(ROOT, 'bindings'), ['.ts']));
    if (mtime(BUNDLE) < sources) {
      const r = await runChild('npm', ['run', 'build:ts'], { cwd: ROOT, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(describeRun('ddp: npm run build:ts failed; expected exit 0', r));
    }
  }, 300_000);

  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  it('ddp: 2 ranks on half batches give the losses and weights of one process on the global batch (seed autoencoder, 50 steps), bitwise the same on a rerun', async () => {
    const single = await train({ devices: 1, steps: 50 });
    const ddp = await train({ devices: 2, steps: 50 });
    const again = await train({ devices: 2, steps: 50 });
    expect(single.weights.length).toBe(101_651);
    expect(ddp.result.globalStep).toBe(50);
    expect(ddp.result.losses).toHaveLength(50);
    expect(maxAbsDiff(ddp.result.losses, single.result.losses)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ddp.weights, single.weights)).toBeLessThan(1e-5);
    // A fixed reduction order: two DDP runs are bitwise identical.
    expect(Buffer.from(again.weights.buffer).equals(Buffer.from(ddp.weights.buffer))).toBe(true);
    // Code after fit runs on every rank, as in Lightning.
    expect(ddp.run.stdout).toContain('rank 0 of 2 after fit');
    expect(ddp.run.stdout).toContain('rank 1 of 2 after fit');
  }, 60_000);

  it('ddp: syncBatchnorm, a CNN with BatchNorm and Dropout on 2 ranks gives the losses, weights and running stats of one process on the global batch (50 steps), bitwise the same on a rerun and on both ranks', async () => {
    // Dropout draws the global batch's mask on every rank and keeps the rank's rows r::2, the rows
    // the DistributedSampler gives it; with one rank it is nn.Dropout itself (why: cnn.mjs).
    const cnn = { model: 'cnn', steps: 50 };
    const single = await train({ ...cnn, devices: 1 });
    const ddp = await train({ ...cnn, devices: 2, syncBatchnorm: true });
    const again = await train({ ...cnn, devices: 2, syncBatchnorm: true });
    expect(single.weights.length).toBe(CNN_PARAMS + 9);
    expect(ddp.result.losses).toHaveLength(50);
    expect(maxAbsDiff(ddp.result.losses, single.result.losses)).toBeLessThan(CNN_TOL);
    expect(maxAbsDiff(ddp.weights.subarray(0, CNN_PARAMS), single.weights.subarray(0, CNN_PARAMS))).toBeLessThan(
      CNN_TOL,
    );
    // running_mean, running_var (unbiased with the global count), num_batches_tracked
    expect(maxAbsDiff(ddp.weights.subarray(CNN_PARAMS), single.weights.subarray(CNN_PARAMS))).toBeLessThan(CNN_TOL);
    expect(ddp.weights.at(-1)).toBe(50);
    // The run's end gave the BatchNorm back its own statistics (a forward after fit needs no other rank).
    expect(ddp.result.aloneAfterFit).toBe(true);
    // The running stats moved far from their start (mean 0, variance 1), beyond the tolerance.
    expect(maxAbsDiff(single.weights.subarray(CNN_PARAMS, -1), [0, 0, 0, 0, 1, 1, 1, 1])).toBeGreaterThan(0.1);
    // The sums are in rank order and every rank reads the same: reruns and ranks are bitwise equal.
    const rank1 = readFloats(join(ddp.out, 'state-rank1.bin'));
    expect(Buffer.from(rank1.buffer).equals(Buffer.from(ddp.weights.buffer))).toBe(true);
    expect(Buffer.from(again.weights.buffer).equals(Buffer.from(ddp.weights.buffer))).toBe(true);
    // As Lightning: on one device syncBatchnorm changes nothing.
    const singleSync = await train({ ...cnn, devices: 1, syncBatchnorm: true });
    expect(Buffer.from(singleSync.weights.buffer).equals(Buffer.from(single.weights.buffer))).toBe(true);
  }, 60_000);

  it('ddp: without syncBatchnorm each rank normalises with its own half batch (as torch DDP), so the CNN trains differently from one process', async () => {
    const cnn = { model: 'cnn', steps: 50 };
    const single = await train({ ...cnn, devices: 1 });
    const ddp = await train({ ...cnn, devices: 2 });
    // Per-rank statistics change the very first loss, and the gap grows with training.
    expect(Math.abs(ddp.result.losses[0]! - single.result.losses[0]!)).toBeGreaterThan(10 * CNN_TOL);
    expect(maxAbsDiff(ddp.result.losses, single.result.losses)).toBeGreaterThan(100 * CNN_TOL);
    expect(maxAbsDiff(ddp.weights, single.weights)).toBeGreaterThan(100 * CNN_TOL);
    // The averaged gradients keep the parameters equal on both ranks; the running stats are each rank's own.
    const rank1 = readFloats(join(ddp.out, 'state-rank1.bin'));
    expect(maxAbsDiff(rank1.subarray(0, CNN_PARAMS), ddp.weights.subarray(0, CNN_PARAMS))).toBe(0);
    expect(maxAbsDiff(rank1.subarray(CNN_PARAMS), ddp.weights.subarray(CNN_PARAMS))).toBeGreaterThan(100 * CNN_TOL);
  }, 60_000);

  it('ddp: onTrainBatchStart returning -1 on one rank ends the epoch on every rank at that batch, as on one process', async () => {
    const single = await train({ devices: 1, steps: 20, maxEpochs: 1, endEpochAt: 7 });
    expect(single.result.globalStep).toBe(7);
    for (const endEpochRank of [0, 1]) {
      const ddp = await train({ devices: 2, steps: 20, maxEpochs: 1, endEpochAt: 7, endEpochRank });
      expect(ddp.result.globalStep).toBe(7);
      expect(maxAbsDiff(ddp.weights, single.weights)).toBeLessThan(1e-5);
    }
  }, 60_000);

  it('ddp: the process waits for code after fit on every rank (rank 1 finishing 500 ms after rank 0)', async () => {
    const r = await train({ devices: 2, steps: 5, afterFitDelayMs: 500 });
    expect(r.run.stdout).toContain('rank 0 of 2 after fit');
    expect(r.run.stdout).toContain('rank 1 of 2 after fit');
  }, 60_000);

  it("ddp: rank 0's weights reach every rank before the first step (each rank seeds its model differently)", async () => {
    const single = await train({ devices: 1, steps: 20, rankSeeds: true });
    const ddp = await train({ devices: 2, steps: 20, rankSeeds: true });
    expect(maxAbsDiff(ddp.weights, single.weights)).toBeLessThan(1e-5);
  }, 60_000);

  it('ddp: accumulateGradBatches with gradient clipping after the average, and 16-mixed with its scaler, match one process', async () => {
    // 16-mixed rounds each half batch's products to float16, so its gradients differ from the
    // full batch's by float16 rounding, which Adam's normalised step turns into ~1e-4 weight
    // differences after 20 steps (lr 1e-3): a looser bound there.
    const cases = [
      { extra: { accumulate: 2, clip: 0.05 }, tol: 1e-5 },
      { extra: { precision: '16-mixed' }, tol: 1e-3 },
    ];
    for (const { extra, tol } of cases) {
      const single = await train({ devices: 1, steps: 20, ...extra });
      const ddp = await train({ devices: 2, steps: 20, ...extra });
      expect(maxAbsDiff(ddp.result.losses, single.result.losses), JSON.stringify(extra)).toBeLessThan(tol);
      expect(maxAbsDiff(ddp.weights, single.weights), JSON.stringify(extra)).toBeLessThan(tol);
    }
  }, 80_000);

  it('ddp: manual optimization (manualBackward averages the gradients, as torch DDP in backward), also stepping every 2 batches, matches one process', async () => {
    for (const manualEvery of [1, 2]) {
      const single = await train({ devices: 1, steps: 20, manual: true, manualEvery });
      const ddp = await train({ devices: 2, steps: 20, manual: true, manualEvery });
      expect(ddp.result.globalStep).toBe(20);
      expect(ddp.result.losses).toHaveLength(20 * manualEvery);
      expect(maxAbsDiff(ddp.result.losses, single.result.losses)).toBeLessThan(1e-5);
      expect(maxAbsDiff(ddp.weights, single.weights)).toBeLessThan(1e-5);
      // without the average the ranks would drift apart from one process at once
      expect(maxAbsDiff(ddp.weights, (await train({ devices: 1, steps: 0 })).weights)).toBeGreaterThan(1e-3);
    }
  }, 90_000);

  it('ddp: validate, test (syncDist means) and predict (gathered in the loader order on rank 0) match one process', async () => {
    const single = await train({ devices: 1, steps: 10, evaluate: true });
    const ddp = await train({ devices: 2, steps: 10, evaluate: true });
    expect(ddp.result.val!['val_loss']).toBeCloseTo(single.result.val!['val_loss']!, 5);
    expect(ddp.result.test!['test_loss']).toBeCloseTo(single.result.test!['test_loss']!, 5);
    expect(ddp.result.preds).toHaveLength(single.result.preds!.length);
    expect(maxAbsDiff(ddp.result.preds!.flat(), single.result.preds!.flat())).toBeLessThan(1e-5);
  }, 60_000);

  it('ddp: only rank 0 writes logs and checkpoints; a DDP checkpoint resumes in one process and a single-process one under DDP', async () => {
    const ddp = await train({ devices: 2, steps: 8, everyN: 4, logger: true });
    expect(readdirSync(join(ddp.out, 'lightning_logs'))).toEqual(['version_0']);
    const ckpt = join(ddp.out, 'lightning_logs', 'version_0', 'checkpoints', 'last.ckpt');
    const resumedSingle = await train({ devices: 1, steps: 12, resume: ckpt });
    expect(resumedSingle.result.globalStep).toBe(12);
    expect(resumedSingle.result.losses).toHaveLength(4);
    const single = await train({ devices: 1, steps: 8, everyN: 4 });
    const resumedDdp = await train({ devices: 2, steps: 12, resume: join(single.out, 'checkpoints', 'last.ckpt') });
    expect(resumedDdp.result.globalStep).toBe(12);
    expect(resumedDdp.result.losses).toHaveLength(4);
  }, 60_000);

  it('ddp: a rank whose step throws, or whose worker dies, ends fit on rank 0 with a DistributedError naming it; the last checkpoint stays loadable', async () => {
    for (const fault of ['throw', 'exit']) {
      const out = tempDir();
      const started = Date.now();
      const r = await runChild(
        process.execPath,
        [TRAIN, JSON.stringify({ out, devices: 2, steps: 50, fault, everyN: 4 })],
        {
          cwd: out,
          timeoutMs: RUN_TIMEOUT_MS,
        },
      );
      expect(r.code, describeRun(`fault ${fault}`, r)).toBe(1);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(r.stderr).toMatch(/DistributedError: DDP: rank 1 failed/);
      expect(r.stderr).toContain(fault === 'throw' ? 'RangeError: injected fault on rank 1' : 'exit code 3');
      const ckpt = join(out, 'checkpoints', 'last.ckpt');
      const resumed = await train({ devices: 1, steps: 10, resume: ckpt });
      expect(resumed.result.globalStep).toBe(10);
    }
  }, 80_000);

  it('ddp: a model whose parameters differ in shape between ranks (same number of values) stops every rank with a DistributedError naming the first difference', async () => {
    const r = await runChild(process.execPath, [MISMATCH], { cwd: tempDir(), timeoutMs: RUN_TIMEOUT_MS });
    expect(r.code, describeRun('mismatch', r)).toBe(1);
    expect(r.stderr).toMatch(
      /DistributedError: DDP: rank 1 failed.*rank 1's model has 'scale: float32\[4, 6\]' where rank 0's has 'scale: float32\[6, 4\]' \(parameter or buffer 1 of 3\).*call manualSeed before building the model/,
    );
  }, 60_000);

  it('ddp: syncBatchnorm, a rank whose step throws, or whose worker exits, while rank 0 blocks in a BatchNorm sum ends fit with a DistributedError naming it', async () => {
    for (const fault of ['throw', 'exit']) {
      const out = tempDir();
      const started = Date.now();
      const r = await runChild(
        process.execPath,
        [TRAIN, JSON.stringify({ out, model: 'cnn', devices: 2, steps: 50, syncBatchnorm: true, fault })],
        { cwd: out, timeoutMs: RUN_TIMEOUT_MS },
      );
      expect(r.code, describeRun(`fault ${fault}`, r)).toBe(1);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(r.stderr).toMatch(/DistributedError: DDP: rank 1 failed/);
      expect(r.stderr).toContain(fault === 'throw' ? 'RangeError: injected fault on rank 1' : 'exit code 3');
    }
  }, 60_000);

  it('ddp: a script that cannot be loaded in a worker, or no script at all (node -e), fails with a WorkerStartError', async () => {
    const bad = await runChild(process.execPath, [BAD_WORKER], { cwd: ROOT, timeoutMs: RUN_TIMEOUT_MS });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/WorkerStartError: DDP: rank 1 could not join.*this script needs the main thread/);
    const code = [
      `import { DataLoader, LightningModule, TensorDataset, Trainer, F, nn, optim, rand } from ${JSON.stringify(BUNDLE)};`,
      'class M extends LightningModule { constructor() { super(); this.l = new nn.Linear(4, 1); }',
      '  trainingStep([x]) { return F.mseLoss(this.l.forward(x), x.sum(1, true)); }',
      '  configureOptimizers() { return new optim.SGD(this.parameters(), { lr: 0.1 }); } }',
      "await new Trainer({ strategy: 'ddp', devices: 2, maxSteps: 2, logger: false }).fit(new M(), new DataLoader(new TensorDataset(rand([8, 4])), { batchSize: 2 }));",
    ].join('\n');
    const evalRun = await runChild(process.execPath, ['--input-type=module', '-e', code], {
      cwd: tempDir(),
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expect(evalRun.code).toBe(1);
    expect(evalRun.stderr).toMatch(
      /WorkerStartError: DDP: no script file to re-run in the workers; expected the Trainer in a script run as `node train.mjs`/,
    );
  }, 60_000);
});
