/**
 * @module lightning/async-readback.test — the Trainer on a backend that reads back only
 * asynchronously (the wasm kernels behind WebGPU's rules, test/helpers/async-backend.ts):
 * fit with validation, logging, the progress bar and checkpoints never read synchronously;
 * the model and batches move there; resume works; a lost device stops fit with a typed error
 * and leaves the last checkpoint intact; mixing backends names both.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { BackendError, DeviceLostError } from '../../runtime/errors.ts';
import { manualSeed } from '../../runtime/random.ts';
import { randn, tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { BatchNorm1d, Linear, ReLU, Sequential } from '../../runtime/nn/index.ts';
import { mseLoss } from '../../runtime/nn/loss-functions.ts';
import { Adam } from '../../runtime/optim/index.ts';
import { LightningModule } from '../../runtime/lightning/module.ts';
import { DataLoader } from '../../runtime/data/dataloader.ts';
import { TensorDataset } from '../../runtime/data/tensor-dataset.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { Trainer } from '../../runtime/lightning/trainer.ts';
import { Callback } from '../../runtime/lightning/callbacks/callback.ts';
import { ModelCheckpoint } from '../../runtime/lightning/callbacks/model-checkpoint.ts';
import { readCheckpoint } from '../../runtime/lightning/checkpoint.ts';
import { asyncReadbackBackend, type AsyncReadbackBackend } from '../helpers/async-backend.ts';
import { LitAutoEncoderVal, digitLoader, takeOutput, tempFolder, useWasmRuntime } from './trainer-helpers.ts';

let wasm: Backend;
let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  wasm = await useWasmRuntime();
});
beforeEach(async () => {
  dir = await tempFolder();
});
afterEach(async () => {
  await dir.cleanup();
  takeOutput();
});

class LossRecorder extends Callback {
  losses: number[] = [];
  override async onTrainBatchEnd(_t: Trainer, _m: LightningModule, outputs: unknown): Promise<void> {
    this.losses.push((await (outputs as Tensor).data())[0]!);
  }
}

async function run(
  accelerator: Backend | 'cpu',
  steps: number,
  extra: Record<string, unknown> = {},
): Promise<{ trainer: Trainer; model: LitAutoEncoderVal; losses: number[] }> {
  manualSeed(21);
  const model = new LitAutoEncoderVal();
  const rec = new LossRecorder();
  const trainer = new Trainer({
    accelerator,
    maxSteps: steps,
    logEveryNSteps: 2,
    defaultRootDir: dir.path,
    callbacks: [rec],
    valCheckInterval: 2,
    ...extra,
  });
  await trainer.fit(model, digitLoader(8 * steps, { batchSize: 8 }), digitLoader(16, { batchSize: 8, offset: 3 }));
  return { trainer, model, losses: rec.losses };
}

describe('Trainer on an async-readback backend', () => {
  it('async readback: fit with validation, loggers, progress bar and checkpoints runs without readSync, and matches the synchronous run', async () => {
    const gpuLike: AsyncReadbackBackend = asyncReadbackBackend(wasm);
    const sync = await run('cpu', 4);
    const asyncRun = await run(gpuLike, 4, { defaultRootDir: `${dir.path}/async` });
    expect(asyncRun.trainer.rootBackend).toBe(gpuLike);
    expect(asyncRun.trainer.acceleratorName).toBe('wasm-async');
    for (const p of asyncRun.model.parameters()) expect(p.backend).toBe(gpuLike);
    expect(asyncRun.losses).toEqual(sync.losses);
    expect(gpuLike.reads).toBeGreaterThan(0);
    expect(asyncRun.trainer.callbackMetrics['val_loss']).toBe(sync.trainer.callbackMetrics['val_loss']);
    const ckptPath =
      asyncRun.trainer.checkpointCallback!.bestModelPath || asyncRun.trainer.checkpointCallback!.lastModelPath;
    expect(existsSync(ckptPath)).toBe(true);
    const ckpt = await readCheckpoint(ckptPath);
    expect(ckpt['global_step']).toBe(4);
    const sd = ckpt['state_dict'] as Record<string, Tensor>;
    expect(Array.from(await sd['encoder.0.weight']!.data())).toEqual(
      Array.from(await asyncRun.model.encoder.parameters()[0]!.data()),
    );
  });

  it('async readback: resume from a checkpoint onto the async backend continues as the synchronous resume does', async () => {
    const gpuLike = asyncReadbackBackend(wasm);
    const first = await run('cpu', 2, { callbacks: [new ModelCheckpoint({ dirpath: `${dir.path}/c` })] });
    const path = first.trainer.checkpointCallback!.lastModelPath || first.trainer.checkpointCallback!.bestModelPath;
    const resume = async (acc: Backend | 'cpu'): Promise<number[]> => {
      manualSeed(99);
      const rec = new LossRecorder();
      const t = new Trainer({
        accelerator: acc,
        maxSteps: 4,
        enableProgressBar: false,
        logger: false,
        enableCheckpointing: false,
        callbacks: [rec],
      });
      await t.fit(new LitAutoEncoderVal(), digitLoader(32, { batchSize: 8 }), null, { ckptPath: path });
      expect(t.globalStep).toBe(4);
      return rec.losses;
    };
    expect(await resume(gpuLike)).toEqual(await resume('cpu'));
  });

  it("async readback: resuming a real Lightning checkpoint (Adam's step as a tensor) onto the async backend, as the default backend too", async () => {
    const gpuLike = asyncReadbackBackend(wasm);
    const path = new URL('../fixtures/lightning/real-lightning.ckpt', import.meta.url).pathname;
    class LitSmall extends LightningModule {
      net = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        return mseLoss(this.net.forward(batch[0]), batch[1]);
      }
      override configureOptimizers() {
        return new Adam(this.parameters(), { lr: 0.01 });
      }
    }
    const resume = async (backend: Backend): Promise<number[]> => {
      manualSeed(5);
      const data = new DataLoader(
        new TensorDataset(randn([8, 4], { backend: wasm }), randn([8, 2], { backend: wasm })),
        { batchSize: 4 },
      );
      setDefaultBackend(backend);
      try {
        const rec = new LossRecorder();
        const t = new Trainer({
          accelerator: backend,
          maxSteps: 5,
          enableProgressBar: false,
          enableModelSummary: false,
          logger: false,
          enableCheckpointing: false,
          callbacks: [rec],
        });
        await t.fit(new LitSmall(), data, null, { ckptPath: path });
        expect(t.globalStep).toBe(5);
        return rec.losses;
      } finally {
        setDefaultBackend(wasm);
      }
    };
    const onWasm = await resume(wasm);
    expect(onWasm.length).toBe(2);
    expect(await resume(gpuLike)).toEqual(onWasm);
  });

  it('async readback: a lost device stops fit with a DeviceLostError; the last checkpoint stays intact and loadable', async () => {
    const gpuLike = asyncReadbackBackend(wasm);
    class Lose extends Callback {
      override onTrainBatchStart(_t: Trainer, _m: LightningModule, _b: unknown, batchIdx: number): void {
        if (batchIdx === 3) gpuLike.loseDevice('test: device reset');
      }
    }
    manualSeed(4);
    const folder = `${dir.path}/lost`;
    const trainer = new Trainer({
      accelerator: gpuLike,
      maxSteps: 6,
      enableProgressBar: false,
      logger: false,
      callbacks: [
        new Lose(),
        new ModelCheckpoint({ dirpath: folder, everyNTrainSteps: 1, saveLast: true, saveTopK: 1 }),
      ],
    });
    const fit = trainer.fit(new LitAutoEncoderVal(), digitLoader(48, { batchSize: 8 }));
    await expect(fit).rejects.toThrow(DeviceLostError);
    await expect(fit).rejects.toThrow(/device was lost \(test: device reset\)/);
    expect(trainer.state.status).toBe('interrupted');
    const ckpt = await readCheckpoint(`${folder}/last.ckpt`);
    expect(ckpt['global_step']).toBe(3);
    const sd = ckpt['state_dict'] as Record<string, Tensor>;
    expect(Object.keys(sd).length).toBe(8);
  });

  it('async readback: BatchNorm with momentum null (1/num_batches_tracked) trains without a synchronous read, as on wasm', async () => {
    const gpuLike = asyncReadbackBackend(wasm);
    const stats = async (backend: Backend): Promise<number[]> => {
      manualSeed(8);
      const bn = new BatchNorm1d(3, { momentum: null });
      await bn.toBackend(backend);
      for (let i = 0; i < 3; i++) bn.forward(randn([6, 3], { backend }));
      return [
        ...Array.from(await bn.runningMean!.data()),
        ...Array.from(await bn.runningVar!.data()),
        ...Array.from(await bn.numBatchesTracked!.data()),
      ];
    };
    const sync = await stats(wasm);
    const got = await stats(gpuLike);
    expect(got.slice(-1)).toEqual([3]);
    got.forEach((v, i) => expect(Math.abs(v - sync[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(sync[i]!) + 1e-7));
  });

  it('async readback: an op on tensors of two backends is a BackendError naming both', () => {
    const gpuLike = asyncReadbackBackend(wasm);
    const a = tensor([1, 2], { backend: wasm });
    const b = tensor([3, 4], { backend: gpuLike });
    expect(() => a.add(b)).toThrow(BackendError);
    expect(() => a.add(b)).toThrow(/'wasm'.*'wasm-async'/);
    expect(() => b.matmul(a)).toThrow(/'wasm-async'.*'wasm'/);
    expect(() => b.dataSync()).toThrow(/reads back asynchronously; expected await t.data\(\)/);
  });
});
