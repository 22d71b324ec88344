/**
 * @module lightning/accelerator — which backend the Trainer trains on, and moving batches there.
 *
 * - `'cpu'`: the default backend (wasm); the model stays where it was built.
 * - `'webgpu'` (alias `'gpu'`): a WebGPU device from `Platform.requestGpu` (options from the
 *   Trainer's `webgpu` option; software adapters are refused unless `allowFallbackAdapter`),
 *   and a WebGPU backend on it. A missing adapter is the platform's NoGpuAdapterError.
 * - `'auto'`: WebGPU where `Platform.detectGpu` finds a hardware adapter, else cpu; the
 *   choice is said once (a GPU found, or why none was, as a performance fallback).
 * - a Backend: used as given (tests, or a backend the caller built).
 *
 * Batches move as Lightning's `transfer_batch_to_device` moves them: every tensor inside
 * arrays, plain objects and Maps is copied to the backend (read back asynchronously), other
 * values pass through.
 */
import type { Backend } from '../backend.ts';
import type { GpuDetection, GpuRequestOptions } from '../backends/webgpu/device.ts';
import { createWebGPUBackend } from '../backends/webgpu/backend.ts';
import { getDefaultBackend } from '../default-backend.ts';
import { noticeOnce } from '../notice.ts';
import { getPlatform, type Platform } from '../platform.ts';
import { Tensor } from '../tensor/index.ts';
import { MisconfigurationError } from './errors.ts';
import type { LightningModule } from './module.ts';
import type { ResolvedTrainerOptions } from './trainer-options.ts';

/** The backend chosen for a run, and how it was chosen. */
export interface AcceleratorChoice {
  /** 'cpu', 'webgpu' or the given backend's name. */
  readonly name: string;
  readonly backend: Backend;
  /** The adapter for WebGPU (e.g. 'NVIDIA H100 80GB HBM3'), else ''. */
  readonly description: string;
  /** Resolves with the error once the device is lost (WebGPU), never otherwise. */
  readonly lost: Promise<Error> | null;
}

const detections = new WeakMap<Platform, Promise<GpuDetection>>();

/** `detectGpu` once per platform (it may load Dawn in Node). */
function detect(platform: Platform): Promise<GpuDetection> {
  let d = detections.get(platform);
  if (d === undefined) {
    d =
      typeof platform.detectGpu === 'function'
        ? platform.detectGpu({})
        : Promise.resolve({ adapter: null, reason: `platform '${platform.name}' cannot look for a GPU`, tried: [] });
    detections.set(platform, d);
  }
  return d;
}

function lostOf(backend: Backend): Promise<Error> | null {
  const lost = (backend as { readonly lost?: unknown }).lost;
  return lost instanceof Promise ? (lost as Promise<Error>) : null;
}

async function webgpuBackend(options: GpuRequestOptions): Promise<AcceleratorChoice> {
  const gpu = await getPlatform().requestGpu(options);
  const backend = createWebGPUBackend({ device: gpu.device });
  const a = gpu.adapterInfo;
  const description = [a.description || a.device, a.vendor, a.architecture].filter((x) => x !== '').join(' / ');
  return {
    name: 'webgpu',
    backend,
    description: `${description}${gpu.isFallbackAdapter ? ' (software)' : ''}`,
    lost: backend.lost,
  };
}

/**
 * The backend `options.accelerator` names, acquired (a WebGPU device is requested here).
 * @example (await chooseAccelerator(trainer.options)).name // 'cpu'
 */
export async function chooseAccelerator(
  options: Pick<ResolvedTrainerOptions, 'accelerator' | 'webgpu'>,
): Promise<AcceleratorChoice> {
  const acc = options.accelerator;
  if (typeof acc === 'object') return { name: acc.name, backend: acc, description: '', lost: lostOf(acc) };
  if (acc === 'webgpu') return webgpuBackend(options.webgpu);
  if (acc === 'auto') {
    const found = await detect(getPlatform());
    if (found.adapter !== null) {
      noticeOnce(
        'trainer-accelerator-auto',
        `Trainer: WebGPU available: True (${found.adapter.description || found.adapter.vendor || 'hardware adapter'}), used: True (accelerator 'auto')`,
      );
      return webgpuBackend(options.webgpu);
    }
    // Lightning's "GPU available: False, used: False", with the last thing tried as the reason
    // (found.reason has the whole list, for accelerator 'webgpu' errors)
    noticeOnce(
      'trainer-accelerator-auto',
      `Trainer: WebGPU available: False, used: False (accelerator 'auto': ${found.tried.at(-1) ?? found.reason}); training on the cpu (wasm) backend`,
    );
  }
  return { name: 'cpu', backend: getDefaultBackend(), description: '', lost: null };
}

/**
 * The backend of one Trainer: chosen at its first run and kept, since a Trainer never moves a
 * model between devices; batches move to it.
 * @example await accelerator.connect(trainer.options, model); accelerator.choice?.name // 'cpu'
 */
export class AcceleratorConnector {
  /** What `accelerator` chose (null before the first run). */
  choice: AcceleratorChoice | null = null;
  /** Set once the device is lost. */
  #lost: Error | null = null;

  /**
   * Picks the backend at the first call (on the cpu a model built on a synchronous backend
   * stays where it is) and moves `model`'s parameters and buffers there.
   */
  async connect(
    options: Pick<ResolvedTrainerOptions, 'accelerator' | 'webgpu'>,
    model: LightningModule,
  ): Promise<void> {
    if (this.choice === null) {
      let choice = await chooseAccelerator(options);
      const first = model.parameters()[0];
      if (choice.name === 'cpu' && first !== undefined && first.backend.capabilities.syncReadback)
        choice = { ...choice, backend: first.backend };
      this.choice = choice;
      choice.lost?.then(
        (e) => {
          this.#lost = e;
        },
        () => undefined,
      );
    }
    await model.toBackend(this.choice.backend);
  }

  /** `batch` on the chosen backend: the batch itself, not a promise, when nothing moves; throws once the device is lost. */
  moveBatch(batch: unknown): unknown {
    if (this.#lost !== null) throw this.#lost;
    return this.choice === null ? batch : moveBatch(batch, this.choice.backend);
  }
}

/**
 * `deterministic: true` promises bitwise-repeatable runs in every runtime, which the
 * relaxed-simd (FMA) kernels do not give. The Trainer cannot move tensors to another
 * backend, so it refuses to start and says how to get the simd128 kernels.
 * @example if (trainer.options.deterministic) checkDeterministicKernels(model)
 */
export function checkDeterministicKernels(model: LightningModule): void {
  for (const p of model.parameters()) {
    const variant = (p.backend as { readonly variant?: unknown }).variant;
    if (variant === 'relaxed') {
      throw new MisconfigurationError(
        "Trainer: deterministic is true but the model's tensors live on the relaxed-simd wasm kernels, whose FMA results differ across runtimes; expected the simd128 kernels (await init({ deterministic: true }) before building the model), got variant 'relaxed'",
      );
    }
  }
}

/**
 * `batch` with every tensor on `backend` (Lightning's transfer_batch_to_device): arrays, plain
 * objects and Maps are rebuilt around moved tensors; anything else passes through. Returns the
 * batch itself (not a promise) when nothing needs to move, so the common case costs no await.
 * @example const b = moveBatch(batch, gpu); const [x, y] = b instanceof Promise ? await b : b;
 */
export function moveBatch(batch: unknown, backend: Backend): unknown {
  if (!needsMove(batch, backend)) return batch;
  return moveAsync(batch, backend);
}

function needsMove(x: unknown, backend: Backend): boolean {
  if (x instanceof Tensor) return x.backend !== backend;
  if (Array.isArray(x)) return x.some((v) => needsMove(v, backend));
  if (x instanceof Map) return [...x.values()].some((v) => needsMove(v, backend));
  if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.values(x).some((v) => needsMove(v, backend));
  }
  return false;
}

async function moveAsync(x: unknown, backend: Backend): Promise<unknown> {
  if (x instanceof Tensor) {
    if (x.backend === backend) return x;
    return Tensor.fromArray(backend, x.dtype, x.shape, await x.data());
  }
  if (Array.isArray(x)) {
    const out: unknown[] = [];
    for (const v of x) out.push(await moveAsync(v, backend));
    return out;
  }
  if (x instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of x) out.set(k, await moveAsync(v, backend));
    return out;
  }
  if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = await moveAsync(v, backend);
    return out;
  }
  return x;
}
