/**
 * @module webgpu/backend — the WebGPU backend: WGSL compute kernels over GPU storage buffers.
 *
 * - Storage: one 32-bit word per element for every dtype: float32 as f32, int32 as i32 and
 *   bool as a u32 holding 0 or 1 (WGSL has no byte-addressed storage), so views' offsets and
 *   strides are word counts. `read()` gives bools back as a Uint8Array.
 * - Buffers come from a pool by size class (powers of two up to 4 KiB, then quarter steps
 *   between powers of two); freed buffers are kept for reuse up to `poolLimitBytes`, and a
 *   reused one is zeroed by a `clearBuffer` in the command stream.
 * - Pipelines are compiled once per program key (runtime/backends/webgpu/program.ts).
 * - Dispatches are recorded into one command encoder and submitted lazily: on `read()`,
 *   `write()` (after pending work, so the queue keeps program order), `flush()`, or when a
 *   batch reaches `maxBatchDispatches`. Uniform words of a batch go into one arena buffer,
 *   written just before the batch is submitted.
 * - Readback is asynchronous only (`syncReadback: false`): a staging buffer copy in the
 *   batch, then `mapAsync`. `readSync` throws.
 * - Errors WebGPU reports asynchronously (a program that fails to compile, a rejected
 *   submission, an out-of-range gather/scatter_add index, recorded by the kernel in an
 *   error buffer) are raised at the next `read()` or `flush()` as typed errors: WebGPUError,
 *   IndexError. A lost device makes every later call throw a DeviceLostError.
 *
 * Uses Web-standard APIs only (the WebGPU API on the device it is given).
 */
import type {
  AllocOptions,
  Backend,
  BackendCapabilities,
  BufferHandle,
  MemoryInfo,
  OpTable,
  TensorView,
} from '../../backend.ts';
import type { DType, StorageArray } from '../../dtype.ts';
import { dtypeOfArray } from '../../dtype.ts';
import {
  BackendError,
  DTypeError,
  DeviceLostError,
  DisposedError,
  IndexError,
  NotImplementedOpError,
  ShapeError,
  ValueError,
  WebGPUError,
} from '../../errors.ts';
import type { OpAttrs, OpName, ReduceOp } from '../../ops.ts';
import { OP_NAMES, opDTypes } from '../../ops.ts';
import type { OpCheckTarget } from '../../op-check.ts';
import { checkOp } from '../../op-check.ts';
import { contiguousStrides, isContiguous, numel } from './kernels/common.ts';
import type { ElementwiseAttrs } from './kernels/elementwise.ts';
import { elementwiseLaunches } from './kernels/elementwise.ts';
import { INDEX_ERROR_CODES, INDEX_ERROR_WORDS, gatherLaunches, scatterAddLaunches } from './kernels/indexing.ts';
import { adamLaunches } from './kernels/adam.ts';
import { col2imLaunches, im2colLaunches } from './kernels/conv.ts';
import { matmulLaunches } from './kernels/matmul.ts';
import { reduceLaunches } from './kernels/reduce.ts';
import type { GpuView, KernelContext, Launch } from './program.ts';

// WebGPU's flag values (GPUBufferUsage, GPUMapMode, GPUShaderStage), as numbers so this file
// needs no WebGPU globals beyond the device it is given.
const USAGE_MAP_READ = 0x0001;
const USAGE_COPY_SRC = 0x0004;
const USAGE_COPY_DST = 0x0008;
const USAGE_UNIFORM = 0x0040;
const USAGE_STORAGE = 0x0080;
const MAP_READ = 0x0001;
const STAGE_COMPUTE = 0x4;

const NAME = 'webgpu';
const GPU_DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];
/** Bytes per element in a GPU buffer: every dtype takes one 32-bit word. */
const WORD = 4;
const UNIFORM_ARENA_BYTES = 64 * 1024;

/** Per op, the dtypes this backend runs (opDTypes without float64). */
const ALLOWED: ReadonlyMap<OpName, readonly DType[]> = new Map(
  OP_NAMES.map((op) => [op, opDTypes(op).filter((d) => GPU_DTYPES.includes(d))] as const),
);

/**
 * Options of {@link createWebGPUBackend}.
 * @example { device, maxBatchDispatches: 64 }
 */
export interface WebGPUBackendOptions {
  /** The device to run on (see runtime/backends/webgpu/device.ts to acquire one). */
  readonly device: GPUDevice;
  /** The adapter's description, kept for reports. */
  readonly adapterInfo?: GPUAdapterInfo;
  /** Dispatches recorded before a batch is submitted without waiting for a read. Default 128. */
  readonly maxBatchDispatches?: number;
  /** Bytes of freed buffers kept for reuse; beyond it a freed buffer is destroyed. Default 256 MiB. */
  readonly poolLimitBytes?: number;
}

/**
 * The WebGPU Backend, plus what only a GPU backend has.
 * @example
 * const be = createWebGPUBackend({ device });
 * be.features.f16 // true where the device has shader-f16
 * await be.flush();
 */
export interface WebGPUBackend extends Backend {
  readonly device: GPUDevice;
  readonly adapterInfo: GPUAdapterInfo | undefined;
  /** What the device was created with: `shader-f16` and `subgroups`. */
  readonly features: { readonly f16: boolean; readonly subgroups: boolean };
  /** Resolves with the DeviceLostError every later call throws, once the device is lost. */
  readonly lost: Promise<DeviceLostError>;
  /** Submits pending work, waits for the queue, and raises any deferred error. */
  flush(): Promise<void>;
  /** The GPU buffer behind a handle of this backend (for kernel tests and benchmarks). */
  gpuBuffer(handle: BufferHandle): GPUBuffer;
  /** Records prepared launches, as `run` does with a kernel file's (for kernel tests and benchmarks). */
  launch(launches: readonly Launch[]): void;
  /** The kernel context `run` hands to kernel files. */
  readonly kernelContext: KernelContext;
  /** Counters: compiled pipelines, queue submissions, pooled (free) buffers; and the program keys compiled so far (sorted). */
  stats(): {
    readonly pipelines: number;
    readonly submits: number;
    readonly pooledBuffers: number;
    readonly programs: readonly string[];
  };
}

/** A buffer of the WebGPU backend. */
class GpuBufferHandle implements BufferHandle {
  freed = false;
  readonly id: number;
  readonly dtype: DType;
  readonly length: number;
  readonly gpu: GPUBuffer;
  /** The buffer's size class in bytes (its real size). */
  readonly bytes: number;
  readonly owner: WebGPUBackendImpl;
  constructor(id: number, dtype: DType, length: number, gpu: GPUBuffer, bytes: number, owner: WebGPUBackendImpl) {
    this.id = id;
    this.dtype = dtype;
    this.length = length;
    this.gpu = gpu;
    this.bytes = bytes;
    this.owner = owner;
  }
}

interface PipelineEntry {
  /** Program key plus binding signature. */
  readonly cacheKey: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** Set once the device reports the program invalid. */
  error: WebGPUError | null;
}

/**
 * The size class of a buffer of `bytes`: at least 16, a power of two up to 4 KiB, then a
 * quarter step between powers of two (so at most 25% is wasted), capped at `max`.
 * @example sizeClass(5000, 1 << 27) // 5120
 */
export function sizeClass(bytes: number, max: number): number {
  const b = Math.max(16, Math.ceil(bytes / 4) * 4);
  let cls: number;
  if (b <= 4096) cls = 2 ** Math.ceil(Math.log2(b));
  else {
    const step = 2 ** Math.floor(Math.log2(b)) / 4;
    cls = Math.ceil(b / step) * step;
  }
  return Math.min(cls, Math.max(b, Math.floor(max / 4) * 4));
}

class WebGPUBackendImpl implements WebGPUBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = { dtypes: GPU_DTYPES, syncReadback: false };
  readonly device: GPUDevice;
  readonly adapterInfo: GPUAdapterInfo | undefined;
  readonly features: { readonly f16: boolean; readonly subgroups: boolean };
  readonly lost: Promise<DeviceLostError>;
  readonly kernelContext: KernelContext;

  private readonly limits: GPUSupportedLimits;
  private readonly maxBatch: number;
  private readonly poolLimit: number;
  private readonly pool = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private pooledCount = 0;
  private readonly staging = new Map<number, GPUBuffer[]>();
  /** Bytes of staging buffers in existence (in the staging pool or mapped for a read). */
  private stagingBytes = 0;
  private readonly live = new Set<GpuBufferHandle>();
  private liveBytes = 0;
  private nextId = 1;
  private readonly pipelines = new Map<string, PipelineEntry>();
  private encoder: GPUCommandEncoder | null = null;
  /** The open compute pass of `encoder`: consecutive runs share one pass. */
  private pass: GPUComputePassEncoder | null = null;
  /** Bind groups by pipeline, uniform arena and buffers (the uniform offset is dynamic). */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly gpuIds = new WeakMap<GPUBuffer, number>();
  private nextGpuId = 1;
  private batchDispatches = 0;
  private batchKeys = new Set<string>();
  private batchIndexOps = false;
  /** Buffers to destroy once the current batch is submitted (they may be referenced by it). */
  private toDestroy: GPUBuffer[] = [];
  private uniformArena: GPUBuffer;
  private uniformData: Uint8Array;
  private uniformUsed = 0;
  private readonly uniformAlign: number;
  /** The index-error buffer the indexing kernels write (INDEX_ERROR_WORDS words). */
  private readonly errorBuffer: GPUBuffer;
  /** Deferred checks (compile, submit, index errors), raised at the next read()/flush(). */
  private deferred: Promise<Error | null>[] = [];
  /** Scratch buffers of the run in progress, returned to the pool after it is encoded. */
  private scratchInRun: GPUBuffer[] = [];
  private lostError: DeviceLostError | null = null;
  private disposed = false;
  private submits = 0;

  constructor(options: WebGPUBackendOptions) {
    const device = options.device;
    this.device = device;
    this.adapterInfo = options.adapterInfo;
    this.limits = device.limits;
    this.features = { f16: device.features.has('shader-f16'), subgroups: device.features.has('subgroups') };
    this.maxBatch = options.maxBatchDispatches ?? 128;
    this.poolLimit = options.poolLimitBytes ?? 256 * 1024 * 1024;
    this.uniformAlign = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
    this.uniformArena = device.createBuffer({
      size: UNIFORM_ARENA_BYTES,
      usage: USAGE_UNIFORM | USAGE_COPY_DST,
      label: 'webgpu uniforms',
    });
    this.uniformData = new Uint8Array(UNIFORM_ARENA_BYTES);
    this.errorBuffer = device.createBuffer({
      size: INDEX_ERROR_WORDS * 4,
      usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST,
      label: 'webgpu index errors',
    });
    this.lost = device.lost.then((info) => {
      const err = new DeviceLostError(
        `webgpu: the GPU device was lost (${info.reason}); expected a live device, got: ${info.message || 'no message'}`,
      );
      this.lostError = err;
      return err;
    });
    this.kernelContext = {
      f16: this.features.f16,
      subgroups: this.features.subgroups,
      limits: this.limits,
      scratch: (bytes: number): GPUBuffer => this.scratch(bytes),
    };
  }

  // ---- lifecycle and checks

  private checkAlive(what: string): void {
    if (this.lostError !== null) throw this.lostError;
    if (this.disposed)
      throw new DisposedError(`webgpu: ${what} after dispose(); expected a live backend, got a disposed one`);
  }

  private own(buffer: BufferHandle, what: string, checkFreed = true): GpuBufferHandle {
    this.checkAlive(what);
    if (!(buffer instanceof GpuBufferHandle) || buffer.owner !== this) {
      throw new BackendError(
        `webgpu: ${what} of a foreign buffer; expected a buffer of this webgpu backend, got buffer ${buffer.id}`,
      );
    }
    if (checkFreed && buffer.freed) {
      throw new DisposedError(
        `webgpu: ${what} of a freed buffer; expected a live buffer, got buffer ${buffer.id} after free()`,
      );
    }
    return buffer;
  }

  stats(): {
    readonly pipelines: number;
    readonly submits: number;
    readonly pooledBuffers: number;
    readonly programs: readonly string[];
  } {
    const programs = [...new Set([...this.pipelines.keys()].map((k) => k.slice(0, k.indexOf('|'))))].sort();
    return { pipelines: this.pipelines.size, submits: this.submits, pooledBuffers: this.pooledCount, programs };
  }

  memory(): MemoryInfo {
    if (this.disposed) return { liveBuffers: 0, reservedBytes: 0 };
    // Every GPU buffer the backend holds: live, pooled, staging, the uniform arena and the error words.
    return {
      liveBuffers: this.live.size,
      reservedBytes:
        this.liveBytes + this.pooledBytes + this.stagingBytes + this.uniformArena.size + this.errorBuffer.size,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encoder = null;
    this.pass = null;
    this.bindGroups.clear();
    for (const b of this.live) {
      b.freed = true;
      b.gpu.destroy();
    }
    this.live.clear();
    this.liveBytes = 0;
    for (const list of this.pool.values()) for (const g of list) g.destroy();
    for (const list of this.staging.values()) for (const g of list) g.destroy();
    for (const g of this.toDestroy) g.destroy();
    this.pool.clear();
    this.staging.clear();
    this.toDestroy = [];
    this.pooledBytes = 0;
    this.pooledCount = 0;
    this.stagingBytes = 0;
    this.uniformArena.destroy();
    this.errorBuffer.destroy();
    this.pipelines.clear();
  }

  // ---- buffers

  private maxBytes(): number {
    return Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
  }

  /** A GPU buffer of at least `bytes` (contents undefined), from the pool or new. */
  private take(bytes: number): { gpu: GPUBuffer; cls: number; reused: boolean } {
    const cls = sizeClass(bytes, this.maxBytes());
    const list = this.pool.get(cls);
    const g = list?.pop();
    if (g !== undefined) {
      this.pooledBytes -= cls;
      this.pooledCount--;
      return { gpu: g, cls, reused: true };
    }
    const gpu = this.device.createBuffer({ size: cls, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST });
    return { gpu, cls, reused: false };
  }

  /** Returns a GPU buffer to the pool, or destroys it once the pool is full. */
  private give(gpu: GPUBuffer, cls: number): void {
    if (this.pooledBytes + cls > this.poolLimit) {
      if (this.encoder !== null) this.toDestroy.push(gpu);
      else gpu.destroy();
      return;
    }
    let list = this.pool.get(cls);
    if (list === undefined) {
      list = [];
      this.pool.set(cls, list);
    }
    list.push(gpu);
    this.pooledBytes += cls;
    this.pooledCount++;
  }

  private scratch(bytes: number): GPUBuffer {
    const { gpu } = this.take(bytes);
    this.scratchInRun.push(gpu);
    return gpu;
  }

  alloc(dtype: DType, length: number, options?: AllocOptions): BufferHandle {
    this.checkAlive('alloc');
    if (!GPU_DTYPES.includes(dtype)) {
      throw new DTypeError(`webgpu: unsupported dtype; expected one of ${GPU_DTYPES.join(', ')}, got ${dtype}`);
    }
    if (!Number.isInteger(length) || length < 0) {
      throw new ValueError(`webgpu: invalid buffer length; expected a non-negative integer, got ${length}`);
    }
    const bytes = length * WORD;
    const max = this.maxBytes();
    if (bytes > max) {
      throw new ShapeError(
        `webgpu: buffer too large for one storage binding; expected at most ${max} bytes (the device's maxStorageBufferBindingSize / maxBufferSize, ${Math.floor(max / WORD)} elements), got ${bytes} bytes (${length} ${dtype} elements)`,
      );
    }
    const { gpu, cls, reused } = this.take(bytes);
    // New buffers are zero; a reused one is cleared in order with the recorded work, unless
    // the caller overwrites it whole (an op's output: `zero: false`).
    if (reused && bytes > 0 && options?.zero !== false) this.enc().clearBuffer(gpu, 0, bytes);
    const h = new GpuBufferHandle(this.nextId++, dtype, length, gpu, cls, this);
    this.live.add(h);
    this.liveBytes += cls;
    return h;
  }

  free(buffer: BufferHandle): void {
    const b = this.own(buffer, 'free', false);
    if (b.freed) {
      throw new DisposedError(`webgpu: double free; expected a live buffer, got buffer ${b.id} that was already freed`);
    }
    b.freed = true;
    this.live.delete(b);
    this.liveBytes -= b.bytes;
    this.give(b.gpu, b.bytes);
  }

  gpuBuffer(handle: BufferHandle): GPUBuffer {
    return this.own(handle, 'gpuBuffer').gpu;
  }

  write(buffer: BufferHandle, data: StorageArray, offset = 0): void {
    const b = this.own(buffer, 'write');
    const dt = dtypeOfArray(data);
    if (dt !== b.dtype) throw new DTypeError(`webgpu: write of the wrong dtype; expected ${b.dtype}, got ${dt}`);
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > b.length) {
      throw new IndexError(
        `webgpu: write out of range; expected offset + length <= ${b.length}, got ${offset} + ${data.length}`,
      );
    }
    if (data.length === 0) return;
    // queue.writeBuffer runs before any unsubmitted command, so submit those first.
    this.submit();
    const words = b.dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : data;
    this.device.queue.writeBuffer(b.gpu, offset * WORD, words.buffer, words.byteOffset, words.byteLength);
  }

  readSync(buffer: BufferHandle): StorageArray {
    this.own(buffer, 'readSync');
    throw new BackendError(
      'webgpu: readSync is not available; expected await backend.read(buffer, offset, length) (WebGPU reads back asynchronously), got a synchronous read',
    );
  }

  async read(buffer: BufferHandle, offset: number, length: number): Promise<StorageArray> {
    const b = this.own(buffer, 'read');
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > b.length
    ) {
      throw new IndexError(
        `webgpu: read out of range; expected offset + length <= ${b.length}, got ${offset} + ${length}`,
      );
    }
    const bytes = length * WORD;
    let stage: { gpu: GPUBuffer; cls: number } | null = null;
    if (bytes > 0) {
      stage = this.takeStaging(bytes);
      this.enc().copyBufferToBuffer(b.gpu, offset * WORD, stage.gpu, 0, bytes);
    }
    this.submit();
    const checks = this.takeDeferred();
    let out: StorageArray;
    try {
      if (stage === null) {
        out = b.dtype === 'float32' ? new Float32Array(0) : b.dtype === 'int32' ? new Int32Array(0) : new Uint8Array(0);
      } else {
        try {
          await stage.gpu.mapAsync(MAP_READ, 0, bytes);
        } catch (cause) {
          if (this.lostError !== null) throw this.lostError;
          throw new WebGPUError(
            `webgpu: read of buffer ${b.id} failed; expected the staging copy to map, got: ${String(cause)}`,
            { cause },
          );
        }
        const range = stage.gpu.getMappedRange(0, bytes);
        if (b.dtype === 'float32') out = new Float32Array(range.slice(0));
        else if (b.dtype === 'int32') out = new Int32Array(range.slice(0));
        else out = Uint8Array.from(new Uint32Array(range));
        stage.gpu.unmap();
        this.giveStaging(stage.gpu, stage.cls);
      }
    } finally {
      await this.raise(checks);
    }
    return out;
  }

  async flush(): Promise<void> {
    this.checkAlive('flush');
    this.submit();
    const checks = this.takeDeferred();
    await this.device.queue.onSubmittedWorkDone();
    await this.raise(checks);
    if (this.lostError !== null) throw this.lostError;
  }

  private takeStaging(bytes: number): { gpu: GPUBuffer; cls: number } {
    const cls = sizeClass(bytes, Number.MAX_SAFE_INTEGER);
    const g = this.staging.get(cls)?.pop();
    if (g !== undefined) return { gpu: g, cls };
    this.stagingBytes += cls;
    return { gpu: this.device.createBuffer({ size: cls, usage: USAGE_MAP_READ | USAGE_COPY_DST }), cls };
  }

  private giveStaging(gpu: GPUBuffer, cls: number): void {
    if (this.disposed) {
      gpu.destroy();
      return;
    }
    let list = this.staging.get(cls);
    if (list === undefined) {
      list = [];
      this.staging.set(cls, list);
    }
    if (list.length < 4) list.push(gpu);
    else {
      gpu.destroy();
      this.stagingBytes -= cls;
    }
  }

  /**
   * Queues a deferred check. A loop that never reads would grow the list without bound, so
   * past 64 entries they fold into one promise that keeps the first error in record order.
   */
  private defer(check: Promise<Error | null>): void {
    this.deferred.push(check);
    if (this.deferred.length > 64) {
      const all = this.deferred;
      this.deferred = [Promise.all(all).then((errors) => errors.find((e) => e !== null) ?? null)];
    }
  }

  /** A popErrorScope that rejected: the lost device's error if that is why, else a WebGPUError. */
  private scopeFailed(cause: unknown): Error {
    return (
      this.lostError ??
      new WebGPUError(`webgpu: popErrorScope failed; expected the error scope to resolve, got: ${String(cause)}`, {
        cause,
      })
    );
  }

  private takeDeferred(): Promise<Error | null>[] {
    const d = this.deferred;
    this.deferred = [];
    return d;
  }

  /** Awaits deferred checks and throws the first error (in the order the work was recorded). */
  private async raise(checks: readonly Promise<Error | null>[]): Promise<void> {
    if (checks.length === 0) return;
    const errors = await Promise.all(checks);
    const first = errors.find((e) => e !== null);
    if (first !== undefined && first !== null) throw first;
  }

  // ---- command recording

  /** The batch's encoder for a non-dispatch command (the open compute pass ends first). */
  private enc(): GPUCommandEncoder {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
    if (this.encoder === null) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** The batch's open compute pass. */
  private computePass(): GPUComputePassEncoder {
    if (this.pass === null) this.pass = this.enc().beginComputePass();
    return this.pass;
  }

  private gpuId(b: GPUBuffer): number {
    let id = this.gpuIds.get(b);
    if (id === undefined) {
      id = this.nextGpuId++;
      this.gpuIds.set(b, id);
    }
    return id;
  }

  /** The bind group of a launch, cached: a training step binds the same pooled buffers again and again. */
  private bindGroupFor(p: PipelineEntry, l: Launch): GPUBindGroup {
    let key = `${p.cacheKey}#`;
    if (l.uniforms.length > 0) key += `${this.gpuId(this.uniformArena)}:${l.uniforms.byteLength}`;
    for (const b of l.buffers) key += `,${this.gpuId(b.buffer)}`;
    let g = this.bindGroups.get(key);
    if (g === undefined) {
      const entries: GPUBindGroupEntry[] = [];
      if (l.uniforms.length > 0)
        entries.push({ binding: 0, resource: { buffer: this.uniformArena, offset: 0, size: l.uniforms.byteLength } });
      l.buffers.forEach((b, k) => entries.push({ binding: k + 1, resource: { buffer: b.buffer } }));
      g = this.device.createBindGroup({ layout: p.layout, entries });
      // Entries of destroyed buffers are never looked up again; bound the map instead of tracking them.
      if (this.bindGroups.size >= 8192) this.bindGroups.clear();
      this.bindGroups.set(key, g);
    }
    return g;
  }

  /** Submits the recorded batch (if any), with its uniforms and its index-error readback. */
  private submit(): void {
    if (this.encoder === null) return;
    const encoder = this.enc();
    let errorStage: { gpu: GPUBuffer; cls: number } | null = null;
    if (this.batchIndexOps) {
      errorStage = this.takeStaging(INDEX_ERROR_WORDS * 4);
      encoder.copyBufferToBuffer(this.errorBuffer, 0, errorStage.gpu, 0, INDEX_ERROR_WORDS * 4);
      encoder.clearBuffer(this.errorBuffer, 0, INDEX_ERROR_WORDS * 4);
    }
    if (this.uniformUsed > 0)
      this.device.queue.writeBuffer(this.uniformArena, 0, this.uniformData.buffer, 0, this.uniformUsed);
    const keys = [...this.batchKeys];
    const count = this.batchDispatches;
    this.encoder = null;
    this.batchDispatches = 0;
    this.batchKeys = new Set();
    this.batchIndexOps = false;
    this.uniformUsed = 0;
    this.device.pushErrorScope('validation');
    this.device.queue.submit([encoder.finish()]);
    this.submits++;
    this.defer(
      this.device.popErrorScope().then(
        (e) =>
          e === null
            ? null
            : new WebGPUError(
                `webgpu: the device rejected a batch of ${count} dispatches (${keys.join(', ') || 'copies only'}); expected valid commands, got: ${e.message}`,
              ),
        (cause: unknown) => this.scopeFailed(cause),
      ),
    );
    for (const g of this.toDestroy) g.destroy();
    this.toDestroy = [];
    if (errorStage !== null) {
      const stage = errorStage;
      this.defer(
        stage.gpu.mapAsync(MAP_READ, 0, INDEX_ERROR_WORDS * 4).then(
          () => {
            const w = new Uint32Array(stage.gpu.getMappedRange(0, INDEX_ERROR_WORDS * 4).slice(0));
            stage.gpu.unmap();
            this.giveStaging(stage.gpu, stage.cls);
            if ((w[0] ?? 0) === 0) return null;
            const op = w[3] === INDEX_ERROR_CODES.scatter_add ? 'scatter_add' : 'gather';
            const bad = (w[1] ?? 0) | 0;
            return new IndexError(
              `${op}: index out of range; expected 0 <= index < ${w[2] ?? 0}, got ${bad} (webgpu reports it at the next read)`,
            );
          },
          (cause: unknown) =>
            this.lostError ??
            new WebGPUError(`webgpu: index check readback failed; expected it to map, got: ${String(cause)}`, {
              cause,
            }),
        ),
      );
    }
  }

  /** The compiled pipeline of a launch, compiling on a cache miss. */
  private pipelineFor(l: Launch): PipelineEntry {
    const sig = (l.uniforms.length > 0 ? 'u' : '') + l.buffers.map((b) => (b.readOnly ? 'r' : 'w')).join('');
    const cacheKey = `${l.program.key}|${sig}`;
    const e = this.pipelines.get(cacheKey);
    if (e !== undefined) {
      if (e.error !== null) throw e.error;
      return e;
    }
    const entries: GPUBindGroupLayoutEntry[] = [];
    if (l.uniforms.length > 0)
      entries.push({ binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } });
    l.buffers.forEach((b, i) =>
      entries.push({
        binding: i + 1,
        visibility: STAGE_COMPUTE,
        buffer: { type: b.readOnly ? 'read-only-storage' : 'storage' },
      }),
    );
    const key = l.program.key;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: l.program.source(), label: key });
    const layout = this.device.createBindGroupLayout({ entries, label: key });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout], label: key }),
      compute: { module, entryPoint: 'main' },
      label: key,
    });
    const entry: PipelineEntry = { cacheKey, pipeline, layout, error: null };
    this.pipelines.set(cacheKey, entry);
    this.defer(
      this.device.popErrorScope().then(
        (err) => {
          if (err === null) return null;
          entry.error = new WebGPUError(
            `webgpu: program ${key} failed to compile; expected valid WGSL and bindings for ${key}, got: ${err.message}`,
          );
          return entry.error;
        },
        (cause: unknown) => this.scopeFailed(cause),
      ),
    );
    return entry;
  }

  launch(launches: readonly Launch[]): void {
    this.checkAlive('launch');
    this.encode(launches);
  }

  /** Records `launches` into the batch's compute pass; scratch buffers go back to the pool after. */
  private encode(launches: readonly Launch[]): void {
    try {
      const live = launches.filter((l) => l.workgroups[0] * l.workgroups[1] * l.workgroups[2] > 0);
      if (live.length === 0) return;
      const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
      let need = 0;
      for (const l of live) {
        if (l.workgroups.some((w) => !Number.isInteger(w) || w > maxDim)) {
          throw new BackendError(
            `webgpu: program ${l.program.key} asks for too many workgroups; expected each count <= ${maxDim}, got [${l.workgroups.join(',')}]`,
          );
        }
        need += this.alignUniform(l.uniforms.byteLength);
      }
      const pipes = live.map((l) => this.pipelineFor(l));
      if (this.uniformUsed + need > this.uniformData.byteLength) {
        this.submit();
        if (need > this.uniformData.byteLength) this.growUniforms(need);
      }
      const pass = this.computePass();
      live.forEach((l, i) => {
        const p = pipes[i] as PipelineEntry;
        pass.setPipeline(p.pipeline);
        if (l.uniforms.length > 0) {
          const at = this.uniformUsed;
          this.uniformData.set(new Uint8Array(l.uniforms.buffer, l.uniforms.byteOffset, l.uniforms.byteLength), at);
          this.uniformUsed += this.alignUniform(l.uniforms.byteLength);
          pass.setBindGroup(0, this.bindGroupFor(p, l), [at]);
        } else {
          pass.setBindGroup(0, this.bindGroupFor(p, l));
        }
        pass.dispatchWorkgroups(l.workgroups[0], l.workgroups[1], l.workgroups[2]);
        this.batchKeys.add(l.program.key);
      });
      this.batchDispatches += live.length;
      if (this.batchDispatches >= this.maxBatch) this.submit();
    } finally {
      for (const g of this.scratchInRun) this.give(g, sizeClass(g.size, this.maxBytes()));
      this.scratchInRun = [];
    }
  }

  private alignUniform(bytes: number): number {
    return Math.ceil(bytes / this.uniformAlign) * this.uniformAlign;
  }

  private growUniforms(need: number): void {
    const size = 2 ** Math.ceil(Math.log2(need));
    this.toDestroy.push(this.uniformArena);
    this.uniformArena = this.device.createBuffer({
      size,
      usage: USAGE_UNIFORM | USAGE_COPY_DST,
      label: 'webgpu uniforms',
    });
    this.uniformData = new Uint8Array(size);
    if (this.encoder === null) {
      for (const g of this.toDestroy) g.destroy();
      this.toDestroy = [];
    }
  }

  // ---- views

  /** The GpuView of an operand (checkOp has checked it fits its buffer; the buffer must be live and ours). */
  private view(op: string, v: TensorView): GpuView {
    const b = this.own(v.buffer, op);
    return { buffer: b.gpu, dtype: v.dtype, shape: v.shape, strides: v.strides, offset: v.offset };
  }

  /** A contiguous copy of `v` in a scratch buffer (for ops that need contiguous inputs), or `v`. */
  private contiguous(v: GpuView, launches: Launch[], force = false): GpuView {
    if (!force && isContiguous(v)) return v;
    const n = numel(v.shape);
    const buffer = this.scratch(Math.max(1, n) * WORD);
    const c: GpuView = { buffer, dtype: v.dtype, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 };
    launches.push(...elementwiseLaunches(this.kernelContext, c, [v], { op: 'copy', attrs: {} }));
    return c;
  }

  /** This backend's dtype limit (opDTypes without float64), for checkOp. */
  private dtypeFor(op: OpName, dtype: DType): void {
    const allowed = ALLOWED.get(op) ?? [];
    if (!allowed.includes(dtype)) {
      throw new NotImplementedOpError(
        `webgpu: op '${op}' is not implemented for ${dtype}; expected one of ${allowed.join(', ') || 'none'}, got ${dtype}`,
      );
    }
  }

  // ---- ops

  /** For checkOp: this backend's dtype limit; its kernels take the contiguous views ops.ts promises. */
  private readonly target: OpCheckTarget = {
    name: NAME,
    supports: (op, dtype) => this.dtypeFor(op, dtype),
    stridedViews: false,
  };

  /** Every primitive's launches; `run` dispatches through it after checkOp. */
  private readonly kernels: OpTable<Launch[]> = {
    neg: (o, i, attrs) => this.elementwise({ op: 'neg', attrs }, o, i),
    abs: (o, i, attrs) => this.elementwise({ op: 'abs', attrs }, o, i),
    sign: (o, i, attrs) => this.elementwise({ op: 'sign', attrs }, o, i),
    exp: (o, i, attrs) => this.elementwise({ op: 'exp', attrs }, o, i),
    log: (o, i, attrs) => this.elementwise({ op: 'log', attrs }, o, i),
    sqrt: (o, i, attrs) => this.elementwise({ op: 'sqrt', attrs }, o, i),
    relu: (o, i, attrs) => this.elementwise({ op: 'relu', attrs }, o, i),
    sigmoid: (o, i, attrs) => this.elementwise({ op: 'sigmoid', attrs }, o, i),
    tanh: (o, i, attrs) => this.elementwise({ op: 'tanh', attrs }, o, i),
    gelu: (o, i, attrs) => this.elementwise({ op: 'gelu', attrs }, o, i),
    gelu_tanh: (o, i, attrs) => this.elementwise({ op: 'gelu_tanh', attrs }, o, i),
    silu: (o, i, attrs) => this.elementwise({ op: 'silu', attrs }, o, i),
    softplus: (o, i, attrs) => this.elementwise({ op: 'softplus', attrs }, o, i),
    elu: (o, i, attrs) => this.elementwise({ op: 'elu', attrs }, o, i),
    leaky_relu: (o, i, attrs) => this.elementwise({ op: 'leaky_relu', attrs }, o, i),
    clamp: (o, i, attrs) => this.elementwise({ op: 'clamp', attrs }, o, i),
    logical_not: (o, i, attrs) => this.elementwise({ op: 'logical_not', attrs }, o, i),
    round_f16: (o, i, attrs) => this.elementwise({ op: 'round_f16', attrs }, o, i),
    round_bf16: (o, i, attrs) => this.elementwise({ op: 'round_bf16', attrs }, o, i),
    add: (o, i, attrs) => this.elementwise({ op: 'add', attrs }, o, i),
    sub: (o, i, attrs) => this.elementwise({ op: 'sub', attrs }, o, i),
    mul: (o, i, attrs) => this.elementwise({ op: 'mul', attrs }, o, i),
    div: (o, i, attrs) => this.elementwise({ op: 'div', attrs }, o, i),
    pow: (o, i, attrs) => this.elementwise({ op: 'pow', attrs }, o, i),
    maximum: (o, i, attrs) => this.elementwise({ op: 'maximum', attrs }, o, i),
    minimum: (o, i, attrs) => this.elementwise({ op: 'minimum', attrs }, o, i),
    eq: (o, i, attrs) => this.elementwise({ op: 'eq', attrs }, o, i),
    ne: (o, i, attrs) => this.elementwise({ op: 'ne', attrs }, o, i),
    lt: (o, i, attrs) => this.elementwise({ op: 'lt', attrs }, o, i),
    le: (o, i, attrs) => this.elementwise({ op: 'le', attrs }, o, i),
    gt: (o, i, attrs) => this.elementwise({ op: 'gt', attrs }, o, i),
    ge: (o, i, attrs) => this.elementwise({ op: 'ge', attrs }, o, i),
    where: (o, i, attrs) => this.elementwise({ op: 'where', attrs }, o, i),
    copy: (o, i, attrs) => this.elementwise({ op: 'copy', attrs }, o, i),
    cast: (o, i, attrs) => this.elementwise({ op: 'cast', attrs }, o, i),
    fill: (o, i, attrs) => this.elementwise({ op: 'fill', attrs }, o, i),
    unary_backward: (o, i, attrs) => this.elementwise({ op: 'unary_backward', attrs }, o, i),
    sum: (o, i, a) => this.reduce('sum', o, i, a.axis),
    max: (o, i, a) => this.reduce('max', o, i, a.axis),
    min: (o, i, a) => this.reduce('min', o, i, a.axis),
    argmax: (o, i, a) => this.reduce('argmax', o, i, a.axis),
    argmin: (o, i, a) => this.reduce('argmin', o, i, a.axis),
    matmul: (o, i, a) => this.matmul(o, i, a),
    gather: (o, i, a) => this.gather(o, i, a.axis),
    scatter_add: (o, i, a) => this.scatterAdd(o, i, a.axis),
    im2col: (o, i, a) => this.conv('im2col', o, i, (go, gi) => im2colLaunches(this.kernelContext, go, gi, a)),
    col2im: (o, i, a) => this.conv('col2im', o, i, (go, gi) => col2imLaunches(this.kernelContext, go, gi, a)),
    adam: (o, i, a) => this.adam(o, i, a),
  };

  run<O extends OpName>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void {
    this.checkAlive(op);
    checkOp(this.target, op, out, inputs, attrs);
    let launches: Launch[];
    try {
      launches = this.kernels[op](out, inputs, attrs);
    } catch (e) {
      for (const g of this.scratchInRun) this.give(g, sizeClass(g.size, this.maxBytes()));
      this.scratchInRun = [];
      throw e;
    }
    this.encode(launches);
  }

  /** Elementwise ops: shapes and dtypes checked by checkOp. */
  private elementwise(spec: ElementwiseAttrs, out: TensorView, inputs: readonly TensorView[]): Launch[] {
    const launches: Launch[] = [];
    const o = this.view(spec.op, out);
    const ins = inputs.map((v) => this.view(spec.op, v));
    // A buffer bound for writing cannot also be bound for reading in one dispatch.
    const safe = ins.map((v) => (v.buffer === o.buffer ? this.contiguous(v, launches, true) : v));
    launches.push(...elementwiseLaunches(this.kernelContext, o, safe, spec));
    return launches;
  }

  private reduce(op: ReduceOp, out: TensorView, inputs: readonly TensorView[], axis: number): Launch[] {
    const launches: Launch[] = [];
    const x = this.contiguous(this.view(op, inputs[0] as TensorView), launches);
    const o = this.view(op, out);
    launches.push(...reduceLaunches(this.kernelContext, o, [x], { op, axis }));
    return launches;
  }

  private gather(out: TensorView, inputs: readonly TensorView[], axis: number): Launch[] {
    const launches: Launch[] = [];
    const x0 = this.view('gather', inputs[0] as TensorView);
    const idx0 = this.view('gather', inputs[1] as TensorView);
    const o = this.view('gather', out);
    if (numel(idx0.shape) === 0) return launches;
    const x = this.contiguous(x0, launches, x0.buffer === o.buffer);
    const idx = idx0.buffer === o.buffer ? this.contiguous(idx0, launches, true) : idx0;
    this.batchIndexOps = true;
    launches.push(...gatherLaunches(this.kernelContext, o, [x, idx], { axis, errors: this.errorBuffer }));
    return launches;
  }

  private scatterAdd(out: TensorView, inputs: readonly TensorView[], axis: number): Launch[] {
    const launches: Launch[] = [];
    const [base0, idx0, src0] = inputs.map((v) => this.view('scatter_add', v)) as [GpuView, GpuView, GpuView];
    const o = this.view('scatter_add', out);
    const fix = (v: GpuView): GpuView => this.contiguous(v, launches, v.buffer === o.buffer);
    const base = fix(base0);
    const idx = fix(idx0);
    const src = fix(src0);
    if (numel(idx.shape) > 0) this.batchIndexOps = true;
    launches.push(...scatterAddLaunches(this.kernelContext, o, [base, idx, src], { axis, errors: this.errorBuffer }));
    return launches;
  }

  /** im2col / col2im: checked by checkOp; an input that shares out's buffer is split off first. */
  private conv(
    op: 'im2col' | 'col2im',
    out: TensorView,
    inputs: readonly TensorView[],
    kernel: (o: GpuView, ins: GpuView[]) => Launch[],
  ): Launch[] {
    const launches: Launch[] = [];
    const o = this.view(op, out);
    const ins = inputs.map((v) => this.view(op, v));
    launches.push(
      ...kernel(
        o,
        ins.map((v) => (v.buffer === o.buffer ? this.contiguous(v, launches, true) : v)),
      ),
    );
    return launches;
  }

  /** adam writes its operands in place, so no input is split from out. */
  private adam(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['adam']): Launch[] {
    const o = this.view('adam', out);
    const ins = inputs.map((v) => this.view('adam', v));
    return adamLaunches(this.kernelContext, o, ins, attrs);
  }

  private matmul(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['matmul']): Launch[] {
    const launches: Launch[] = [];
    const o = this.view('matmul', out);
    const ins = inputs.map((v) => this.view('matmul', v));
    const safe = ins.map((v) => (v.buffer === o.buffer ? this.contiguous(v, launches, true) : v));
    launches.push(...matmulLaunches(this.kernelContext, o, safe, attrs));
    return launches;
  }
}

/**
 * A WebGPU backend on `device`. The device's `lost` promise is watched: once lost, every
 * call throws a DeviceLostError. `dispose()` frees the backend's buffers, not the device.
 * @example
 * const { device } = await requestGpuDevice(source);
 * const be = createWebGPUBackend({ device });
 * const x = be.alloc('float32', 3);
 * be.write(x, new Float32Array([1, -2, 3]));
 * await be.read(x, 0, 3); // Float32Array [1, -2, 3]
 */
export function createWebGPUBackend(options: WebGPUBackendOptions): WebGPUBackend {
  return new WebGPUBackendImpl(options);
}
