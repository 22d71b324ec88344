/**
 * @module helpers/run-op — one primitive on one backend from plain specs, for suites that
 * compare backends. Web-standard only (no node:*, no vitest), so the same code runs the
 * parity suite in Node, Deno and Chromium (test/backends/cases.ts).
 */
import type { Backend, BufferHandle, TensorView } from '../../runtime/backend.ts';
import type { StorageArray, DType } from '../../runtime/dtype.ts';
import type { OpAttrs, OpName } from '../../runtime/ops.ts';
import { allocArray } from '../../runtime/dtype.ts';

/**
 * One tensor view for `runOp`: its buffer's full contents (`data`, or `length` zeros) and
 * the view into it. Strides default to row-major contiguous, offset to 0.
 * @example { dtype: 'float32', shape: [2, 3], strides: [1, 2], data: [1, 2, 3, 4, 5, 6] } // a transpose
 */
export interface ViewSpec {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides?: readonly number[];
  readonly offset?: number;
  /** The whole buffer's contents; its length is the buffer's length. */
  readonly data?: ArrayLike<number>;
  /** The buffer's length when `data` is absent (zeros). Default: the view's extent. */
  readonly length?: number;
}

/**
 * Row-major contiguous strides.
 * @example contiguousStrides([2, 3]) // [3, 1]
 */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides: number[] = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = (strides[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return strides;
}

function bufferLength(spec: ViewSpec): number {
  if (spec.data !== undefined) return spec.data.length;
  if (spec.length !== undefined) return spec.length;
  return spec.shape.reduce((a, b) => a * b, 1) + (spec.offset ?? 0);
}

/**
 * Runs `op` on `backend` with buffers made from the specs, and returns the whole `out`
 * buffer (so elements a strided `out` must leave alone are checked too). Frees every
 * buffer it allocated, also when the op throws.
 * @example
 * await runOp(backend, 'add', { dtype: 'float32', shape: [2] },
 *   [{ dtype: 'float32', shape: [2], data: [1, 2] }, { dtype: 'float32', shape: [2], data: [3, 4] }], {});
 * // Float32Array [4, 6]
 */
export async function runOp<O extends OpName>(
  backend: Backend,
  op: O,
  out: ViewSpec,
  inputs: readonly ViewSpec[],
  attrs: OpAttrs[O],
): Promise<StorageArray> {
  const handles: BufferHandle[] = [];
  // An output with no given contents is allocated as the tensor layer allocates op outputs,
  // `{ zero: false }` (except for `copy`, which may write a strided part of it): a backend
  // whose kernel leaves part of a fresh output unwritten then shows stale pool contents.
  const toView = (spec: ViewSpec, isOut = false): TensorView => {
    const length = bufferLength(spec);
    const buffer = backend.alloc(
      spec.dtype,
      length,
      isOut && op !== 'copy' && spec.data === undefined ? { zero: false } : undefined,
    );
    handles.push(buffer);
    if (spec.data !== undefined && length > 0) {
      const arr = allocArray(spec.dtype, length);
      for (let i = 0; i < length; i++) arr[i] = spec.data[i] ?? 0;
      backend.write(buffer, arr);
    }
    return {
      buffer,
      dtype: spec.dtype,
      shape: spec.shape,
      strides: spec.strides ?? contiguousStrides(spec.shape),
      offset: spec.offset ?? 0,
    };
  };
  try {
    const inputViews = inputs.map((spec) => toView(spec));
    const outView = toView(out, true);
    backend.run(op, outView, inputViews, attrs);
    return await backend.read(outView.buffer, 0, outView.buffer.length);
  } finally {
    for (const h of handles) backend.free(h);
  }
}
