/**
 * @module test/inference/serve-helpers — a seed-autoencoder checkpoint trained with the main entry,
 * the examples bundled against the inference bundles, and free loopback ports.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  DataLoader,
  F,
  LightningModule,
  TensorDataset,
  Trainer,
  manualSeed,
  nn,
  noGrad,
  optim,
  rand,
  tensor,
  type Tensor,
} from '../../bindings/node.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OUT = join(ROOT, 'test-output', 'serve');

class LitAutoEncoder extends LightningModule {
  encoder = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
  decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 784));
  override forward(x: Tensor): Tensor {
    return this.encoder.forward(x);
  }
  override trainingStep(batch: [Tensor]): Tensor {
    const [x] = batch;
    const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
    this.log('train_loss', loss);
    return loss;
  }
  override configureOptimizers(): optim.Adam {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

/** Trains the seed autoencoder 4 steps on random images; returns the checkpoint's path and the model. */
export async function trainCheckpoint(dir: string): Promise<{ path: string; model: LitAutoEncoder }> {
  manualSeed(7);
  const model = new LitAutoEncoder();
  const loader = new DataLoader(new TensorDataset(rand([32, 784])), { batchSize: 8 });
  const trainer = new Trainer({
    maxSteps: 4,
    logger: false,
    enableCheckpointing: false,
    enableProgressBar: false,
    enableModelSummary: false,
    defaultRootDir: dir,
  });
  await trainer.fit(model, loader);
  const path = join(dir, 'seed.ckpt');
  await trainer.saveCheckpoint(path);
  return { path, model };
}

/** Images whose pixels are exact in float32 (k / 256), so JSON carries them without rounding. */
export function images(count: number, seed: number): number[][] {
  return Array.from({ length: count }, (_, i) =>
    Array.from({ length: 784 }, (_, j) => ((i * 131 + j * 17 + seed * 7) % 256) / 256),
  );
}

/** The main entry's embeddings of `rows`. */
export async function mainEmbeddings(model: LitAutoEncoder, rows: number[][]): Promise<number[][]> {
  const z = noGrad(() => model.forward(tensor(rows)));
  const flat = await z.data();
  return rows.map((_, i) => Array.from(flat.subarray(i * 3, i * 3 + 3)));
}

type Target = 'node' | 'deno' | 'worker';
const BUNDLE: Record<Target, string> = {
  node: 'dist/lightning-ts.inference.node.js',
  deno: 'dist/lightning-ts.inference.deno.js',
  worker: 'dist/lightning-ts.inference.browser.js',
};

/**
 * Bundles examples/serve/<file> into `out` (under test-output/serve/ when relative) as a user's bundler would, with
 * `lightning-ts/inference` resolved to the package's dist bundle (kept external for Node and Deno,
 * so it finds build/ beside it; inlined for workerd, whose kernels come as a module).
 */
export async function bundleExample(file: string, out: string, target: Target): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const outfile = isAbsolute(out) ? out : join(OUT, out);
  await build({
    entryPoints: [join(ROOT, 'examples', 'serve', file)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: target === 'node' ? 'node' : target === 'deno' ? 'neutral' : 'browser',
    target: 'es2022',
    external: ['./kernels.wasm', './weights.bin'],
    logLevel: 'warning',
    plugins: [
      {
        name: 'lightning-ts-inference',
        setup(b) {
          b.onResolve({ filter: /^lightning-ts\/inference$/ }, () => ({
            path: join(ROOT, BUNDLE[target]),
            external: target !== 'worker',
          }));
        },
      },
    ],
  });
  return outfile;
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => done(port));
    });
  });
}
