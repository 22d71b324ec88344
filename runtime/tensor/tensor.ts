/**
 * @module tensor/tensor — the eager Tensor: a buffer on one backend plus stride arithmetic.
 *
 * Views (view/reshape, permute, narrow, select, expand, squeeze, ...) share
 * their base's buffer. Every op is written once here and in the sibling files
 * (elementwise.ts, reduce.ts, linalg.ts, indexing.ts) above the backend
 * interface, with its gradient rule beside it.
 */
import { isGradEnabled, needsGrad, noGrad, runBackward, type GradNode, type GradOps } from '../autograd.ts';
import type { AllocOptions, Backend, BufferHandle, TensorView } from '../backend.ts';
import { allocArray, type DType, type StorageArray } from '../dtype.ts';
import { getDefaultBackend } from '../default-backend.ts';
import { AutogradError, BackendError, DisposedError, IndexError, ShapeError, ValueError } from '../errors.ts';
import { keep, tidy, track } from '../memory.ts';
import type { OpAttrs, OpName } from '../ops.ts';
import {
  contiguousStrides,
  inferShape,
  isContiguous,
  normalizeDim,
  numelOf,
  shapeString,
  viewStrides,
  type Shape,
} from '../shape.ts';
import { formatTensor } from './format.ts';
import { traceOp } from './trace.ts';

/** A backend buffer shared by a tensor and its views; freed when the last one lets go. */
class Storage {
  refs = 1;
  readonly backend: Backend;
  readonly buffer: BufferHandle;
  constructor(backend: Backend, buffer: BufferHandle) {
    this.backend = backend;
    this.buffer = buffer;
  }
  release(): void {
    if (--this.refs === 0) this.backend.free(this.buffer);
  }
}

/** The most elements a tensor may have: a JavaScript typed array holds at most 2^32 - 1. */
const MAX_NUMEL = 2 ** 32 - 1;

/** For op outputs: the primitive writes every element, so the backend may skip its zero fill. */
const UNFILLED: AllocOptions = { zero: false };

// Tensors that the program dropped without dispose() give their buffer back
// when the garbage collector finds them.
// A backend's dispose() has already freed every buffer, so a tensor collected after its
// backend is gone has nothing to give back (and must not throw from the collector).
const finalizer = new FinalizationRegistry<Storage>((s) => {
  try {
    s.release();
  } catch (e) {
    if (!(e instanceof DisposedError)) throw e;
  }
});

/** Scalars accepted wherever a tensor is. */
export type Scalar = number | boolean;
/** A tensor or a scalar operand. */
export type TensorLike = Tensor | Scalar;

/** Options of `backward()`. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false). */
  readonly retainGraph?: boolean;
}

/** A reduction result with indices, as torch's (values, indices) named tuple. */
export interface ValuesIndices {
  readonly values: Tensor;
  readonly indices: Tensor;
}

/** Options of `gelu`. */
export interface GeluOptions {
  /** 'none' (exact, default) or 'tanh' (the approximation), as torch's `approximate`. */
  readonly approximate?: 'none' | 'tanh';
}

/** Options of `softplus`. */
export interface SoftplusOptions {
  readonly beta?: number;
  readonly threshold?: number;
}

/** Options of `var` and `std`. */
export interface VarOptions {
  /** Subtracted from the count in the divisor (default 1, Bessel's correction), as torch's `correction`. */
  readonly correction?: number;
  readonly keepdim?: boolean;
}

/**
 * The Tensor methods that run ops. They are declared here, on the class, so that this file
 * imports none of the op files (elementwise, reduce, linalg, indexing), which all build on
 * it; `methods.ts` implements each one by calling its op function and installs them on
 * `Tensor.prototype`, once, when `tensor/index.ts` is imported (every entry point does).
 * Code in this file that needs an op calls it through these methods.
 */
export interface TensorOpMethods {
  /** Converts to `dtype` (a no-op if already that dtype). */
  to(dtype: DType): Tensor;
  /** As `to('float32')`. */
  float(): Tensor;
  /** As `to('float64')`. */
  double(): Tensor;
  /** As `to('int32')`. */
  int(): Tensor;
  /** As `to('bool')`. */
  bool(): Tensor;

  /** `this += other` (times `alpha`), in place. */
  add_(other: TensorLike, alpha?: number): this;
  /** `this -= other` (times `alpha`), in place. */
  sub_(other: TensorLike, alpha?: number): this;
  /** `this *= other`, in place. */
  mul_(other: TensorLike): this;
  /** `this /= other`, in place. */
  div_(other: TensorLike): this;

  // elementwise math (tensor/elementwise.ts)
  add(other: TensorLike): Tensor;
  sub(other: TensorLike): Tensor;
  mul(other: TensorLike): Tensor;
  div(other: TensorLike): Tensor;
  pow(exponent: TensorLike): Tensor;
  maximum(other: TensorLike): Tensor;
  minimum(other: TensorLike): Tensor;
  neg(): Tensor;
  abs(): Tensor;
  sign(): Tensor;
  sqrt(): Tensor;
  rsqrt(): Tensor;
  exp(): Tensor;
  log(): Tensor;
  square(): Tensor;
  reciprocal(): Tensor;
  clamp(min: number | null, max?: number | null): Tensor;
  eq(other: TensorLike): Tensor;
  ne(other: TensorLike): Tensor;
  lt(other: TensorLike): Tensor;
  le(other: TensorLike): Tensor;
  gt(other: TensorLike): Tensor;
  ge(other: TensorLike): Tensor;
  logicalNot(): Tensor;
  relu(): Tensor;
  leakyRelu(negativeSlope?: number): Tensor;
  sigmoid(): Tensor;
  tanh(): Tensor;
  gelu(options?: GeluOptions): Tensor;
  silu(): Tensor;
  softplus(options?: SoftplusOptions): Tensor;
  elu(alpha?: number): Tensor;

  // reductions (tensor/reduce.ts)
  sum(dim?: number | readonly number[], keepdim?: boolean): Tensor;
  mean(dim?: number | readonly number[], keepdim?: boolean): Tensor;
  /** Without `dim`, the largest element; with `dim`, `{ values, indices }`. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): ValuesIndices;
  /** Without `dim`, the smallest element; with `dim`, `{ values, indices }`. */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): ValuesIndices;
  argmax(dim?: number, keepdim?: boolean): Tensor;
  argmin(dim?: number, keepdim?: boolean): Tensor;
  var(dim?: number | readonly number[], options?: VarOptions): Tensor;
  std(dim?: number | readonly number[], options?: VarOptions): Tensor;
  logSumExp(dim: number | readonly number[], keepdim?: boolean): Tensor;
  softmax(dim: number): Tensor;
  logSoftmax(dim: number): Tensor;

  // linear algebra (tensor/linalg.ts)
  matmul(other: Tensor): Tensor;

  // indexing (tensor/indexing.ts)
  gather(dim: number, index: Tensor): Tensor;
  indexSelect(dim: number, index: Tensor): Tensor;
}

/** The class below, with the op methods of {@link TensorOpMethods} (installed by `methods.ts`). */
export interface Tensor extends TensorOpMethods {}

/**
 * An n-dimensional array on one backend, with autograd.
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.mul(x).sum().backward();
 * await x.grad!.tolist() // [[2, 4], [6, 8]]
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** True when gradients flow into this tensor. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf, after `backward()`. */
  grad: Tensor | null = null;
  /** The recorded op that made this tensor, or null for a leaf. */
  gradFn: GradNode | null = null;
  #storage: Storage;
  #disposed = false;
  /** Registered with the FinalizationRegistry (only once no scope owns it; see memory.ts). */
  #registered = false;
  #view: TensorView | undefined = undefined;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(storage: Storage, shape: Shape, strides: readonly number[], offset: number, dtype: DType) {
    this.#storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.dtype = dtype;
    if (!track(this)) this.untracked();
  }

  /** @internal No scope owns this tensor any more: the garbage collector becomes its safety net. */
  untracked(): void {
    if (this.#registered || this.#disposed) return;
    this.#registered = true;
    finalizer.register(this, this.#storage, this);
  }

  /**
   * @internal A new contiguous tensor on `backend`: zero-filled, or with unspecified
   * contents when `options.zero` is false (for an output the caller overwrites whole).
   */
  static empty(backend: Backend, dtype: DType, shape: Shape, options?: AllocOptions): Tensor {
    const n = numelOf(shape);
    if (n > MAX_NUMEL) {
      throw new ShapeError(
        `tensor: too many elements; expected at most ${MAX_NUMEL} (the largest typed array), got ${n} for shape ${shapeString(shape)}`,
      );
    }
    const buffer = backend.alloc(dtype, Math.max(n, 1), options);
    return new Tensor(new Storage(backend, buffer), [...shape], contiguousStrides(shape), 0, dtype);
  }

  /** @internal A new tensor on `backend` holding `data` (row-major). */
  static fromArray(backend: Backend, dtype: DType, shape: Shape, data: StorageArray): Tensor {
    const t = Tensor.empty(backend, dtype, shape);
    if (data.length > 0) backend.write(t.#storage.buffer, data, 0);
    return t;
  }

  /** The backend this tensor's buffer lives on. */
  get backend(): Backend {
    return this.#storage.backend;
  }

  /** True after `dispose()`. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** @internal True while another tensor (a view, or its base) uses this tensor's buffer. */
  get sharesStorage(): boolean {
    return this.#storage.refs > 1;
  }

  /** True for tensors not made by a recorded op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** @internal The backend's view of this tensor; throws after dispose. */
  view_(): TensorView {
    if (this.#disposed) {
      throw new DisposedError(
        `tensor: used after dispose; expected a live tensor, got a disposed tensor of shape ${shapeString(this.shape)}`,
      );
    }
    // shape, strides, offset and storage never change, so one view object serves every op
    return (this.#view ??= {
      buffer: this.#storage.buffer,
      dtype: this.dtype,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
    });
  }

  /** @internal A tensor sharing this one's buffer with other shape/strides/offset. */
  alias(shape: Shape, strides: readonly number[], offset: number): Tensor {
    this.view_();
    this.#storage.refs++;
    return new Tensor(this.#storage, shape, strides, offset, this.dtype);
  }

  /** Frees the buffer (once its views are gone too). Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#registered) finalizer.unregister(this);
    this.#storage.release();
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
    this.gradFn = null;
  }

  // ---------------------------------------------------------------- properties

  /** The number of dimensions. */
  dim(): number {
    return this.shape.length;
  }

  /** The number of elements. */
  numel(): number {
    return numelOf(this.shape);
  }

  /** The whole shape, or the size of one dim (negative dims count from the end). */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    return this.shape[normalizeDim('size', dim, this.shape.length)] ?? 1;
  }

  /** True when the elements are laid out row-major without gaps. */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  // ----------------------------------------------------------------- readback

  /**
   * The values, row-major, once queued work is done.
   * @example await tensor([1, 2]).data() // Float32Array [1, 2]
   */
  async data(): Promise<StorageArray> {
    const c = this.isContiguous() ? this : noGrad(() => this.contiguous());
    const out = await c.backend.read(c.view_().buffer, c.offset, this.numel());
    if (c !== this) c.dispose();
    return out;
  }

  /** As `data()`, synchronously; only on backends with synchronous readback. */
  dataSync(): StorageArray {
    if (!this.backend.capabilities.syncReadback) {
      throw new BackendError(
        `dataSync: backend '${this.backend.name}' reads back asynchronously; expected await t.data(), got dataSync()`,
      );
    }
    const c = this.isContiguous() ? this : noGrad(() => this.contiguous());
    const out = c.backend.readSync(c.view_().buffer, c.offset, this.numel());
    if (c !== this) c.dispose();
    return out;
  }

  /** The value of a one-element tensor, as torch's `.item()`. */
  async item(): Promise<number> {
    if (this.numel() !== 1) {
      throw new ShapeError(
        `item: a tensor with ${this.numel()} elements cannot be converted to a number; expected 1 element, got shape ${shapeString(this.shape)}`,
      );
    }
    return (await this.data())[0]!;
  }

  /** Nested arrays of numbers (booleans for bool), as torch's `.tolist()`. */
  async tolist(): Promise<unknown> {
    return nest(await this.data(), this.shape, this.dtype === 'bool');
  }

  /** A printable form like PyTorch's, e.g. `tensor([1., 2.])`; needs synchronous readback. */
  toString(): string {
    if (this.#disposed) return `tensor(<disposed>, shape=${shapeString(this.shape)})`;
    if (!this.backend.capabilities.syncReadback)
      return `tensor(<on ${this.backend.name}>, shape=${shapeString(this.shape)}, dtype=${this.dtype})`;
    return formatTensor(this.dataSync(), this.shape, this.dtype, this.suffix());
  }

  /** The printable form, on any backend. */
  async format(): Promise<string> {
    return formatTensor(await this.data(), this.shape, this.dtype, this.suffix());
  }

  /** As torch: `grad_fn=<MulBackward0>` on op results, `requires_grad=True` on leaves. */
  private suffix(): string[] {
    if (this.gradFn !== null) return [`grad_fn=<${this.gradFn.name}Backward0>`];
    if (this.requiresGrad) return ['requires_grad=True'];
    return [];
  }

  // ----------------------------------------------------------------- autograd

  /** Marks a leaf as requiring gradients, in place; returns this. */
  requiresGrad_(requiresGrad = true): this {
    if (this.gradFn !== null && !requiresGrad) {
      throw new AutogradError(
        'requiresGrad_: cannot turn off gradients of a non-leaf; expected a leaf tensor, got one made by an op (use detach())',
      );
    }
    if (requiresGrad && this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new AutogradError(
        `requiresGrad_: only floating-point tensors can require gradients; expected float32 or float64, got ${this.dtype}`,
      );
    }
    this.requiresGrad = requiresGrad;
    return this;
  }

  /** A tensor sharing this buffer, outside the graph. */
  detach(): Tensor {
    return traceOp('identity', this.alias(this.shape, this.strides, this.offset), [this]);
  }

  /**
   * Computes gradients of this tensor with respect to every leaf that requires them,
   * accumulating into `.grad`. A non-scalar needs an explicit `gradient` of its shape.
   */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    this.view_();
    if (!this.requiresGrad) {
      throw new AutogradError(
        'backward: tensor does not require grad and has no grad_fn; expected a tensor computed from one with requiresGrad, got a constant',
      );
    }
    let seed: Tensor;
    if (gradient === undefined) {
      if (this.numel() !== 1) {
        throw new AutogradError(
          `backward: grad can be implicitly created only for scalar outputs; expected a tensor of 1 element, got shape ${shapeString(this.shape)}`,
        );
      }
      seed = noGrad(() => runOp('fill', this.backend, this.dtype, this.shape, [], { value: 1 }));
    } else {
      if (gradient.shape.length !== this.shape.length || gradient.shape.some((s, i) => s !== this.shape[i])) {
        throw new ShapeError(
          `backward: gradient has the wrong shape; expected ${shapeString(this.shape)}, got ${shapeString(gradient.shape)}`,
        );
      }
      // cast makes a new contiguous tensor; copy only when no cast is needed.
      seed = noGrad(() => (gradient.dtype === this.dtype ? gradient.contiguousCopy() : gradient.to(this.dtype)));
    }
    keep(seed);
    noGrad(() => runBackward<Tensor>(this, seed, options.retainGraph ?? false, gradOps));
  }

  // -------------------------------------------------------------------- views

  /**
   * The same elements with another shape, sharing the buffer (one -1 is inferred).
   * Throws when the strides do not allow a view; use `reshape` then.
   */
  view(...shape: number[] | [readonly number[]]): Tensor {
    const target = inferShape('view', flattenArgs(shape), this.numel());
    const strides = viewStrides(this.shape, this.strides, target);
    if (strides === null) {
      throw new ShapeError(
        `view: size is not compatible with the input's strides; expected a contiguous input or a compatible shape, got ${shapeString(this.shape)} -> ${shapeString(target)} (use reshape)`,
      );
    }
    return this.reshapeAlias(target, strides);
  }

  /** As `view`, copying when the strides do not allow a view. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    const target = inferShape('reshape', flattenArgs(shape), this.numel());
    const strides = viewStrides(this.shape, this.strides, target);
    if (strides !== null) return this.reshapeAlias(target, strides);
    return this.contiguous().view(target);
  }

  private reshapeAlias(target: readonly number[], strides: readonly number[]): Tensor {
    const out = this.alias(target, strides, this.offset);
    const inShape = this.shape;
    return traceOp(
      'reshape',
      record(out, 'View', [this], (g) => [g.reshape(inShape)]),
      [this],
    );
  }

  /** Reorders dims, as torch.permute. */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    const order = flattenArgs(dims).map((d) => normalizeDim('permute', d, this.dim()));
    if (order.length !== this.dim() || new Set(order).size !== order.length) {
      throw new ShapeError(
        `permute: dims must be a permutation; expected ${this.dim()} distinct dims, got [${flattenArgs(dims).join(',')}]`,
      );
    }
    const out = this.alias(
      order.map((d) => this.shape[d]!),
      order.map((d) => this.strides[d]!),
      this.offset,
    );
    const inverse = new Array<number>(order.length);
    order.forEach((d, i) => {
      inverse[d] = i;
    });
    record(out, 'Permute', [this], (g) => [g.permute(inverse)]);
    return traceOp('permute', out, [this], { perm: order });
  }

  /** Swaps two dims. */
  transpose(dim0: number, dim1: number): Tensor {
    const a = normalizeDim('transpose', dim0, this.dim());
    const b = normalizeDim('transpose', dim1, this.dim());
    const order = this.shape.map((_, i) => i);
    order[a] = b;
    order[b] = a;
    return this.permute(order);
  }

  /** Transpose of a tensor of at most 2 dims, as torch's `.t()`. */
  t(): Tensor {
    if (this.dim() > 2) {
      throw new ShapeError(
        `t: expects a tensor with <= 2 dimensions; expected rank <= 2, got ${shapeString(this.shape)}`,
      );
    }
    return this.dim() < 2 ? this.detachedAliasWithGrad() : this.transpose(0, 1);
  }

  private detachedAliasWithGrad(): Tensor {
    return this.reshapeAlias(this.shape, this.strides);
  }

  /**
   * `length` elements of `dim` from `start`, sharing the buffer, as torch.narrow.
   * @example arange(10).narrow(0, 2, 3) // [2, 3, 4]
   */
  narrow(dim: number, start: number, length: number): Tensor {
    checkHasDims('narrow', this);
    const d = normalizeDim('narrow', dim, this.dim());
    const size = this.shape[d]!;
    const s = start < 0 ? start + size : start;
    if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
      throw new IndexError(
        `narrow: range out of bounds; expected 0 <= start and start + length <= ${size}, got start ${start}, length ${length}`,
      );
    }
    return this.slice(d, s, s + length);
  }

  /**
   * Elements `start, start+step, ...` below `end` of `dim`, as Python's `x[:, start:end:step]`.
   * Negative and out-of-range bounds are clamped like Python slices.
   */
  slice(dim: number, start = 0, end?: number, step = 1): Tensor {
    checkHasDims('slice', this);
    const d = normalizeDim('slice', dim, this.dim());
    if (!Number.isInteger(step) || step <= 0) {
      throw new ValueError(`slice: step must be positive; expected an integer >= 1, got ${step}`);
    }
    const size = this.shape[d]!;
    const clampIdx = (i: number): number => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
    const s = clampIdx(start);
    const e = clampIdx(end ?? size);
    const len = e > s ? Math.ceil((e - s) / step) : 0;
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape[d] = len;
    strides[d] = this.strides[d]! * step;
    const out = this.alias(shape, strides, this.offset + s * this.strides[d]!);
    const inShape = this.shape;
    record(out, 'Slice', [this], (g) => {
      const full = runOp('fill', g.backend, g.dtype, inShape, [], { value: 0 });
      full.slice(d, s, e, step).copy_(g);
      return [full];
    });
    return traceOp('slice', out, [this], { dim: d, start: s, end: e, step });
  }

  /** The slice at `index` of `dim`, with that dim removed, as `x[:, index]`. */
  select(dim: number, index: number): Tensor {
    checkHasDims('select', this);
    const d = normalizeDim('select', dim, this.dim());
    const size = this.shape[d]!;
    const i = index < 0 ? index + size : index;
    if (!Number.isInteger(i) || i < 0 || i >= size) {
      throw new IndexError(`select: index out of range; expected ${-size} <= index < ${size}, got ${index}`);
    }
    return this.narrow(d, i, 1).squeeze(d);
  }

  /**
   * Broadcasts to `shape` without copying (-1 keeps a size), as torch.expand.
   * @example tensor([1, 2]).expand(3, 2) // [[1, 2], [1, 2], [1, 2]]
   */
  expand(...shape: number[] | [readonly number[]]): Tensor {
    const target = flattenArgs(shape);
    if (target.length < this.dim()) {
      throw new ShapeError(
        `expand: the number of sizes must be >= the tensor's rank; expected at least ${this.dim()}, got ${shapeString(target)}`,
      );
    }
    const lead = target.length - this.dim();
    const outShape: number[] = [];
    const outStrides: number[] = [];
    for (let i = 0; i < target.length; i++) {
      const want = target[i]!;
      if (i < lead) {
        if (want < 0)
          throw new ShapeError(
            `expand: -1 is not allowed for a new leading dim; expected a size, got ${shapeString(target)}`,
          );
        outShape.push(want);
        outStrides.push(0);
        continue;
      }
      const have = this.shape[i - lead]!;
      if (want === -1 || want === have) {
        outShape.push(have);
        outStrides.push(this.strides[i - lead]!);
      } else if (have === 1) {
        outShape.push(want);
        outStrides.push(0);
      } else {
        throw new ShapeError(
          `expand: the expanded size must match the existing size at non-singleton dim ${i}; expected ${have} or from 1, got ${shapeString(this.shape)} -> ${shapeString(target)}`,
        );
      }
    }
    const out = this.alias(outShape, outStrides, this.offset);
    const inShape = this.shape;
    return traceOp(
      'expand',
      record(out, 'Expand', [this], (g) => [sumTo(g, inShape)]),
      [this],
    );
  }

  /** As `expand(other.shape)`. */
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }

  /** Removes size-1 dims (all, or the given one if it has size 1). */
  squeeze(dim?: number): Tensor {
    const d = dim === undefined ? -1 : normalizeDim('squeeze', dim, this.dim());
    const drop = (s: number, i: number): boolean => s === 1 && (d < 0 || i === d);
    const shape = this.shape.filter((s, i) => !drop(s, i));
    const strides = this.strides.filter((_, i) => !drop(this.shape[i]!, i));
    return this.reshapeAlias(shape, strides);
  }

  /** Inserts a size-1 dim at `dim` (in `[-rank-1, rank]`). */
  unsqueeze(dim: number): Tensor {
    const d = normalizeDim('unsqueeze', dim, this.dim() + 1);
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape.splice(d, 0, 1);
    strides.splice(d, 0, d < this.dim() ? this.shape[d]! * this.strides[d]! : 1);
    return this.reshapeAlias(shape, strides);
  }

  /** Flattens dims `startDim..endDim` into one, as torch.flatten. */
  flatten(startDim = 0, endDim = -1): Tensor {
    if (this.dim() === 0) return this.reshape([1]);
    const s = normalizeDim('flatten', startDim, this.dim());
    const e = normalizeDim('flatten', endDim, this.dim());
    if (s > e)
      throw new ShapeError(
        `flatten: startDim must not come after endDim; expected start <= end, got ${startDim} > ${endDim}`,
      );
    const target = [...this.shape.slice(0, s), numelOf(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
    return this.reshape(target);
  }

  /** This tensor if it is contiguous, else a contiguous copy. */
  contiguous(): Tensor {
    this.view_();
    return this.isContiguous() ? this : this.contiguousCopy();
  }

  /** @internal A contiguous copy (a new buffer), with a gradient. */
  contiguousCopy(): Tensor {
    const out = Tensor.empty(this.backend, this.dtype, this.shape, UNFILLED);
    out.backend.run('copy', out.view_(), [this.view_()], {});
    return traceOp(
      'identity',
      record(out, 'Clone', [this], (g) => [g]),
      [this],
    );
  }

  /** A copy with its own buffer, as torch's `.clone()`. */
  clone(): Tensor {
    return this.contiguousCopy();
  }

  // ------------------------------------------------------------------ in-place

  /** Copies `src` (broadcast to this shape, cast to this dtype) into this tensor's elements. */
  copy_(src: TensorLike): this {
    checkInPlace('copy_', this);
    const value = src instanceof Tensor ? src : scalarLike(src, this);
    noGrad(() => {
      const s = value.dtype === this.dtype ? value : value.to(this.dtype);
      const expanded = broadcastView('copy_', s, this.shape);
      this.backend.run('copy', this.view_(), [expanded], {});
      if (s !== value) s.dispose();
    });
    if (!(src instanceof Tensor)) value.dispose();
    return this;
  }

  /** Sets every element to `value`. */
  fill_(value: number): this {
    return this.copy_(value);
  }

  /** Sets every element to 0. */
  zero_(): this {
    return this.copy_(0);
  }
}

// ------------------------------------------------------------------ helpers

function flattenArgs(args: number[] | [readonly number[]]): number[] {
  const first = args[0];
  return Array.isArray(first) ? [...(first as readonly number[])] : (args as number[]);
}

/** torch: select/narrow/slicing "cannot be applied to a 0-dim tensor" (there is no dim to index). */
function checkHasDims(op: string, t: Tensor): void {
  if (t.dim() === 0) {
    throw new IndexError(`${op}: cannot be applied to a 0-dim tensor; expected rank >= 1, got shape []`);
  }
}

/** @internal Throws unless `t` may be written in place under the current grad mode. */
export function checkInPlace(op: string, t: Tensor): void {
  if (isGradEnabled() && t.requiresGrad && t.isLeaf) {
    throw new AutogradError(
      `${op}: a leaf tensor that requires grad is used in an in-place operation; expected it inside noGrad(), got gradient recording on`,
    );
  }
  if (isGradEnabled() && t.gradFn !== null) {
    throw new AutogradError(
      `${op}: in-place operations on tensors in a graph are not supported; expected a leaf or noGrad(), got a tensor made by '${t.gradFn.name}'`,
    );
  }
}

function nest(data: StorageArray, shape: Shape, asBool: boolean): unknown {
  const conv = (v: number): number | boolean => (asBool ? v !== 0 : v);
  if (shape.length === 0) return conv(data[0]!);
  const build = (dim: number, offset: number): unknown[] => {
    const n = shape[dim]!;
    const out: unknown[] = new Array(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = conv(data[offset + i]!);
      return out;
    }
    const step = numelOf(shape.slice(dim + 1));
    for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * step);
    return out;
  };
  return build(0, 0);
}

/**
 * Records `out` as made by an op from `parents`, with the rule mapping its
 * gradient to one gradient per parent (null where none flows), when any parent
 * requires gradients and recording is on. Returns `out`.
 */
export function record(
  out: Tensor,
  name: string,
  parents: readonly Tensor[],
  backward: (grad: Tensor) => readonly (Tensor | null)[],
): Tensor {
  if (needsGrad(parents)) {
    out.requiresGrad = true;
    out.gradFn = { name, parents, backward };
  }
  return out;
}

/**
 * Sums a broadcast gradient back to `shape` (the inverse of broadcasting).
 * @example sumTo(ones([4, 3]), [1, 3]) // [[4, 4, 4]]
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const lead = g.dim() - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.dim(); i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const summed = dims.length > 0 ? g.sum(dims, true) : g;
  return summed.reshape(shape);
}

/** Runs a primitive into a new contiguous output tensor. */
export function runOp<O extends OpName>(
  op: O,
  backend: Backend,
  dtype: DType,
  shape: Shape,
  inputs: readonly TensorView[],
  attrs: OpAttrs[O],
): Tensor {
  // every primitive but `copy` into a strided view writes its whole fresh output
  const out = Tensor.empty(backend, dtype, shape, UNFILLED);
  backend.run(op, out.view_(), inputs, attrs);
  return out;
}

/** Throws unless every tensor lives on the same backend; returns that backend. */
export function sameBackend(op: string, tensors: readonly Tensor[]): Backend {
  const b = tensors[0]!.backend;
  for (const t of tensors) {
    if (t.backend !== b) {
      throw new BackendError(
        `${op}: tensors live on different backends; expected all on '${b.name}', got '${t.backend.name}'`,
      );
    }
  }
  return b;
}

/** The default backend, or the given one. */
export function backendOr(backend: Backend | undefined): Backend {
  return backend ?? getDefaultBackend();
}

/** Storage array for `dtype` filled from plain numbers. */
export function arrayFrom(dtype: DType, values: ArrayLike<number>): StorageArray {
  const a = allocArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i]!;
  return a;
}

function scalarDType(v: Scalar): DType {
  if (typeof v === 'boolean') return 'bool';
  return Number.isInteger(v) ? 'int32' : 'float32';
}

/** The dtype a Python-style scalar operand has: bool, int32 for integers, else float32. */
export { scalarDType };

/** A 0-d tensor holding `value`, on `like`'s backend, of `dtype` (or the scalar's own type). */
export function scalarLike(value: Scalar, like: Tensor, dtype: DType = scalarDType(value)): Tensor {
  return Tensor.fromArray(like.backend, dtype, [], arrayFrom(dtype, [Number(value)]));
}

/** The backend's view of `t` broadcast to `shape` (stride 0 on broadcast dims). */
export function broadcastView(op: string, t: Tensor, shape: Shape): TensorView {
  const v = t.view_();
  if (v.shape.length === shape.length && v.shape.every((s, i) => s === shape[i])) return v;
  const lead = shape.length - v.shape.length;
  if (lead < 0) {
    throw new ShapeError(
      `${op}: cannot broadcast to fewer dims; expected rank <= ${shape.length}, got ${shapeString(v.shape)} -> ${shapeString(shape)}`,
    );
  }
  const strides = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const have = i < lead ? 1 : v.shape[i - lead]!;
    if (have !== shape[i] && have !== 1) {
      throw new ShapeError(
        `${op}: shapes cannot broadcast; expected equal sizes or 1 at each dim, got ${shapeString(v.shape)} and ${shapeString(shape)}`,
      );
    }
    strides[i] = i < lead || (have === 1 && shape[i] !== 1) ? 0 : v.strides[i - lead]!;
  }
  return { ...v, shape, strides };
}

const gradOps: GradOps<Tensor> = {
  add: (a, b) => a.add(b),
  accumulate(leaf, grad, exclusive) {
    if (leaf.grad === null || leaf.grad.isDisposed) {
      // Store the gradient itself only when nothing else can see its buffer: not another
      // tensor of the sweep (exclusive) and not a view (a later add_ into .grad would
      // write through to it).
      const steal = exclusive && !grad.sharesStorage && grad.isContiguous() && grad.dtype === leaf.dtype;
      leaf.grad = keep(steal ? grad : noGrad(() => grad.contiguousCopy()));
      return leaf.grad === grad;
    }
    leaf.grad.add_(grad);
    return false;
  },
  dispose: (t) => t.dispose(),
  scoped: (fn) => tidy(fn),
};
