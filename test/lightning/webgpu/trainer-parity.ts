/**
 * @module lightning/webgpu/trainer-parity — the Trainer on WebGPU against the wasm backend, in Deno.
 *
 * Trains the seed autoencoder and a small CNN from the same seed twice: `accelerator: 'cpu'`
 * (wasm, deterministic kernels) and `accelerator: 'webgpu'`, and prints one JSON line per run
 * (`TRAINER_PARITY {...}`) with the per-step losses, the accelerator used, the adapter, and
 * the global step of the checkpoint the WebGPU run saved (written with asynchronous reads)
 * and read back. test/lightning/webgpu-trainer.test.ts compares the curves.
 *
 * Run: `deno run -A test/lightning/webgpu/trainer-parity.ts [--allow-fallback]`. CI machines
 * have only software adapters (lavapipe); `--allow-fallback` lets the Trainer use one.
 */
import * as lib from '../../../bindings/deno.ts';
import type { Tensor } from '../../../runtime/tensor/index.ts';
import type { LightningModule as LM } from '../../../runtime/lightning/module.ts';
import type { Trainer as TrainerT } from '../../../runtime/lightning/trainer.ts';

interface DenoApi {
  readonly args: readonly string[];
  makeTempDir(options: { prefix: string }): Promise<string>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  exit(code: number): never;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
const { nn, F, optim, Trainer, LightningModule, Callback, ModelCheckpoint, DataLoader, TensorDataset } = lib;

const PREFIX = 'TRAINER_PARITY ';
const allowFallback = Deno.args.includes('--allow-fallback');
const STEPS = 6;

class SeedAutoEncoder extends LightningModule {
  encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
  decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
  override trainingStep(batch: [Tensor]): Tensor {
    const x = batch[0];
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss);
    return loss;
  }
  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

class SmallCnn extends LightningModule {
  net = new nn.Sequential(
    new nn.Conv2d(1, 4, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 5 * 5, 10),
  );
  override trainingStep(batch: [Tensor, Tensor]): Tensor {
    const [x, y] = batch;
    const loss = F.crossEntropy(this.net.forward(x), y);
    this.log('train_loss', loss);
    return loss;
  }
  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 3e-3 });
  }
}

class LossRecorder extends Callback {
  losses: number[] = [];
  override async onTrainBatchEnd(_t: TrainerT, _m: LM, outputs: unknown): Promise<void> {
    this.losses.push((await (outputs as Tensor).data())[0]!);
  }
}

function loader(kind: 'seed' | 'cnn'): lib.Loader {
  lib.manualSeed(1234);
  const n = 8 * STEPS;
  if (kind === 'seed') return new DataLoader(new TensorDataset(lib.rand([n, 28 * 28])), { batchSize: 8 });
  return new DataLoader(new TensorDataset(lib.randn([n, 1, 12, 12]), lib.randint(0, 10, [n])), { batchSize: 8 });
}

async function run(
  kind: 'seed' | 'cnn',
  accelerator: 'cpu' | 'webgpu',
  scratch: string,
  precision = '32-true',
): Promise<void> {
  const data = loader(kind);
  lib.manualSeed(42);
  const model = kind === 'seed' ? new SeedAutoEncoder() : new SmallCnn();
  const rec = new LossRecorder();
  const folder = `${scratch}/${kind}-${accelerator}-${precision}`;
  const trainer = new Trainer({
    accelerator,
    precision,
    maxSteps: STEPS,
    logger: false,
    enableProgressBar: false,
    enableModelSummary: false,
    callbacks: [rec, new ModelCheckpoint({ dirpath: folder, saveLast: true })],
    ...(allowFallback ? { webgpu: { allowFallbackAdapter: true } } : {}),
  });
  await trainer.fit(model, data);
  const ckpt = await lib.readCheckpoint(`${folder}/last.ckpt`);
  const backend = trainer.rootBackend as { name: string; features?: { f16: boolean } } | null;
  console.log(
    PREFIX +
      JSON.stringify({
        kind,
        precision,
        accelerator: trainer.acceleratorName,
        backend: backend?.name,
        losses: rec.losses,
        adapter: trainer.acceleratorDescription,
        f16: backend?.features?.f16 ?? null,
        ckptStep: ckpt['global_step'],
        params: model.parameters().map((p) => p.backend.name),
      }),
  );
}

const scratch = await Deno.makeTempDir({ prefix: 'lightning-ts-webgpu-trainer-' });
try {
  await lib.init({ deterministic: true });
  for (const kind of ['seed', 'cnn'] as const) {
    await run(kind, 'cpu', scratch);
    await run(kind, 'webgpu', scratch);
  }
  for (const precision of ['16-mixed', 'bf16-mixed', '16-true']) {
    await run('seed', 'cpu', scratch, precision);
    await run('seed', 'webgpu', scratch, precision);
  }
  await Deno.remove(scratch, { recursive: true });
  Deno.exit(0);
} catch (error) {
  console.log(
    `${PREFIX}${JSON.stringify({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })}`,
  );
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  await Deno.remove(scratch, { recursive: true });
  Deno.exit(1);
}
