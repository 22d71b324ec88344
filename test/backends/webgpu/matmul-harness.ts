/**
 * @module matmul-harness — a tiny standalone runner of kernel {@link Launch}es for the
 * matmul, conv and adam kernel checks: it compiles each program once (by key), binds the
 * uniform words at binding 0 and the storage buffers at 1..n, dispatches, and reads back.
 * It stands in for the backend's dispatcher so the kernels are checked on their own
 * against the reference backend; it runs in Deno (navigator.gpu over lavapipe here).
 *
 * @example
 * const h = await createHarness();
 * const buf = h.upload(new Float32Array([1, 2, 3]));
 * h.run(launches); const out = await h.read(buf, 3);
 */
import type { GpuView, KernelContext, Launch } from '../../../runtime/backends/webgpu/program.ts';
import type { TensorView } from '../../../runtime/backend.ts';
import type { Backend } from '../../../runtime/backend.ts';
import type { DType } from '../../../runtime/dtype.ts';

/** The device, a kernel context over it, and helpers to move data. */
export interface Harness {
  readonly device: GPUDevice;
  readonly ctx: KernelContext;
  /** A storage buffer holding `data` (padded to 16 bytes, plus `extraElements` zeros). */
  upload(data: Float32Array | Int32Array, extraElements?: number): GPUBuffer;
  /** Encodes and submits the launches in order (one compute pass each). */
  run(launches: readonly Launch[]): void;
  /** Copies `length` float32 words of `buffer` back. */
  read(buffer: GPUBuffer, length: number): Promise<Float32Array>;
  /** Compiled programs so far, by key (to count cache hits). */
  readonly pipelines: Map<string, GPUComputePipeline>;
}

/**
 * Acquires an adapter and device (with shader-f16 when offered) and builds the harness.
 * Without WebGPU or an adapter it prints `SKIP <why>` (the vitest wrapper skips on it) and throws.
 */
export async function createHarness(): Promise<Harness> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const skip = (why: string): never => {
    console.log(`SKIP ${why}`);
    throw new Error(`harness: ${why}`);
  };
  if (gpu === undefined) return skip('no WebGPU here; expected navigator.gpu, got undefined');
  const adapter = await gpu.requestAdapter();
  if (adapter === null) return skip('no WebGPU adapter; expected a GPUAdapter, got null');
  const features: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
  const device = await adapter.requestDevice({ requiredFeatures: features });
  device.addEventListener('uncapturederror', (e) => {
    console.error('WebGPU error:', (e as GPUUncapturedErrorEvent).error.message);
  });
  const scratchBuffers: GPUBuffer[] = [];
  const ctx: KernelContext = {
    f16: device.features.has('shader-f16'),
    subgroups: false,
    limits: device.limits,
    scratch(bytes: number): GPUBuffer {
      const b = device.createBuffer({
        size: Math.max(16, Math.ceil(bytes / 16) * 16),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      scratchBuffers.push(b);
      return b;
    },
  };
  const pipelines = new Map<string, GPUComputePipeline>();
  const pipeline = (l: Launch): GPUComputePipeline => {
    let p = pipelines.get(l.program.key);
    if (p === undefined) {
      const module = device.createShaderModule({ code: l.program.source() });
      p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      pipelines.set(l.program.key, p);
    }
    return p;
  };
  return {
    device,
    ctx,
    pipelines,
    upload(data, extraElements = 0) {
      const bytes = Math.max(16, Math.ceil(((data.length + extraElements) * 4) / 16) * 16);
      const b = device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      if (data.length > 0) device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
      return b;
    },
    run(launches) {
      const enc = device.createCommandEncoder();
      const uniformBuffers: GPUBuffer[] = [];
      for (const l of launches) {
        const p = pipeline(l);
        const entries: GPUBindGroupEntry[] = [];
        if (l.uniforms.length > 0) {
          const ub = device.createBuffer({
            size: Math.ceil((l.uniforms.length * 4) / 16) * 16,
            usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
          });
          device.queue.writeBuffer(
            ub,
            0,
            l.uniforms.buffer as ArrayBuffer,
            l.uniforms.byteOffset,
            l.uniforms.byteLength,
          );
          uniformBuffers.push(ub);
          entries.push({ binding: 0, resource: { buffer: ub } });
        }
        l.buffers.forEach((s, i) => entries.push({ binding: i + 1, resource: { buffer: s.buffer } }));
        const bg = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
        const pass = enc.beginComputePass();
        pass.setPipeline(p);
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(l.workgroups[0], l.workgroups[1], l.workgroups[2]);
        pass.end();
      }
      device.queue.submit([enc.finish()]);
    },
    async read(buffer, length) {
      const bytes = Math.max(16, Math.ceil((length * 4) / 16) * 16);
      const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0, length * 4));
      staging.unmap();
      staging.destroy();
      return out;
    },
  };
}

/** A reference-backend view over `data`, with the same shape, strides and offset as `gpu`. */
export function referenceView(ref: Backend, data: Float32Array, gpu: Omit<GpuView, 'buffer'>): TensorView {
  const buffer = ref.alloc(gpu.dtype as DType, data.length);
  ref.write(buffer, data);
  return { buffer, dtype: gpu.dtype, shape: gpu.shape, strides: gpu.strides, offset: gpu.offset };
}

/** Seeded uniform floats in [lo, hi) (mulberry32), so failures reproduce. */
export function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** Largest violation of |a − e| <= atol + rtol·|e| (≤ 0 means every element passes), NaN-aware. */
export function worstViolation(
  actual: Float32Array,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
): { excess: number; index: number } {
  let excess = -Infinity;
  let index = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    let x: number;
    if (Number.isNaN(e) || Number.isNaN(a)) x = Number.isNaN(e) && Number.isNaN(a) ? -1 : Infinity;
    else if (!Number.isFinite(e)) x = a === e ? -1 : Infinity;
    else x = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (x > excess) {
      excess = x;
      index = i;
    }
  }
  return { excess, index };
}
