/**
 * @module examples/browser/worker — trains the seed autoencoder in a Web Worker, so the page
 * stays responsive, and reports progress and pictures to it (messages in protocol.ts).
 *
 * The model, loss, optimizer and data are the seed's (examples/autoencoder.ts). The Trainer
 * writes its checkpoints and TensorBoard event files to the browser platform's file system
 * (OPFS, or memory where OPFS is unavailable) under `lightning-ts-demo/`; downloads read
 * them back from there with `getPlatform().readFile`.
 */
import {
  Callback,
  CheckpointError,
  DataLoader,
  F,
  LightningError,
  LightningModule,
  MnistDigits,
  ToTensor,
  Tensor,
  Trainer,
  detectGpu,
  getPlatform,
  manualSeed,
  nn,
  noGrad,
  optim,
  readCheckpoint,
  tensor,
  tidy,
} from 'lightning-ts';
import type { Loader } from 'lightning-ts';
import type { ErrorReport, FromWorker, ToWorker, Visuals } from './protocol.ts';

/** The dedicated worker's global scope, as far as this file uses it (tsconfig has DOM, not WebWorker). */
interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

// ---------------------------------------------------------------- the seed model, as in examples/autoencoder.ts

class LitAutoEncoder extends LightningModule {
  encoder = new nn.Sequential(new nn.Linear(28 * 28, 64), new nn.ReLU(), new nn.Linear(64, 3));
  decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 28 * 28));

  override forward(x: Tensor): Tensor {
    return this.encoder.forward(x);
  }

  override trainingStep(batch: [Tensor, Tensor]): Tensor {
    let [x] = batch;
    x = x.view(x.size(0), -1);
    const z = this.encoder.forward(x);
    const xHat = this.decoder.forward(z);
    const loss = F.mseLoss(xHat, x);
    this.log('train_loss', loss);
    return loss;
  }

  override configureOptimizers(): optim.Adam {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

// ---------------------------------------------------------------- data

/** Where the Trainer writes (an OPFS folder, emptied when the worker starts). */
const ROOT_DIR = 'lightning-ts-demo';
const PIXELS = 28 * 28;
const BATCH_SIZE = 32;
/** Digits in the scatter, per class. */
const SCATTER_PER_DIGIT = 50;

/** digits.bin (see serve.mjs) as the `mnist` package's shape: ten records with `raw` in [0, 1]. */
function decodeDigits(bytes: Uint8Array): { raw: Float32Array }[] {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (magic !== 'MNDG' || bytes.byteLength < 44) {
    throw new LightningError(`demo: digits.bin is not the digits file; expected magic MNDG, got '${magic}'`);
  }
  const records: { raw: Float32Array }[] = [];
  let at = 44;
  for (let d = 0; d < 10; d++) {
    const n = view.getUint32(4 + 4 * d, true) * PIXELS;
    if (at + n > bytes.byteLength) {
      throw new LightningError(`demo: digits.bin is truncated; expected ${at + n} bytes, got ${bytes.byteLength}`);
    }
    const raw = new Float32Array(n);
    for (let i = 0; i < n; i++) raw[i] = bytes[at + i]! / 255;
    records.push({ raw });
    at += n;
  }
  return records;
}

/** Pixels in [0, 1] of the dataset items `indices`, concatenated. */
function pixelsOf(dataset: { readonly data: Uint8Array }, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * PIXELS);
  indices.forEach((item, k) => {
    for (let p = 0; p < PIXELS; p++) out[k * PIXELS + p] = dataset.data[item * PIXELS + p]! / 255;
  });
  return out;
}

/**
 * `?allow-software-gpu` on the page's URL: a software WebGPU adapter (SwiftShader, lavapipe)
 * counts. The library refuses them by default, since the wasm backend outruns them; this lets
 * the WebGPU path run on a machine without a GPU.
 */
const ALLOW_SOFTWARE_GPU = new URL(location.href).searchParams.has('allow-software-gpu');

/** The adapter the WebGPU option would train on, or null and why there is none. */
async function findGpu(): Promise<{ adapter: string | null; reason: string }> {
  if (!ALLOW_SOFTWARE_GPU) {
    const found = await detectGpu();
    const label = found.adapter === null ? null : found.adapter.description || found.adapter.vendor || 'WebGPU adapter';
    return { adapter: label, reason: found.reason };
  }
  const gpu = (globalThis.navigator as Partial<Navigator> | undefined)?.gpu;
  const adapter = await gpu?.requestAdapter();
  if (adapter === undefined || adapter === null) {
    return { adapter: null, reason: `navigator.gpu ${gpu === undefined ? 'is missing' : 'gave no adapter'}` };
  }
  const info = [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter((x) => x !== '');
  return { adapter: `${info.join(' ') || 'adapter'}; software allowed`, reason: '' };
}

/** A small seeded generator (mulberry32) for the decoded samples, apart from the training RNG. */
function uniforms(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

// ---------------------------------------------------------------- state

interface Demo {
  readonly loader: Loader;
  readonly originals: Float32Array;
  readonly scatter: Float32Array;
  readonly sampleUniforms: Float32Array;
  model: LitAutoEncoder;
  /** The checkpoint the next run resumes from (optimizer and step count included). */
  resumeFrom: string | null;
  /** The newest checkpoint: what "download" gives. */
  checkpoint: string | null;
  /** The newest run's log folder. */
  logDir: string | null;
  step: number;
  trainer: Trainer | null;
}

let demo: Demo | null = null;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** The error as the page shows it: the typed error's class, its message, a state dict's mismatches. */
function report(during: ErrorReport['during'], error: unknown): ErrorReport {
  const chain: unknown[] = [error];
  for (let e = error; e instanceof Error && e.cause !== undefined; e = e.cause) chain.push(e.cause);
  const stateDict = chain.find((e): e is nn.StateDictError => e instanceof nn.StateDictError);
  const name =
    error instanceof CheckpointError
      ? 'CheckpointError'
      : error instanceof nn.StateDictError
        ? 'StateDictError'
        : error instanceof Error
          ? error.name
          : 'Error';
  return {
    type: 'error',
    during,
    name,
    message: error instanceof Error ? error.message : String(error),
    missingKeys: stateDict?.missingKeys ?? [],
    unexpectedKeys: stateDict?.unexpectedKeys ?? [],
    mismatchedKeys: (stateDict?.mismatchedKeys ?? []).map(
      (m) => `${m.key}: expected [${m.expected.join(', ')}], got [${m.got.join(', ')}]`,
    ),
  };
}

/** Lets queued messages (a stop, say) in: a task boundary, cheaper than setTimeout's clamped delay. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** Reconstructions, decoded samples and embeddings of the model as it is now. */
async function visuals(d: Demo): Promise<Visuals> {
  const model = d.model;
  const backend = model.parameters()[0]!.backend;
  return tidy(async () => {
    const originals = tensor(d.originals, { backend }).view(-1, PIXELS);
    const scatter = tensor(d.scatter, { backend }).view(-1, PIXELS);
    const [reconstructions, embeddings] = noGrad(() => [
      model.decoder.forward(model.encoder.forward(originals)),
      model.encoder.forward(scatter),
    ]);
    const emb = new Float32Array(await embeddings!.data());
    // Random z inside the embeddings' bounding box: the decoder has seen that region.
    const z = new Float32Array(d.sampleUniforms.length);
    for (let k = 0; k < 3; k++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = k; i < emb.length; i += 3) {
        lo = Math.min(lo, emb[i]!);
        hi = Math.max(hi, emb[i]!);
      }
      for (let i = k; i < z.length; i += 3) z[i] = lo + d.sampleUniforms[i]! * (hi - lo);
    }
    const samples = noGrad(() => model.decoder.forward(tensor(z, { backend }).view(-1, 3)));
    return {
      type: 'visuals',
      reconstructions: new Float32Array(await reconstructions!.data()),
      samples: new Float32Array(await samples.data()),
      embeddings: emb,
    };
  });
}

function postVisuals(v: Visuals): void {
  post(v, [v.reconstructions.buffer, v.samples.buffer, v.embeddings.buffer]);
}

/** Reports losses every 100 ms and pictures every 400 ms, and lets messages in every 30 ms. */
class LiveView extends Callback {
  readonly #demo: Demo;
  #losses: [number, number][] = [];
  #lastPost = 0;
  #lastVisuals = 0;
  #lastYield = 0;
  #since = { time: performance.now(), step: 0 };

  constructor(d: Demo) {
    super();
    this.#demo = d;
  }

  override onTrainStart(trainer: Trainer): void {
    this.#since = { time: performance.now(), step: trainer.globalStep };
  }

  override async onTrainBatchEnd(trainer: Trainer, _module: LightningModule, outputs: unknown): Promise<void> {
    const step = trainer.globalStep;
    // One readback every 5 steps: on WebGPU each read waits for the queue.
    if (step % 5 === 0 && outputs instanceof Tensor) this.#losses.push([step, await outputs.item()]);
    const now = performance.now();
    if (now - this.#lastPost >= 100) this.#postProgress(trainer);
    if (now - this.#lastVisuals >= 400) {
      postVisuals(await visuals(this.#demo));
      this.#lastVisuals = performance.now();
    }
    if (now - this.#lastYield >= 30) {
      await yieldToEvents();
      this.#lastYield = performance.now();
    }
  }

  override onTrainEnd(trainer: Trainer): void {
    this.#postProgress(trainer);
  }

  #postProgress(trainer: Trainer): void {
    const now = performance.now();
    const seconds = (now - this.#since.time) / 1000;
    post({
      type: 'progress',
      step: trainer.globalStep,
      epoch: trainer.currentEpoch,
      losses: this.#losses,
      stepsPerSecond: seconds > 0 ? (trainer.globalStep - this.#since.step) / seconds : 0,
    });
    this.#losses = [];
    this.#lastPost = now;
  }
}

// ---------------------------------------------------------------- commands

async function train(d: Demo, steps: number, accelerator: 'cpu' | 'webgpu'): Promise<void> {
  const trainer = new Trainer({
    maxSteps: d.step + steps,
    accelerator,
    webgpu: { allowFallbackAdapter: ALLOW_SOFTWARE_GPU },
    logEveryNSteps: 10,
    enableProgressBar: false,
    enableModelSummary: false,
    defaultRootDir: ROOT_DIR,
    callbacks: [new LiveView(d)],
  });
  d.trainer = trainer;
  try {
    await trainer.fit(d.model, d.loader, null, d.resumeFrom === null ? {} : { ckptPath: d.resumeFrom });
  } finally {
    d.trainer = null;
  }
  d.step = trainer.globalStep;
  d.logDir = trainer.logDir;
  const path = trainer.checkpointCallback?.bestModelPath ?? '';
  if (path !== '') d.checkpoint = d.resumeFrom = path;
  postVisuals(await visuals(d));
  post({
    type: 'done',
    step: d.step,
    stopped: trainer.shouldStop,
    backend: trainer.acceleratorName ?? accelerator,
    checkpoint: d.checkpoint,
  });
}

async function download(d: Demo, what: 'checkpoint' | 'events'): Promise<void> {
  const platform = getPlatform();
  let path: string;
  if (what === 'checkpoint') {
    if (d.checkpoint === null)
      throw new LightningError('demo: no checkpoint yet; expected a finished run or a loaded .ckpt, got neither');
    path = d.checkpoint;
  } else {
    const dir = d.logDir;
    const events =
      dir === null ? [] : (await platform.listDir(dir)).filter((n) => n.startsWith('events.out.tfevents.'));
    if (dir === null || events[0] === undefined)
      throw new LightningError('demo: no TensorBoard event file yet; expected a finished run, got none');
    path = `${dir}/${events[0]}`;
  }
  const bytes = await platform.readFile(path);
  const copy = bytes.slice().buffer;
  post({ type: 'file', name: path.slice(path.lastIndexOf('/') + 1), bytes: copy }, [copy]);
}

async function load(d: Demo, name: string, bytes: ArrayBuffer): Promise<void> {
  const platform = getPlatform();
  // The name is data: keep it one plain path segment.
  const safe = name.replace(/[^\w.=-]+/g, '_').replace(/^\.+/, '_') || 'upload.ckpt';
  const dir = `${ROOT_DIR}/uploads`;
  const path = `${dir}/${safe}`;
  await platform.mkdirp(dir);
  await platform.writeFile(path, new Uint8Array(bytes));
  const ckpt = await readCheckpoint(path); // not a checkpoint: CheckpointError
  const model = await LitAutoEncoder.loadFromCheckpoint(path); // another model: CheckpointError, StateDictError cause
  const sd = ckpt['state_dict'];
  for (const t of sd instanceof Map ? sd.values() : Object.values(sd as object)) if (t instanceof Tensor) t.dispose();
  const step = typeof ckpt['global_step'] === 'number' ? ckpt['global_step'] : 0;
  // A full Lightning checkpoint resumes exactly; weights only start a fresh optimizer from step 0.
  const resumes = 'optimizer_states' in ckpt && 'loops' in ckpt;
  for (const p of d.model.parameters()) p.dispose();
  d.model = model;
  d.resumeFrom = resumes ? path : null;
  d.checkpoint = path;
  d.step = resumes ? step : 0;
  post({ type: 'loaded', name, step, resumes });
  postVisuals(await visuals(d));
}

async function start(): Promise<Demo> {
  // Earlier sessions' files: each page starts from an empty folder.
  const storage = (globalThis.navigator as Partial<Navigator> | undefined)?.storage;
  try {
    await (await storage?.getDirectory())?.removeEntry(ROOT_DIR, { recursive: true });
  } catch {
    // Nothing there yet, or no OPFS (the platform then keeps files in memory).
  }
  const response = await fetch(new URL('/digits.bin', location.href));
  if (!response.ok) {
    throw new LightningError(`demo: cannot fetch digits.bin; expected HTTP 200, got ${response.status}`);
  }
  manualSeed(42);
  const dataset = MnistDigits.fromPackage(decodeDigits(new Uint8Array(await response.arrayBuffer())), {
    transform: new ToTensor(),
  });
  const loader = new DataLoader(dataset, { batchSize: BATCH_SIZE, shuffle: true });
  // The dataset is grouped by label: the first of each digit, and 50 spread through each digit.
  const firstOf: number[] = [];
  const scatterItems: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const items = [...dataset.targets.keys()].filter((i) => dataset.targets[i] === digit);
    firstOf.push(items[0]!);
    for (let k = 0; k < SCATTER_PER_DIGIT; k++)
      scatterItems.push(items[Math.floor((k * items.length) / SCATTER_PER_DIGIT)]!);
  }
  const gpu = await findGpu().catch((e: unknown) => ({ adapter: null, reason: String(e) }));
  const d: Demo = {
    loader,
    originals: pixelsOf(dataset, firstOf),
    scatter: pixelsOf(dataset, scatterItems),
    sampleUniforms: uniforms(7, 10 * 3),
    model: new LitAutoEncoder(),
    resumeFrom: null,
    checkpoint: null,
    logDir: null,
    step: 0,
    trainer: null,
  };
  post({
    type: 'ready',
    gpu,
    digits: dataset.length,
    originals: d.originals.slice(),
    scatterLabels: Uint8Array.from(scatterItems, (i) => dataset.targets[i]!),
  });
  postVisuals(await visuals(d));
  return d;
}

// One command at a time, except `stop`, which must reach a running fit.
let queue: Promise<void> = Promise.resolve();
const started = start().then(
  (d) => {
    demo = d;
  },
  (e: unknown) => post(report('startup', e)),
);

scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message.type === 'stop') {
    if (demo?.trainer) demo.trainer.shouldStop = true;
    return;
  }
  queue = queue.then(async () => {
    await started;
    const d = demo;
    if (d === null) return;
    const during = message.type;
    try {
      if (message.type === 'train') await train(d, message.steps, message.accelerator);
      else if (message.type === 'download') await download(d, message.what);
      else await load(d, message.name, message.bytes);
    } catch (e) {
      post(report(during, e));
      if (during === 'train')
        post({ type: 'done', step: d.step, stopped: true, backend: '', checkpoint: d.checkpoint });
    }
  });
});
