/**
 * @module lightning/trainer-helpers — what the Lightning suites share: a node:fs Platform that
 * captures stdout and can delete files, the wasm backend as the default, the seed model, and
 * small loaders over the `mnist` package's digits.
 */
import { createRequire } from 'node:module';
import type { Backend } from '../../runtime/backend.ts';
import type { Platform } from '../../runtime/platform.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { setPlatform } from '../../runtime/platform.ts';
import { DataLoader } from '../../runtime/data/dataloader.ts';
import { MnistDigits, type MnistPackage } from '../../runtime/data/mnist-digits.ts';
import { Subset } from '../../runtime/data/dataset.ts';
import { ToTensor } from '../../runtime/data/transforms.ts';
import { Linear } from '../../runtime/nn/linear.ts';
import { ReLU } from '../../runtime/nn/activation.ts';
import { Sequential } from '../../runtime/nn/containers.ts';
import { mseLoss } from '../../runtime/nn/loss-functions.ts';
import { Adam } from '../../runtime/optim/adam.ts';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { LightningModule } from '../../runtime/lightning/module.ts';
import type { OptimizersConfig } from '../../runtime/lightning/optimizers.ts';
import { availableBackends } from '../helpers/backends.ts';
import { tempFolder, testPlatform } from '../data/setup.ts';

export { tempFolder };

/** Everything written to stdout since the last `takeOutput()`. */
let output = '';
let tty = false;

/** The test Platform with a capturing, switchable stdout. */
export const lightningPlatform: Platform = {
  ...testPlatform,
  stdout: {
    write: (t: string) => {
      output += t;
    },
    get isTTY() {
      return tty;
    },
  },
};

/** Returns and clears the captured stdout. */
export function takeOutput(): string {
  const o = output;
  output = '';
  return o;
}

/** Makes stdout claim to be a TTY or not. */
export function setTTY(value: boolean): void {
  tty = value;
}

let wasm: Backend | undefined;

/** Installs the platform and the wasm backend (the reference when wasm is not built). */
export async function useWasmRuntime(): Promise<Backend> {
  setPlatform(lightningPlatform);
  if (wasm === undefined) {
    const all = await availableBackends();
    wasm = all.find((b) => b.name === 'wasm') ?? all[0]!;
  }
  setDefaultBackend(wasm);
  return wasm;
}

/** The seed program's model, with an optional validation step. */
export class LitAutoEncoder extends LightningModule {
  encoder = new Sequential(new Linear(28 * 28, 64), new ReLU(), new Linear(64, 3));
  decoder = new Sequential(new Linear(3, 64), new ReLU(), new Linear(64, 28 * 28));
  lr: number;

  constructor(hparams: { lr?: number } = {}) {
    super();
    this.lr = hparams.lr ?? 1e-3;
    this.saveHyperparameters({ lr: this.lr });
  }

  override forward(x: Tensor): Tensor {
    return this.encoder.forward(x);
  }

  override trainingStep(batch: [Tensor, Tensor], batchIdx?: number): Tensor {
    void batchIdx;
    let [x] = batch;
    x = x.view(x.size(0), -1);
    const loss = mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss);
    return loss;
  }

  override configureOptimizers(): OptimizersConfig {
    return new Adam(this.parameters(), { lr: this.lr });
  }
}

/** The same model with a validation step logging `val_loss`. */
export class LitAutoEncoderVal extends LitAutoEncoder {
  override validationStep(batch: [Tensor, Tensor], batchIdx?: number): void {
    void batchIdx;
    let [x] = batch;
    x = x.view(x.size(0), -1);
    this.log('val_loss', mseLoss(this.decoder.forward(this.encoder.forward(x)), x));
  }
}

let digits: MnistDigits<Tensor, number> | undefined;

/** The package's digits as tensors in [0, 1]. */
export function mnistDigits(): MnistDigits<Tensor, number> {
  digits ??= MnistDigits.fromPackage<Tensor, number>(createRequire(import.meta.url)('mnist') as MnistPackage, {
    transform: new ToTensor(),
  });
  return digits;
}

/** A loader over `n` digits spread over all classes (every 10000/n-th). */
export function digitLoader(
  n: number,
  options: { batchSize?: number; shuffle?: boolean; offset?: number } = {},
): DataLoader<[Tensor, number]> {
  const ds = mnistDigits();
  const stride = Math.floor(ds.length / n);
  const idx = Array.from({ length: n }, (_, i) => (i * stride + (options.offset ?? 0)) % ds.length);
  return new DataLoader(new Subset(ds, idx), {
    batchSize: options.batchSize ?? 8,
    shuffle: options.shuffle ?? false,
  }) as unknown as DataLoader<[Tensor, number]>;
}
