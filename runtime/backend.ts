/**
 * @module backend — the interface every compute backend implements.
 *
 * A backend is plain compute on plain handles: it allocates buffers, copies
 * bytes in and out, and runs primitives from `ops.ts`. Autograd, broadcasting,
 * type promotion and views live above it, in the tensor layer.
 */
import type { DType, StorageArray } from './dtype.ts';
import type { OpAttrs, OpName } from './ops.ts';

/** An opaque buffer of one backend. Its size is fixed at allocation. */
export interface BufferHandle {
  /** Unique per backend instance; for debugging and maps. */
  readonly id: number;
  readonly dtype: DType;
  /** Capacity in elements. */
  readonly length: number;
}

/** How a backend sees a tensor: a buffer plus stride arithmetic, all in elements. */
export interface TensorView {
  readonly buffer: BufferHandle;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Options of {@link Backend.alloc}. */
export interface AllocOptions {
  /**
   * Default true. False leaves the contents unspecified, for a buffer the caller overwrites
   * whole before anything reads it (an op's fresh output), so a backend may skip the fill.
   */
  readonly zero?: boolean;
}

/** What a backend can do. Tests iterate over backends and their capabilities. */
export interface BackendCapabilities {
  /** The dtypes its buffers and kernels accept. */
  readonly dtypes: readonly DType[];
  /** False when values come from a device queue (WebGPU); true when `readSync` works. */
  readonly syncReadback: boolean;
}

/** Counters for leak tests: buffers alive and bytes the backend holds. */
export interface MemoryInfo {
  readonly liveBuffers: number;
  /** Bytes of the backend's own memory (the wasm linear memory size, for example). */
  readonly reservedBytes: number;
}

/**
 * A compute backend: `reference` (pure TS), `wasm` or `webgpu`.
 *
 * @example
 * const buf = backend.alloc('float32', 4);
 * backend.write(buf, new Float32Array([1, 2, 3, 4]));
 * const out = backend.alloc('float32', 4);
 * backend.run('relu', view(out), [view(buf)], {});
 * await backend.read(out, 0, 4);
 */
export interface Backend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /**
   * A buffer of `length` elements, zero-filled unless `options.zero` is false. Throws a
   * DTypeError for a dtype it lacks.
   */
  alloc(dtype: DType, length: number, options?: AllocOptions): BufferHandle;
  /** Returns the buffer to the backend. Freeing twice throws. */
  free(buffer: BufferHandle): void;
  /** Copies `data` (of the buffer's dtype) into the buffer at element `offset`. */
  write(buffer: BufferHandle, data: StorageArray, offset?: number): void;
  /** A copy of `length` elements from element `offset`, once queued work is done. */
  read(buffer: BufferHandle, offset: number, length: number): Promise<StorageArray>;
  /** As `read`, synchronously; throws on backends whose `syncReadback` is false. */
  readSync(buffer: BufferHandle, offset: number, length: number): StorageArray;
  /**
   * As `readSync`, into `target` at element `at` instead of a new array (no allocation): the
   * DDP gradient exchange copies every gradient straight into the shared buffer with it.
   * Optional; backends whose `syncReadback` is false leave it out.
   */
  readInto?(buffer: BufferHandle, offset: number, length: number, target: StorageArray, at: number): void;
  /**
   * Runs one primitive (see `ops.ts` for the calling convention, which `checkOp` in
   * `op-check.ts` checks first, for every backend). An op the backend lacks throws a
   * NotImplementedOpError naming the op and the backend.
   */
  run<O extends OpName>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void;
  memory(): MemoryInfo;
  /** Frees every buffer and the backend's own resources. */
  dispose(): void;
}

/**
 * One function per primitive, each typed by its own attributes: a backend dispatches
 * `run(op, ...)` through such a table, `table[op](out, inputs, attrs)`, so no attribute
 * needs a cast. `R` is what each returns (void, or a GPU backend's launches).
 * @example
 * const kernels: OpTable = { ..., fill: (out, _inputs, { value }) => fillKernel(out, value), ... };
 * kernels[op](out, inputs, attrs);
 */
export type OpTable<R = void> = {
  readonly [O in OpName]: (out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]) => R;
};
