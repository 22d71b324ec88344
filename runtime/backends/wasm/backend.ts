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
import type { AllocOptions, Backend, BackendCapabilities, BufferHandle, MemoryInfo, TensorView } from '../../backend.ts';
import type { DType, StorageArray } from '../../dtype.ts';
import { dtypeOfArray } from '../../dtype.ts';
import { BackendError, DisposedError, DTypeError, IndexError, NotImplementedOpError, ShapeError, ValueError } from '../../errors.ts';
import type { Activation, ActivationAttrs, Im2colAttrs, OpAttrs, OpName } from '../../ops.ts';
import { ACTIVATIONS, OP_NAMES, opDTypes } from '../../ops.ts';
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

class WasmBackendImpl implements WasmBackend {
  readonly name = 'wasm';
  readonly capabilities: BackendCapabilities = { dtypes: WASM_DTYPES, syncReadback: true };
  private readonly k: Readonly<Record<string, Kernel>>;
  /** op -> dtype -> kernel, resolved once so a call builds no strings. */
  private readonly byOp = new Map<OpName, Partial<Record<DType, Kernel>>>();
  private readonly backward = new Map<Activation, Kernel>();
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
    for (const fn of ACTIVATIONS) this.backward.set(fn, this.kernel(`unary_backward_${fn}_f32`));
    for (const from of WASM_DTYPES) {
      const row: Partial<Record<DType, Kernel>> = {};
      for (const to of WASM_DTYPES) row[to] = this.kernel(from === to ? `copy_${SUFFIX[from]}` : `cast_${SUFFIX[from]}_${SUFFIX[to]}`);
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
      throw new IndexError(`wasm: write out of range; expected offset + length <= ${b.length}, got ${offset} + ${data.length}`);
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
      throw new IndexError(`wasm: read out of range; expected offset + length <= ${b.length}, got ${offset} + ${length}`);
    }
    const start = b.ptr / SIZE[b.dtype] + offset;
    return this.viewOf(b.dtype).slice(start, start + length);
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
    if (this.disposed) throw new DisposedError('wasm: backend used after dispose(); expected a live backend, got a disposed one');
  }

  private own(buffer: BufferHandle, what: string, checkFreed = true): WasmBuffer {
    this.checkAlive();
    if (!(buffer instanceof WasmBuffer) || buffer.owner !== this) {
      throw new BackendError(`wasm: ${what} of a foreign buffer; expected a buffer of this wasm backend, got buffer ${buffer.id}`);
    }
    if (checkFreed && buffer.freed) {
      throw new DisposedError(`wasm: ${what} of a freed buffer; expected a live buffer, got buffer ${buffer.id} after free()`);
    }
    return buffer;
  }

  /** Byte address of a view's first element. */
  private addr(v: TensorView): number {
    const b = this.own(v.buffer, 'use');
    return b.ptr + v.offset * SIZE[b.dtype];
  }

  // ---- ops

  run<O extends OpName>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void {
    this.checkAlive();
    switch (op) {
      case 'matmul': return this.matmul(out, inputs);
      case 'sum': case 'max': case 'min': case 'argmax': case 'argmin':
        return this.reduce(op, out, inputs, (attrs as OpAttrs['sum']).axis);
      case 'fill': return this.fill(out, (attrs as OpAttrs['fill']).value);
      case 'cast': return this.cast(out, inputs);
      case 'gather': return this.gather(out, inputs, (attrs as OpAttrs['gather']).axis);
      case 'scatter_add': return this.scatterAdd(out, inputs, (attrs as OpAttrs['scatter_add']).axis);
      case 'unary_backward': return this.unaryBackward(out, inputs, attrs as OpAttrs['unary_backward']);
      case 'im2col': return this.im2col('im2col', out, inputs, attrs as OpAttrs['im2col']);
      case 'col2im': return this.im2col('col2im', out, inputs, attrs as OpAttrs['col2im']);
      case 'adam': return this.adam(out, inputs, attrs as OpAttrs['adam']);
      default: return this.elementwise(op, out, inputs, attrs);
    }
  }

  /** The kernel of `op` for `dtype`, or a NotImplementedOpError naming what exists. */
  private dtypeFor(op: OpName, dtype: DType): Kernel {
    const f = op === 'cast' || op === 'unary_backward' ? noop : this.byOp.get(op)?.[dtype];
    const allowed = ALLOWED.get(op) ?? [];
    if (f === undefined || !allowed.includes(dtype)) {
      throw new NotImplementedOpError(`wasm: op '${op}' is not implemented for ${dtype}; expected one of ${allowed.join(', ')}, got ${dtype}`);
    }
    return f;
  }

  private input(op: OpName, inputs: readonly TensorView[], i: number): TensorView {
    const v = inputs[i];
    if (v === undefined) throw new ShapeError(`${op}: missing input; expected at least ${i + 1} inputs, got ${inputs.length}`);
    return v;
  }

  private elementwise(op: OpName, out: TensorView, inputs: readonly TensorView[], attrs: unknown): void {
    const nin = op === 'where' ? 3 : op === 'copy' || isUnary(op) ? 1 : 2;
    const main = nin === 3 ? this.input(op, inputs, 1) : this.input(op, inputs, 0);
    const f = this.dtypeFor(op, main.dtype);
    if (op === 'where' && this.input(op, inputs, 0).dtype !== 'bool') {
      throw new DTypeError(`where: condition must be bool; expected bool, got ${this.input(op, inputs, 0).dtype}`);
    }
    for (let k = nin === 3 ? 1 : 0; k < nin; k++) {
      const dt = this.input(op, inputs, k).dtype;
      if (dt !== main.dtype) throw new DTypeError(`${op}: inputs differ in dtype; expected ${main.dtype}, got ${dt}`);
    }
    const outDType = isComparison(op) ? 'bool' : main.dtype;
    if (out.dtype !== outDType) throw new DTypeError(`${op}: wrong output dtype; expected ${outDType}, got ${out.dtype}`);
    if (!this.describe(op, out, inputs, nin)) return;
    const d = this.desc;
    switch (op) {
      case 'clamp': {
        const a = attrs as OpAttrs['clamp'];
        if (main.dtype === 'int32') {
          f(d, a.min === null ? -2147483648 : clampI32(Math.ceil(a.min)), a.max === null ? 2147483647 : clampI32(Math.floor(a.max)));
        } else {
          f(d, a.min ?? -Infinity, a.max ?? Infinity);
        }
        return;
      }
      case 'softplus': {
        const a = attrs as ActivationAttrs;
        f(d, a.beta, a.threshold);
        return;
      }
      case 'elu': case 'leaky_relu':
        f(d, (attrs as ActivationAttrs).alpha);
        return;
      default:
        f(d);
    }
  }

  private cast(out: TensorView, inputs: readonly TensorView[]): void {
    const x = this.input('cast', inputs, 0);
    this.dtypeFor('cast', x.dtype);
    this.dtypeFor('cast', out.dtype);
    const f = this.casts.get(x.dtype)?.[out.dtype];
    if (f === undefined) throw new DTypeError(`cast: unsupported cast; expected float32, int32 or bool, got ${x.dtype} -> ${out.dtype}`);
    if (this.describe('cast', out, inputs, 1)) f(this.desc);
  }

  private unaryBackward(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['unary_backward']): void {
    const x = this.input('unary_backward', inputs, 0);
    this.dtypeFor('unary_backward', x.dtype);
    const fn: Activation = attrs.fn;
    const f = this.backward.get(fn);
    if (f === undefined) throw new NotImplementedOpError(`wasm: unary_backward has no kernel for this activation; expected one of ${ACTIVATIONS.join(', ')}, got ${String(fn)}`);
    const g = this.input('unary_backward', inputs, 1);
    if (g.dtype !== x.dtype || out.dtype !== x.dtype) {
      throw new DTypeError(`unary_backward: dtypes differ; expected x, gradOut and out all ${x.dtype}, got ${g.dtype} and ${out.dtype}`);
    }
    if (!this.describe('unary_backward', out, inputs, 2)) return;
    if (fn === 'softplus') f(this.desc, attrs.beta, attrs.threshold, 0);
    else f(this.desc, attrs.alpha ?? 0, attrs.beta ?? 1, attrs.threshold ?? 20);
  }

  /**
   * Writes the elementwise descriptor for out and `nin` inputs of out's shape:
   * size-1 dims dropped, dims contiguous in every operand merged. False when empty.
   */
  private describe(op: OpName, out: TensorView, inputs: readonly TensorView[], nin: number): boolean {
    const rank = out.shape.length;
    const nops = nin + 1;
    for (let k = 0; k < nin; k++) {
      const v = this.input(op, inputs, k);
      if (v.shape.length !== rank) {
        throw new ShapeError(`${op}: input ${k} has the wrong rank; expected the output's shape [${out.shape.join(',')}], got [${v.shape.join(',')}]`);
      }
      for (let i = 0; i < rank; i++) {
        if (v.shape[i] !== out.shape[i]) {
          throw new ShapeError(`${op}: input ${k} has the wrong shape; expected the output's shape [${out.shape.join(',')}], got [${v.shape.join(',')}]`);
        }
      }
    }
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
          if (sk !== (s[r - 1] as number) * (cShape[r - 1] as number)) { merge = false; break; }
        }
      }
      if (merge) {
        cShape[r - 1] = (cShape[r - 1] as number) * n;
        continue;
      }
      if (r === MAX_RANK) {
        throw new ShapeError(`${op}: too many non-mergeable dims for the wasm kernels; expected at most ${MAX_RANK}, got more`);
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
    this.dtypeFor('fill', out.dtype);
    const n = numel(out.shape);
    if (n === 0) return;
    const p = this.addr(out);
    if (!isContiguous(out)) {
      // Not part of the contract (fill's out is fresh), but stay correct: fill a temp, then copy.
      const tmp = this.alloc(out.dtype, n);
      try {
        this.fill(contiguousView(tmp, out.shape), value);
        this.elementwise('copy', out, [contiguousView(tmp, out.shape)], {});
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
    this.elementwise('copy', view, [v], {});
    return { view, release: () => this.free(tmp) };
  }

  private reduce(op: 'sum' | 'max' | 'min' | 'argmax' | 'argmin', out: TensorView, inputs: readonly TensorView[], axis0: number): void {
    const x0 = this.input(op, inputs, 0);
    this.dtypeFor(op, x0.dtype);
    const rank = x0.shape.length;
    const axis = axis0 < 0 ? axis0 + rank : axis0;
    if (rank === 0 ? axis !== 0 && axis !== -1 : axis < 0 || axis >= rank) {
      throw new IndexError(`${op}: axis out of range; expected -${rank} <= axis < ${rank}, got ${axis0}`);
    }
    let outer = 1, inner = 1;
    for (let i = 0; i < axis; i++) outer *= x0.shape[i] as number;
    for (let i = axis + 1; i < rank; i++) inner *= x0.shape[i] as number;
    const r = rank === 0 ? 1 : (x0.shape[axis] as number);
    if (outer * inner === 0) return;
    if (r === 0 && op !== 'sum') {
      throw new IndexError(`${op}: cannot reduce an empty axis; expected a non-empty axis ${axis}, got size 0`);
    }
    const f = this.dtypeFor(op, x0.dtype);
    const c = isContiguous(x0) ? undefined : this.contiguous(x0);
    const x = c === undefined ? x0 : c.view;
    try {
      if (isContiguous(out)) {
        f(this.addr(x), this.addr(out), outer, r, inner);
      } else {
        const tmp = this.alloc(out.dtype, outer * inner);
        try {
          f(this.addr(x), tmp instanceof WasmBuffer ? tmp.ptr : 0, outer, r, inner);
          this.elementwise('copy', out, [contiguousView(tmp, out.shape)], {});
        } finally {
          this.free(tmp);
        }
      }
    } finally {
      c?.release();
    }
  }

  private matmul(out: TensorView, inputs: readonly TensorView[]): void {
    const a = this.input('matmul', inputs, 0);
    const b = this.input('matmul', inputs, 1);
    this.dtypeFor('matmul', a.dtype);
    this.dtypeFor('matmul', b.dtype);
    if (a.shape.length !== 3 || b.shape.length !== 3 || out.shape.length !== 3) {
      throw new ShapeError(`matmul: expected 3-D views [B,M,K] @ [B,K,N], got [${a.shape.join(',')}] @ [${b.shape.join(',')}]`);
    }
    const [B, M, K] = a.shape as [number, number, number];
    const N = b.shape[2] as number;
    if (b.shape[1] !== K || b.shape[0] !== B) {
      throw new ShapeError(`matmul: inner dimensions differ; expected a[-1] == b[-2], got [${a.shape.join(',')}] @ [${b.shape.join(',')}]`);
    }
    if (B * M * N === 0) return;
    const biasView = inputs[2];
    let biasTmp: { view: TensorView; release: () => void } | undefined;
    let biasPtr = 0;
    if (biasView !== undefined) {
      this.dtypeFor('matmul', biasView.dtype);
      if (biasView.shape.length !== 1 || biasView.shape[0] !== N) {
        throw new ShapeError(`matmul: bias has the wrong shape; expected [${N}], got [${biasView.shape.join(',')}]`);
      }
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
      m[w] = B; m[w + 1] = M; m[w + 2] = N; m[w + 3] = K;
      m[w + 4] = this.addr(a);
      m[w + 5] = (a.strides[0] as number) * 4; m[w + 6] = (a.strides[1] as number) * 4; m[w + 7] = (a.strides[2] as number) * 4;
      m[w + 8] = this.addr(b);
      m[w + 9] = (b.strides[0] as number) * 4; m[w + 10] = (b.strides[1] as number) * 4; m[w + 11] = (b.strides[2] as number) * 4;
      m[w + 12] = cPtr; m[w + 13] = biasPtr; m[w + 14] = this.workspace;
      this.matmulKernel(this.desc);
      if (outTmp !== undefined) this.elementwise('copy', out, [contiguousView(outTmp, out.shape)], {});
    } finally {
      if (outTmp !== undefined) this.free(outTmp);
      biasTmp?.release();
    }
  }

  /**
   * im2col (image → columns) and col2im (columns → image) share their checks and their
   * argument list: image `[N, C, H, W]`, columns `[N, C·kH·kW, oH, oW]`.
   */
  private im2col(op: 'im2col' | 'col2im', out: TensorView, inputs: readonly TensorView[], a: Im2colAttrs & { readonly padValue?: number }): void {
    const x0 = this.input(op, inputs, 0);
    const f = this.dtypeFor(op, x0.dtype);
    if (out.dtype !== x0.dtype) throw new DTypeError(`${op}: wrong output dtype; expected ${x0.dtype}, got ${out.dtype}`);
    const image = op === 'im2col' ? x0 : out;
    const cols = op === 'im2col' ? out : x0;
    const kk = a.kernelH * a.kernelW;
    if (image.shape.length !== 4 || cols.shape.length !== 4 || cols.shape[0] !== image.shape[0] || cols.shape[1] !== (image.shape[1] as number) * kk) {
      throw new ShapeError(`${op}: image and columns disagree; expected [N,C,H,W] and [N,C·${kk},oH,oW], got [${image.shape.join(',')}] and [${cols.shape.join(',')}]`);
    }
    const geometry = [a.kernelH, a.kernelW, a.strideH, a.strideW, a.padH, a.padW, a.dilationH, a.dilationW];
    if (!geometry.every((v, i) => Number.isInteger(v) && v >= (i === 4 || i === 5 ? 0 : 1))) {
      throw new ShapeError(`${op}: bad window geometry; expected integer kernel, stride, dilation >= 1 and padding >= 0, got [${geometry.join(',')}]`);
    }
    if (!isContiguous(out)) throw new ShapeError(`${op}: out must be contiguous; expected row-major strides, got [${out.strides.join(',')}]`);
    const [n, c, h, w] = image.shape as [number, number, number, number];
    const oh = cols.shape[2] as number;
    const ow = cols.shape[3] as number;
    if (numel(out.shape) === 0) return;
    const src = this.contiguous(x0);
    try {
      const args = [this.addr(src.view), this.addr(out), n * c, h, w, oh, ow, ...geometry];
      if (op === 'im2col') f(...args, a.padValue ?? 0);
      else f(...args);
    } finally {
      src.release();
    }
  }

  /**
   * The fused Adam step over `count` parameters in one kernel call, in place (ops.ts's
   * AdamAttrs). Every operand must be contiguous: a copy would lose the in-place writes.
   * The kernel reads a table of `[n, param, grad, expAvg, expAvgSq, maxExpAvgSq]` rows
   * (assembly/optim.ts) from a block kept for it and grown on demand.
   */
  private adam(out: TensorView, inputs: readonly TensorView[], a: OpAttrs['adam']): void {
    const p0 = this.input('adam', inputs, 0);
    const f = this.dtypeFor('adam', p0.dtype);
    const width = a.amsgrad ? 5 : 4;
    const count = a.count;
    if (!Number.isInteger(count) || count < 1) {
      throw new ValueError(`adam: attribute count must be a positive integer; expected count >= 1, got ${String(count)}`);
    }
    if (inputs.length !== count * width) {
      throw new ValueError(`adam: wrong number of inputs; expected ${count * width} (${count} × [param, grad, expAvg, expAvgSq${a.amsgrad ? ', maxExpAvgSq' : ''}]), got ${inputs.length}`);
    }
    if (out.buffer !== p0.buffer || out.offset !== p0.offset || numel(out.shape) !== numel(p0.shape)) {
      throw new ShapeError(`adam: out must be the first param itself; expected a view of buffer ${p0.buffer.id} at offset ${p0.offset} with ${numel(p0.shape)} elements, got buffer ${out.buffer.id} at offset ${out.offset} with ${numel(out.shape)}`);
    }
    // Validate everything and take every address before the table block may grow memory.
    const rows = new Array<number>(count * 6);
    let live = 0;
    for (let e = 0; e < count; e++) {
      const n = numel((inputs[e * width] as TensorView).shape);
      for (let i = 0; i < width; i++) {
        const v = inputs[e * width + i] as TensorView;
        if (v.dtype !== p0.dtype) throw new DTypeError(`adam: operands differ in dtype; expected ${p0.dtype}, got ${v.dtype} at input ${e * width + i}`);
        if (numel(v.shape) !== n || !isContiguous(v)) {
          throw new ShapeError(`adam: every operand of entry ${e} must be a contiguous run of ${n} elements; expected ${n} contiguous elements, got [${v.shape.join(',')}] with strides [${v.strides.join(',')}]`);
        }
      }
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
    const flags = (a.maximize ? 1 : 0) | (a.decoupled ? 2 : 0) | (a.amsgrad ? 4 : 0) | (!a.decoupled && a.weightDecay !== 0 ? 8 : 0);
    // f32 parameters round each float64 scalar once, as torch takes Python scalars at the dtype.
    f(table, live, flags,
      1 - a.lr * a.weightDecay, a.weightDecay, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, -a.stepSize, a.bc2Sqrt, a.eps);
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
  private indexDesc(op: OpName, shape: readonly number[], ops: readonly (readonly [number, readonly number[], number])[], axis: number, axisOperand: number): void {
    const w = this.desc >> 2;
    const m = this.i32;
    const rank = Math.max(1, shape.length);
    m[w] = rank;
    for (let k = 0; k < ops.length; k++) {
      const o = ops[k] as readonly [number, readonly number[], number];
      m[w + W_PTR + k] = o[0];
      for (let i = 0; i < rank; i++) m[w + W_STRIDES + 16 * k + i] = i === axis && k === axisOperand ? 0 : ((o[1][i] ?? 0) * o[2]);
    }
    for (let i = 0; i < rank; i++) m[w + W_SHAPE + i] = shape[i] ?? 1;
    if (rank > MAX_RANK) throw new ShapeError(`${op}: too many dims; expected at most ${MAX_RANK}, got ${rank}`);
  }

  private gather(out: TensorView, inputs: readonly TensorView[], axis0: number): void {
    const x = this.input('gather', inputs, 0);
    const idx = this.input('gather', inputs, 1);
    this.dtypeFor('gather', x.dtype);
    if (idx.dtype !== 'int32') throw new DTypeError(`gather: index must be int32; expected int32, got ${idx.dtype}`);
    const rank = x.shape.length;
    const axis = axis0 < 0 ? axis0 + rank : axis0;
    if (idx.shape.length !== rank || (rank > 0 && (axis < 0 || axis >= rank))) {
      throw new IndexError(`gather: bad axis or rank; expected index rank ${rank} and 0 <= axis < ${rank}, got rank ${idx.shape.length}, axis ${axis0}`);
    }
    if (numel(idx.shape) === 0) return;
    const axisSize = rank === 0 ? 1 : (x.shape[axis] as number);
    const axisStride = rank === 0 ? 0 : (x.strides[axis] as number) * 4;
    this.indexDesc('gather', idx.shape, [
      [this.addr(out), contiguousStrides(idx.shape), 4],
      [this.addr(idx), idx.strides, 4],
      [this.addr(x), x.strides, 4],
    ], rank === 0 ? -1 : axis, 2);
    if (this.dtypeFor('gather', x.dtype)(this.desc, axisStride, axisSize) !== 0) {
      const bad = this.i32[this.desc >> 2] as number;
      throw new IndexError(`gather: index out of range; expected 0 <= index < ${axisSize}, got ${bad}`);
    }
  }

  private scatterAdd(out: TensorView, inputs: readonly TensorView[], axis0: number): void {
    const base = this.input('scatter_add', inputs, 0);
    const idx = this.input('scatter_add', inputs, 1);
    const src = this.input('scatter_add', inputs, 2);
    this.dtypeFor('scatter_add', base.dtype);
    if (idx.dtype !== 'int32') throw new DTypeError(`scatter_add: index must be int32; expected int32, got ${idx.dtype}`);
    if (src.dtype !== base.dtype) throw new DTypeError(`scatter_add: src dtype differs; expected ${base.dtype}, got ${src.dtype}`);
    const rank = base.shape.length;
    const axis = axis0 < 0 ? axis0 + rank : axis0;
    if (idx.shape.length !== rank || (rank > 0 && (axis < 0 || axis >= rank))) {
      throw new IndexError(`scatter_add: bad axis or rank; expected index rank ${rank} and 0 <= axis < ${rank}, got rank ${idx.shape.length}, axis ${axis0}`);
    }
    this.elementwise('copy', out, [base], {});
    if (numel(idx.shape) === 0) return;
    const axisSize = rank === 0 ? 1 : (base.shape[axis] as number);
    const axisStride = rank === 0 ? 0 : (out.strides[axis] as number) * 4;
    this.indexDesc('scatter_add', idx.shape, [
      [this.addr(out), out.strides, 4],
      [this.addr(idx), idx.strides, 4],
      [this.addr(src), src.strides, 4],
    ], rank === 0 ? -1 : axis, 0);
    if (this.dtypeFor('scatter_add', base.dtype)(this.desc, axisStride, axisSize) !== 0) {
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

function isComparison(op: OpName): boolean {
  return op === 'eq' || op === 'ne' || op === 'lt' || op === 'le' || op === 'gt' || op === 'ge';
}

function isUnary(op: OpName): boolean {
  switch (op) {
    case 'add': case 'sub': case 'mul': case 'div': case 'pow': case 'maximum': case 'minimum':
    case 'eq': case 'ne': case 'lt': case 'le': case 'gt': case 'ge': case 'where':
      return false;
    default:
      return true;
  }
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
 * Instantiates a kernel build and returns the wasm backend over it.
 * @example
 * const backend = await createWasmBackend({ bytes, variant: selectKernelVariant({ deterministic: true }) });
 * backend.variant // 'simd'
 */
export async function createWasmBackend(options: { bytes: Uint8Array | ArrayBuffer; variant: KernelVariant }): Promise<WasmBackend> {
  let instance: WebAssembly.Instance;
  try {
    const source = options.bytes instanceof Uint8Array ? new Uint8Array(options.bytes) : options.bytes;
    ({ instance } = await WebAssembly.instantiate(source, {}));
  } catch (cause) {
    throw new BackendError(`wasm: cannot instantiate the kernel build; expected a valid '${options.variant}' kernel module, got an error: ${String(cause)}`, { cause });
  }
  return new WasmBackendImpl(options.variant, instance);
}
