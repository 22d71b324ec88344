// @module bench/seed-model — the seed autoencoder (examples/autoencoder.ts: 784→64→ReLU→3 /
// 3→64→ReLU→784, mse, Adam lr 1e-3) and the hand-written training loop over it, shared by
// bench/trainer.mjs (Trainer overhead) and bench/seed-worker.mjs (the peer comparison).
import { LightningModule, F, nn, optim, manualSeed, tidy } from 'lightning-ts';

export class LitAutoEncoder extends LightningModule {
  constructor() {
    super();
    this.encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
    this.decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
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

/**
 * The hand-written loop, one step per `step()`: fetch the next batch from `loader` (a new
 * epoch when it runs out), forward, mse, backward, Adam, zeroGrad, all in one `tidy`.
 */
export function bareLoop(loader, seed = 0) {
  manualSeed(seed);
  const model = new LitAutoEncoder();
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  model.train();
  let it = loader[Symbol.asyncIterator]();
  const step = () =>
    tidy(async () => {
      let r = await it.next();
      if (r.done === true) {
        it = loader[Symbol.asyncIterator]();
        r = await it.next();
      }
      const x = r.value[0].view(r.value[0].size(0), -1);
      const loss = F.mseLoss(model.decoder.forward(model.encoder.forward(x)), x);
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  return { model, step, close: () => it.return?.() };
}
