/**
 * @module backends/wasm/backend — the WebAssembly SIMD backend: AssemblyScript kernels over one
 * linear memory, buffers managed from JS by {@link WasmAllocator}.
 *
 * Kernel ABI (see assembly/common.ts): elementwise kernels take one pointer to a
 * descriptor in a scratch area at the start of the heap (rank, operand pointers,
 * collapsed shape, byte strides); reductions take (x, out, outer, r, inner);
 * matmul takes a descriptor of sizes, pointers and byte strides.
 * Uses Web-standard APIs only.
 */
import type {
  AllocOptions,
  Backend,
  BackendCapabilities,
  BufferHandle,
  MemoryInfo,
  TensorView,
} from '../../backend.ts';
import type { DType, StorageArray } from '../../dtype.ts';
import { dtypeOfArray } from '../../dtype.ts';
import {
  BackendError,
  DisposedError,
  DTypeError,
  IndexError,
  NotImplementedOpError,
  ShapeError,
} from '../../errors.ts';
import type { Activation, Im2colAttrs, OpAttrs, OpName, ReduceOp } from '../../ops.ts';
import { OP_NAMES, opDTypes } from '../../ops.ts';
import type { OpCheckTarget } from '../../op-check.ts';
import { checkOp } from '../../op-check.ts';
import type { KernelVariant } from '../../platform.ts';
import { WasmAllocator } from './allocator.ts';

type Kernel = (...args: number[]) => number;

/** The dtypes the wasm backend stores (float64 is reference-only). */
const WASM_DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];
const SUFFIX: Readonly<Record<DType, string>> = { float32: 'f32', int32: 'i32', bool: 'bool', float64: 'f64' };
const SIZE: Readonly<Record<DType, number>> = { float32: 4, int32: 4, bool: 1, float64: 8 };

/** Per op, the dtypes this backend runs (opDTypes without float64), computed once. */
const ALLOWED: ReadonlyMap<OpName, readonly DType[]> = new Map(
  OP_NAMES.map((op) => [op, opDTypes(op).filter((d) => WASM_DTYPES.includes(d))] as const),
);

const MAX_RANK = 16;
const DESC_BYTES = 512;
// Descriptor word offsets (assembly/common.ts).
const W_PTR = 1;
const W_SHAPE = 5;
const W_STRIDES = 37;

/** A buffer of the wasm backend: a block of the linear memory. */
class WasmBuffer implements BufferHandle {
  freed = false;
  readonly id: number;
  readonly dtype: DType;
  readonly length: number;
  readonly ptr: number;
  readonly owner: WasmBackendImpl;
  constructor(id: number, dtype: DType, length: number, ptr: number, owner: WasmBackendImpl) {
    this.id = id;
    this.dtype = dtype;
    this.length = length;
    this.ptr = ptr;
    this.owner = owner;
  }
}

/**
 * The wasm Backend, plus the kernel build it runs.
 * @example
 * const be = await createWasmBackend({ bytes, variant: 'relaxed' });
 * be.variant // 'relaxed'
 */
export interface WasmBackend extends Backend {
  /** 'simd' (deterministic simd128) or 'relaxed' (FMA). */
  readonly variant: KernelVariant;
  /**
   * Philox4x32-10 words in bulk (runtime/random.ts's {@link BulkPhilox}): `blocks` blocks for
   * counters `offset`, `offset + 1`, … under key `[k0, k1]`, into `out[0 .. 4·blocks)`.
   */
  philoxFill(out: Uint32Array, blocks: number, offset: number, k0: number, k1: number): void;
}

/** Reused scratch for dim collapsing (no per-call allocation). */
const cShape = new Array<number>(MAX_RANK).fill(0);
const cStrides: number[][] = [0, 1, 2, 3].map(() => new Array<number>(MAX_RANK).fill(0));

/** As `OpTable`, with the backend passed first (see `WasmBackendImpl.kernels`). */
type WasmOpTable = {
  readonly [O in OpName]: (
    b: WasmBackendImpl,
    out: TensorView,
    inputs: readonly TensorView[],
    attrs: OpAttrs[O],
  ) => void;
};

class WasmBackendImpl implements WasmBackend {
  readonly name = 'wasm';
  readonly capabilities: BackendCapabilities = { dtypes: WASM_DTYPES, syncReadback: true };
  private readonly k: Readonly<Record<string, Kernel>>;
  /** op -> dtype -> kernel, resolved once so a call builds no strings. */
  private readonly byOp = new Map<OpName, Partial<Record<DType, Kernel>>>();
  private readonly backward: Readonly<Record<Activation, Kernel>>;
  private readonly casts = new Map<DType, Partial<Record<DType, Kernel>>>();
  private readonly mem: WebAssembly.Memory;
  private readonly alloc_: WasmAllocator;
  private readonly desc: number;
  private u8: Uint8Array;
  private i32: Int32Array;
  private f32: Float32Array;
  private nextId = 1;
  private liveCount = 0;
  private workspace = 0;
  /** The adam kernel's row table (see `adam`), allocated on first use. */
  private adamTable = 0;
  private adamTableRows = 0;
  private readonly matmulKernel: Kernel;
  private readonly philox: Kernel;
  private readonly fills: Readonly<Record<'float32' | 'int32' | 'bool', Kernel>>;
  private disposed = false;

  readonly variant: KernelVariant;

  constructor(variant: KernelVariant, instance: WebAssembly.Instance) {
    this.variant = variant;
    const exp = instance.exports;
    const mem = exp['memory'];
    if (!(mem instanceof WebAssembly.Memory)) {
      throw new BackendError('wasm: kernel module has no memory export; expected an exported memory, got none');
    }
    this.mem = mem;
    const k: Record<string, Kernel> = {};
    for (const [name, v] of Object.entries(exp)) if (typeof v === 'function') k[name] = v as Kernel;
    this.k = k;
    for (const op of OP_NAMES) {
      const row: Partial<Record<DType, Kernel>> = {};
      for (const dt of WASM_DTYPES) {
        const f = k[`${op}_${SUFFIX[dt]}`];
        if (f !== undefined) row[dt] = f;
      }
      this.byOp.set(op, row);
    }
    const bw = (fn: Activation): Kernel => this.kernel(`unary_backward_${fn}_f32`);
    this.backward = {
      relu: bw('relu'),
      sigmoid: bw('sigmoid'),
      tanh: bw('tanh'),
      gelu: bw('gelu'),
      gelu_tanh: bw('gelu_tanh'),
      silu: bw('silu'),
      softplus: bw('softplus'),
      elu: bw('elu'),
      leaky_relu: bw('leaky_relu'),
    };
    for (const from of WASM_DTYPES) {
      const row: Partial<Record<DType, Kernel>> = {};
      for (const to of WASM_DTYPES)
        row[to] = this.kernel(from === to ? `copy_${SUFFIX[from]}` : `cast_${SUFFIX[from]}_${SUFFIX[to]}`);
      this.casts.set(from, row);
    }
    this.matmulKernel = this.kernel('matmul_f32');
    this.philox = this.kernel('philox_fill_u32');
    this.fills = { float32: this.kernel('fill_f32'), int32: this.kernel('fill_i32'), bool: this.kernel('fill_bool') };
    const heapBase = this.kernel('heap_base')();
    this.desc = Math.ceil(heapBase / 16) * 16;
    this.u8 = new Uint8Array(mem.buffer);
    this.i32 = new Int32Array(mem.buffer);
    this.f32 = new Float32Array(mem.buffer);
    this.alloc_ = new WasmAllocator(mem, this.desc + DESC_BYTES, () => this.refreshViews());
  }

  private refreshViews(): void {
    this.u8 = new Uint8Array(this.mem.buffer);
    this.i32 = new Int32Array(this.mem.buffer);
    this.f32 = new Float32Array(this.mem.buffer);
  }

  private kernel(name: string): Kernel {
    const f = this.k[name];
    if (f === undefined) throw new BackendError(`wasm: kernel export missing; expected ${name}, got none`);
    return f;
  }

  // ---- buffers

  alloc(dtype: DType, length: number, options?: AllocOptions): BufferHandle {
    this.checkAlive();
    if (!WASM_DTYPES.includes(dtype)) {
      throw new DTypeError(`wasm: unsupported dtype; expected one of ${WASM_DTYPES.join(', ')}, got ${dtype}`);
    }
    if (!Number.isInteger(length) || length < 0) {
      throw new ShapeError(`wasm: invalid buffer length; expected a non-negative integer, got ${length}`);
    }
    const bytes = length * SIZE[dtype];
    const ptr = this.alloc_.alloc(bytes);
    if (options?.zero !== false) this.u8.fill(0, ptr, ptr + bytes);
    const buf = new WasmBuffer(this.nextId++, dtype, length, ptr, this);
    this.liveCount++;
    return buf;
  }

  free(buffer: BufferHandle): void {
    const b = this.own(buffer, 'free', false);
    if (b.freed) {
      throw new DisposedError(`wasm: double free; expected a live buffer, got buffer ${b.id} that was already freed`);
    }
    b.freed = true;
    this.alloc_.free(b.ptr, b.length * SIZE[b.dtype]);
    this.liveCount--;
  }

  write(buffer: BufferHandle, data: StorageArray, offset = 0): void {
    const b = this.own(buffer, 'write');
    const dt = dtypeOfArray(data);
    if (dt !== b.dtype) throw new DTypeError(`wasm: write of the wrong dtype; expected ${b.dtype}, got ${dt}`);
    if (offset < 0 || offset + data.length > b.length) {
      throw new IndexError(
        `wasm: write out of range; expected offset + length <= ${b.length}, got ${offset} + ${data.length}`,
      );
    }
    this.viewOf(b.dtype).set(data, b.ptr / SIZE[b.dtype] + offset);
  }

  read(buffer: BufferHandle, offset: number, length: number): Promise<StorageArray> {
    try {
      return Promise.resolve(this.readSync(buffer, offset, length));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  readSync(buffer: BufferHandle, offset: number, length: number): StorageArray {
    const b = this.own(buffer, 'read');
    if (offset < 0 || length < 0 || offset + length > b.length) {
      throw new IndexError(
        `wasm: read out of range; expected offset + length <= ${b.length}, got ${offset} + ${length}`,
      );
    }
    const start = b.ptr / SIZE[b.dtype] + offset;
    return this.viewOf(b.dtype).slice(start, start + length);
  }

  readInto(buffer: BufferHandle, offset: number, length: number, target: StorageArray, at: number): void {
    const b = this.own(buffer, 'read');
    if (offset < 0 || length < 0 || offset + length > b.length) {
      throw new IndexError(
        `wasm: read out of range; expected offset + length <= ${b.length}, got ${offset} + ${length}`,
      );
    }
    const dt = dtypeOfArray(target);
    if (dt !== b.dtype) throw new DTypeError(`wasm: read into the wrong dtype; expected ${b.dtype}, got ${dt}`);
    // Byte views: V8 copies a Float32Array into one over a SharedArrayBuffer (the DDP buffer)
    // element by element, ~7× slower than the memcpy it does for bytes.
    const size = SIZE[b.dtype];
    const from = b.ptr + offset * size;
    new Uint8Array(target.buffer, target.byteOffset + at * size, length * size).set(
      this.u8.subarray(from, from + length * size),
    );
  }

  memory(): MemoryInfo {
    return { liveBuffers: this.liveCount, reservedBytes: this.mem.buffer.byteLength };
  }

  philoxFill(out: Uint32Array, blocks: number, offset: number, k0: number, k1: number): void {
    this.checkAlive();
    if (blocks <= 0) return;
    const bytes = blocks * 16;
    const ptr = this.alloc_.alloc(bytes);
    try {
      this.philox(ptr, blocks, offset >>> 0, Math.floor(offset / 0x100000000) >>> 0, k0, k1);
      out.set(new Uint32Array(this.mem.buffer, ptr, blocks * 4));
    } finally {
      this.alloc_.free(ptr, bytes);
    }
  }

  dispose(): void {
    this.liveCount = 0;
    this.disposed = true;
  }

  private viewOf(dtype: DType): Float32Array | Int32Array | Uint8Array {
    return dtype === 'float32' ? this.f32 : dtype === 'int32' ? this.i32 : this.u8;
  }

  private checkAlive(): void {
    if (this.disposed)
      throw new DisposedError('wasm: backend used after dispose(); expected a live backend, got a disposed one');
  }

  private own(buffer: BufferHandle, what: string, checkFreed = true): WasmBuffer {
    this.checkAlive();
    if (!(buffer instanceof WasmBuffer) || buffer.owner !== this) {
      throw new BackendError(
        `wasm: ${what} of a foreign buffer; expected a buffer of this wasm backend, got buffer ${buffer.id}`,
      );
    }
    if (checkFreed && buffer.freed) {
      throw new DisposedError(
        `wasm: ${what} of a freed buffer; expected a live buffer, got buffer ${buffer.id} after free()`,
      );
    }
    return buffer;
  }

  /** Byte address of a view's first element. */
  private addr(v: TensorView): number {
    const b = this.own(v.buffer, 'use');
    return b.ptr + v.offset * SIZE[b.dtype];
  }

  // ---- ops

  /**
   * For checkOp: this backend's dtype limit (a kernel for the op and dtype; no float64), and
   * it takes views of any strides, copying where a kernel needs contiguous ones.
   */
  private readonly target: OpCheckTarget = {
    name: 'wasm',
    supports: (op, dtype) => void this.dtypeFor(op, dtype),
    stridedViews: true,
  };

  /**
   * Every primitive's kernel; `run` dispatches through it after checkOp. The backend comes in as
   * `b` (the `this` of `run`), not from a closure, so an object derived from this one with
   * `Object.create` runs the kernels on itself.
   */
  private static readonly kernels: WasmOpTable = {
    neg: (b, o, i) => b.plain('neg', o, i, 1),
    abs: (b, o, i) => b.plain('abs', o, i, 1),
    sign: (b, o, i) => b.plain('sign', o, i, 1),
    exp: (b, o, i) => b.plain('exp', o, i, 1),
    log: (b, o, i) => b.plain('log', o, i, 1),
    sqrt: (b, o, i) => b.plain('sqrt', o, i, 1),
    relu: (b, o, i) => b.plain('relu', o, i, 1),
    sigmoid: (b, o, i) => b.plain('sigmoid', o, i, 1),
    tanh: (b, o, i) => b.plain('tanh', o, i, 1),
    gelu: (b, o, i) => b.plain('gelu', o, i, 1),
    gelu_tanh: (b, o, i) => b.plain('gelu_tanh', o, i, 1),
    silu: (b, o, i) => b.plain('silu', o, i, 1),
    softplus: (b, o, i, a) => b.prepare('softplus', o, i, 1)?.(b.desc, a.beta, a.threshold),
    elu: (b, o, i, a) => b.prepare('elu', o, i, 1)?.(b.desc, a.alpha),
    leaky_relu: (b, o, i, a) => b.prepare('leaky_relu', o, i, 1)?.(b.desc, a.alpha),
    clamp: (b, o, i, a) => b.clamp(o, i, a),
    logical_not: (b, o, i) => b.plain('logical_not', o, i, 1),
    round_f16: (b, o, i) => b.plain('round_f16', o, i, 1),
    round_bf16: (b, o, i) => b.plain('round_bf16', o, i, 1),
    add: (b, o, i) => b.plain('add', o, i, 2),
    sub: (b, o, i) => b.plain('sub', o, i, 2),
    mul: (b, o, i) => b.plain('mul', o, i, 2),
    div: (b, o, i) => b.plain('div', o, i, 2),
    pow: (b, o, i) => b.plain('pow', o, i, 2),
    maximum: (b, o, i) => b.plain('maximum', o, i, 2),
    minimum: (b, o, i) => b.plain('minimum', o, i, 2),
    eq: (b, o, i) => b.plain('eq', o, i, 2),
    ne: (b, o, i) => b.plain('ne', o, i, 2),
    lt: (b, o, i) => b.plain('lt', o, i, 2),
    le: (b, o, i) => b.plain('le', o, i, 2),
    gt: (b, o, i) => b.plain('gt', o, i, 2),
    ge: (b, o, i) => b.plain('ge', o, i, 2),
    where: (b, o, i) => b.plain('where', o, i, 3),
    sum: (b, o, i, a) => b.reduce('sum', o, i, a.axis),
    max: (b, o, i, a) => b.reduce('max', o, i, a.axis),
    min: (b, o, i, a) => b.reduce('min', o, i, a.axis),
    argmax: (b, o, i, a) => b.reduce('argmax', o, i, a.axis),
    argmin: (b, o, i, a) => b.reduce('argmin', o, i, a.axis),
    matmul: (b, o, i) => b.matmul(o, i),
    copy: (b, o, i) => b.plain('copy', o, i, 1),
    cast: (b, o, i) => b.cast(o, i),
    fill: (b, o, _i, a) => b.fill(o, a.value),
    gather: (b, o, i, a) => b.gather(o, i, a.axis),
    scatter_add: (b, o, i, a) => b.scatterAdd(o, i, a.axis),
    unary_backward: (b, o, i, a) => b.unaryBackward(o, i, a),
    im2col: (b, o, i, a) => b.im2col('im2col', o, i, a, a.padValue),
    col2im: (b, o, i, a) => b.im2col('col2im', o, i, a, 0),
    adam: (b, o, i, a) => b.adam(o, i, a),
  };

  run<O extends OpName>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void {
    this.checkAlive();
    checkOp(this.target, op, out, inputs, attrs);
    WasmBackendImpl.kernels[op](this, out, inputs, attrs);
  }

  /** The kernel of `op` for `dtype`, or a NotImplementedOpError naming what exists. */
  private dtypeFor(op: OpName, dtype: DType): Kernel {
    const f = op === 'cast' || op === 'unary_backward' ? noop : this.byOp.get(op)?.[dtype];
    const allowed = ALLOWED.get(op) ?? [];
    if (f === undefined || !allowed.includes(dtype)) {
      throw new NotImplementedOpError(
        `wasm: op '${op}' is not implemented for ${dtype}; expected one of ${allowed.join(', ')}, got ${dtype}`,
      );
    }
    return f;
  }

  /** The kernel of an op and dtype that checkOp let through (so `dtypeFor` has passed). */
  private kernelOf(op: OpName, dtype: DType): Kernel {
    return this.byOp.get(op)?.[dtype] ?? this.dtypeFor(op, dtype);
  }

  /**
   * The kernel of elementwise `op` (its dtype is the first data input's: `where`'s second),
   * with the descriptor of out and `nin` inputs written; undefined when out is empty.
   */
  private prepare(op: OpName, out: TensorView, inputs: readonly TensorView[], nin: number): Kernel | undefined {
    const main = inputs[nin === 3 ? 1 : 0] as TensorView;
    return this.describe(op, out, inputs, nin) ? this.kernelOf(op, main.dtype) : undefined;
  }

  /** An elementwise op whose kernel takes only the descriptor. */
  private plain(op: OpName, out: TensorView, inputs: readonly TensorView[], nin: number): void {
    this.prepare(op, out, inputs, nin)?.(this.desc);
  }

  private clamp(out: TensorView, inputs: readonly TensorView[], a: OpAttrs['clamp']): void {
    const f = this.prepare('clamp', out, inputs, 1);
    if (f === undefined) return;
    if (out.dtype === 'int32') {
      f(
        this.desc,
        a.min === null ? -2147483648 : clampI32(Math.ceil(a.min)),
        a.max === null ? 2147483647 : clampI32(Math.floor(a.max)),
      );
    } else {
      f(this.desc, a.min ?? -Infinity, a.max ?? Infinity);
    }
  }

  private cast(out: TensorView, inputs: readonly TensorView[]): void {
    const x = inputs[0] as TensorView;
    const f = this.casts.get(x.dtype)?.[out.dtype];
    if (f === undefined)
      throw new DTypeError(`cast: unsupported cast; expected float32, int32 or bool, got ${x.dtype} -> ${out.dtype}`);
    if (this.describe('cast', out, inputs, 1)) f(this.desc);
  }

  private unaryBackward(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['unary_backward']): void {
    const f = this.backward[attrs.fn];
    if (!this.describe('unary_backward', out, inputs, 2)) return;
    if (attrs.fn === 'softplus') f(this.desc, attrs.beta, attrs.threshold, 0);
    else f(this.desc, attrs.alpha ?? 0, attrs.beta ?? 1, attrs.threshold ?? 20);
  }

  /**
   * Writes the elementwise descriptor for out and `nin` inputs of out's shape:
   * size-1 dims dropped, dims contiguous in every operand merged. False when empty.
   */
  private describe(op: OpName, out: TensorView, inputs: readonly TensorView[], nin: number): boolean {
    const rank = out.shape.length;
    const nops = nin + 1;
    // Collapse from the innermost dim outwards into cShape/cStrides (innermost first).
    let r = 0;
    for (let i = rank - 1; i >= 0; i--) {
      const n = out.shape[i] as number;
      if (n === 0) return false;
      if (n === 1) continue;
      let merge = r > 0;
      if (merge) {
        for (let k = 0; k < nops; k++) {
          const v = k === 0 ? out : (inputs[k - 1] as TensorView);
          const sk = (v.strides[i] as number) * SIZE[v.dtype];
          const s = cStrides[k] as number[];
          if (sk !== (s[r - 1] as number) * (cShape[r - 1] as number)) {
            merge = false;
            break;
          }
        }
      }
      if (merge) {
        cShape[r - 1] = (cShape[r - 1] as number) * n;
        continue;
      }
      if (r === MAX_RANK) {
        throw new ShapeError(
          `${op}: too many non-mergeable dims for the wasm kernels; expected at most ${MAX_RANK}, got more`,
        );
      }
      cShape[r] = n;
      for (let k = 0; k < nops; k++) {
        const v = k === 0 ? out : (inputs[k - 1] as TensorView);
        (cStrides[k] as number[])[r] = (v.strides[i] as number) * SIZE[v.dtype];
      }
      r++;
    }
    if (r === 0) {
      cShape[0] = 1;
      for (let k = 0; k < nops; k++) (cStrides[k] as number[])[0] = 0;
      r = 1;
    }
    const w = this.desc >> 2;
    const m = this.i32;
    m[w] = r;
    m[w + W_PTR] = this.addr(out);
    for (let k = 1; k < nops; k++) m[w + W_PTR + k] = this.addr(inputs[k - 1] as TensorView);
    for (let j = 0; j < r; j++) {
      const src = r - 1 - j; // cShape is innermost-first; the descriptor is outermost-first
      m[w + W_SHAPE + j] = cShape[src] as number;
      for (let k = 0; k < nops; k++) m[w + W_STRIDES + 16 * k + j] = (cStrides[k] as number[])[src] as number;
    }
    return true;
  }

  private fill(out: TensorView, value: number): void {
    const n = numel(out.shape);
    if (n === 0) return;
    const p = this.addr(out);
    if (!isContiguous(out)) {
      // Not part of the contract (fill's out is fresh), but stay correct: fill a temp, then copy.
      const tmp = this.alloc(out.dtype, n);
      try {
        this.fill(contiguousView(tmp, out.shape), value);
        this.plain('copy', out, [contiguousView(tmp, out.shape)], 1);
      } finally {
        this.free(tmp);
      }
      return;
    }
    if (out.dtype === 'float32') this.fills.float32(p, n, value);
    else if (out.dtype === 'int32') this.fills.int32(p, n, Number.isFinite(value) ? Math.trunc(value) | 0 : 0);
    else this.fills.bool(p, n, value !== 0 ? 1 : 0);
  }

  /** A contiguous copy of `v` when it is not contiguous already; `release` frees it. */
  private contiguous(v: TensorView): { view: TensorView; release: () => void } {
    if (isContiguous(v)) return { view: v, release: noop };
    const tmp = this.alloc(v.dtype, numel(v.shape));
    const view = contiguousView(tmp, v.shape);
    this.plain('copy', view, [v], 1);
    return { view, release: () => this.free(tmp) };
  }

  /** Reductions: axis in range, a non-empty axis unless sum (checkOp); strided x or out go through copies. */
  private reduce(op: ReduceOp, out: TensorView, inputs: readonly TensorView[], axis: number): void {
    const x0 = inputs[0] as TensorView;
    const rank = x0.shape.length;
    let outer = 1,
      inner = 1;
    for (let i = 0; i < axis; i++) outer *= x0.shape[i] as number;
    for (let i = axis + 1; i < rank; i++) inner *= x0.shape[i] as number;
    const r = x0.shape[axis] as number;
    if (outer * inner === 0) return;
    const f = this.kernelOf(op, x0.dtype);
    const c = isContiguous(x0) ? undefined : this.contiguous(x0);
    const x = c === undefined ? x0 : c.view;
    try {
      if (isContiguous(out)) {
        f(this.addr(x), this.addr(out), outer, r, inner);
      } else {
        const tmp = this.alloc(out.dtype, outer * inner);
        try {
          f(this.addr(x), tmp instanceof WasmBuffer ? tmp.ptr : 0, outer, r, inner);
          this.plain('copy', out, [contiguousView(tmp, out.shape)], 1);
        } finally {
          this.free(tmp);
        }
      }
    } finally {
      c?.release();
    }
  }

  /** matmul: shapes and dtypes checked by checkOp; a and b in any strides, a strided out or bias through copies. */
  private matmul(out: TensorView, inputs: readonly TensorView[]): void {
    const a = inputs[0] as TensorView;
    const b = inputs[1] as TensorView;
    const [B, M, K] = a.shape as [number, number, number];
    const N = b.shape[2] as number;
    if (B * M * N === 0) return;
    const biasView = inputs[2];
    let biasTmp: { view: TensorView; release: () => void } | undefined;
    let biasPtr = 0;
    if (biasView !== undefined) {
      if (isContiguous(biasView)) biasPtr = this.addr(biasView);
      else {
        biasTmp = this.contiguous(biasView);
        biasPtr = this.addr(biasTmp.view);
      }
    }
    let outTmp: BufferHandle | undefined;
    try {
      if (this.workspace === 0) this.workspace = this.alloc_.alloc(this.kernel('matmul_workspace_bytes')());
      let cPtr: number;
      if (isContiguous(out)) cPtr = this.addr(out);
      else {
        outTmp = this.alloc('float32', B * M * N);
        cPtr = (outTmp as WasmBuffer).ptr;
      }
      const w = this.desc >> 2;
      const m = this.i32;
      m[w] = B;
      m[w + 1] = M;
      m[w + 2] = N;
      m[w + 3] = K;
      m[w + 4] = this.addr(a);
      m[w + 5] = (a.strides[0] as number) * 4;
      m[w + 6] = (a.strides[1] as number) * 4;
      m[w + 7] = (a.strides[2] as number) * 4;
      m[w + 8] = this.addr(b);
      m[w + 9] = (b.strides[0] as number) * 4;
      m[w + 10] = (b.strides[1] as number) * 4;
      m[w + 11] = (b.strides[2] as number) * 4;
      m[w + 12] = cPtr;
      m[w + 13] = biasPtr;
      m[w + 14] = this.workspace;
      this.matmulKernel(this.desc);
      if (outTmp !== undefined) this.plain('copy', out, [contiguousView(outTmp, out.shape)], 1);
    } finally {
      if (outTmp !== undefined) this.free(outTmp);
      biasTmp?.release();
    }
  }

  /**
   * im2col (image → columns) and col2im (columns → image) share their argument list:
   * image `[N, C, H, W]`, columns `[N, C·kH·kW, oH, oW]` (checkOp); a strided input goes
   * through a copy, and the kernels write a contiguous out.
   */
  private im2col(
    op: 'im2col' | 'col2im',
    out: TensorView,
    inputs: readonly TensorView[],
    a: Im2colAttrs,
    padValue: number,
  ): void {
    const x0 = inputs[0] as TensorView;
    if (!isContiguous(out))
      throw new ShapeError(`${op}: out must be contiguous; expected row-major strides, got [${out.strides.join(',')}]`);
    const image = op === 'im2col' ? x0 : out;
    const cols = op === 'im2col' ? out : x0;
    const [n, c, h, w] = image.shape as [number, number, number, number];
    const oh = cols.shape[2] as number;
    const ow = cols.shape[3] as number;
    if (numel(out.shape) === 0) return;
    const f = this.kernelOf(op, x0.dtype);
    const geometry = [a.kernelH, a.kernelW, a.strideH, a.strideW, a.padH, a.padW, a.dilationH, a.dilationW] as const;
    const src = this.contiguous(x0);
    try {
      if (op === 'im2col') f(this.addr(src.view), this.addr(out), n * c, h, w, oh, ow, ...geometry, padValue);
      else f(this.addr(src.view), this.addr(out), n * c, h, w, oh, ow, ...geometry);
    } finally {
      src.release();
    }
  }

  /**
   * The fused Adam step over `count` parameters in one kernel call, in place (ops.ts's
   * AdamAttrs; checkOp has checked every operand contiguous, of one dtype and numel per entry).
   * The kernel reads a table of `[n, param, grad, expAvg, expAvgSq, maxExpAvgSq]` rows
   * (assembly/optim.ts) from a block kept for it and grown on demand.
   */
  private adam(_out: TensorView, inputs: readonly TensorView[], a: OpAttrs['adam']): void {
    const p0 = inputs[0] as TensorView;
    const f = this.kernelOf('adam', p0.dtype);
    const width = a.amsgrad ? 5 : 4;
    const count = a.count;
    // Take every address before the table block may grow memory.
    const rows = new Array<number>(count * 6);
    let live = 0;
    for (let e = 0; e < count; e++) {
      const n = numel((inputs[e * width] as TensorView).shape);
      if (n === 0) continue;
      const base = e * width;
      const at = (i: number): number => this.addr(inputs[base + i] as TensorView);
      rows[live * 6] = n;
      rows[live * 6 + 1] = at(0);
      rows[live * 6 + 2] = at(1);
      rows[live * 6 + 3] = at(2);
      rows[live * 6 + 4] = at(3);
      rows[live * 6 + 5] = a.amsgrad ? at(4) : 0;
      live++;
    }
    if (live === 0) return;
    const table = this.adamTableFor(live);
    const w = table >> 2;
    for (let j = 0; j < live * 6; j++) this.i32[w + j] = rows[j] as number;
    const flags =
      (a.maximize ? 1 : 0) |
      (a.decoupled ? 2 : 0) |
      (a.amsgrad ? 4 : 0) |
      (!a.decoupled && a.weightDecay !== 0 ? 8 : 0);
    // f32 parameters round each float64 scalar once, as torch takes Python scalars at the dtype.
    f(
      table,
      live,
      flags,
      1 - a.lr * a.weightDecay,
      a.weightDecay,
      a.beta1,
      1 - a.beta1,
      a.beta2,
      1 - a.beta2,
      -a.stepSize,
      a.bc2Sqrt,
      a.eps,
    );
  }

  /** The address of a table block with room for `rows` adam rows (24 bytes each), grown by doubling. */
  private adamTableFor(rows: number): number {
    if (rows > this.adamTableRows) {
      if (this.adamTable !== 0) this.alloc_.free(this.adamTable, this.adamTableRows * 24);
      const cap = Math.max(64, 2 ** Math.ceil(Math.log2(rows)));
      this.adamTable = this.alloc_.alloc(cap * 24);
      this.adamTableRows = cap;
    }
    return this.adamTable;
  }

  /** gather / scatter_add share one walk over index's shape. */
  private indexDesc(
    op: OpName,
    shape: readonly number[],
    ops: readonly (readonly [number, readonly number[], number])[],
    axis: number,
    axisOperand: number,
  ): void {
    const w = this.desc >> 2;
    const m = this.i32;
    const rank = shape.length;
    if (rank > MAX_RANK) throw new ShapeError(`${op}: too many dims; expected at most ${MAX_RANK}, got ${rank}`);
    m[w] = rank;
    for (let k = 0; k < ops.length; k++) {
      const o = ops[k] as readonly [number, readonly number[], number];
      m[w + W_PTR + k] = o[0];
      for (let i = 0; i < rank; i++)
        m[w + W_STRIDES + 16 * k + i] = i === axis && k === axisOperand ? 0 : (o[1][i] ?? 0) * o[2];
    }
    for (let i = 0; i < rank; i++) m[w + W_SHAPE + i] = shape[i] ?? 1;
  }

  /** gather: axis and shapes checked by checkOp; x and index in any strides; index values checked by the kernel. */
  private gather(out: TensorView, inputs: readonly TensorView[], axis: number): void {
    const x = inputs[0] as TensorView;
    const idx = inputs[1] as TensorView;
    // The kernel writes out row-major.
    if (!isContiguous(out))
      throw new ShapeError(
        `gather: out must be contiguous; expected row-major strides, got [${out.strides.join(',')}]`,
      );
    if (numel(idx.shape) === 0) return;
    const axisSize = x.shape[axis] as number;
    const axisStride = (x.strides[axis] as number) * 4;
    this.indexDesc(
      'gather',
      idx.shape,
      [
        [this.addr(out), contiguousStrides(idx.shape), 4],
        [this.addr(idx), idx.strides, 4],
        [this.addr(x), x.strides, 4],
      ],
      axis,
      2,
    );
    if (this.kernelOf('gather', x.dtype)(this.desc, axisStride, axisSize) !== 0) {
      const bad = this.i32[this.desc >> 2] as number;
      throw new IndexError(`gather: index out of range; expected 0 <= index < ${axisSize}, got ${bad}`);
    }
  }

  /** scatter_add: axis and shapes checked by checkOp; any strides; index values checked by the kernel. */
  private scatterAdd(out: TensorView, inputs: readonly TensorView[], axis: number): void {
    const base = inputs[0] as TensorView;
    const idx = inputs[1] as TensorView;
    const src = inputs[2] as TensorView;
    this.plain('copy', out, [base], 1);
    if (numel(idx.shape) === 0) return;
    const axisSize = base.shape[axis] as number;
    const axisStride = (out.strides[axis] as number) * 4;
    this.indexDesc(
      'scatter_add',
      idx.shape,
      [
        [this.addr(out), out.strides, 4],
        [this.addr(idx), idx.strides, 4],
        [this.addr(src), src.strides, 4],
      ],
      axis,
      0,
    );
    if (this.kernelOf('scatter_add', base.dtype)(this.desc, axisStride, axisSize) !== 0) {
      const bad = this.i32[this.desc >> 2] as number;
      throw new IndexError(`scatter_add: index out of range; expected 0 <= index < ${axisSize}, got ${bad}`);
    }
  }
}

function noop(): number {
  return 0;
}

function clampI32(v: number): number {
  return Math.max(-2147483648, Math.min(2147483647, v));
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

function isContiguous(v: TensorView): boolean {
  let acc = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    const n = v.shape[i] as number;
    if (n !== 1 && v.strides[i] !== acc) return false;
    acc *= n;
  }
  return true;
}

function contiguousView(buffer: BufferHandle, shape: readonly number[]): TensorView {
  return { buffer, dtype: buffer.dtype, shape, strides: contiguousStrides(shape), offset: 0 };
}

/**
 * Instantiates a kernel build and returns the wasm backend over it. `bytes` may also be a
 * compiled `WebAssembly.Module`, for hosts that forbid compiling bytes at run time (workerd
 * and Cloudflare Workers bind the `.wasm` as a module instead).
 * @example
 * const backend = await createWasmBackend({ bytes, variant: selectKernelVariant({ deterministic: true }) });
 * backend.variant // 'simd'
 */
export async function createWasmBackend(options: {
  bytes: Uint8Array | ArrayBuffer | WebAssembly.Module;
  variant: KernelVariant;
}): Promise<WasmBackend> {
  let instance: WebAssembly.Instance;
  try {
    const given = options.bytes;
    if (given instanceof WebAssembly.Module) {
      instance = await WebAssembly.instantiate(given, {});
    } else {
      const source = given instanceof Uint8Array ? new Uint8Array(given) : given;
      ({ instance } = await WebAssembly.instantiate(source, {}));
    }
  } catch (cause) {
    throw new BackendError(
      `wasm: cannot instantiate the kernel build; expected a valid '${options.variant}' kernel module, got an error: ${String(cause)}`,
      { cause },
    );
  }
  return new WasmBackendImpl(options.variant, instance);
}
