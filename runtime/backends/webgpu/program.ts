/**
 * @module webgpu/program — the contract between the WebGPU backend and its kernel files.
 *
 * A WGSL program is a small descriptor: a cache key, a workgroup size and the source
 * (TF.js's design). The backend compiles each key once and caches the pipeline. A kernel
 * file turns one `run(op, out, inputs, attrs)` call into one or more {@link Launch}es:
 * a program, the storage buffers it binds, its uniform words and its dispatch shape.
 *
 * Binding layout of every program (group 0):
 * - `@binding(0) var<uniform> u: U;` when `uniforms` is non-empty (shapes, strides,
 *   offsets, scalars; 16-byte aligned struct, padded by the backend);
 * - `@binding(1..n)` the storage buffers of `buffers`, in order.
 */

import type { DType } from '../../dtype.ts';

/** A compiled-once WGSL program. */
export interface Program {
  /**
   * Cache key: the primitive's name in every layer (`matmul_f32`, `add_i32`) plus every
   * specialisation baked into the source (tile sizes, rank, vec4 path, f16), e.g.
   * `matmul_f32_t64x64_v4`.
   */
  readonly key: string;
  /** The WGSL source; generated once per key (the backend calls it only on a cache miss). */
  readonly source: () => string;
  /** `@workgroup_size` of the entry point `main`. */
  readonly workgroupSize: readonly [number, number, number];
}

/** A storage binding: a whole GPU buffer of the backend. */
export interface StorageBinding {
  readonly buffer: GPUBuffer;
  /** `var<storage, read>` when true, `read_write` otherwise. */
  readonly readOnly: boolean;
}

/** One dispatch. */
export interface Launch {
  readonly program: Program;
  /** Bound at @binding(1), @binding(2), … */
  readonly buffers: readonly StorageBinding[];
  /** Words of the uniform block at @binding(0) (u32 bit patterns; f32 via a Float32Array view); empty for none. */
  readonly uniforms: Uint32Array;
  /** Workgroup counts (x, y, z); each at most the device's maxComputeWorkgroupsPerDimension. */
  readonly workgroups: readonly [number, number, number];
}

/** What a kernel file may ask the backend for. */
export interface KernelContext {
  /** The adapter has `shader-f16` and the device was created with it. */
  readonly f16: boolean;
  /** The adapter has `subgroups` and the device was created with it. */
  readonly subgroups: boolean;
  readonly limits: GPUSupportedLimits;
  /**
   * A temporary storage buffer of at least `bytes`, valid for the launches of this one
   * `run` call (the backend returns it to its pool after recording them; later work in
   * the same queue may reuse it). Its contents are undefined: it is not zeroed.
   */
  scratch(bytes: number): GPUBuffer;
}

/**
 * A tensor view on the GPU, as the backend hands it to a kernel function: a storage
 * buffer plus the view's shape, strides and offset in elements (not bytes), with
 * runtime/ops.ts's conventions. `bool` is stored one element per u32 word; float32 and
 * int32 one per 32-bit word, so `offset` and `strides` are word counts for every dtype.
 *
 * @example
 * const v: GpuView = { buffer, dtype: 'float32', shape: [2, 3], strides: [3, 1], offset: 0 };
 */
export interface GpuView {
  readonly buffer: GPUBuffer;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * The shape of every kernel file's export: one primitive call → the launches that compute
 * it (empty for an empty output). `attrs` is the op's attribute record from runtime/ops.ts.
 *
 * @example
 * export const matmulLaunches: KernelFn<MatmulAttrs> = (ctx, out, [a, b], attrs) => [...];
 */
export type KernelFn<A = unknown> = (
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  attrs: A,
) => Launch[];
