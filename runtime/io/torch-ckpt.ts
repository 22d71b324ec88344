/**
 * @module io/torch-ckpt — torch.save's zip format: write what `torch.load` reads, read what torch.save writes.
 *
 * An archive holds `archive/data.pkl` (the object, pickled with protocol 2),
 * `archive/byteorder` (`little`), one `archive/data/<key>` per storage (raw
 * little-endian elements) and `archive/version` (`3`), each entry's data aligned
 * to 64 bytes as PyTorchStreamWriter aligns it. A tensor is pickled as torch
 * 1.13 pickles one: `torch._utils._rebuild_tensor_v2(storage, offset, size,
 * stride, requires_grad, OrderedDict())`, the storage being the persistent id
 * `('storage', torch.FloatStorage, '<key>', 'cpu', numel)`. Only globals from
 * torch's weights_only allow-list appear (see io/pickle for the one caveat, floats).
 *
 * dtypes: float32 ↔ FloatStorage, float64 ↔ DoubleStorage, int32 ↔ IntStorage,
 * bool ↔ BoolStorage. Wrap a value in {@link int64} to write a LongStorage (torch's
 * dtype of `num_batches_tracked` and of integer tensors), and a float tensor in
 * {@link half} or {@link bfloat16} to write a HalfStorage / BFloat16Storage (each value
 * rounded to nearest even, as torch's `.half()` / `.bfloat16()`). Reading, LongStorage
 * becomes int32 (values outside int32 are a FormatError), Short/Char/Byte become
 * int32, and Half/BFloat16 become float32.
 *
 * Values on the way in: plain objects (dict), Maps (OrderedDict), arrays (list),
 * PyTuple (tuple), numbers, bigints, strings, booleans, null/undefined (None),
 * PyFloat, Tensors and Int64. On the way out (see {@link LoadTorchOptions}):
 * dicts become plain objects (or Maps), tuples and lists arrays, tensors Tensors
 * (each with its own buffer: storages shared on disk are not shared in memory),
 * ints past 2^53 bigints, bytes Uint8Arrays, and a referenced global such as
 * `torch.float32` a PyGlobal. A dict's BUILD state (torch's `_metadata`) is dropped.
 *
 * The reader treats its input as hostile (any `ArrayBufferView` or `ArrayBuffer`, read only
 * inside its range): each tensor's extent is checked against its storage, and each storage
 * against its entry, while unpickling; the bytes a load produces (inflated entries, decoded
 * storages, copied views, which stride 0 can make far larger than the file) are counted
 * against `maxBytes` before they are allocated; see {@link LoadTorchOptions}.
 */
import type { Backend } from '../backend.ts';
import type { DType, StorageArray } from '../dtype.ts';
import { ValueError } from '../errors.ts';
import { contiguousStrides, numelOf, shapeString } from '../shape.ts';
import { Tensor, backendOr } from '../tensor/index.ts';
import {
  DEFAULT_LIMITS,
  brief,
  checkLimit,
  copyBytes,
  limitOf,
  toBytes,
  type BytesInput,
  type ReadLimits,
} from './bytes.ts';
import { FormatError, LimitError } from './errors.ts';
import { halfToNumber, numberToBFloat16, numberToHalf } from '../float16.ts';
import {
  PyGlobal,
  PyPersistentId,
  PyReduce,
  PyTuple,
  SAFE_GLOBALS,
  pickle,
  unpickle,
  type GlobalHandler,
} from './pickle.ts';
import { listZip, readZipEntry, writeZip, type ZipEntry, type ZipWriteEntry } from './zip.ts';

/**
 * A value to be written as torch's int64 (`torch.long`): a tensor's values, or a number as a 0-d tensor.
 * Make one with {@link int64}.
 * @example new Int64(3) // the same as int64(3)
 */
export class Int64 {
  readonly value: Tensor | number | bigint;
  constructor(value: Tensor | number | bigint) {
    this.value = value;
  }
}

/**
 * Marks `value` to be saved as an int64 tensor, as torch keeps `num_batches_tracked`.
 * A tensor keeps its shape (its values must be integers); a number or bigint becomes a 0-d tensor.
 * @example await saveTorch({ 'bn.num_batches_tracked': int64(12) })
 */
export function int64(value: Tensor | number | bigint): Int64 {
  return new Int64(value);
}

/**
 * A float tensor to be written as torch.float16 (`HalfStorage`) or torch.bfloat16
 * (`BFloat16Storage`). Make one with {@link half} or {@link bfloat16}.
 * @example new Float16Tensor(t, 'float16') // the same as half(t)
 */
export class Float16Tensor {
  readonly value: Tensor;
  readonly format: 'float16' | 'bfloat16';
  constructor(value: Tensor, format: 'float16' | 'bfloat16') {
    this.value = value;
    this.format = format;
  }
}

/**
 * Marks a float tensor to be saved as torch.float16 (its values rounded to nearest even).
 * `loadTorch` reads it back as float32.
 * @example await saveTorch({ state_dict: { w: half(w) } })
 */
export function half(value: Tensor): Float16Tensor {
  return new Float16Tensor(value, 'float16');
}

/**
 * Marks a float tensor to be saved as torch.bfloat16 (its values rounded to nearest even).
 * @example await saveTorch({ state_dict: { w: bfloat16(w) } })
 */
export function bfloat16(value: Tensor): Float16Tensor {
  return new Float16Tensor(value, 'bfloat16');
}

/** Options of {@link saveTorch}. */
export interface SaveTorchOptions {
  /** The archive's top-level folder (default `'archive'`; torch uses the file's base name or `archive`). */
  readonly archiveName?: string;
}

/**
 * Options of {@link loadTorch}. The limits ({@link ReadLimits}) default to `maxBytes` the larger
 * of 256 MiB and 16 times the file's length, `maxDepth` 1000, `maxItems` 2^20 plus twice the
 * pickle's length, `maxIntBytes` 65,536.
 */
export interface LoadTorchOptions extends ReadLimits {
  /** The backend the tensors go to (default: the default backend). */
  readonly backend?: Backend;
  /**
   * How dicts come back (default `'object'`): `'object'` makes a plain object of a dict whose keys
   * are all strings or ints (int keys become strings, as JavaScript has no other) and a Map of any
   * other; `'map'` makes every dict a Map with its keys as read.
   */
  readonly dicts?: 'object' | 'map';
}

interface StorageKind {
  readonly name: string;
  readonly dtype: DType;
  readonly itemsize: number;
}

const WRITE_KINDS: Readonly<Record<DType | 'int64', StorageKind>> = {
  float32: { name: 'FloatStorage', dtype: 'float32', itemsize: 4 },
  float64: { name: 'DoubleStorage', dtype: 'float64', itemsize: 8 },
  int32: { name: 'IntStorage', dtype: 'int32', itemsize: 4 },
  bool: { name: 'BoolStorage', dtype: 'bool', itemsize: 1 },
  int64: { name: 'LongStorage', dtype: 'int32', itemsize: 8 },
};
const HALF_KINDS: Readonly<Record<'float16' | 'bfloat16', StorageKind>> = {
  float16: { name: 'HalfStorage', dtype: 'float32', itemsize: 2 },
  bfloat16: { name: 'BFloat16Storage', dtype: 'float32', itemsize: 2 },
};

const READ_KINDS: ReadonlyMap<string, StorageKind> = new Map([
  ['FloatStorage', { name: 'FloatStorage', dtype: 'float32', itemsize: 4 }],
  ['DoubleStorage', { name: 'DoubleStorage', dtype: 'float64', itemsize: 8 }],
  ['HalfStorage', { name: 'HalfStorage', dtype: 'float32', itemsize: 2 }],
  ['BFloat16Storage', { name: 'BFloat16Storage', dtype: 'float32', itemsize: 2 }],
  ['IntStorage', { name: 'IntStorage', dtype: 'int32', itemsize: 4 }],
  ['LongStorage', { name: 'LongStorage', dtype: 'int32', itemsize: 8 }],
  ['ShortStorage', { name: 'ShortStorage', dtype: 'int32', itemsize: 2 }],
  ['CharStorage', { name: 'CharStorage', dtype: 'int32', itemsize: 1 }],
  ['ByteStorage', { name: 'ByteStorage', dtype: 'int32', itemsize: 1 }],
  ['BoolStorage', { name: 'BoolStorage', dtype: 'bool', itemsize: 1 }],
] satisfies [string, StorageKind][]);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkHost(): void {
  // Typed arrays use the host's byte order; every Web platform in use is little-endian.
  if (!LITTLE_ENDIAN_HOST)
    throw new FormatError('torch-ckpt: big-endian host; expected a little-endian host, got big-endian');
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// ------------------------------------------------------------------- saving

interface PendingStorage {
  readonly key: string;
  readonly source: Tensor | Int64 | Float16Tensor;
}

function isPlainObject(x: object): x is Record<string, unknown> {
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

function rebuildTensor(kind: StorageKind, key: string, shape: readonly number[]): PyReduce {
  const numel = numelOf(shape);
  const storage = new PyPersistentId(new PyTuple(['storage', new PyGlobal('torch', kind.name), key, 'cpu', numel]));
  return new PyReduce(
    new PyGlobal('torch._utils', '_rebuild_tensor_v2'),
    new PyTuple([storage, 0, new PyTuple(shape), new PyTuple(contiguousStrides(shape)), false, new Map()]),
  );
}

async function int64Bytes(v: Int64, path: string): Promise<Uint8Array> {
  const x = v.value;
  if (typeof x === 'number' || typeof x === 'bigint') {
    if (typeof x === 'number' && !Number.isSafeInteger(x)) {
      throw new ValueError(`saveTorch: int64 value at ${path} is not an integer; expected a safe integer, got ${x}`);
    }
    return bytesOf(new BigInt64Array([BigInt(x)]));
  }
  const data = await x.data();
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const e = data[i]!;
    if (!Number.isSafeInteger(e)) {
      throw new ValueError(
        `saveTorch: int64 tensor at ${path} holds a non-integer; expected integers, got ${e} at flat index ${i}`,
      );
    }
    out[i] = BigInt(e);
  }
  return bytesOf(out);
}

async function halfBytes(v: Float16Tensor): Promise<Uint8Array> {
  const data = await v.value.data();
  const encode = v.format === 'float16' ? numberToHalf : numberToBFloat16;
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = encode(data[i]!);
  return bytesOf(out);
}

/**
 * Serialises `obj` as torch.save (zip format, protocol 2) does; `torch.load` reads the result.
 * Each distinct Tensor is written once, as its contiguous values (views are not shared on disk).
 * Saved tensors are detached (requires_grad False), as in a state dict.
 * @example
 * const bytes = await saveTorch({ state_dict: model.stateDict(), epoch: 3 });
 * await platform.writeFile('model.ckpt', bytes);
 */
export async function saveTorch(obj: unknown, options: SaveTorchOptions = {}): Promise<Uint8Array> {
  checkHost();
  const archive = options.archiveName ?? 'archive';
  if (!/^[^/]+$/.test(archive))
    throw new ValueError(`saveTorch: invalid archiveName; expected a name without '/', got '${archive}'`);
  const pending: PendingStorage[] = [];
  const done = new Map<object, unknown>();

  const convert = (x: unknown, path: string): unknown => {
    if (x === null || typeof x !== 'object') {
      if (typeof x === 'function' || typeof x === 'symbol') {
        throw new ValueError(
          `saveTorch: cannot save a ${typeof x} at ${path}; expected tensors, containers and plain values, got ${typeof x}`,
        );
      }
      return x;
    }
    const seen = done.get(x);
    if (seen !== undefined) return seen;
    if (x instanceof Tensor) {
      if (x.isDisposed)
        throw new ValueError(
          `saveTorch: tensor at ${path} is disposed; expected a live tensor, got a disposed one of shape ${shapeString(x.shape)}`,
        );
      const key = String(pending.length);
      pending.push({ key, source: x });
      const r = rebuildTensor(WRITE_KINDS[x.dtype], key, x.shape);
      done.set(x, r);
      return r;
    }
    if (x instanceof Int64) {
      const shape = x.value instanceof Tensor ? x.value.shape : [];
      const key = String(pending.length);
      pending.push({ key, source: x });
      const r = rebuildTensor(WRITE_KINDS.int64, key, shape);
      done.set(x, r);
      return r;
    }
    if (x instanceof Float16Tensor) {
      const t = x.value;
      if (!(t instanceof Tensor) || (t.dtype !== 'float32' && t.dtype !== 'float64')) {
        throw new ValueError(
          `saveTorch: ${x.format} value at ${path} is not a float tensor; expected a float32 or float64 Tensor, got ${t instanceof Tensor ? t.dtype : typeof t}`,
        );
      }
      if (t.isDisposed)
        throw new ValueError(
          `saveTorch: tensor at ${path} is disposed; expected a live tensor, got a disposed one of shape ${shapeString(t.shape)}`,
        );
      const key = String(pending.length);
      pending.push({ key, source: x });
      const r = rebuildTensor(HALF_KINDS[x.format], key, t.shape);
      done.set(x, r);
      return r;
    }
    if (x instanceof PyTuple) {
      const r = new PyTuple(x.items.map((v, i) => convert(v, `${path}[${i}]`)));
      done.set(x, r);
      return r;
    }
    if (Array.isArray(x)) {
      const r: unknown[] = [];
      done.set(x, r);
      x.forEach((v, i) => r.push(convert(v, `${path}[${i}]`)));
      return r;
    }
    if (x instanceof Map) {
      const r = new Map<unknown, unknown>();
      done.set(x, r);
      for (const [k, v] of x as Map<unknown, unknown>)
        r.set(convert(k, `${path} key`), convert(v, `${path}[${String(k)}]`));
      return r;
    }
    if (isPlainObject(x)) {
      const r: Record<string, unknown> = {};
      done.set(x, r);
      for (const k of Object.keys(x)) {
        Object.defineProperty(r, k, {
          value: convert(x[k], `${path}.${k}`),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return r;
    }
    // PyFloat, PyGlobal and anything the pickler rejects with a clear message.
    return x;
  };

  const tree = convert(obj, 'root');
  const records: ZipWriteEntry[] = [
    { name: `${archive}/data.pkl`, data: pickle(tree) },
    { name: `${archive}/byteorder`, data: new TextEncoder().encode('little') },
  ];
  for (const p of pending) {
    const data =
      p.source instanceof Int64
        ? await int64Bytes(p.source, `storage ${p.key}`)
        : p.source instanceof Float16Tensor
          ? await halfBytes(p.source)
          : bytesOf(await p.source.data());
    records.push({ name: `${archive}/data/${p.key}`, data });
  }
  records.push({ name: `${archive}/version`, data: new TextEncoder().encode('3\n') });
  return writeZip(records);
}

// ------------------------------------------------------------------- loading

class StorageRef {
  readonly kind: StorageKind;
  readonly key: string;
  readonly numel: number;
  /** The archive entry holding it, e.g. `archive/data/0`. */
  readonly entry: string;
  constructor(kind: StorageKind, key: string, numel: number, entry: string) {
    this.kind = kind;
    this.key = key;
    this.numel = numel;
    this.entry = entry;
  }
}

class TensorRecipe {
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  requiresGrad: boolean;
  constructor(
    storage: StorageRef,
    offset: number,
    shape: readonly number[],
    strides: readonly number[],
    requiresGrad: boolean,
  ) {
    this.storage = storage;
    this.offset = offset;
    this.shape = shape;
    this.strides = strides;
    this.requiresGrad = requiresGrad;
  }
}

function intList(x: unknown, what: string): number[] {
  const items = x instanceof PyTuple ? x.items : Array.isArray(x) ? (x as unknown[]) : null;
  if (items === null || !items.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw new FormatError(`torch-ckpt: bad tensor ${what}; expected a tuple of non-negative ints, got ${brief(x)}`);
  }
  return items as number[];
}

function rebuild(args: readonly unknown[]): TensorRecipe {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof StorageRef)) {
    throw new FormatError(
      `torch-ckpt: bad tensor storage; expected a storage persistent id, got ${storage === null ? 'None' : typeof storage}`,
    );
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new FormatError(`torch-ckpt: bad storage offset; expected an int >= 0, got ${brief(offset)}`);
  }
  const shape = intList(size, 'size');
  const strides = intList(stride, 'stride');
  if (shape.length !== strides.length) {
    throw new FormatError(
      `torch-ckpt: size and stride differ in length; expected equal ranks, got size ${brief(shape)} and stride ${brief(strides)}`,
    );
  }
  // The largest element offset the view reaches (strides are >= 0), checked against the
  // storage's declared length before anything is allocated. No element is read when a size is 0.
  if (!shape.includes(0)) {
    let last = offset;
    for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * strides[d]!;
    if (!(last < storage.numel)) {
      const show = (xs: readonly number[]): string => (xs.length > 16 ? `a ${xs.length}-d tuple` : shapeString(xs));
      throw new FormatError(
        `torch-ckpt: tensor reaches past its storage '${storage.entry}'; expected the last element below ${storage.numel}, got element ${last} (size ${show(shape)}, stride ${show(strides)}, offset ${offset})`,
      );
    }
  }
  return new TensorRecipe(storage, offset, shape, strides, requiresGrad === true);
}

function parameter(args: readonly unknown[]): TensorRecipe {
  const [data, requiresGrad] = args;
  if (!(data instanceof TensorRecipe))
    throw new FormatError(`torch-ckpt: bad Parameter; expected a tensor, got ${brief(data)}`);
  data.requiresGrad = requiresGrad !== false;
  return data;
}

/**
 * The globals a torch checkpoint may name: torch 1.13's weights_only allow-list
 * restricted to the dense tensors this runtime holds, plus {@link SAFE_GLOBALS}.
 * Sparse, meta and quantized tensors are not accepted.
 * @example unpickle(pkl, { globals: TORCH_GLOBALS, persistentLoad })
 */
export const TORCH_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  ...SAFE_GLOBALS,
  ['torch._utils._rebuild_tensor_v2', { call: rebuild }],
  ['torch._utils._rebuild_tensor', { call: rebuild }],
  ['torch._utils._rebuild_parameter', { call: parameter }],
  ['torch._utils._rebuild_parameter_with_state', { call: parameter }],
  ['torch.nn.parameter.Parameter', { call: parameter }],
  ...[...READ_KINDS.keys()].map((k): [string, GlobalHandler] => [`torch.${k}`, {}]),
  ...['float16', 'bfloat16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool'].map(
    (k): [string, GlobalHandler] => [`torch.${k}`, {}],
  ),
]);

/** A storage's raw bytes as the runtime dtype's array. */
function decodeStorage(kind: StorageKind, raw: Uint8Array, name: string): StorageArray {
  const n = raw.length / kind.itemsize;
  // Copy to an aligned buffer: the entry's offset inside the caller's bytes is arbitrary.
  // (Not raw.slice().buffer: for a Node Buffer that is a view of the whole pool.)
  const buf = copyBytes(raw).buffer;
  switch (kind.name) {
    case 'FloatStorage':
      return new Float32Array(buf);
    case 'DoubleStorage':
      return new Float64Array(buf);
    case 'IntStorage':
      return new Int32Array(buf);
    case 'BoolStorage':
      return new Uint8Array(buf);
    case 'ShortStorage':
      return Int32Array.from(new Int16Array(buf));
    case 'CharStorage':
      return Int32Array.from(new Int8Array(buf));
    case 'ByteStorage':
      return Int32Array.from(new Uint8Array(buf));
    case 'HalfStorage':
      return Float32Array.from(new Uint16Array(buf), halfToNumber);
    case 'BFloat16Storage': {
      const src = new Uint16Array(buf);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    default: {
      // LongStorage
      const src = new BigInt64Array(buf);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const x = src[i]!;
        if (x < -2147483648n || x > 2147483647n) {
          throw new FormatError(
            `torch-ckpt: int64 value out of int32 range in '${name}'; expected values in [-2147483648, 2147483647], got ${x} at element ${i}`,
          );
        }
        out[i] = Number(x);
      }
      return out;
    }
  }
}

function isContiguousView(shape: readonly number[], strides: readonly number[]): boolean {
  const contiguous = contiguousStrides(shape);
  return shape.every((s, d) => s === 1 || strides[d] === contiguous[d]);
}

/** True when the view is its whole storage, so {@link gather} hands the storage over without a copy. */
function sharesStorage(
  src: { readonly length: number },
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): boolean {
  return offset === 0 && numelOf(shape) === src.length && isContiguousView(shape, strides);
}

const OUT_ITEMSIZE: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** The elements of a strided view, row-major. */
function gather(
  src: StorageArray,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
  dtype: DType,
  name: string,
): StorageArray {
  const numel = numelOf(shape);
  if (numel > 0) {
    // rebuild() checked the extent against the declared storage length, which the entry's size matched.
    let last = offset;
    for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * strides[d]!;
    if (!(last < src.length)) {
      throw new FormatError(
        `torch-ckpt: tensor reaches past its storage '${name}'; expected the last element below ${src.length}, got element ${last}`,
      );
    }
  }
  if (sharesStorage(src, offset, shape, strides)) return src;
  if (numel === 0 || isContiguousView(shape, strides)) {
    return src.slice(offset, offset + numel);
  }
  const out =
    dtype === 'float32'
      ? new Float32Array(numel)
      : dtype === 'float64'
        ? new Float64Array(numel)
        : dtype === 'int32'
          ? new Int32Array(numel)
          : new Uint8Array(numel);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let at = offset;
  for (let i = 0; i < numel; i++) {
    out[i] = src[at]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      at += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      at -= idx[d]! * strides[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Reads a file written by `torch.save` (zip format, as torch >= 1.6 writes by default) or by
 * {@link saveTorch}. Only the globals in {@link TORCH_GLOBALS} may appear, so loading runs no code.
 * Every tensor gets its own buffer on `options.backend`, with storage offsets and strides honoured.
 * @example
 * const ckpt = await loadTorch(await platform.readFile('epoch=1.ckpt')) as { state_dict: Record<string, Tensor> };
 * model.loadStateDict(ckpt.state_dict);
 */
export async function loadTorch(input: BytesInput, options: LoadTorchOptions = {}): Promise<unknown> {
  checkHost();
  const bytes = toBytes(input, 'torch-ckpt');
  const maxBytes = limitOf('torch-ckpt', 'maxBytes', options.maxBytes, DEFAULT_LIMITS.maxBytes(bytes.length));
  const maxDepth = limitOf('torch-ckpt', 'maxDepth', options.maxDepth, DEFAULT_LIMITS.maxDepth);
  // Everything the load allocates for data, counted before each allocation.
  let produced = 0;
  const charge = (n: number, what: string): void => {
    produced += n;
    checkLimit('torch-ckpt', what, 'maxBytes', maxBytes, produced, 'bytes');
  };
  const read = async (e: ZipEntry): Promise<Uint8Array> => {
    if (e.method !== 0) charge(e.size, `inflated data (at '${e.name}')`);
    return readZipEntry(bytes, e, { maxBytes });
  };
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (!isZip && bytes.length >= 2 && bytes[0] === 0x80) {
    throw new FormatError(
      'torch-ckpt: legacy torch.save format; expected the zip format (torch >= 1.6 default), got a bare pickle stream (re-save it with torch.save(obj, path) in a recent torch)',
    );
  }
  const entries = listZip(bytes);
  const pkl = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkl === undefined) {
    const names = entries
      .slice(0, 5)
      .map((e) => `'${e.name}'`)
      .join(', ');
    throw new FormatError(
      `torch-ckpt: not a torch checkpoint; expected an archive with '<name>/data.pkl', got ${entries.length === 0 ? 'no entries' : names}`,
    );
  }
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const text = async (name: string): Promise<string | null> => {
    const e = byName.get(prefix + name);
    return e === undefined ? null : new TextDecoder().decode(await read(e)).trim();
  };
  const order = await text('byteorder');
  if (order !== null && order !== 'little') {
    throw new FormatError(
      `torch-ckpt: unsupported byte order; expected 'little', got '${order.length > 60 ? `${order.slice(0, 60)}...` : order}'`,
    );
  }
  const version = await text('version');
  if (version !== null && !/^[1-3]$/.test(version)) {
    throw new FormatError(
      `torch-ckpt: unsupported archive version; expected 1 to 3, got '${version.length > 60 ? `${version.slice(0, 60)}...` : version}'`,
    );
  }

  const rawStorages = new Map<string, Uint8Array>();
  const refs = new Map<string, StorageRef>();
  const wanted: StorageRef[] = [];
  const persistentLoad = (pid: unknown): StorageRef => {
    const items = pid instanceof PyTuple ? pid.items : null;
    if (items === null || items[0] !== 'storage' || items.length < 5) {
      throw new FormatError(
        `torch-ckpt: bad persistent id; expected ('storage', type, key, location, numel), got ${items === null ? brief(pid) : `a tuple of ${items.length} starting ${brief(items[0])}`}`,
      );
    }
    const [, type, key, , numel] = items;
    const kindName =
      type instanceof PyGlobal && type.module === 'torch'
        ? type.name
        : type instanceof PyGlobal
          ? type.path
          : brief(type);
    const kind = READ_KINDS.get(kindName);
    if (kind === undefined) {
      throw new FormatError(
        `torch-ckpt: unsupported storage type; expected one of ${[...READ_KINDS.keys()].join(', ')}, got ${kindName}`,
      );
    }
    if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      throw new FormatError(
        `torch-ckpt: bad storage id; expected a string key and an int numel, got ${brief(key)} and ${brief(numel)}`,
      );
    }
    const seen = refs.get(key);
    if (seen !== undefined) return seen;
    // The entry must exist and hold exactly numel elements, so views are checked against real bytes.
    const name = `${prefix}data/${key}`;
    const e = byName.get(name);
    if (e === undefined) throw new FormatError(`torch-ckpt: missing storage; expected an entry '${name}', got none`);
    if (e.size !== numel * kind.itemsize) {
      throw new FormatError(
        `torch-ckpt: storage '${name}' has the wrong size; expected ${numel} x ${kind.itemsize} = ${numel * kind.itemsize} bytes, got ${e.size}`,
      );
    }
    const ref = new StorageRef(kind, key, numel, name);
    refs.set(key, ref);
    wanted.push(ref);
    return ref;
  };
  const tree = unpickle(await read(pkl), {
    globals: TORCH_GLOBALS,
    persistentLoad,
    maxDepth,
    ...(options.maxItems === undefined ? {} : { maxItems: options.maxItems }),
    ...(options.maxIntBytes === undefined ? {} : { maxIntBytes: options.maxIntBytes }),
  });

  for (const ref of wanted) {
    const name = `${prefix}data/${ref.key}`;
    const e = byName.get(name);
    if (e === undefined) throw new FormatError(`torch-ckpt: missing storage; expected an entry '${name}', got none`);
    const raw = await read(e);
    if (raw.length !== ref.numel * ref.kind.itemsize) {
      throw new FormatError(
        `torch-ckpt: storage '${name}' has the wrong size; expected ${ref.numel} x ${ref.kind.itemsize} = ${ref.numel * ref.kind.itemsize} bytes, got ${raw.length}`,
      );
    }
    rawStorages.set(ref.key, raw);
  }

  const backend = backendOr(options.backend);
  const decoded = new Map<string, StorageArray>();
  const made = new Map<object, unknown>();
  const asObjects = (options.dicts ?? 'object') === 'object';
  const out = (x: unknown, depth: number): unknown => {
    if (x === null || typeof x !== 'object' || x instanceof Uint8Array || x instanceof PyGlobal) return x;
    const seen = made.get(x);
    if (seen !== undefined) return seen;
    if (depth > maxDepth)
      throw new LimitError('torch-ckpt', 'nesting depth', 'maxDepth', maxDepth, `more than ${maxDepth}`, 'levels');
    const inner = depth + 1;
    if (x instanceof TensorRecipe) {
      const ref = x.storage;
      const size = OUT_ITEMSIZE[ref.kind.dtype];
      // A storage used by one contiguous tensor is handed over without a copy; views copy.
      let src = decoded.get(ref.key);
      if (src === undefined) {
        charge(ref.numel * size, `tensor data (storage '${ref.entry}')`);
        src = decodeStorage(ref.kind, rawStorages.get(ref.key)!, ref.entry);
        decoded.set(ref.key, src);
      }
      if (!sharesStorage(src, x.offset, x.shape, x.strides))
        charge(
          numelOf(x.shape) * size,
          `tensor data (a view of '${ref.entry}' of size ${x.shape.length > 16 ? `${x.shape.length}-d` : shapeString(x.shape)})`,
        );
      const data = gather(src, x.offset, x.shape, x.strides, ref.kind.dtype, ref.entry);
      const t = Tensor.fromArray(backend, ref.kind.dtype, x.shape, data);
      if (x.requiresGrad && (ref.kind.dtype === 'float32' || ref.kind.dtype === 'float64')) t.requiresGrad_();
      made.set(x, t);
      return t;
    }
    if (x instanceof PyTuple || Array.isArray(x)) {
      const r: unknown[] = [];
      made.set(x, r);
      for (const v of x instanceof PyTuple ? x.items : (x as unknown[])) r.push(out(v, inner));
      return r;
    }
    if (x instanceof Set) {
      const r = new Set<unknown>();
      made.set(x, r);
      for (const v of x) r.add(out(v, inner));
      return r;
    }
    if (x instanceof Map) {
      const m = x as Map<unknown, unknown>;
      const plain =
        asObjects &&
        [...m.keys()].every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isSafeInteger(k)));
      if (plain) {
        const r: Record<string, unknown> = {};
        made.set(x, r);
        for (const [k, v] of m) {
          Object.defineProperty(r, String(k), {
            value: out(v, inner),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return r;
      }
      const r = new Map<unknown, unknown>();
      made.set(x, r);
      for (const [k, v] of m) r.set(out(k, inner), out(v, inner));
      return r;
    }
    return x;
  };
  try {
    return out(tree, 1);
  } catch (error) {
    // Backstops for limits raised past what the platform holds (maxDepth past the stack,
    // maxBytes past the largest typed array): still a typed error naming the option.
    if (!(error instanceof RangeError)) throw error;
    const deep = /call stack/i.test(error.message);
    throw new LimitError(
      'torch-ckpt',
      deep ? 'nesting depth' : 'tensor data',
      deep ? 'maxDepth' : 'maxBytes',
      deep ? maxDepth : maxBytes,
      `what this platform holds (${error.message})`,
    );
  }
}
