/**
 * @module lightning/log.test — `this.log` with Lightning's semantics: defaults per hook, the
 * `_step`/`_epoch` suffixes, epoch means weighted by batch size, reduceFx, batchSize, what the
 * loggers receive and when, and typed errors for bad values.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, tensor, zeros } from '../../runtime/tensor/index.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { MisconfigurationError } from '../../runtime/lightning/errors.ts';
import type { HParams, Logger, LoggerStatus } from '../../runtime/lightning/loggers/logger.ts';
import { LitAutoEncoder, digitLoader, useWasmRuntime } from './trainer-helpers.ts';

beforeAll(async () => {
  await useWasmRuntime();
});

/** A logger that records every logMetrics call. */
class MemoryLogger implements Logger {
  readonly name = 'memory';
  readonly version = 0;
  readonly rootDir = '.';
  readonly logDir = '.';
  readonly experiment = null;
  calls: { metrics: Record<string, number>; step: number | undefined }[] = [];
  hparams: HParams[] = [];
  resolveVersion(): Promise<number> {
    return Promise.resolve(0);
  }
  logMetrics(metrics: Readonly<Record<string, number>>, step?: number): Promise<void> {
    this.calls.push({ metrics: { ...metrics }, step });
    return Promise.resolve();
  }
  logHyperparams(params: HParams): Promise<void> {
    this.hparams.push(params);
    return Promise.resolve();
  }
  save(): Promise<void> {
    return Promise.resolve();
  }
  finalize(status: LoggerStatus): Promise<void> {
    void status;
    return Promise.resolve();
  }
}

const base = { enableProgressBar: false, enableModelSummary: false, enableCheckpointing: false } as const;

/** Logs a per-batch value (the batch index) from training and validation, in several ways. */
class Logging extends LitAutoEncoder {
  override trainingStep(batch: [Tensor, Tensor], batchIdx: number): Tensor {
    const loss = super.trainingStep(batch);
    this.log('both', tensor(batchIdx), { onStep: true, onEpoch: true, progBar: true });
    this.log('summed', batchIdx, { onEpoch: true, onStep: false, reduceFx: 'sum' });
    this.log('biggest', tensor(batchIdx), { onEpoch: true, onStep: false, reduceFx: 'max' });
    return loss;
  }
  override validationStep(batch: [Tensor, Tensor], batchIdx: number): void {
    void batch;
    this.log('val_idx', tensor(batchIdx));
    this.logDict({ val_fixed: 2, val_weighted: tensor(batchIdx) }, { batchSize: batchIdx + 1 });
  }
}

describe('log', () => {
  it('log: training defaults to onStep, validation to onEpoch; both give _step and _epoch keys', async () => {
    const logger = new MemoryLogger();
    const t = new Trainer({ ...base, maxEpochs: 1, logger, logEveryNSteps: 2, numSanityValSteps: 0 });
    await t.fit(new Logging(), digitLoader(40, { batchSize: 8 }), digitLoader(10, { batchSize: 4 }));
    // 5 train batches: step metrics at steps 1 and 3; the epoch values at step 4 (batches_that_stepped - 1).
    const stepCalls = t.loggedMetrics;
    expect(logger.calls.map((c) => c.step)).toEqual([1, 3, 5, 4]);
    expect(Object.keys(logger.calls[0]!.metrics).sort()).toEqual(['both_step', 'epoch', 'train_loss']);
    expect(logger.calls[0]!.metrics['both_step']).toBe(1);
    expect(logger.calls[1]!.metrics['both_step']).toBe(3);
    const val = logger.calls[2]!.metrics;
    expect(Object.keys(val).sort()).toEqual(['epoch', 'val_fixed', 'val_idx', 'val_weighted']);
    // val batches of 4, 4, 2: mean of 0, 1, 2 weighted by the batch size Lightning infers.
    expect(val['val_idx']).toBeCloseTo((0 * 4 + 1 * 4 + 2 * 2) / 10, 6);
    // explicit batchSize 1, 2, 3.
    expect(val['val_weighted']).toBeCloseTo((0 * 1 + 1 * 2 + 2 * 3) / 6, 6);
    const ep = logger.calls[3]!.metrics;
    expect(ep['both_epoch']).toBeCloseTo((0 + 1 + 2 + 3 + 4) / 5, 6);
    expect(ep['summed']).toBe(10);
    expect(ep['biggest']).toBe(4);
    expect(ep).not.toHaveProperty('train_loss_epoch');
    expect(t.callbackMetrics['both']).toBeCloseTo(2, 6);
    expect(t.callbackMetrics['both_step']).toBe(4);
    expect(t.progressBarMetrics).toHaveProperty('both_epoch');
    expect(stepCalls['epoch']).toBe(0);
  });

  it('log: hyperparameters go to the loggers at fit start', async () => {
    const logger = new MemoryLogger();
    await new Trainer({ ...base, maxEpochs: 1, logger }).fit(
      new LitAutoEncoder({ lr: 0.01 }),
      digitLoader(8, { batchSize: 8 }),
    );
    expect(logger.hparams).toEqual([{ lr: 0.01 }]);
  });

  it('log: a non-scalar, a non-number and a call outside the Trainer are MisconfigurationErrors', async () => {
    class Bad extends LitAutoEncoder {
      readonly what: string;
      constructor(what: string) {
        super();
        this.what = what;
      }
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        const loss = super.trainingStep(batch);
        if (this.what === 'vector') this.log('v', zeros([3]));
        if (this.what === 'string') this.log('s', 'x' as unknown as number);
        if (this.what === 'epoch-step') this.log('x', 1, { onStep: true, onEpoch: true, reduceFx: 'median' as 'mean' });
        return loss;
      }
    }
    for (const [what, msg] of [
      ['vector', /must be a scalar.*got a tensor of shape \[3\]/],
      ['string', /unsupported value/],
      ['epoch-step', /invalid reduceFx/],
    ] as const) {
      await expect(
        new Trainer({ ...base, logger: false, maxEpochs: 1 }).fit(new Bad(what), digitLoader(8, { batchSize: 8 })),
      ).rejects.toThrow(msg);
    }
    expect(() => new LitAutoEncoder().log('x', 1)).toThrow(MisconfigurationError);
  });

  it('log: logging on step from an epoch-end hook is refused', async () => {
    class EpochEnd extends LitAutoEncoder {
      override onTrainEpochEnd(): void {
        this.log('e', 1, { onStep: true });
      }
    }
    await expect(
      new Trainer({ ...base, logger: false, maxEpochs: 1 }).fit(new EpochEnd(), digitLoader(8, { batchSize: 8 })),
    ).rejects.toThrow(/cannot use onStep/);
  });

  it('log: values logged in onTrainEpochEnd are epoch metrics the checkpoint callbacks see', async () => {
    class EpochEnd extends LitAutoEncoder {
      override onTrainEpochEnd(): void {
        this.log('epoch_metric', 3);
      }
    }
    const logger = new MemoryLogger();
    const t = new Trainer({ ...base, logger, maxEpochs: 1 });
    await t.fit(new EpochEnd(), digitLoader(8, { batchSize: 8 }));
    expect(t.callbackMetrics['epoch_metric']).toBe(3);
    expect(logger.calls.at(-1)!.metrics['epoch_metric']).toBe(3);
  });
});
