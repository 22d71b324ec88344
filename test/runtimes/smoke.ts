/**
 * @module smoke — the training runs that every runtime executes the same way: a tiny MLP by
 * hand, then the seed autoencoder through `Trainer.fit` with a CSV logger and checkpoints.
 *
 * Platform-free: each runtime's entry passes the library it imported and a
 * line printer. With deterministic kernels the printed lines must be bitwise
 * identical in Node, Deno and Chromium (runtimes.test.ts compares them).
 */
import type * as Library from '../../runtime/index.ts';
import type { InitFunction } from '../../runtime/setup.ts';
import { getPlatform } from '../../runtime/platform.ts';

/** What the smoke needs: the public API plus the binding's `init`. */
export type SmokeLibrary = typeof Library & { readonly init: InitFunction };

/** SGD steps the smoke takes; runtimes.test.ts expects this many loss lines. */
export const SMOKE_STEPS = 5;

/** Every line the smoke prints starts with this, so runners can pick them out. */
export const SMOKE_PREFIX = 'smoke ';

/**
 * The float32 bit pattern of `value`, as 8 hex digits.
 * @example float32Hex(1) // '3f800000'
 */
export function float32Hex(value: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return view.getUint32(0, true).toString(16).padStart(8, '0');
}

/**
 * FNV-1a (32-bit) over a sequence of byte arrays.
 * @example fnv1a([new Uint8Array([97])]) // 0xe40c292c ('a')
 */
export function fnv1a(chunks: readonly Uint8Array[]): number {
  let hash = 0x811c9dc5;
  for (const bytes of chunks) {
    for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Exercises the host's Platform files inside `dir` (which must exist and be
 * empty): nested mkdirp, an atomic write, an overwrite, a read-back and a
 * listing that shows no temporary files left behind.
 */
async function checkFiles(dir: string, bytes: Uint8Array): Promise<string> {
  const platform = getPlatform();
  const sub = `${dir}/a/b`;
  await platform.mkdirp(sub);
  await platform.mkdirp(sub);
  await platform.writeFile(`${sub}/w.bin`, new Uint8Array([1, 2, 3]));
  await platform.writeFile(`${sub}/w.bin`, bytes);
  const back = await platform.readFile(`${sub}/w.bin`);
  const same = back.length === bytes.length && back.every((b, i) => b === bytes[i]);
  const listing = [...(await platform.listDir(sub)), '|', ...(await platform.listDir(`${dir}/a`))].join(' ');
  let missing = 'no error';
  try {
    await platform.readFile(`${sub}/absent.bin`);
  } catch {
    missing = 'rejects';
  }
  await platform.writeFile(`${sub}/gone.bin`, bytes);
  await platform.removeFile(`${sub}/gone.bin`);
  await platform.removeFile(`${sub}/gone.bin`);
  const afterRemove = (await platform.listDir(sub)).join(' ');
  const t0 = platform.now();
  const t1 = platform.now();
  return `roundtrip ${same ? 'ok' : 'differs'}; listing ${listing}; missing file ${missing}; after remove ${afterRemove}; clock ${t1 >= t0 ? 'monotonic' : 'backwards'}`;
}

/**
 * Trains an 8→16→ReLU→4 MLP for {@link SMOKE_STEPS} SGD steps on seeded data,
 * printing each loss (float32 bits and decimal) and a hash of the final
 * weights; returns the weights' bytes.
 */
async function train(lib: SmokeLibrary, print: (line: string) => void): Promise<Uint8Array> {
  const name = lib.getDefaultBackend().name;
  lib.manualSeed(0);
  const w1 = lib.randn([8, 16]).mul(0.35).requiresGrad_();
  const b1 = lib.zeros([16]).requiresGrad_();
  const w2 = lib.randn([16, 4]).mul(0.25).requiresGrad_();
  const b2 = lib.zeros([4]).requiresGrad_();
  const params = [w1, b1, w2, b2];
  const x = lib.randn([32, 8]);
  const y = lib.randn([32, 4]);
  const lr = 0.1;
  for (let step = 0; step < SMOKE_STEPS; step++) {
    const loss = x.matmul(w1).add(b1).relu().matmul(w2).add(b2).sub(y).pow(2).mean();
    const value = await loss.item();
    print(`${SMOKE_PREFIX}${name} loss ${step} 0x${float32Hex(value)} ${value.toPrecision(9)}`);
    loss.backward();
    lib.noGrad(() => {
      for (const p of params) {
        p.sub_(p.grad!.mul(lr));
        p.grad = null;
      }
    });
  }
  const chunks: Uint8Array[] = [];
  for (const p of params) {
    const data = await p.data();
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  print(`${SMOKE_PREFIX}${name} weights fnv1a 0x${fnv1a(chunks).toString(16).padStart(8, '0')}`);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/** Steps of the whole-Trainer run; its lines must be identical in every runtime too. */
export const TRAINER_STEPS = 100;

/** Bytes of a tensor's values (as the backend holds them). */
async function tensorBytes(t: { data(): Promise<ArrayBufferView> }): Promise<Uint8Array> {
  const data = await t.data();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Every tensor inside a loaded checkpoint, in key order, depth first. */
function collectTensors(lib: SmokeLibrary, value: unknown, out: InstanceType<SmokeLibrary['Tensor']>[]): void {
  if (value instanceof lib.Tensor) {
    out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectTensors(lib, v, out);
  } else if (value instanceof Map) {
    for (const k of [...value.keys()].sort()) collectTensors(lib, value.get(k), out);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const k of Object.keys(record).sort()) collectTensors(lib, record[k], out);
  }
}

/**
 * The seed autoencoder trained by `Trainer.fit` for {@link TRAINER_STEPS} steps on seeded data,
 * with a CSV logger (every step) and a ModelCheckpoint (every 25 steps, plus last), under
 * `dir`. Prints hashes of the final weights, the logged values (metrics.csv) and the tensors of
 * the last checkpoint as read back from the file, so runtimes.test.ts can compare them across
 * Node, Deno and Chromium.
 */
async function trainWithTrainer(lib: SmokeLibrary, print: (line: string) => void, dir: string): Promise<void> {
  const { nn, F, optim } = lib;
  class LitAutoEncoder extends lib.LightningModule {
    encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
    decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));
    override trainingStep(batch: unknown): InstanceType<SmokeLibrary['Tensor']> {
      let [x] = batch as [InstanceType<SmokeLibrary['Tensor']>];
      x = x.view(x.size(0), -1);
      const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
      this.log('train_loss', loss);
      return loss;
    }
    override configureOptimizers(): InstanceType<SmokeLibrary['optim']['Adam']> {
      return new optim.Adam(this.parameters(), { lr: 1e-3 });
    }
  }
  lib.manualSeed(0);
  const data = lib.rand([200, 1, 28, 28], { generator: new lib.Generator(1) });
  const labels = lib.zeros([200], { dtype: 'int32' });
  const loader = new lib.DataLoader(new lib.TensorDataset(data, labels), {
    batchSize: 8,
    shuffle: true,
    generator: new lib.Generator(2),
  });
  const model = new LitAutoEncoder();
  const checkpoint = new lib.ModelCheckpoint({
    dirpath: `${dir}/ckpt`,
    everyNTrainSteps: 25,
    saveTopK: -1,
    saveLast: true,
  });
  const trainer = new lib.Trainer({
    maxSteps: TRAINER_STEPS,
    accelerator: 'cpu',
    deterministic: true,
    logger: new lib.CSVLogger({ saveDir: dir, name: 'csv', version: 0, flushLogsEveryNSteps: 10 }),
    logEveryNSteps: 1,
    callbacks: [checkpoint],
    enableProgressBar: false,
    enableModelSummary: false,
  });
  await trainer.fit(model, loader);
  const weights: Uint8Array[] = [];
  for (const p of model.parameters()) weights.push(await tensorBytes(p));
  const platform = getPlatform();
  const metrics = await platform.readFile(`${dir}/csv/version_0/metrics.csv`);
  const ckptFiles = (await platform.listDir(`${dir}/ckpt`)).join(' ');
  const ckpt = await lib.loadTorch(await platform.readFile(`${dir}/ckpt/last.ckpt`));
  const tensors: InstanceType<SmokeLibrary['Tensor']>[] = [];
  collectTensors(lib, ckpt, tensors);
  const ckptBytes: Uint8Array[] = [];
  for (const t of tensors) ckptBytes.push(await tensorBytes(t));
  const hex = (chunks: readonly Uint8Array[]): string => `0x${fnv1a(chunks).toString(16).padStart(8, '0')}`;
  print(`${SMOKE_PREFIX}trainer steps ${trainer.globalStep} weights fnv1a ${hex(weights)}`);
  print(`${SMOKE_PREFIX}trainer metrics.csv ${metrics.length} bytes fnv1a ${hex([metrics])}`);
  print(`${SMOKE_PREFIX}trainer checkpoints ${ckptFiles}`);
  print(`${SMOKE_PREFIX}trainer last.ckpt ${tensors.length} tensors fnv1a ${hex(ckptBytes)}`);
}

/**
 * The smoke: {@link train} on the reference backend (the oracle), then on the
 * deterministic wasm backend, which stays the default; then the Platform's
 * files under `scratchDir`. runtimes.test.ts checks that wasm tracks the
 * reference, and that every line is the same in every runtime.
 *
 * @example
 * import * as lib from '../../bindings/node.ts';
 * await runSmoke(lib, console.log, await mkdtemp('/tmp/smoke-'));
 */
export async function runSmoke(lib: SmokeLibrary, print: (line: string) => void, scratchDir: string): Promise<void> {
  await lib.init({ backend: 'reference' });
  await train(lib, print);
  const backend = await lib.init({ deterministic: true });
  print(`${SMOKE_PREFIX}backend ${backend.name}`);
  const weights = await train(lib, print);
  print(`${SMOKE_PREFIX}files ${await checkFiles(scratchDir, weights)}`);
  await trainWithTrainer(lib, print, `${scratchDir}/trainer`);
  print(`${SMOKE_PREFIX}done`);
}
