/**
 * @module lightning/hooks.test — the typed hooks: the batch-end hooks of validation, test and
 * predict get the step's outputs (callbacks and module, as Lightning passes them), and the
 * order callbacks, module, then ModelCheckpoint/EarlyStopping.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { Callback } from '../../runtime/lightning/callbacks/callback.ts';
import { EarlyStopping } from '../../runtime/lightning/callbacks/early-stopping.ts';
import type { LightningModule } from '../../runtime/lightning/module.ts';
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

const quiet = {
  enableProgressBar: false,
  enableModelSummary: false,
  enableCheckpointing: false,
  logger: false,
} as const;

/** What a step returned, by stage and batch index (a plain object, so identity can be checked). */
interface StepOut {
  readonly stage: string;
  readonly batchIdx: number;
}

/** Returns a fresh object from each evaluation step and records what its batch-end hooks get. */
class Echo extends LitAutoEncoder {
  readonly returned: StepOut[] = [];
  readonly seen: [string, unknown, number, number][] = [];
  #out(stage: string, batchIdx: number): StepOut {
    const out = { stage, batchIdx };
    this.returned.push(out);
    return out;
  }
  override validationStep(_batch: [Tensor, Tensor], batchIdx: number): StepOut {
    return this.#out('validate', batchIdx);
  }
  override testStep(_batch: [Tensor, Tensor], batchIdx: number): StepOut {
    return this.#out('test', batchIdx);
  }
  override predictStep(_batch: [Tensor, Tensor], batchIdx: number): StepOut {
    return this.#out('predict', batchIdx);
  }
  override onValidationBatchEnd(outputs: unknown, _batch: unknown, batchIdx: number, dataloaderIdx: number): void {
    this.seen.push(['module:validate', outputs, batchIdx, dataloaderIdx]);
  }
  override onTestBatchEnd(outputs: unknown, _batch: unknown, batchIdx: number, dataloaderIdx: number): void {
    this.seen.push(['module:test', outputs, batchIdx, dataloaderIdx]);
  }
  override onPredictBatchEnd(outputs: unknown, _batch: unknown, batchIdx: number, dataloaderIdx: number): void {
    this.seen.push(['module:predict', outputs, batchIdx, dataloaderIdx]);
  }
}

/** Records what its batch-end hooks get into the module's list, so the order across both shows. */
class Recorder extends Callback {
  override onValidationBatchEnd(
    _t: Trainer,
    m: LightningModule,
    outputs: unknown,
    _b: unknown,
    batchIdx: number,
    dataloaderIdx: number,
  ): void {
    (m as Echo).seen.push(['callback:validate', outputs, batchIdx, dataloaderIdx]);
  }
  override async onTestBatchEnd(
    _t: Trainer,
    m: LightningModule,
    outputs: unknown,
    _b: unknown,
    batchIdx: number,
    dataloaderIdx: number,
  ): Promise<void> {
    await Promise.resolve();
    (m as Echo).seen.push(['callback:test', outputs, batchIdx, dataloaderIdx]);
  }
  override onPredictBatchEnd(
    _t: Trainer,
    m: LightningModule,
    outputs: unknown,
    _b: unknown,
    batchIdx: number,
    dataloaderIdx: number,
  ): void {
    (m as Echo).seen.push(['callback:predict', outputs, batchIdx, dataloaderIdx]);
  }
}

describe('hooks', () => {
  it.each([
    ['onValidationBatchEnd', 'validate'],
    ['onTestBatchEnd', 'test'],
    ['onPredictBatchEnd', 'predict'],
  ] as const)("hooks: %s gets the step's outputs, on the callbacks and then the module", async (_hook, stage) => {
    const model = new Echo();
    const trainer = new Trainer({ ...quiet, callbacks: [new Recorder()] });
    const loader = digitLoader(12, { batchSize: 4 });
    if (stage === 'validate') await trainer.validate(model, loader);
    else if (stage === 'test') await trainer.test(model, loader);
    else await trainer.predict(model, loader);
    expect(model.returned.map((o) => [o.stage, o.batchIdx])).toEqual([
      [stage, 0],
      [stage, 1],
      [stage, 2],
    ]);
    expect(model.seen.map(([who, , i, d]) => [who, i, d])).toEqual([
      [`callback:${stage}`, 0, 0],
      [`module:${stage}`, 0, 0],
      [`callback:${stage}`, 1, 0],
      [`module:${stage}`, 1, 0],
      [`callback:${stage}`, 2, 0],
      [`module:${stage}`, 2, 0],
    ]);
    model.seen.forEach(([, outputs], k) => expect(outputs).toBe(model.returned[Math.floor(k / 2)]));
  });

  it('hooks: the sanity check and fit validation pass validationStep outputs too', async () => {
    const model = new Echo();
    const trainer = new Trainer({
      ...quiet,
      maxEpochs: 1,
      limitTrainBatches: 2,
      limitValBatches: 1,
      numSanityValSteps: 1,
      callbacks: [new Recorder()],
    });
    await trainer.fit(model, digitLoader(8, { batchSize: 4 }), digitLoader(4, { batchSize: 4 }));
    expect(model.seen.map(([who]) => who)).toEqual([
      'callback:validate',
      'module:validate',
      'callback:validate',
      'module:validate',
    ]);
    expect(model.seen[0]![1]).toBe(model.returned[0]);
    expect(model.seen[2]![1]).toBe(model.returned[1]);
  });

  it('hooks: callbacks run in list order, then the module, then EarlyStopping (a monitoring callback), whatever its place in the list', async () => {
    const calls: string[] = [];
    class Named extends Callback {
      readonly name: string;
      constructor(name: string) {
        super();
        this.name = name;
      }
      override onTrainEpochEnd(): void {
        calls.push(`${this.name}.onTrainEpochEnd`);
      }
      override onFitEnd(): void {
        calls.push(`${this.name}.onFitEnd`);
      }
    }
    class Stopper extends EarlyStopping {
      override onTrainEpochEnd(): void {
        calls.push('ES.onTrainEpochEnd');
      }
      override onFitEnd(): void {
        calls.push('ES.onFitEnd');
      }
    }
    class Lit extends LitAutoEncoder {
      override onTrainEpochEnd(): void {
        calls.push('module.onTrainEpochEnd');
      }
      override onFitEnd(): void {
        calls.push('module.onFitEnd');
      }
    }
    const trainer = new Trainer({
      ...quiet,
      maxEpochs: 1,
      limitTrainBatches: 1,
      callbacks: [new Stopper({ monitor: 'train_loss' }), new Named('A'), new Named('B')],
    });
    await trainer.fit(new Lit(), digitLoader(4, { batchSize: 4 }));
    expect(calls).toEqual([
      'A.onTrainEpochEnd',
      'B.onTrainEpochEnd',
      'module.onTrainEpochEnd',
      'ES.onTrainEpochEnd',
      'A.onFitEnd',
      'B.onFitEnd',
      'module.onFitEnd',
      'ES.onFitEnd',
    ]);
  });

  it('hooks: a Callback defines no hooks until a subclass does, so the Trainer skips it', () => {
    const cb = new Callback();
    expect(cb.onTrainBatchEnd).toBeUndefined();
    expect(cb.onValidationEpochEnd).toBeUndefined();
    expect(new Recorder().onValidationBatchEnd).toBeTypeOf('function');
    expect(new LitAutoEncoder().onTrainEpochEnd).toBeUndefined();
  });
});
