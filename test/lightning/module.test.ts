/**
 * @module lightning/module.test — LightningModule: configureOptimizers' forms, hparams, trainer
 * state, hooks, and ReduceLROnPlateau driven by a monitored metric.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { Adam } from '../../runtime/optim/adam.ts';
import { SGD } from '../../runtime/optim/sgd.ts';
import { StepLR } from '../../runtime/optim/lr-scheduler.ts';
import { ReduceLROnPlateau } from '../../runtime/optim/reduce-lr-on-plateau.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { LightningModule, isOverridden } from '../../runtime/lightning/module.ts';
import { normalizeOptimizers, type OptimizersConfig } from '../../runtime/lightning/optimizers.ts';
import { MisconfigurationError } from '../../runtime/lightning/errors.ts';
import { LitAutoEncoder, LitAutoEncoderVal, digitLoader, useWasmRuntime } from './trainer-helpers.ts';

beforeAll(async () => {
  await useWasmRuntime();
});

const quiet = {
  logger: false,
  enableCheckpointing: false,
  enableProgressBar: false,
  enableModelSummary: false,
} as const;

describe('LightningModule', () => {
  it("LightningModule: configureOptimizers' return forms normalise to optimizers and scheduler configs", () => {
    const m = new LitAutoEncoder();
    const a = new Adam(m.encoder.parameters());
    const b = new SGD(m.decoder.parameters(), { lr: 0.1 });
    const s = new StepLR(a, { stepSize: 2 });
    expect(normalizeOptimizers(a).optimizers).toEqual([a]);
    expect(normalizeOptimizers([a, b]).optimizers).toEqual([a, b]);
    const pair = normalizeOptimizers([[a, b], [s]]);
    expect(pair.optimizers).toEqual([a, b]);
    expect(pair.schedulers[0]).toMatchObject({ scheduler: s, interval: 'epoch', frequency: 1, monitor: null });
    const dict = normalizeOptimizers({ optimizer: a, lrScheduler: { scheduler: s, interval: 'step', frequency: 3 } });
    expect(dict.schedulers[0]).toMatchObject({ interval: 'step', frequency: 3 });
    const plateau = normalizeOptimizers({
      optimizer: a,
      lrScheduler: { scheduler: new ReduceLROnPlateau(a), monitor: 'val_loss' },
    });
    expect(plateau.schedulers[0]).toMatchObject({ reduceOnPlateau: true, monitor: 'val_loss' });
    expect(() => normalizeOptimizers({ optimizer: a, lrScheduler: new ReduceLROnPlateau(a) })).toThrow(
      /needs a metric to monitor/,
    );
    expect(() => normalizeOptimizers('adam')).toThrow(/unknown return form/);
    expect(() =>
      normalizeOptimizers({ optimizer: a, lrScheduler: { scheduler: s, interval: 'batch' as 'step' } }),
    ).toThrow(/interval/);
  });

  it('LightningModule: ReduceLROnPlateau steps on the monitored validation metric', async () => {
    class Plateau extends LitAutoEncoder {
      override validationStep(): void {
        this.log('val_metric', tensor(1));
      }
      override configureOptimizers(): OptimizersConfig {
        const optimizer = new Adam(this.parameters(), { lr: 0.1 });
        return {
          optimizer,
          lrScheduler: {
            scheduler: new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5 }),
            monitor: 'val_metric',
          },
        };
      }
    }
    const t = new Trainer({ ...quiet, maxEpochs: 3, numSanityValSteps: 0 });
    await t.fit(new Plateau(), digitLoader(8, { batchSize: 8 }), digitLoader(8, { batchSize: 8 }));
    // Epoch 0 sets the best; epochs 1 and 2 do not improve: two halvings.
    expect(t.optimizers[0]!.paramGroups[0]!.lr).toBeCloseTo(0.025, 12);
  });

  it('LightningModule: hparams, trainer state and hooks', async () => {
    const seen: string[] = [];
    class Hooks extends LitAutoEncoderVal {
      override onFitStart(): void {
        seen.push(`fitStart e${this.currentEpoch} s${this.globalStep}`);
      }
      override onTrainEpochStart(): void {
        seen.push(`epochStart e${this.currentEpoch}`);
      }
      override onTrainBatchStart(_b: unknown, i: number): void {
        if (i === 0) seen.push('batchStart');
      }
      override onBeforeBackward(): void {
        if (!seen.includes('beforeBackward')) seen.push('beforeBackward');
      }
      override onAfterBackward(): void {
        if (!seen.includes('afterBackward')) seen.push('afterBackward');
      }
      override onBeforeOptimizerStep(): void {
        if (!seen.includes('beforeOptimizerStep')) seen.push('beforeOptimizerStep');
      }
      override onValidationEpochEnd(): void {
        seen.push(`valEnd s${this.globalStep}`);
      }
      override onTrainEpochEnd(): void {
        seen.push(`epochEnd s${this.globalStep}`);
      }
      override onFitEnd(): void {
        seen.push(`fitEnd e${this.currentEpoch}`);
      }
    }
    const m = new Hooks({ lr: 0.02 });
    expect(m.hparams).toEqual({ lr: 0.02 });
    expect(() => m.trainer).toThrow(MisconfigurationError);
    const t = new Trainer({ ...quiet, maxEpochs: 1, numSanityValSteps: 0 });
    await t.fit(m, digitLoader(16, { batchSize: 8 }), digitLoader(8, { batchSize: 8 }));
    expect(m.trainer).toBe(t);
    expect(seen).toEqual([
      'fitStart e0 s0',
      'epochStart e0',
      'batchStart',
      'beforeBackward',
      'afterBackward',
      'beforeOptimizerStep',
      'valEnd s2',
      'epochEnd s2',
      'fitEnd e1',
    ]);
    expect(isOverridden(m, 'validationStep')).toBe(true);
    expect(isOverridden(new LitAutoEncoder(), 'validationStep')).toBe(false);
  });

  it('LightningModule: onTrainBatchStart returning -1 skips the rest of the epoch', async () => {
    class Skip extends LitAutoEncoder {
      override onTrainBatchStart(_b: unknown, i: number): number | undefined {
        return i === 2 ? -1 : undefined;
      }
    }
    const t = new Trainer({ ...quiet, maxEpochs: 2 });
    await t.fit(new Skip(), digitLoader(40, { batchSize: 8 }));
    expect(t.globalStep).toBe(4);
  });

  it('LightningModule: stateDict holds only the weights (Trainer state lives elsewhere)', async () => {
    const m = new LitAutoEncoder();
    await new Trainer({ ...quiet, maxEpochs: 1 }).fit(m, digitLoader(8, { batchSize: 8 }));
    expect([...m.stateDict().keys()]).toEqual([
      'encoder.0.weight',
      'encoder.0.bias',
      'encoder.2.weight',
      'encoder.2.bias',
      'decoder.0.weight',
      'decoder.0.bias',
      'decoder.2.weight',
      'decoder.2.bias',
    ]);
  });

  it('LightningModule: a module without trainingStep or configureOptimizers says what is missing', async () => {
    class Empty extends LightningModule {}
    await expect(new Trainer({ ...quiet, maxEpochs: 1 }).fit(new Empty(), digitLoader(8))).rejects.toThrow(
      /configureOptimizers: not defined/,
    );
    class NoStep extends LightningModule {
      override configureOptimizers(): OptimizersConfig {
        return new Adam([tensor([1]).requiresGrad_()]);
      }
    }
    await expect(new Trainer({ ...quiet, maxEpochs: 1 }).fit(new NoStep(), digitLoader(8))).rejects.toThrow(
      /trainingStep: not defined/,
    );
  });
});
void (null as unknown as Tensor);
