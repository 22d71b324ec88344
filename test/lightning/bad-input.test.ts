/**
 * @module lightning/bad-input.test — the bad-input list, each a typed error whose
 * message says what is wrong and what to do: a training step without a scalar loss, `log`
 * with a non-scalar, a NaN under `checkFinite`, a monitor that is never logged (failing at
 * the first validation or train epoch end), a truncated or foreign checkpoint, and an unknown
 * Trainer option.
 */
import { writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tensor, zeros, type Tensor } from '../../runtime/tensor/index.ts';
import { manualSeed } from '../../runtime/random.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { Adam } from '../../runtime/optim/adam.ts';
import { ReduceLROnPlateau } from '../../runtime/optim/reduce-lr-on-plateau.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { EarlyStopping } from '../../runtime/lightning/callbacks/early-stopping.ts';
import { ModelCheckpoint } from '../../runtime/lightning/callbacks/model-checkpoint.ts';
import { CheckpointError, MisconfigurationError, NonFiniteMetricError } from '../../runtime/lightning/errors.ts';
import type { OptimizersConfig } from '../../runtime/lightning/optimizers.ts';
import { LitAutoEncoder, LitAutoEncoderVal, digitLoader, tempFolder, useWasmRuntime } from './trainer-helpers.ts';

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

const quiet = { enableProgressBar: false, enableModelSummary: false, logger: false } as const;

/** Rejects with an instance of `cls` whose message matches `message`. */
async function expectError(p: Promise<unknown>, cls: new (...a: never[]) => Error, message: RegExp): Promise<Error> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, `expected a ${cls.name}, got no error`).toBeInstanceOf(cls);
  expect((e as Error).message).toMatch(message);
  return e as Error;
}

/** Logs a scripted `score` per validation epoch (and counts training epochs). */
class Scripted extends LitAutoEncoder {
  readonly scores: number[];
  epochsEnded = 0;
  constructor(scores: number[]) {
    super();
    this.scores = scores;
  }
  override validationStep(): void {
    this.log('score', tensor(this.scores[this.currentEpoch] ?? 0));
  }
  override onTrainEpochEnd(): void {
    this.epochsEnded++;
  }
}

const loaders = (): [ReturnType<typeof digitLoader>, ReturnType<typeof digitLoader>] => [
  digitLoader(16, { batchSize: 8 }),
  digitLoader(8, { batchSize: 8 }),
];

describe('bad input', () => {
  it('trainingStep: returning nothing, no loss or a non-scalar is a MisconfigurationError that says what to return', async () => {
    class Nothing extends LitAutoEncoder {
      override trainingStep(): Tensor {
        return undefined as unknown as Tensor;
      }
    }
    class NoLoss extends LitAutoEncoder {
      override trainingStep(): Tensor {
        return { out: 1 } as unknown as Tensor;
      }
    }
    class Vector extends LitAutoEncoder {
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        const x = batch[0].view(batch[0].size(0), -1);
        return this.decoder.forward(this.encoder.forward(x)).sub(x).square().mean(1);
      }
    }
    await expectError(
      new Trainer({ ...quiet, maxEpochs: 1 }).fit(new Nothing(), digitLoader(8)),
      MisconfigurationError,
      /^Nothing\.trainingStep: returned nothing; expected a scalar loss tensor or \{ loss \} \(return null to skip the batch\), got undefined$/,
    );
    await expectError(
      new Trainer({ ...quiet, maxEpochs: 1 }).fit(new NoLoss(), digitLoader(8)),
      MisconfigurationError,
      /^NoLoss\.trainingStep: returned no loss; expected a scalar loss tensor or \{ loss: Tensor \}, got an object with keys out$/,
    );
    await expectError(
      new Trainer({ ...quiet, maxEpochs: 1 }).fit(new Vector(), digitLoader(8)),
      MisconfigurationError,
      /^Vector\.trainingStep: the loss is not a scalar; expected a one-element tensor, got shape \[8\]$/,
    );
  });

  it('log: a non-scalar tensor is a MisconfigurationError naming the key and the shape', async () => {
    class LogVector extends LitAutoEncoder {
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        const loss = super.trainingStep(batch);
        this.log('per_pixel', zeros([2, 3]));
        return loss;
      }
    }
    await expectError(
      new Trainer({ ...quiet, maxEpochs: 1 }).fit(new LogVector(), digitLoader(8)),
      MisconfigurationError,
      /^log: 'per_pixel' must be a scalar; expected a number or a one-element tensor, got a tensor of shape \[2, 3\]$/,
    );
  });

  it('EarlyStopping: a NaN under checkFinite is a NonFiniteMetricError naming the metric and the remedies', async () => {
    const es = new EarlyStopping({ monitor: 'score', patience: 5 });
    const model = new Scripted([3, NaN, 1]);
    const t = new Trainer({ ...quiet, enableCheckpointing: false, maxEpochs: 3, callbacks: [es] });
    await expectError(
      t.fit(model, ...loaders()),
      NonFiniteMetricError,
      /^EarlyStopping: monitored metric 'score' is not finite at epoch 1 \(training diverged\); expected a finite value, got NaN \(best so far 3\)\. Lower the learning rate.*checkFinite: false/,
    );
    expect(model.epochsEnded).toBe(1); // epoch 1's validation failed, before its end hook
    expect(es.stoppedEpoch).toBe(1);
    expect(es.stoppingReason).toMatch(/not finite/);
    // checkFinite: false counts the NaN as no improvement instead.
    const lenient = new EarlyStopping({ monitor: 'score', patience: 1, checkFinite: false });
    const t2 = new Trainer({ ...quiet, enableCheckpointing: false, maxEpochs: 3, callbacks: [lenient] });
    await t2.fit(new Scripted([3, NaN, 1]), ...loaders());
    expect(lenient.stoppedEpoch).toBe(1);
    expect(lenient.stoppingReason).toMatch(/did not improve/);
  });

  it('ModelCheckpoint: a monitor never logged fails in the first epoch, after its validation, even when that epoch does not save', async () => {
    const model = new Scripted([1, 1, 1]);
    const t = new Trainer({
      ...quiet,
      maxEpochs: 3,
      callbacks: [new ModelCheckpoint({ dirpath: dir.path, monitor: 'val_los', everyNEpochs: 3 })],
    });
    const e = await expectError(
      t.fit(model, ...loaders()),
      MisconfigurationError,
      /^ModelCheckpoint: monitor 'val_los' was never logged; expected one of the logged metrics \(.*score.*\), got 'val_los' \(log it with this\.log\('val_los', value\) or fix the name\)$/,
    );
    expect(e.message).toContain('train_loss');
    // It saves at train epoch end (validation runs at each epoch's end), so it checks there: epoch 0.
    expect(model.epochsEnded).toBe(1);
    expect(t.currentEpoch).toBe(0);
    expect(t.globalStep).toBe(2);
    // With mid-epoch validation it saves, and so checks, at the first validation end.
    const mid = new Scripted([1, 1, 1]);
    const t2 = new Trainer({
      ...quiet,
      maxEpochs: 3,
      valCheckInterval: 1,
      callbacks: [new ModelCheckpoint({ dirpath: dir.path, monitor: 'val_los', everyNEpochs: 3 })],
    });
    await expectError(
      t2.fit(mid, ...loaders()),
      MisconfigurationError,
      /^ModelCheckpoint: monitor 'val_los' was never logged/,
    );
    expect(mid.epochsEnded).toBe(0);
    expect(t2.globalStep).toBe(1);
  });

  it('ModelCheckpoint and EarlyStopping: without validation, a monitor never logged fails at the first train epoch end', async () => {
    const ck = new Trainer({
      ...quiet,
      maxEpochs: 3,
      callbacks: [new ModelCheckpoint({ dirpath: dir.path, monitor: 'nope', everyNTrainSteps: 100 })],
    });
    await expectError(
      ck.fit(new LitAutoEncoder(), digitLoader(16)),
      MisconfigurationError,
      /^ModelCheckpoint: monitor 'nope' was never logged; expected one of the logged metrics \(train_loss\)/,
    );
    expect(ck.currentEpoch).toBe(0);
    const es = new Trainer({
      ...quiet,
      enableCheckpointing: false,
      maxEpochs: 3,
      callbacks: [new EarlyStopping({ monitor: 'nope' })],
    });
    await expectError(
      es.fit(new LitAutoEncoder(), digitLoader(16)),
      MisconfigurationError,
      /^EarlyStopping: monitor 'nope' was never logged; expected one of the logged metrics \(train_loss\), got 'nope' \(log it with this\.log\('nope', value\), fix the name, or pass strict: false/,
    );
    expect(es.currentEpoch).toBe(0);
  });

  it('ReduceLROnPlateau: a monitor never logged fails at the first epoch end, even with frequency > 1', async () => {
    class Plateau extends LitAutoEncoderVal {
      override configureOptimizers(): OptimizersConfig {
        const optimizer = new Adam(this.parameters(), { lr: 1e-3 });
        return {
          optimizer,
          lrScheduler: { scheduler: new ReduceLROnPlateau(optimizer), monitor: 'val_los', frequency: 3 },
        };
      }
    }
    const t = new Trainer({ ...quiet, enableCheckpointing: false, maxEpochs: 3 });
    await expectError(
      t.fit(new Plateau(), ...loaders()),
      MisconfigurationError,
      /^ReduceLROnPlateau: monitor 'val_los' was never logged; expected one of the logged metrics \(.*val_loss.*\), got 'val_los' \(log it with this\.log\('val_los', value\), fix lrScheduler\.monitor/,
    );
    expect(t.currentEpoch).toBe(0);
  });

  it('checkpoint: truncated, empty, random and foreign files are CheckpointErrors, as ckptPath and to loadFromCheckpoint', async () => {
    manualSeed(3);
    await new Trainer({
      ...quiet,
      logger: true,
      enableModelSummary: false,
      maxEpochs: 1,
      defaultRootDir: dir.path,
    }).fit(new LitAutoEncoder(), digitLoader(16));
    const ckdir = `${dir.path}/lightning_logs/version_0/checkpoints`;
    const bytes = readFileSync(`${ckdir}/${readdirSync(ckdir)[0]!}`);
    const bad: Record<string, Uint8Array> = {
      'empty.ckpt': new Uint8Array(0),
      'header.ckpt': bytes.subarray(0, 30),
      'half.ckpt': bytes.subarray(0, Math.floor(bytes.length / 2)),
      'tail-cut.ckpt': bytes.subarray(0, bytes.length - 10),
      'noise.ckpt': Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff),
      'notes.txt': new TextEncoder().encode('not a checkpoint\n'),
    };
    for (const [name, data] of Object.entries(bad)) {
      writeFileSync(`${dir.path}/${name}`, data);
      const path = `${dir.path}/${name}`;
      await expectError(
        LitAutoEncoder.loadFromCheckpoint(path),
        CheckpointError,
        new RegExp(
          `^checkpoint: '${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is not a readable checkpoint \\(truncated or not a torch archive\\); expected torch's zip format, got ${data.length} bytes`,
        ),
      );
      await expectError(
        new Trainer({ ...quiet, maxEpochs: 1 }).fit(new LitAutoEncoder(), digitLoader(8), null, { ckptPath: path }),
        CheckpointError,
        /is not a readable checkpoint/,
      );
    }
    await expectError(
      LitAutoEncoder.loadFromCheckpoint(`${dir.path}/missing.ckpt`),
      CheckpointError,
      /^checkpoint: cannot read '.*missing\.ckpt'; expected an existing \.ckpt file, got ENOENT/,
    );
  });

  it('Trainer: an unknown option is a MisconfigurationError naming the known ones', () => {
    let e: unknown = null;
    try {
      new Trainer({ maxEpoch: 3 } as never);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(MisconfigurationError);
    expect((e as Error).message).toMatch(/^Trainer: unknown option 'maxEpoch'; expected one of maxEpochs, /);
  });
});

describe('deterministic', () => {
  it('Trainer: deterministic: true refuses a model on the relaxed-simd kernels and says how to fix it', async () => {
    const backend = await useWasmRuntime();
    // A stand-in for the relaxed build (Node 20 validates it only behind a flag): same kernels, variant 'relaxed'.
    const relaxed = Object.assign(Object.create(backend) as object, {
      variant: 'relaxed',
    }) as unknown as typeof backend;
    setDefaultBackend(relaxed);
    try {
      manualSeed(0);
      const model = new LitAutoEncoder();
      const trainer = new Trainer({
        deterministic: true,
        maxSteps: 1,
        logger: false,
        enableCheckpointing: false,
        enableProgressBar: false,
        enableModelSummary: false,
      });
      const err = await trainer.fit(model, digitLoader(8, { batchSize: 4 })).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MisconfigurationError);
      expect((err as Error).message).toBe(
        "Trainer: deterministic is true but the model's tensors live on the relaxed-simd wasm kernels, whose FMA results differ across runtimes; expected the simd128 kernels (await init({ deterministic: true }) before building the model), got variant 'relaxed'",
      );
    } finally {
      setDefaultBackend(backend);
    }
  });

  it('Trainer: deterministic: true trains on the simd128 kernels', async () => {
    const backend = await useWasmRuntime();
    expect((backend as { variant?: string }).variant).toBe('simd');
    manualSeed(0);
    const trainer = new Trainer({
      deterministic: true,
      maxSteps: 2,
      logger: false,
      enableCheckpointing: false,
      enableProgressBar: false,
      enableModelSummary: false,
    });
    await trainer.fit(new LitAutoEncoder(), digitLoader(8, { batchSize: 4 }));
    expect(trainer.globalStep).toBe(2);
  });
});
