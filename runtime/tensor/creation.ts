/**
 * @module tensor/creation — making tensors: from data, constants, ranges and random draws.
 *
 * JavaScript cannot tell `1` from `1.0`, so plain numbers make float32 tensors
 * (as in TF.js) unless a dtype is given; `arange` and `randint` with integer
 * arguments make int32, as torch makes int64.
 */
import type { Backend } from '../backend.ts';
import { allocArray, dtypeOfArray, type DType, type StorageArray } from '../dtype.ts';
import { ShapeError, ValueError } from '../errors.ts';
import * as ew from './elementwise.ts';
import { defaultGenerator, type Generator } from '../random.ts';
import { checkShape, numelOf } from '../shape.ts';
import { Tensor, backendOr } from './tensor.ts';

/** Options shared by the creation functions. */
export interface TensorOptions {
  /** The element type (default float32, or the data's own type). */
  readonly dtype?: DType;
  /** Track gradients into this tensor (float dtypes only). */
  readonly requiresGrad?: boolean;
  /** The backend to allocate on (default: the current default backend). */
  readonly backend?: Backend;
}

/** Options of the random creation functions. */
export interface RandomOptions extends TensorOptions {
  /** The generator to draw from (default: the one `manualSeed` seeds). */
  readonly generator?: Generator;
}

/** Nested arrays of numbers or booleans. */
export type NestedArray = number | boolean | readonly NestedArray[];

/** A shape given as one array or as separate sizes, optionally followed by options. */
export type ShapeArgs<O> = [readonly number[], O?] | [...number[]] | [number, ...unknown[]];

function parseShapeArgs<O extends object>(op: string, args: readonly unknown[]): [number[], O] {
  const first = args[0];
  if (Array.isArray(first)) {
    const shape = [...(first as number[])];
    checkShape(op, shape);
    return [shape, (args[1] ?? {}) as O];
  }
  const shape: number[] = [];
  let options = {} as O;
  for (const a of args) {
    if (typeof a === 'number') shape.push(a);
    else if (typeof a === 'object' && a !== null) options = a as O;
    else throw new ValueError(`${op}: invalid size argument; expected numbers or one array, got ${String(a)}`);
  }
  checkShape(op, shape);
  return [shape, options];
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  if (options.requiresGrad === true) t.requiresGrad_();
  return t;
}

/** Whether `values` is already the typed array that `dtype`'s storage uses. */
function isStorageOf(dtype: DType, values: ArrayLike<number>): values is StorageArray {
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array;
    case 'float64':
      return values instanceof Float64Array;
    case 'int32':
      return values instanceof Int32Array;
    case 'bool':
      return values instanceof Uint8Array;
  }
}

function make(shape: readonly number[], dtype: DType, options: TensorOptions, values: ArrayLike<number>): Tensor {
  const backend = backendOr(options.backend);
  // A typed array of the storage's own kind goes to the backend as it is (every backend's
  // write copies it): a batch of images from a Float32Array is the common case, and a staging
  // copy of it cost more than the forward pass. Anything else converts element by element.
  if (isStorageOf(dtype, values)) return finish(Tensor.fromArray(backend, dtype, shape, values), options);
  const data = allocArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) data[i] = Number(values[i]);
  return finish(Tensor.fromArray(backend, dtype, shape, data), options);
}

/**
 * A tensor from nested arrays, a typed array, or a number.
 * @example tensor([[1, 2], [3, 4]]) // float32 [2, 2]
 * @example tensor([0, 2], { dtype: 'int32' })
 */
export function tensor(data: NestedArray | StorageArray, options: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const own = data instanceof Uint8Array && options.dtype === undefined ? 'int32' : dtypeOfArray(data);
    const dtype = options.dtype ?? own;
    return make([data.length], dtype, options, data);
  }
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = (probe as readonly NestedArray[])[0] ?? 0;
  }
  const flat: number[] = [];
  let sawBool = false;
  let sawNumber = false;
  const walk = (v: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(v))
        throw new ShapeError(`tensor: nested arrays are ragged; expected a scalar at depth ${dim}, got an array`);
      if (typeof v === 'boolean') sawBool = true;
      else sawNumber = true;
      flat.push(Number(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(
        `tensor: nested arrays are ragged; expected length ${shape[dim]} at depth ${dim}, got ${Array.isArray(v) ? v.length : 'a scalar'}`,
      );
    }
    for (const e of v as readonly NestedArray[]) walk(e, dim + 1);
  };
  walk(data, 0);
  const dtype = options.dtype ?? (sawBool && !sawNumber ? 'bool' : 'float32');
  return make(shape, dtype, options, flat);
}

/** A tensor filled with `value`: `full([2, 3], 7)`. */
export function full(shape: readonly number[], value: number | boolean, options: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = options.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  return finish(ew.fullOn(backendOr(options.backend), shape, Number(value), dtype), options);
}

/** Zeros: `zeros(2, 3)` or `zeros([2, 3], { dtype: 'int32' })`. */
export function zeros(...args: ShapeArgs<TensorOptions>): Tensor {
  const [shape, options] = parseShapeArgs<TensorOptions>('zeros', args);
  return full(shape, 0, options);
}

/** Ones: `ones(2, 3)` or `ones([2, 3])`. */
export function ones(...args: ShapeArgs<TensorOptions>): Tensor {
  const [shape, options] = parseShapeArgs<TensorOptions>('ones', args);
  return full(shape, 1, options);
}

function likeOptions(t: Tensor, options: TensorOptions): TensorOptions {
  return { dtype: t.dtype, backend: t.backend, ...options };
}

/** Zeros of `t`'s shape, dtype and backend. */
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 0, likeOptions(t, options));
}

/** Ones of `t`'s shape, dtype and backend. */
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 1, likeOptions(t, options));
}

/** `value` in `t`'s shape, dtype and backend. */
export function fullLike(t: Tensor, value: number | boolean, options: TensorOptions = {}): Tensor {
  return full(t.shape, value, likeOptions(t, options));
}

/**
 * Values from `start` to `end` (exclusive) by `step`; `arange(5)` is 0..4.
 * Integer arguments give int32 (as torch gives int64), others float32. The options may
 * follow any number of bounds, as torch's keyword arguments do.
 * @example arange(5, { backend }) // torch.arange(5, device=…); arange(1, 2, 0.25, { dtype: 'float32' })
 */
export function arange(end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end?: number, step?: number, options?: TensorOptions): Tensor;
export function arange(
  start: number,
  a?: number | TensorOptions,
  b?: number | TensorOptions,
  c?: TensorOptions,
): Tensor {
  // bounds, then at most one options object, last
  const nums: number[] = [];
  let options: TensorOptions = {};
  let seenOptions = false;
  for (const [k, v] of [start, a, b, c].entries()) {
    if (v === undefined) continue;
    if (seenOptions)
      throw new ValueError(
        `arange: argument ${k + 1} after the options object; expected the options last, got ${typeof v}`,
      );
    if (typeof v === 'number' && k < 3) nums.push(v);
    else if (typeof v === 'object' && v !== null) {
      options = v;
      seenOptions = true;
    } else
      throw new ValueError(
        `arange: argument ${k + 1} must be a number or an options object; expected ${k < 3 ? 'a number' : 'options'}, got ${typeof v}`,
      );
  }
  const first = nums[0];
  if (first === undefined)
    throw new ValueError(
      'arange: no bounds; expected arange(end), arange(start, end) or arange(start, end, step), got none',
    );
  const end = nums[1];
  const step = nums[2] ?? 1;
  const [lo, hi] = end === undefined ? [0, first] : [first, end];
  if (step === 0 || !Number.isFinite(step))
    throw new ValueError(`arange: step must be non-zero and finite; expected step != 0, got ${step}`);
  if ((hi - lo) / step < 0 && hi !== lo) {
    throw new ValueError(
      `arange: upper bound and step are inconsistent; expected sign(end - start) == sign(step), got start ${lo}, end ${hi}, step ${step}`,
    );
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const integral = Number.isInteger(lo) && Number.isInteger(hi) && Number.isInteger(step);
  const dtype = options.dtype ?? (integral ? 'int32' : 'float32');
  checkShape('arange', [n]);
  return makeDrawn([n], dtype, options, () => {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = lo + i * step;
    return values;
  });
}

/**
 * `steps` values evenly spaced from `start` to `end` inclusive, computed from
 * both ends as torch.linspace does.
 */
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new ValueError(`linspace: steps must be a non-negative integer; expected >= 0, got ${steps}`);
  const dtype = options.dtype ?? 'float32';
  // torch's linspace kernel computes in the output's float type (step_t = scalar_t), so
  // float32 values round after every operation: emulate that to match torch bit for bit.
  const r = dtype === 'float32' ? Math.fround : (v: number): number => v;
  const lo = r(start);
  const hi = r(end);
  return makeDrawn([steps], dtype, options, () => {
    const values = new Float64Array(steps);
    const step = steps > 1 ? r(r(hi - lo) / (steps - 1)) : 0;
    const half = Math.floor(steps / 2);
    for (let i = 0; i < steps; i++) values[i] = i < half ? r(lo + r(step * i)) : r(hi - r(step * (steps - 1 - i)));
    // torch fills a single step with start (linspace_out special-cases steps == 1).
    if (steps === 1) values[0] = lo;
    return values;
  });
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: TensorOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  return makeDrawn([n, m], options.dtype ?? 'float32', options, () => {
    const values = new Float64Array(n * m);
    for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
    return values;
  });
}

/**
 * As `make`, but the backend allocates the output before any value is computed, so a size the
 * backend cannot hold (`randn([2 ** 31])`) is refused at once with its typed error, not after
 * drawing billions of values.
 */
function makeDrawn(
  shape: readonly number[],
  dtype: DType,
  options: TensorOptions,
  values: () => ArrayLike<number>,
): Tensor {
  const t = Tensor.empty(backendOr(options.backend), dtype, shape, { zero: false });
  try {
    const v = values();
    const data = allocArray(dtype, v.length);
    for (let i = 0; i < v.length; i++) data[i] = Number(v[i]);
    if (data.length > 0) t.backend.write(t.view_().buffer, data, 0);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return finish(t, options);
}

function randomMake(op: string, args: readonly unknown[], draw: (g: Generator, n: number) => Float64Array): Tensor {
  const [shape, options] = parseShapeArgs<RandomOptions>(op, args);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new ValueError(`${op}: only floating dtypes are supported; expected float32 or float64, got ${dtype}`);
  }
  return makeDrawn(shape, dtype, options, () => draw(options.generator ?? defaultGenerator, numelOf(shape)));
}

/** Uniform values in [0, 1): `rand(2, 3)`. */
export function rand(...args: ShapeArgs<RandomOptions>): Tensor {
  return randomMake('rand', args, (g, n) => g.uniform(n));
}

/** Standard normal values: `randn(2, 3)`. */
export function randn(...args: ShapeArgs<RandomOptions>): Tensor {
  return randomMake('randn', args, (g, n) => g.normal(n));
}

/** Integers uniform in [low, high), int32: `randint(0, 10, [3])`. */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkShape('randint', shape);
  const draw = (): ArrayLike<number> => (options.generator ?? defaultGenerator).integers(numelOf(shape), low, high);
  return makeDrawn(shape, options.dtype ?? 'int32', options, draw);
}

/** Uniform values in `t`'s shape. */
export function randLike(t: Tensor, options: RandomOptions = {}): Tensor {
  return rand([...t.shape], { dtype: t.dtype, backend: t.backend, ...options });
}

/** Normal values in `t`'s shape. */
export function randnLike(t: Tensor, options: RandomOptions = {}): Tensor {
  return randn([...t.shape], { dtype: t.dtype, backend: t.backend, ...options });
}

/** Integers in [low, high) in `t`'s shape. */
export function randintLike(t: Tensor, low: number, high: number, options: RandomOptions = {}): Tensor {
  return randint(low, high, t.shape, { dtype: t.dtype, backend: t.backend, ...options });
}

/** A random permutation of 0..n-1, int32. */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  checkShape('randperm', [n]);
  return makeDrawn([n], options.dtype ?? 'int32', options, () =>
    (options.generator ?? defaultGenerator).permutation(n),
  );
}
