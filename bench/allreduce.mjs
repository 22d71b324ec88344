// @module bench/allreduce — what the DDP gradient all-reduce costs per optimizer step, for the
// seed autoencoder (784→64→3→64→784: 101,651 parameters) and a 10× larger one (hidden 640:
// 1,009,427 parameters), with 2 ranks (this process and one worker_threads worker) at batch 16
// per rank. Two figures per model:
// - in training: `trainer.strategy.reduceGradients` on rank 0 over 200 steps after 20 warm-up
//   steps: the copy of every gradient into the shared buffer, the barrier (which includes
//   waiting for the slower rank), the fixed-order reduction, and the copy back; the step time
//   beside it is the whole training step (forward, backward, all-reduce, Adam);
// - alone: the same call 200 times back to back on both ranks at the end of training (no
//   compute between calls, so no rank is late): the collective's own cost, copies and wake-up.
// Run: `npm run build:ts && node bench/allreduce.mjs` (each rank re-runs this file, as DDP does).
import { performance } from 'node:perf_hooks';
import {
  Callback,
  DataLoader,
  F,
  LightningModule,
  TensorDataset,
  Trainer,
  manualSeed,
  nn,
  optim,
  rand,
} from '../dist/lightning-ts.node.js';

const WARMUP = 20;
const STEPS = 200;
const PER_RANK_BATCH = 16;

class AutoEncoder extends LightningModule {
  constructor(hidden) {
    super();
    this.encoder = new nn.Sequential(new nn.Linear(784, hidden), new nn.ReLU(), new nn.Linear(hidden, 3));
    this.decoder = new nn.Sequential(new nn.Linear(3, hidden), new nn.ReLU(), new nn.Linear(hidden, 784));
  }
  trainingStep([x]) {
    return F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
  }
  configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

for (const hidden of [64, 640]) {
  manualSeed(0);
  const trainer = new Trainer({
    strategy: 'ddp',
    devices: 2,
    maxSteps: WARMUP + STEPS,
    logger: false,
    enableCheckpointing: false,
    enableProgressBar: false,
    enableModelSummary: false,
  });
  const model = new AutoEncoder(hidden);
  const data = new TensorDataset(rand([2 * PER_RANK_BATCH * (WARMUP + STEPS), 784]));
  const params = model.parameters().reduce((n, p) => n + p.numel(), 0);
  const reduceTimes = [];
  const stepTimes = [];
  const strategy = trainer.strategy;
  const reduce = strategy.reduceGradients.bind(strategy);
  strategy.reduceGradients = async (ps) => {
    const t0 = performance.now();
    const out = await reduce(ps);
    reduceTimes.push(performance.now() - t0);
    return out;
  };
  let last = 0;
  class StepClock extends Callback {
    onTrainBatchEnd() {
      const now = performance.now();
      if (last > 0) stepTimes.push(now - last);
      last = now;
    }
  }
  const aloneTimes = [];
  class Alone extends Callback {
    async onTrainEnd(_trainer, module) {
      module.trainingStep([rand([PER_RANK_BATCH, 784])]).backward();
      for (let i = 0; i < WARMUP + STEPS; i++) {
        const t0 = performance.now();
        await reduce(module.parameters());
        if (i >= WARMUP) aloneTimes.push(performance.now() - t0);
      }
    }
  }
  trainer.callbacks.push(new StepClock(), new Alone());
  await trainer.fit(model, new DataLoader(data, { batchSize: PER_RANK_BATCH }));
  if (trainer.isGlobalZero) {
    const r = reduceTimes.slice(WARMUP);
    const s = stepTimes.slice(WARMUP);
    const us = (x) => `${(x * 1000).toFixed(0)} µs`;
    console.log(
      `${params.toLocaleString('en-US')} parameters: all-reduce in training median ${us(median(r))}/step ` +
        `(p10 ${us(r.sort((a, b) => a - b)[Math.floor(r.length / 10)])}), alone median ${us(median(aloneTimes))} ` +
        `(p10 ${us(aloneTimes.sort((a, b) => a - b)[Math.floor(aloneTimes.length / 10)])}); ` +
        `whole step median ${median(s).toFixed(2)} ms (2 ranks, batch ${PER_RANK_BATCH} per rank)`,
    );
  }
}
