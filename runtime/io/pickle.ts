/**
 * @module io/pickle — Python's pickle: a protocol-2 writer limited to what torch's
 * `weights_only=True` unpickler accepts, and a restricted unpickler VM.
 *
 * ## The Python value model
 *
 * | Python | TypeScript |
 * | --- | --- |
 * | `None` | `null` (the writer also takes `undefined`) |
 * | `bool` | `boolean` |
 * | `int` | `number` when it is a safe integer, else `bigint` (the writer takes both) |
 * | `float` | `number`; the writer writes a `number` that is a safe integer as an `int`, so wrap it in {@link PyFloat} to force a float |
 * | `str` | `string` |
 * | `bytes` | `Uint8Array` (read only: torch's weights_only list has no way to build bytes) |
 * | `list` | `Array` |
 * | `tuple` | {@link PyTuple} |
 * | `dict`, `OrderedDict` | read: `Map`; written: a `Map` becomes `collections.OrderedDict` (torch's state-dict type) and a plain object a `dict` |
 * | `set`, `frozenset` | `Set` (read only, from protocol-4 opcodes; the `builtins.set` global is not allowed) |
 * | a global such as `torch.FloatStorage` | {@link PyGlobal} |
 * | `f(*args)` of an allowed global | read: whatever the global's handler returns; written: {@link PyReduce} |
 * | a persistent id | read: `persistentLoad(pid)`; written: {@link PyPersistentId} |
 *
 * A plain object's keys that are canonical decimal integers (`"0"`, `"12"`, not
 * `"01"`) are written as Python `int` keys: a JavaScript object cannot hold number
 * keys, and torch's optimizer state dict is keyed by parameter index. Use a `Map`
 * to keep such keys strings.
 *
 * ## What the writer emits
 *
 * Only the opcodes torch 1.13's `_weights_only_unpickler` implements (PROTO,
 * EMPTY_DICT/LIST/TUPLE, MARK, SETITEMS, APPENDS, TUPLE1-3, BININT*, LONG1,
 * BINUNICODE, NONE, NEWTRUE/NEWFALSE, GLOBAL, REDUCE, BINPERSID, BINPUT, BINGET
 * and their LONG_ forms), plus BINFLOAT for floats: torch 1.13's weights_only
 * unpickler has no float opcode at all (it rejects torch's own optimizer state
 * dicts with "Unsupported operand 71"); torch 2.0 and later accept BINFLOAT.
 *
 * ## What the reader accepts
 *
 * Protocols 0-5 as torch.save and Python produce them, except object-building
 * opcodes (INST, OBJ, EXT*, out-of-band buffers). GLOBAL and STACK_GLOBAL resolve
 * only names in the allow-list passed as `globals` (default {@link SAFE_GLOBALS});
 * any other name is a {@link FormatError} naming it. BUILD is accepted on dicts
 * only, where its state (torch's `_metadata`) is dropped.
 *
 * ## What a pickle may cost
 *
 * The input is any `ArrayBufferView` or `ArrayBuffer`, read only inside its range.
 * Work is linear in the input except where a call copies a container, so every opcode
 * and every element a call receives counts against `maxItems`; ints are decoded in
 * linear time and bounded by `maxIntBytes`; the result's nesting is bounded by
 * `maxDepth` (see {@link ReadLimits}). Each breach is a {@link LimitError}.
 */
import { ValueError } from '../errors.ts';
import { DEFAULT_LIMITS, limitOf, toBytes, type BytesInput, type ReadLimits } from './bytes.ts';
import { FormatError, LimitError } from './errors.ts';

/**
 * A Python tuple (the reader returns tuples as this; the writer writes it as a tuple).
 * @example new PyTuple([0.9, 0.999]) // Adam's betas
 */
export class PyTuple {
  readonly items: readonly unknown[];
  constructor(items: readonly unknown[]) {
    this.items = items;
  }
}

/**
 * A number the writer must write as a Python `float` even when it is integral.
 * @example pickle({ lr: new PyFloat(1) }) // {'lr': 1.0}, not {'lr': 1}
 */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/**
 * A reference to a Python global, `module.name` (e.g. `torch.FloatStorage`).
 * @example new PyGlobal('collections', 'OrderedDict')
 */
export class PyGlobal {
  readonly module: string;
  readonly name: string;
  constructor(module: string, name: string) {
    this.module = module;
    this.name = name;
  }
  /** `module.name`, the key of the allow-list. */
  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * A call `fn(*args)` for the writer to emit (GLOBAL, args, REDUCE).
 * @example new PyReduce(new PyGlobal('torch', 'Size'), new PyTuple([new PyTuple([2, 3])]))
 */
export class PyReduce {
  readonly fn: PyGlobal;
  readonly args: PyTuple;
  constructor(fn: PyGlobal, args: PyTuple) {
    this.fn = fn;
    this.args = args;
  }
}

/**
 * A persistent id for the writer to emit (the id, then BINPERSID); torch refers to storages this way.
 * @example new PyPersistentId(new PyTuple(['storage', new PyGlobal('torch', 'FloatStorage'), '0', 'cpu', 2]))
 */
export class PyPersistentId {
  readonly id: unknown;
  constructor(id: unknown) {
    this.id = id;
  }
}

/** What an allowed global does when the pickle calls it (REDUCE or NEWOBJ); without `call`, it may only be referenced. */
export interface GlobalHandler {
  readonly call?: (args: readonly unknown[]) => unknown;
}

/** Options of {@link unpickle}; the limits default as {@link ReadLimits} says. */
export interface UnpickleOptions extends Pick<ReadLimits, 'maxDepth' | 'maxItems' | 'maxIntBytes'> {
  /** The allowed globals by `module.name` (default {@link SAFE_GLOBALS}). */
  readonly globals?: ReadonlyMap<string, GlobalHandler>;
  /** Resolves a persistent id (BINPERSID); without it, a persistent id is a FormatError. */
  readonly persistentLoad?: (pid: unknown) => unknown;
}

/**
 * The globals that build plain Python values: `collections.OrderedDict` (a Map),
 * `torch.Size` (a PyTuple) and `_codecs.encode(str, 'latin1')` (bytes, as
 * protocol 2 pickles them). Nothing here runs code beyond building values.
 * @example unpickle(bytes, { globals: new Map([...SAFE_GLOBALS, ['torch.FloatStorage', {}]]) })
 */
export const SAFE_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  [
    'collections.OrderedDict',
    {
      call: (args) => {
        const m = new Map<unknown, unknown>();
        const init = args[0];
        if (init instanceof Map) for (const [k, v] of init) m.set(k, v);
        else if (Array.isArray(init)) for (const kv of init) if (kv instanceof PyTuple) m.set(kv.items[0], kv.items[1]);
        return m;
      },
    },
  ],
  [
    'torch.Size',
    { call: (args) => new PyTuple(args[0] instanceof PyTuple ? args[0].items : Array.isArray(args[0]) ? args[0] : []) },
  ],
  [
    '_codecs.encode',
    {
      call: (args) => {
        const [text, encoding] = args;
        if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
          throw new FormatError(
            `pickle: unsupported _codecs.encode call; expected (str, 'latin1'), got (${typeof text}, ${String(encoding)})`,
          );
        }
        const out = new Uint8Array(text.length);
        for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
        return out;
      },
    },
  ],
]);

// ------------------------------------------------------------------- writer

const OP = {
  MARK: 0x28,
  STOP: 0x2e,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  NONE: 0x4e,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  BINUNICODE: 0x58,
  APPEND: 0x61,
  GLOBAL: 0x63,
  APPENDS: 0x65,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  SETITEMS: 0x75,
  BINFLOAT: 0x47,
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  EMPTY_TUPLE: 0x29,
  PROTO: 0x80,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
} as const;

// Python's pickler batches APPENDS and SETITEMS by 1000.
const BATCH = 1000;
const INT_KEY = /^(0|-?[1-9][0-9]*)$/;
const utf8 = new TextEncoder();

class Sink {
  buf = new Uint8Array(1024);
  len = 0;
  private view = new DataView(this.buf.buffer);
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u16(x: number): void {
    this.reserve(2);
    this.view.setUint16(this.len, x, true);
    this.len += 2;
  }
  u32(x: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, x, true);
    this.len += 4;
  }
  i32(x: number): void {
    this.reserve(4);
    this.view.setInt32(this.len, x, true);
    this.len += 4;
  }
  f64be(x: number): void {
    this.reserve(8);
    this.view.setFloat64(this.len, x, false);
    this.len += 8;
  }
}

function isPlainObject(x: object): x is Record<string, unknown> {
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (Object.getPrototypeOf(x) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
}

/** Two's-complement little-endian bytes of `n`, as pickle's LONG1 (encode_long). */
function encodeLong(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = n;
  for (;;) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
    const sign = (out[out.length - 1]! & 0x80) !== 0;
    if ((x === 0n && !sign) || (x === -1n && sign)) break;
  }
  return Uint8Array.from(out);
}

class Pickler {
  readonly out = new Sink();
  private readonly memo = new Map<unknown, number>();
  private readonly globals = new Map<string, number>();

  private put(key: unknown): void {
    const i = this.memo.size;
    this.memo.set(key, i);
    this.putIndex(i);
  }
  private putIndex(i: number): void {
    if (i < 256) {
      this.out.byte(OP.BINPUT);
      this.out.byte(i);
    } else {
      this.out.byte(OP.LONG_BINPUT);
      this.out.u32(i);
    }
  }
  private get(i: number): void {
    if (i < 256) {
      this.out.byte(OP.BINGET);
      this.out.byte(i);
    } else {
      this.out.byte(OP.LONG_BINGET);
      this.out.u32(i);
    }
  }

  private int(n: number | bigint): void {
    const small = typeof n === 'number' ? n : n >= -(2n ** 31n) && n < 2n ** 31n ? Number(n) : null;
    if (small !== null && small >= 0 && small < 256) {
      this.out.byte(OP.BININT1);
      this.out.byte(small);
    } else if (small !== null && small >= 0 && small < 65536) {
      this.out.byte(OP.BININT2);
      this.out.u16(small);
    } else if (small !== null && small >= -(2 ** 31) && small < 2 ** 31) {
      this.out.byte(OP.BININT);
      this.out.i32(small);
    } else {
      const b = encodeLong(BigInt(n));
      this.out.byte(OP.LONG1);
      this.out.byte(b.length);
      this.out.bytes(b);
    }
  }

  private global(g: PyGlobal): void {
    const at = this.globals.get(g.path);
    if (at !== undefined) return this.get(at);
    this.out.byte(OP.GLOBAL);
    this.out.bytes(utf8.encode(`${g.module}\n${g.name}\n`));
    const i = this.memo.size;
    this.memo.set(Symbol(g.path), i);
    this.globals.set(g.path, i);
    this.putIndex(i);
  }

  private items(values: Iterable<unknown>, path: string): void {
    // MARK v... TUPLE / APPENDS; the caller has pushed the container.
    let i = 0;
    for (const v of values) this.save(v, `${path}[${i++}]`);
  }

  private setItems(entries: [unknown, unknown][], path: string): void {
    for (let start = 0; start < entries.length; start += BATCH) {
      const batch = entries.slice(start, start + BATCH);
      if (batch.length > 1) this.out.byte(OP.MARK);
      for (const [k, v] of batch) {
        this.save(k, `${path} key`);
        this.save(v, `${path}[${typeof k === 'string' ? JSON.stringify(k) : String(k)}]`);
      }
      this.out.byte(batch.length > 1 ? OP.SETITEMS : OP.SETITEM);
    }
  }

  save(x: unknown, path: string): void {
    if (x === null || x === undefined) return this.out.byte(OP.NONE);
    if (typeof x === 'boolean') return this.out.byte(x ? OP.NEWTRUE : OP.NEWFALSE);
    if (typeof x === 'bigint') return this.int(x);
    if (typeof x === 'number') {
      if (Number.isSafeInteger(x) && !Object.is(x, -0)) return this.int(x);
      this.out.byte(OP.BINFLOAT);
      return this.out.f64be(x);
    }
    if (typeof x === 'string') {
      const b = utf8.encode(x);
      this.out.byte(OP.BINUNICODE);
      this.out.u32(b.length);
      return this.out.bytes(b);
    }
    if (typeof x !== 'object') {
      throw new ValueError(
        `pickle: cannot write a ${typeof x} at ${path}; expected None, bool, int, float, str, list, tuple, dict or a tensor, got ${typeof x}`,
      );
    }
    if (x instanceof PyFloat) {
      this.out.byte(OP.BINFLOAT);
      return this.out.f64be(x.value);
    }
    if (x instanceof PyGlobal) return this.global(x);
    const seen = this.memo.get(x);
    if (seen !== undefined) return this.get(seen);
    if (x instanceof PyPersistentId) {
      this.save(x.id, `${path} persistent id`);
      return this.out.byte(OP.BINPERSID);
    }
    if (x instanceof PyReduce) {
      this.global(x.fn);
      this.save(x.args, `${path} ${x.fn.path} args`);
      this.out.byte(OP.REDUCE);
      return this.put(x);
    }
    if (x instanceof PyTuple) {
      const n = x.items.length;
      if (n === 0) this.out.byte(OP.EMPTY_TUPLE);
      else if (n <= 3) {
        this.items(x.items, path);
        this.out.byte(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : OP.TUPLE3);
      } else {
        this.out.byte(OP.MARK);
        this.items(x.items, path);
        this.out.byte(OP.TUPLE);
      }
      return this.put(x);
    }
    if (Array.isArray(x)) {
      this.out.byte(OP.EMPTY_LIST);
      this.put(x);
      for (let start = 0; start < x.length; start += BATCH) {
        const batch = x.slice(start, start + BATCH) as unknown[];
        if (batch.length > 1) this.out.byte(OP.MARK);
        batch.forEach((v, i) => this.save(v, `${path}[${start + i}]`));
        this.out.byte(batch.length > 1 ? OP.APPENDS : OP.APPEND);
      }
      return;
    }
    if (x instanceof Map) {
      this.global(new PyGlobal('collections', 'OrderedDict'));
      this.out.byte(OP.EMPTY_TUPLE);
      this.out.byte(OP.REDUCE);
      this.put(x);
      return this.setItems([...(x as Map<unknown, unknown>)], path);
    }
    if (ArrayBuffer.isView(x) || x instanceof Set) {
      throw new ValueError(
        `pickle: cannot write a ${describe(x)} at ${path}; expected a value torch's weights_only unpickler can read (None, bool, int, float, str, list, tuple, dict, tensor), got ${describe(x)}`,
      );
    }
    if (isPlainObject(x)) {
      this.out.byte(OP.EMPTY_DICT);
      this.put(x);
      const entries: [unknown, unknown][] = Object.keys(x).map((k) => [
        INT_KEY.test(k) && Number.isSafeInteger(Number(k)) ? Number(k) : k,
        x[k],
      ]);
      return this.setItems(entries, path);
    }
    throw new ValueError(
      `pickle: cannot write a ${describe(x)} at ${path}; expected None, bool, int, float, str, list, tuple, dict, Map or a tensor, got ${describe(x)}`,
    );
  }
}

/**
 * Pickles `value` with protocol 2, using only opcodes and globals that torch's
 * weights_only unpickler reads (see the module notes for the value model).
 * @example pickle(new Map([['step', 3]])) // collections.OrderedDict([('step', 3)])
 */
export function pickle(value: unknown): Uint8Array {
  const p = new Pickler();
  p.out.byte(OP.PROTO);
  p.out.byte(2);
  p.save(value, 'root');
  p.out.byte(OP.STOP);
  return p.out.buf.slice(0, p.out.len);
}

// ------------------------------------------------------------------- reader

class Mark {}
const MARK = new Mark();

const OPNAMES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x97: 'NEXT_BUFFER',
};

const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Python's decode_long: little-endian two's complement. Linear time: the bytes become one
 * hex string that BigInt parses at once (shifting in a byte at a time is quadratic).
 */
function decodeLong(b: Uint8Array): number | bigint {
  const n = b.length;
  if (n === 0) return 0;
  if (n <= 6) {
    let x = 0;
    for (let i = n - 1; i >= 0; i--) x = x * 256 + b[i]!;
    return (b[n - 1]! & 0x80) !== 0 ? x - 2 ** (8 * n) : x;
  }
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = HEX_BYTE[b[n - 1 - i]!]!;
  let x = BigInt(`0x${parts.join('')}`);
  if ((b[n - 1]! & 0x80) !== 0) x -= 1n << BigInt(8 * n);
  return toInt(x);
}

function toInt(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

/** `s`, cut to a length an error message can carry. */
function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

function parseTextInt(s: string, at: number, maxDigits: number): number | bigint | boolean {
  const t = s.endsWith('L') ? s.slice(0, -1) : s;
  if (t.length > maxDigits)
    throw new LimitError('pickle', `text int at byte ${at}`, 'maxIntBytes', maxDigits, t.length, 'digits');
  // Protocol 0 writes True and False as INT "01" and "00".
  if (t === '01') return true;
  if (t === '00') return false;
  if (!/^[+-]?\d+$/.test(t))
    throw new FormatError(`pickle: bad integer literal at byte ${at}; expected decimal digits, got '${clip(s)}'`);
  return toInt(BigInt(t));
}

/**
 * Runs the pickle VM over `bytes` and returns the value it builds (see the module
 * notes for the value model). Globals outside the allow-list are a FormatError.
 * @example unpickle(pickle([1, 'a', null])) // [1, 'a', null]
 */
export function unpickle(input: BytesInput, options: UnpickleOptions = {}): unknown {
  const bytes = toBytes(input, 'pickle');
  const globals = options.globals ?? SAFE_GLOBALS;
  const maxItems = limitOf('pickle', 'maxItems', options.maxItems, DEFAULT_LIMITS.maxItems(bytes.length));
  const maxIntBytes = limitOf('pickle', 'maxIntBytes', options.maxIntBytes, DEFAULT_LIMITS.maxIntBytes);
  const maxDepth = limitOf('pickle', 'maxDepth', options.maxDepth, DEFAULT_LIMITS.maxDepth);
  let work = 0;
  // Calls may copy or walk their arguments (OrderedDict(list), a tensor's size tuple), so each
  // element they receive costs one unit: a memoised container passed again and again adds up.
  const spend = (n: number): void => {
    work += n;
    if (work > maxItems) throw new LimitError('pickle', `work at byte ${opAt}`, 'maxItems', maxItems, work, 'items');
  };
  const sizeOf = (x: unknown): number =>
    Array.isArray(x)
      ? x.length
      : x instanceof PyTuple
        ? x.items.length
        : x instanceof Map || x instanceof Set
          ? x.size
          : typeof x === 'string' || x instanceof Uint8Array
            ? x.length
            : 0;
  const long = (n: number): number | bigint => {
    if (n > maxIntBytes) throw new LimitError('pickle', `int at byte ${opAt}`, 'maxIntBytes', maxIntBytes, n, 'bytes');
    return decodeLong(take(n));
  };
  const textInt = (): number | bigint | boolean => parseTextInt(line(), opAt, maxIntBytes);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8d = new TextDecoder('utf-8');
  const memo = new Map<number, unknown>();
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  let pos = 0;
  let opAt = 0;

  const fail = (what: string, expected: string, got: string): never => {
    throw new FormatError(`pickle: ${what} at byte ${opAt}; expected ${expected}, got ${got}`);
  };
  const need = (n: number): number => {
    if (pos + n > bytes.length) {
      throw new FormatError(
        `pickle: truncated data at byte ${opAt}; expected ${n} more bytes, got ${bytes.length - pos}`,
      );
    }
    const at = pos;
    pos += n;
    return at;
  };
  const take = (n: number): Uint8Array => {
    const at = need(n);
    return bytes.subarray(at, at + n);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0)
      throw new FormatError(
        `pickle: truncated data at byte ${opAt}; expected a newline-terminated argument, got end of data`,
      );
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow', 'a value on the stack', 'an empty stack');
    const x = stack.pop();
    if (x === MARK) fail('misplaced MARK', 'a value', 'a MARK');
    return x;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow', 'a value on the stack', 'an empty stack');
    return stack[stack.length - 1];
  };
  // Callers must not write `stack.push(popMark())`: `stack` would be read before popMark swaps it.
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) fail('MARK missing', 'a MARK before this opcode', 'none');
    stack = prev!;
    return items;
  };
  const u32 = (): number => v.getUint32(need(4), true);
  const u64 = (): number => {
    const x = v.getBigUint64(need(8), true);
    if (x > BigInt(bytes.length)) fail('length past the end', `at most ${bytes.length - pos}`, String(x));
    return Number(x);
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const path = `${module}.${name}`;
    if (!globals.has(path)) {
      const names = [...globals.keys()];
      throw new FormatError(
        `pickle: global not allowed at byte ${opAt}; expected one of ${names.length} allowed globals (${names.join(', ')}), got ${clip(path, 200)}`,
      );
    }
    return new PyGlobal(module, name);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal)) return fail('call of a non-global', 'an allowed global', describe(fn));
    const handler = (fn as PyGlobal).path;
    const h = globals.get(handler);
    if (h?.call === undefined)
      return fail(`call of ${handler}`, 'a callable global', `${handler}, which may only be referenced`);
    if (!(args instanceof PyTuple)) return fail(`bad arguments to ${handler}`, 'a tuple', describe(args));
    const items = (args as PyTuple).items;
    let cost = items.length;
    for (const a of items) cost += sizeOf(a);
    spend(cost);
    return h.call(items);
  };
  const setItem = (d: unknown, k: unknown, value: unknown): void => {
    if (!(d instanceof Map)) fail('SETITEM on a non-dict', 'a dict', describe(d));
    (d as Map<unknown, unknown>).set(k, value);
  };

  for (;;) {
    opAt = pos;
    if (pos >= bytes.length) {
      throw new FormatError(`pickle: truncated data at byte ${pos}; expected a STOP opcode, got end of data`);
    }
    const op = bytes[pos++]!;
    if (++work > maxItems) spend(0);
    switch (op) {
      case 0x80: {
        // PROTO
        const p = bytes[need(1)]!;
        if (p > 5) fail('unsupported protocol', 'protocol 0 to 5', String(p));
        break;
      }
      case 0x95:
        need(8);
        break; // FRAME: framing only, the data follows inline
      case 0x2e: {
        // STOP
        const x = pop();
        checkDepth(x, maxDepth);
        return x;
      }
      case 0x28:
        metastack.push(stack);
        stack = [];
        break; // MARK
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4b:
        stack.push(bytes[need(1)]!);
        break; // BININT1
      case 0x4d:
        stack.push(v.getUint16(need(2), true));
        break; // BININT2
      case 0x4a:
        stack.push(v.getInt32(need(4), true));
        break; // BININT
      case 0x8a:
        stack.push(long(bytes[need(1)]!));
        break; // LONG1
      case 0x8b: {
        // LONG4
        const n = v.getInt32(need(4), true);
        if (n < 0) fail('negative LONG4 length', 'a length >= 0', String(n));
        stack.push(long(n));
        break;
      }
      case 0x49:
        stack.push(textInt());
        break; // INT
      case 0x4c:
        stack.push(textInt());
        break; // LONG
      case 0x46: {
        // FLOAT
        const s = line().trim();
        // Python's repr writes inf, -inf and nan.
        const x = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? NaN : s === '' ? NaN : Number(s);
        if (Number.isNaN(x) && s !== 'nan') fail('bad float literal', 'a decimal float', `'${clip(s)}'`);
        stack.push(x);
        break;
      }
      case 0x47:
        stack.push(v.getFloat64(need(8), false));
        break; // BINFLOAT
      case 0x58:
        stack.push(utf8d.decode(take(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(utf8d.decode(take(bytes[need(1)]!)));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(utf8d.decode(take(u64())));
        break; // BINUNICODE8
      case 0x56: {
        // UNICODE (raw-unicode-escape)
        stack.push(
          line().replace(
            /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
            (_m, a: string | undefined, b: string | undefined) => String.fromCodePoint(parseInt(a ?? b ?? '0', 16)),
          ),
        );
        break;
      }
      // Python 2 str: torch decodes it as text (its persistent ids held 'storage' this way).
      case 0x55:
        stack.push(latin1.decode(take(bytes[need(1)]!)));
        break; // SHORT_BINSTRING
      case 0x54:
        stack.push(latin1.decode(take(u32())));
        break; // BINSTRING
      case 0x43:
        stack.push(take(bytes[need(1)]!).slice());
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(take(u32()).slice());
        break; // BINBYTES
      case 0x8e:
        stack.push(take(u64()).slice());
        break; // BINBYTES8
      case 0x96:
        stack.push(take(u64()).slice());
        break; // BYTEARRAY8
      case 0x98:
        break; // READONLY_BUFFER: no-op on an in-band buffer
      case 0x29:
        stack.push(new PyTuple([]));
        break; // EMPTY_TUPLE
      case 0x74: {
        const t = new PyTuple(popMark());
        stack.push(t);
        break;
      } // TUPLE
      case 0x85:
        stack.push(new PyTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c: {
        const l = popMark();
        stack.push(l);
        break;
      } // LIST
      case 0x61: {
        // APPEND
        const x = pop();
        const list = top();
        if (!Array.isArray(list)) fail('APPEND to a non-list', 'a list', describe(list));
        (list as unknown[]).push(x);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail('APPENDS to a non-list', 'a list', describe(list));
        for (const x of items) (list as unknown[]).push(x);
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: {
        const x = pop();
        const k = pop();
        setItem(top(), k, x);
        break;
      } // SETITEM
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('odd SETITEMS', 'key/value pairs', `${items.length} items`);
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x8f:
        stack.push(new Set());
        break; // EMPTY_SET
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS to a non-set', 'a set', describe(s));
        for (const x of items) (s as Set<unknown>).add(x);
        break;
      }
      case 0x91: {
        const f = new Set(popMark());
        stack.push(f);
        break;
      } // FROZENSET
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          fail('bad STACK_GLOBAL', 'two strings', `${describe(module)} and ${describe(name)}`);
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      } // REDUCE
      case 0x81: {
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      } // NEWOBJ
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0)
          fail('NEWOBJ_EX with keyword arguments', 'no keyword arguments', describe(kwargs));
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const inst = top();
        // torch's state dicts carry `_metadata` (module versions) this way; it is dropped.
        if (!(inst instanceof Map)) fail('BUILD on a non-dict', 'an OrderedDict', describe(inst));
        void state;
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (options.persistentLoad === undefined) fail('persistent id', 'no persistent ids', 'one');
        spend(sizeOf(pid));
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x50: {
        // PERSID
        const pid = line();
        if (options.persistentLoad === undefined) fail('persistent id', 'no persistent ids', 'one');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x71:
        memo.set(bytes[need(1)]!, top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x70:
        memo.set(Number(textInt()), top());
        break; // PUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
      case 0x6a:
      case 0x67: {
        // BINGET, LONG_BINGET, GET
        const i = op === 0x68 ? bytes[need(1)]! : op === 0x6a ? u32() : Number(textInt());
        if (!memo.has(i)) fail('memo key not found', `a key stored by PUT (${memo.size} stored)`, String(i));
        stack.push(memo.get(i));
        break;
      }
      default:
        fail(
          'unsupported opcode',
          'an opcode of protocols 0-5 that builds plain data',
          `0x${op.toString(16).padStart(2, '0')}${OPNAMES[op] === undefined ? '' : ` (${OPNAMES[op]})`}`,
        );
    }
  }
}

/**
 * Throws a {@link LimitError} when containers nest deeper than `max`, measured as a
 * recursive walk that enters each container once (as loadTorch's conversion does).
 * Iterative, so a deep pickle cannot overflow the stack here.
 */
function checkDepth(root: unknown, max: number): void {
  const seen = new Set<object>();
  const todo: unknown[] = [root];
  const depths: number[] = [1];
  const kids: unknown[] = [];
  while (todo.length > 0) {
    const x = todo.pop();
    const d = depths.pop()!;
    if (x === null || typeof x !== 'object' || seen.has(x)) continue;
    kids.length = 0;
    if (Array.isArray(x)) for (const k of x as unknown[]) kids.push(k);
    else if (x instanceof PyTuple) for (const k of x.items) kids.push(k);
    else if (x instanceof Map) for (const [k, v] of x as Map<unknown, unknown>) kids.push(k, v);
    else if (x instanceof Set) for (const k of x as Set<unknown>) kids.push(k);
    else continue;
    seen.add(x);
    if (d > max) throw new LimitError('pickle', 'nesting depth', 'maxDepth', max, `more than ${max}`, 'levels');
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i];
      if (k !== null && typeof k === 'object' && !seen.has(k)) {
        todo.push(k);
        depths.push(d + 1);
      }
    }
  }
}
