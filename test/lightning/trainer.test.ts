/**
 * @module lightning/trainer.test — the Trainer end to end: the seed trains, limits and cadences,
 * accumulation and clipping against a hand loop, the log folder layout, progress output.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualSeed } from '../../runtime/random.ts';
import { liveBuffers, tidy } from '../../runtime/memory.ts';
import { LightningDataModule } from '../../runtime/lightning/datamodule.ts';
import { MisconfigurationError } from '../../runtime/lightning/errors.ts';
import type { Optimizer } from '../../runtime/optim/optimizer.ts';
import { mseLoss } from '../../runtime/nn/loss-functions.ts';
import { Adam } from '../../runtime/optim/adam.ts';
import { ones, type Tensor } from '../../runtime/tensor/index.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { clipGradNorm_, clipGradValue_ } from '../../runtime/lightning/optimizers.ts';
import {
  LitAutoEncoder,
  LitAutoEncoderVal,
  digitLoader,
  setTTY,
  takeOutput,
  tempFolder,
  useWasmRuntime,
} from './trainer-helpers.ts';

let dir: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  await useWasmRuntime();
});
beforeEach(async () => {
  dir = await tempFolder();
  takeOutput();
  setTTY(false);
});
afterEach(async () => {
  await dir.cleanup();
});

/** Train-loss readings at each epoch end, by a module that records them. */
class RecordingAE extends LitAutoEncoder {
  losses: number[] = [];
  override onTrainEpochEnd(): void {
    const v = this.trainer.callbackMetrics['train_loss'];
    if (v !== undefined) this.losses.push(v);
  }
}

describe('Trainer', () => {
  it('Trainer: the seed autoencoder trains end to end on the wasm backend with a decreasing loss', async () => {
    manualSeed(0);
    const model = new RecordingAE();
    const before = await meanLoss(model);
    const trainer = new Trainer({ maxEpochs: 3, defaultRootDir: dir.path, logEveryNSteps: 5 });
    await trainer.fit(model, digitLoader(256, { batchSize: 16, shuffle: true }));
    const after = await meanLoss(model);
    expect(trainer.globalStep).toBe(3 * 16);
    expect(trainer.currentEpoch).toBe(3);
    expect(after).toBeLessThan(before * 0.8);
    expect(model.losses.length).toBe(3);
    const out = takeOutput();
    expect(out).toContain('Trainable params');
    expect(out).toContain('Epoch 2:');
  });
});

/** Counts step calls. */
class Counting extends LitAutoEncoderVal {
  nTrain = 0;
  nVal = 0;
  override trainingStep(batch: [Tensor, Tensor]): Tensor {
    this.nTrain++;
    return super.trainingStep(batch);
  }
  override validationStep(batch: [Tensor, Tensor]): void {
    this.nVal++;
    super.validationStep(batch);
  }
}

const quiet = {
  enableProgressBar: false,
  enableModelSummary: false,
  enableCheckpointing: false,
  logger: false,
} as const;

describe('Trainer loops', () => {
  it("Trainer: limits, sanity steps and validation cadence give Lightning's counts", async () => {
    const run = async (opts: Record<string, unknown>, nTrain = 64, nVal = 32): Promise<Counting> => {
      const m = new Counting();
      await new Trainer({ ...quiet, ...opts }).fit(
        m,
        digitLoader(nTrain, { batchSize: 8 }),
        digitLoader(nVal, { batchSize: 8 }),
      );
      return m;
    };
    let m = await run({ maxEpochs: 2 });
    expect([m.nTrain, m.nVal]).toEqual([16, 2 + 2 * 4]);
    m = await run({ maxEpochs: 2, limitTrainBatches: 3, limitValBatches: 2, numSanityValSteps: 0 });
    expect([m.nTrain, m.nVal]).toEqual([6, 4]);
    m = await run({ maxEpochs: 1, limitTrainBatches: 0.5, limitValBatches: 0.25, numSanityValSteps: 0 });
    expect([m.nTrain, m.nVal]).toEqual([4, 1]);
    m = await run({ maxEpochs: 1, valCheckInterval: 0.25, limitValBatches: 1, numSanityValSteps: 0 });
    expect([m.nTrain, m.nVal]).toEqual([8, 4]);
    m = await run({ maxEpochs: 1, valCheckInterval: 3, limitValBatches: 1, numSanityValSteps: 0 });
    expect([m.nTrain, m.nVal]).toEqual([8, 2]);
    m = await run({ maxEpochs: 3, checkValEveryNEpoch: 2, limitValBatches: 1, numSanityValSteps: 0 });
    expect([m.nTrain, m.nVal]).toEqual([24, 1]);
    m = await run({ maxEpochs: 5, maxSteps: 5, numSanityValSteps: 0, limitValBatches: 0 });
    expect([m.nTrain, m.nVal]).toEqual([5, 0]);
    m = await run({ maxEpochs: 5, maxTime: { seconds: 0 }, numSanityValSteps: 0 });
    expect([m.nTrain, m.nVal]).toEqual([0, 0]);
    m = await run({ fastDevRun: true });
    expect([m.nTrain, m.nVal]).toEqual([1, 1]);
    m = await run({ maxEpochs: 1, overfitBatches: 2, numSanityValSteps: 0 });
    expect([m.nTrain, m.nVal]).toEqual([2, 2]);
    await expect(run({ maxEpochs: 1, valCheckInterval: 20 })).rejects.toThrow(
      /valCheckInterval \(20\) must be at most/,
    );
  });

  it('Trainer: accumulateGradBatches and gradient clipping match a hand-written loop bitwise', async () => {
    for (const clip of [
      {},
      { gradientClipVal: 0.05 },
      { gradientClipVal: 0.001, gradientClipAlgorithm: 'value' as const },
    ]) {
      manualSeed(11);
      const auto = new LitAutoEncoder();
      await new Trainer({ ...quiet, maxEpochs: 1, accumulateGradBatches: 3, ...clip }).fit(
        auto,
        digitLoader(56, { batchSize: 8 }),
      );

      manualSeed(11);
      const hand = new LitAutoEncoder();
      const opt = new Adam(hand.parameters(), { lr: 1e-3 });
      const batches: [Tensor, Tensor][] = [];
      for await (const b of digitLoader(56, { batchSize: 8 }) as AsyncIterable<[Tensor, Tensor]>) batches.push(b);
      for (let i = 0; i < batches.length; i++) {
        tidy(() => {
          const [x] = batches[i]!;
          const flat = x.view(x.size(0), -1);
          mseLoss(hand.decoder.forward(hand.encoder.forward(flat)), flat)
            .div(3)
            .backward();
        });
        if ((i + 1) % 3 === 0 || i === batches.length - 1) {
          if ('gradientClipAlgorithm' in clip) clipGradValue_(hand.parameters(), clip.gradientClipVal!);
          else if ('gradientClipVal' in clip) clipGradNorm_(hand.parameters(), clip.gradientClipVal!);
          opt.step();
          opt.zeroGrad();
        }
      }
      const a = auto.parameters();
      const h = hand.parameters();
      for (let k = 0; k < a.length; k++) expect(Array.from(await a[k]!.data())).toEqual(Array.from(await h[k]!.data()));
    }
  });

  it('clipGradNorm_: scales the total 2-norm to maxNorm as torch.nn.utils.clip_grad_norm_', async () => {
    const m = new LitAutoEncoder();
    tidy(() => {
      m.encoder.forward(zerosLikeInput()).sum().mul(100).backward();
    });
    clipGradNorm_(m.parameters(), 0.5);
    let sq = 0;
    for (const p of m.parameters()) if (p.grad !== null) for (const v of await p.grad.data()) sq += Number(v) ** 2;
    expect(Math.sqrt(sq)).toBeCloseTo(0.5, 4);
    m.zeroGrad();
  });

  it('Trainer: writes lightning_logs/version_N with event file, hparams.yaml and checkpoints', async () => {
    for (let v = 0; v < 2; v++) {
      await new Trainer({
        enableProgressBar: false,
        enableModelSummary: false,
        maxEpochs: 1,
        defaultRootDir: dir.path,
      }).fit(new LitAutoEncoder(), digitLoader(16, { batchSize: 8 }));
    }
    expect(readdirSync(join(dir.path, 'lightning_logs')).sort()).toEqual(['version_0', 'version_1']);
    const files = readdirSync(join(dir.path, 'lightning_logs', 'version_1')).sort();
    expect(files[0]).toBe('checkpoints');
    expect(files[1]).toMatch(/^events\.out\.tfevents\.\d+\./);
    expect(files[2]).toBe('hparams.yaml');
    expect(readdirSync(join(dir.path, 'lightning_logs', 'version_1', 'checkpoints'))).toEqual(['epoch=0-step=2.ckpt']);
    expect(existsSync(join(dir.path, 'lightning_logs', 'version_0', 'checkpoints', 'epoch=0-step=2.ckpt'))).toBe(true);
  });

  it('Trainer: a step leaves no tensors behind (the live-buffer count returns to where it was)', async () => {
    const counts: number[] = [];
    class Leaks extends LitAutoEncoderVal {
      override onTrainEpochEnd(): void {
        counts.push(liveBuffers().liveBuffers);
      }
    }
    await new Trainer({ ...quiet, maxEpochs: 4, logEveryNSteps: 1 }).fit(
      new Leaks(),
      digitLoader(24, { batchSize: 8 }),
      digitLoader(16, { batchSize: 8 }),
    );
    expect(counts.length).toBe(4);
    // The first epoch creates Adam's state; after that every epoch ends where the last one did.
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it('Trainer: manual optimization with optimizers() and manualBackward counts steps', async () => {
    class Manual extends LitAutoEncoder {
      constructor() {
        super();
        this.automaticOptimization = false;
      }
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        const opt = this.optimizers() as Optimizer;
        opt.zeroGrad();
        let [x] = batch;
        x = x.view(x.size(0), -1);
        const loss = mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
        this.manualBackward(loss);
        opt.step();
        this.log('loss', loss);
        return loss;
      }
    }
    const t = new Trainer({ ...quiet, maxEpochs: 2 });
    await t.fit(new Manual(), digitLoader(24, { batchSize: 8 }));
    expect(t.globalStep).toBe(6);
  });

  it('Trainer: a trainingStep that returns nothing or a non-scalar is a MisconfigurationError', async () => {
    class Nothing extends LitAutoEncoder {
      override trainingStep(): Tensor {
        return undefined as unknown as Tensor;
      }
    }
    class Vector extends LitAutoEncoder {
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        const [x] = batch;
        const flat = x.view(x.size(0), -1);
        return this.decoder.forward(this.encoder.forward(flat)).sub(flat).square().mean(1);
      }
    }
    await expect(new Trainer({ ...quiet, maxEpochs: 1 }).fit(new Nothing(), digitLoader(8))).rejects.toThrow(
      /returned nothing; expected a scalar loss tensor/,
    );
    await expect(new Trainer({ ...quiet, maxEpochs: 1 }).fit(new Vector(), digitLoader(8))).rejects.toThrow(
      /the loss is not a scalar; expected a one-element tensor, got shape \[8\]/,
    );
    await expect(new Trainer({ ...quiet, maxEpochs: 1 }).fit(new LitAutoEncoder(), null)).rejects.toThrow(
      MisconfigurationError,
    );
  });

  it('Trainer: a datamodule supplies loaders; validate, test and predict run their loops', async () => {
    const calls: string[] = [];
    class DM extends LightningDataModule {
      override prepareData(): void {
        calls.push('prepare');
      }
      override setup(stage: string): void {
        calls.push(`setup:${stage}`);
      }
      override trainDataloader() {
        return digitLoader(16, { batchSize: 8 });
      }
      override valDataloader() {
        return digitLoader(16, { batchSize: 8, offset: 1 });
      }
      override testDataloader() {
        return digitLoader(8, { batchSize: 4, offset: 2 });
      }
      override predictDataloader() {
        return digitLoader(8, { batchSize: 4, offset: 3 });
      }
    }
    class Full extends LitAutoEncoderVal {
      override testStep(batch: [Tensor, Tensor]): void {
        this.log('test_n', batch[0].size(0), { reduceFx: 'sum' });
      }
      override predictStep(batch: [Tensor, Tensor]): Tensor {
        return this.forward(batch[0].view(batch[0].size(0), -1));
      }
    }
    const dm = new DM();
    const m = new Full();
    const t = new Trainer({ ...quiet, maxEpochs: 1 });
    await t.fit(m, undefined, undefined, { datamodule: dm });
    const [v] = await t.validate(m, undefined, { datamodule: dm });
    expect(v!['val_loss']).toBeGreaterThan(0);
    const [r] = await t.test(m, undefined, { datamodule: dm });
    expect(r!['test_n']).toBe(8);
    const preds = (await t.predict(m, undefined, { datamodule: dm })) as Tensor[];
    expect(preds.map((p) => p.shape)).toEqual([
      [4, 3],
      [4, 3],
    ]);
    expect(calls).toEqual([
      'prepare',
      'setup:fit',
      'prepare',
      'setup:validate',
      'prepare',
      'setup:test',
      'prepare',
      'setup:predict',
    ]);
  });
});

function zerosLikeInput(): Tensor {
  return onesInput();
}

async function meanLoss(model: LitAutoEncoder): Promise<number> {
  let total = 0;
  let n = 0;
  for await (const [x] of digitLoader(128, { batchSize: 32, offset: 7 }) as AsyncIterable<[Tensor, Tensor]>) {
    const v = await tidy(async () => {
      const flat = x.view(x.size(0), -1);
      return mseLoss(model.decoder.forward(model.encoder.forward(flat)), flat).item();
    });
    total += v;
    n++;
  }
  return total / n;
}

function onesInput(): Tensor {
  return ones([2, 784]);
}
