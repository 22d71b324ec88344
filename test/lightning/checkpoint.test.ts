/**
 * @module lightning/checkpoint.test — Lightning's checkpoint dict, exact resume (bitwise, at an
 * epoch end and mid-epoch), loadFromCheckpoint, and typed errors for bad files.
 */
import { readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualSeed } from '../../runtime/random.ts';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { ModelCheckpoint } from '../../runtime/lightning/callbacks/model-checkpoint.ts';
import { CheckpointError } from '../../runtime/lightning/errors.ts';
import { readCheckpoint, LIGHTNING_VERSION } from '../../runtime/lightning/checkpoint.ts';
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

async function weights(m: LitAutoEncoder): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of m.parameters()) out.push(Float32Array.from((await p.data()) as Float32Array));
  return out;
}

function expectBitwise(a: Float32Array[], b: Float32Array[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    expect(Buffer.from(a[i]!.buffer).equals(Buffer.from(b[i]!.buffer))).toBe(true);
  }
}

function onlyCkpt(folder: string): string {
  const files = readdirSync(folder).filter((f) => f.endsWith('.ckpt'));
  expect(files.length).toBe(1);
  return `${folder}/${files[0]!}`;
}

describe('checkpoint', () => {
  it("checkpoint: holds Lightning's keys, with callbacks keyed by state_key and our RNG state", async () => {
    manualSeed(1);
    const model = new LitAutoEncoder({ lr: 2e-3 });
    const trainer = new Trainer({ ...quiet, maxEpochs: 1, defaultRootDir: dir.path });
    await trainer.fit(model, digitLoader(32, { batchSize: 8 }));
    const path = onlyCkpt(`${dir.path}/lightning_logs/version_0/checkpoints`);
    expect(path.endsWith('epoch=0-step=4.ckpt')).toBe(true);
    const ckpt = await readCheckpoint(path);
    expect(Object.keys(ckpt).sort()).toEqual([
      'callbacks',
      'epoch',
      'global_step',
      'hparams_name',
      'hyper_parameters',
      'loops',
      'lr_schedulers',
      'optimizer_states',
      'pytorch-lightning_version',
      'rng_state',
      'state_dict',
    ]);
    expect(ckpt['epoch']).toBe(0);
    expect(ckpt['global_step']).toBe(4);
    expect(ckpt['pytorch-lightning_version']).toBe(LIGHTNING_VERSION);
    expect(ckpt['hyper_parameters']).toEqual({ lr: 2e-3 });
    expect(ckpt['hparams_name']).toBe('kwargs');
    const sd = ckpt['state_dict'] as Record<string, Tensor>;
    expect(Object.keys(sd)).toEqual([...model.stateDict().keys()]);
    expect(sd['encoder.0.weight']!.shape).toEqual([64, 784]);
    const opt = ckpt['optimizer_states'] as {
      state: Record<string, Record<string, unknown>>;
      param_groups: Record<string, unknown>[];
    }[];
    expect(opt.length).toBe(1);
    expect(opt[0]!.param_groups[0]!['lr']).toBe(2e-3);
    expect(opt[0]!.state['0']!['step']).toBe(4);
    expect(Object.keys(ckpt['callbacks'] as object)).toContain(
      "ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 0, 'every_n_epochs': 1, 'train_time_interval': None}",
    );
    const fit = (ckpt['loops'] as Record<string, Record<string, unknown>>)['fit_loop']!;
    expect(fit['epoch_loop.state_dict']).toEqual({ _batches_that_stepped: 4 });
    expect(ckpt['rng_state']).toHaveProperty('offset');
  });

  it('checkpoint: 2 epochs straight equal 1 epoch + resume for 1 more, bitwise on the wasm backend', async () => {
    const loader = () => digitLoader(48, { batchSize: 8, shuffle: true });
    manualSeed(7);
    const straight = new LitAutoEncoder();
    await new Trainer({ ...quiet, maxEpochs: 2, defaultRootDir: `${dir.path}/a` }).fit(straight, loader());

    manualSeed(7);
    const first = new LitAutoEncoder();
    await new Trainer({ ...quiet, maxEpochs: 1, defaultRootDir: `${dir.path}/b` }).fit(first, loader());
    const path = onlyCkpt(`${dir.path}/b/lightning_logs/version_0/checkpoints`);
    manualSeed(999); // a different init and RNG position: resume must restore both
    const resumed = new LitAutoEncoder();
    const trainer = new Trainer({ ...quiet, maxEpochs: 2, defaultRootDir: `${dir.path}/b` });
    await trainer.fit(resumed, loader(), null, { ckptPath: path });
    expect(trainer.globalStep).toBe(12);
    expect(trainer.currentEpoch).toBe(2);
    expectBitwise(await weights(resumed), await weights(straight));
  });

  it('checkpoint: a mid-epoch checkpoint resumes the same batches and weights, bitwise', async () => {
    const loader = () => digitLoader(48, { batchSize: 8, shuffle: true });
    manualSeed(3);
    const straight = new LitAutoEncoder();
    await new Trainer({
      ...quiet,
      maxEpochs: 2,
      defaultRootDir: `${dir.path}/a`,
      enableCheckpointing: false,
      logger: false,
    }).fit(straight, loader());

    manualSeed(3);
    const first = new LitAutoEncoder();
    const ckptCb = new ModelCheckpoint({
      dirpath: `${dir.path}/mid`,
      everyNTrainSteps: 8,
      saveTopK: -1,
      filename: '{step}',
    });
    await new Trainer({ ...quiet, maxEpochs: 2, maxSteps: 8, logger: false, callbacks: [ckptCb] }).fit(first, loader());
    const path = `${dir.path}/mid/step=8.ckpt`;
    manualSeed(5);
    const resumed = new LitAutoEncoder();
    await new Trainer({ ...quiet, maxEpochs: 2, logger: false, enableCheckpointing: false }).fit(
      resumed,
      loader(),
      null,
      { ckptPath: path },
    );
    expectBitwise(await weights(resumed), await weights(straight));
  });

  it('checkpoint: loadFromCheckpoint builds the subclass with saved hparams (and overrides) and its weights', async () => {
    manualSeed(2);
    const model = new LitAutoEncoder({ lr: 5e-3 });
    await new Trainer({ ...quiet, maxEpochs: 1, defaultRootDir: dir.path }).fit(
      model,
      digitLoader(16, { batchSize: 8 }),
    );
    const path = onlyCkpt(`${dir.path}/lightning_logs/version_0/checkpoints`);
    const loaded = await LitAutoEncoder.loadFromCheckpoint(path);
    expect(loaded).toBeInstanceOf(LitAutoEncoder);
    expect(loaded.lr).toBe(5e-3);
    expect(loaded.training).toBe(false);
    expectBitwise(await weights(loaded), await weights(model));
    const over = await LitAutoEncoder.loadFromCheckpoint(path, { lr: 0.5 });
    expect(over.lr).toBe(0.5);
  });

  it("checkpoint: ckptPath 'last' resumes from last.ckpt", async () => {
    manualSeed(4);
    const model = new LitAutoEncoder();
    const cb = () => new ModelCheckpoint({ dirpath: `${dir.path}/ck`, saveLast: true });
    await new Trainer({ ...quiet, maxEpochs: 1, logger: false, callbacks: [cb()] }).fit(
      model,
      digitLoader(16, { batchSize: 8 }),
    );
    const t = new Trainer({ ...quiet, maxEpochs: 2, logger: false, callbacks: [cb()] });
    await t.fit(new LitAutoEncoder(), digitLoader(16, { batchSize: 8 }), null, { ckptPath: 'last' });
    expect(t.ckptPath).toBe(`${dir.path}/ck/last.ckpt`);
    expect(t.globalStep).toBe(4);
  });

  it('checkpoint: a truncated file, a foreign file and a missing file are CheckpointErrors', async () => {
    manualSeed(2);
    const model = new LitAutoEncoder();
    await new Trainer({ ...quiet, maxEpochs: 1, defaultRootDir: dir.path }).fit(
      model,
      digitLoader(16, { batchSize: 8 }),
    );
    const path = onlyCkpt(`${dir.path}/lightning_logs/version_0/checkpoints`);
    const bytes = readFileSync(path);
    writeFileSync(`${dir.path}/cut.ckpt`, bytes.subarray(0, Math.floor(bytes.length / 2)));
    writeFileSync(`${dir.path}/notes.txt`, 'not a checkpoint');
    await expect(LitAutoEncoder.loadFromCheckpoint(`${dir.path}/cut.ckpt`)).rejects.toThrow(CheckpointError);
    await expect(LitAutoEncoder.loadFromCheckpoint(`${dir.path}/notes.txt`)).rejects.toThrow(CheckpointError);
    await expect(LitAutoEncoder.loadFromCheckpoint(`${dir.path}/missing.ckpt`)).rejects.toThrow(/cannot read/);
    await expect(
      new Trainer({ ...quiet, logger: false }).fit(new LitAutoEncoder(), digitLoader(16), null, {
        ckptPath: `${dir.path}/cut.ckpt`,
      }),
    ).rejects.toThrow(CheckpointError);
  });
});
