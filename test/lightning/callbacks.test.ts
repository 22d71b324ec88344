/**
 * @module lightning/callbacks.test — EarlyStopping, ModelCheckpoint top-k, LearningRateMonitor,
 * hook order, and monitor keys that are never logged.
 */
import { readdirSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { manualSeed } from '../../runtime/random.ts';
import { Adam } from '../../runtime/optim/adam.ts';
import { StepLR } from '../../runtime/optim/lr-scheduler.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { Callback } from '../../runtime/lightning/callbacks/callback.ts';
import { EarlyStopping } from '../../runtime/lightning/callbacks/early-stopping.ts';
import { ModelCheckpoint, formatCheckpointName } from '../../runtime/lightning/callbacks/model-checkpoint.ts';
import { LearningRateMonitor } from '../../runtime/lightning/callbacks/lr-monitor.ts';
import { MisconfigurationError, NonFiniteMetricError } from '../../runtime/lightning/errors.ts';
import { readCheckpoint } from '../../runtime/lightning/checkpoint.ts';
import type { OptimizersConfig } from '../../runtime/lightning/optimizers.ts';
import { LitAutoEncoder, digitLoader, tempFolder, useWasmRuntime } from './trainer-helpers.ts';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  await useWasmRuntime();
});
beforeEach(async () => {
  dir = await tempFolder();
});
afterEach(async () => {
  await dir.cleanup();
});

const quiet = { enableProgressBar: false, enableModelSummary: false } as const;

/** Logs a scripted `score` per validation epoch. */
class Scripted extends LitAutoEncoder {
  readonly scores: number[];
  constructor(scores: number[]) {
    super();
    this.scores = scores;
  }
  override validationStep(): void {
    this.log('score', tensor(this.scores[this.currentEpoch] ?? 0));
  }
}

describe('callbacks', () => {
  it('EarlyStopping: stops after `patience` checks without improvement', async () => {
    const es = new EarlyStopping({ monitor: 'score', patience: 2 });
    const t = new Trainer({ ...quiet, logger: false, enableCheckpointing: false, maxEpochs: 10, callbacks: [es] });
    await t.fit(
      new Scripted([5, 4, 4.5, 4.2, 1, 0]),
      digitLoader(8, { batchSize: 8 }),
      digitLoader(8, { batchSize: 8 }),
    );
    expect(t.currentEpoch).toBe(4); // epochs 0..3 ran; epoch 3 was the second without improvement
    expect(es.stoppedEpoch).toBe(3);
    expect(es.bestScore).toBe(4);
    expect(es.stoppingReason).toMatch(/did not improve in the last 2 records/);
  });

  it('EarlyStopping: minDelta, mode max, stoppingThreshold, divergenceThreshold and checkFinite', async () => {
    const run = async (es: EarlyStopping, scores: number[]): Promise<number> => {
      const t = new Trainer({
        ...quiet,
        logger: false,
        enableCheckpointing: false,
        maxEpochs: scores.length,
        callbacks: [es],
      });
      await t.fit(new Scripted(scores), digitLoader(8, { batchSize: 8 }), digitLoader(8, { batchSize: 8 }));
      return t.currentEpoch;
    };
    expect(
      await run(new EarlyStopping({ monitor: 'score', mode: 'max', patience: 1, minDelta: 0.5 }), [1, 1.2, 1.4, 3]),
    ).toBe(2);
    expect(await run(new EarlyStopping({ monitor: 'score', stoppingThreshold: 0.5 }), [3, 2, 0.1, 0])).toBe(3);
    const diverge = new EarlyStopping({ monitor: 'score', patience: 5, divergenceThreshold: 10 });
    expect(await run(diverge, [3, 2, 12, 1])).toBe(3);
    expect(diverge.stoppingReason).toMatch(/^Divergence threshold reached: score = 12 > 10/);
    const maxDiverge = new EarlyStopping({ monitor: 'score', mode: 'max', patience: 5, divergenceThreshold: 0 });
    expect(await run(maxDiverge, [3, 4, -1, 5])).toBe(3);
    const nan = new EarlyStopping({ monitor: 'score', patience: 5 });
    await expect(run(nan, [3, NaN, 1, 0])).rejects.toThrow(NonFiniteMetricError);
    expect(nan.stoppingReason).toMatch(/not finite/);
  });

  it('EarlyStopping: a monitor that is never logged fails at the first validation, not at the end', async () => {
    let epochs = 0;
    class Count extends Scripted {
      override onTrainEpochEnd(): void {
        epochs++;
      }
    }
    const t = new Trainer({
      ...quiet,
      logger: false,
      enableCheckpointing: false,
      maxEpochs: 5,
      callbacks: [new EarlyStopping({ monitor: 'val_los' })],
    });
    await expect(
      t.fit(new Count([1, 1, 1, 1, 1]), digitLoader(8, { batchSize: 8 }), digitLoader(8, { batchSize: 8 })),
    ).rejects.toThrow(/monitor 'val_los' was never logged; expected one of the logged metrics \(.*score.*\)/);
    expect(epochs).toBe(0); // validation runs inside the first epoch, before its end hook
    expect(t.globalStep).toBe(1);
  });

  it('ModelCheckpoint: keeps the top k by the monitor, plus last.ckpt; bestModelPath/score follow', async () => {
    const ck = new ModelCheckpoint({
      dirpath: `${dir.path}/ck`,
      monitor: 'score',
      saveTopK: 2,
      saveLast: true,
      filename: '{epoch}-{score:.2f}',
    });
    const t = new Trainer({ ...quiet, logger: false, maxEpochs: 5, callbacks: [ck] });
    await t.fit(
      new Scripted([0.5, 0.3, 0.9, 0.1, 0.4]),
      digitLoader(8, { batchSize: 8 }),
      digitLoader(8, { batchSize: 8 }),
    );
    expect(readdirSync(`${dir.path}/ck`).sort()).toEqual([
      'epoch=1-score=0.30.ckpt',
      'epoch=3-score=0.10.ckpt',
      'last.ckpt',
    ]);
    expect(ck.bestModelPath).toBe(`${dir.path}/ck/epoch=3-score=0.10.ckpt`);
    expect(ck.bestModelScore).toBeCloseTo(0.1, 6);
    const ckpt = await readCheckpoint(ck.bestModelPath);
    expect(ckpt['epoch']).toBe(3);
    const state = (ckpt['callbacks'] as Record<string, Record<string, unknown>>)[ck.stateKey]!;
    expect(state['best_model_path']).toBe(ck.bestModelPath);
    expect(Object.keys(state['best_k_models'] as object).length).toBe(2);
  });

  it('ModelCheckpoint: a monitor that is never logged is a MisconfigurationError', async () => {
    const t = new Trainer({
      ...quiet,
      logger: false,
      maxEpochs: 2,
      callbacks: [new ModelCheckpoint({ dirpath: dir.path, monitor: 'nope' })],
    });
    await expect(
      t.fit(new Scripted([1, 1]), digitLoader(8, { batchSize: 8 }), digitLoader(8, { batchSize: 8 })),
    ).rejects.toThrow(MisconfigurationError);
  });

  it('ModelCheckpoint: saveWeightsOnly writes the weights without optimizer or callback state; resuming from it is a CheckpointError', async () => {
    const ck = new ModelCheckpoint({ dirpath: `${dir.path}/w`, saveWeightsOnly: true, saveLast: true });
    const model = new LitAutoEncoder();
    await new Trainer({ ...quiet, logger: false, maxEpochs: 1, callbacks: [ck] }).fit(
      model,
      digitLoader(16, { batchSize: 8 }),
    );
    const ckpt = await readCheckpoint(ck.bestModelPath);
    expect(Object.keys(ckpt).sort()).toEqual([
      'epoch',
      'global_step',
      'hparams_name',
      'hyper_parameters',
      'loops',
      'pytorch-lightning_version',
      'state_dict',
    ]);
    expect(ckpt['global_step']).toBe(2);
    const loaded = await LitAutoEncoder.loadFromCheckpoint(ck.bestModelPath);
    expect(await loaded.encoder.stateDict().get('0.weight')!.data()).toEqual(
      await model.encoder.stateDict().get('0.weight')!.data(),
    );
    await expect(
      new Trainer({ ...quiet, logger: false, maxEpochs: 2 }).fit(
        new LitAutoEncoder(),
        digitLoader(16, { batchSize: 8 }),
        null,
        { ckptPath: ck.lastModelPath },
      ),
    ).rejects.toThrow(/has no optimizer_states \(saved weights-only\?\); expected a full checkpoint to resume from/);
  });

  it('ModelCheckpoint: filename templates interpolate metrics', () => {
    expect(formatCheckpointName('{epoch}-{step}', { epoch: 0, step: 313 })).toBe('epoch=0-step=313');
    expect(formatCheckpointName('{epoch}-{val_loss:.2f}', { epoch: 3, val_loss: 0.12345 })).toBe(
      'epoch=3-val_loss=0.12',
    );
    expect(formatCheckpointName('{epoch:03d}', { epoch: 7 }, false)).toBe('007');
  });

  it("LearningRateMonitor: logs 'lr-Adam' each epoch; a step scheduler changes it", async () => {
    class Sched extends LitAutoEncoder {
      override configureOptimizers(): OptimizersConfig {
        const optimizer = new Adam(this.parameters(), { lr: 0.1 });
        return {
          optimizer,
          lrScheduler: { scheduler: new StepLR(optimizer, { stepSize: 1, gamma: 0.5 }), interval: 'step' },
        };
      }
    }
    const seen: Record<string, number>[] = [];
    const logger = {
      name: 'm',
      version: 0,
      rootDir: dir.path,
      logDir: dir.path,
      experiment: null,
      resolveVersion: () => Promise.resolve(0),
      logMetrics: (m: Readonly<Record<string, number>>) => {
        seen.push({ ...m });
        return Promise.resolve();
      },
      logHyperparams: () => Promise.resolve(),
      save: () => Promise.resolve(),
      finalize: () => Promise.resolve(),
    };
    const t = new Trainer({
      ...quiet,
      logger,
      enableCheckpointing: false,
      maxEpochs: 2,
      callbacks: [new LearningRateMonitor()],
    });
    const m = new Sched();
    await t.fit(m, digitLoader(16, { batchSize: 8 }));
    const lrs = seen.filter((x) => 'lr-Adam' in x).map((x) => x['lr-Adam']);
    expect(lrs[0]).toBe(0.1);
    expect(t.optimizers[0]!.paramGroups[0]!.lr).toBeCloseTo(0.1 * 0.5 ** 4, 12);
  });

  it('Callback: hooks run in order, and stateDict goes into the checkpoint under stateKey', async () => {
    const calls: string[] = [];
    class Rec extends Callback {
      count = 0;
      override onFitStart(): void {
        calls.push('fitStart');
      }
      override onTrainEpochStart(): void {
        calls.push('epochStart');
      }
      override onTrainBatchEnd(): void {
        this.count++;
      }
      override onTrainEpochEnd(): void {
        calls.push('epochEnd');
      }
      override onFitEnd(): void {
        calls.push('fitEnd');
      }
      override stateDict(): Record<string, unknown> {
        return { count: this.count };
      }
      override loadStateDict(s: Readonly<Record<string, unknown>>): void {
        this.count = s['count'] as number;
      }
    }
    const rec = new Rec();
    manualSeed(0);
    const t = new Trainer({ ...quiet, defaultRootDir: dir.path, maxEpochs: 1, callbacks: [rec] });
    await t.fit(new LitAutoEncoder(), digitLoader(16, { batchSize: 8 }));
    expect(calls).toEqual(['fitStart', 'epochStart', 'epochEnd', 'fitEnd']);
    const path = t.checkpointCallback!.bestModelPath;
    const ckpt = await readCheckpoint(path);
    expect((ckpt['callbacks'] as Record<string, unknown>)['Rec']).toEqual({ count: 2 });
    const again = new Rec();
    await new Trainer({ ...quiet, logger: false, enableCheckpointing: false, maxEpochs: 2, callbacks: [again] }).fit(
      new LitAutoEncoder(),
      digitLoader(16, { batchSize: 8 }),
      null,
      { ckptPath: path },
    );
    expect(again.count).toBe(4);
  });
});
void (null as unknown as Tensor);
