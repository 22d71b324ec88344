/**
 * @module io/safetensors — the safetensors format (Hugging Face), for weights-only export and import.
 *
 * Layout: an 8-byte little-endian header length N; N bytes of UTF-8 JSON mapping
 * each tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
 * to the data that follows) plus an optional `__metadata__` of string values; then
 * the tensors' row-major little-endian bytes. The writer pads the header with spaces
 * so the data starts on an 8-byte boundary and orders tensors as the reference
 * implementation does (wider dtypes first, then by name).
 *
 * The reader checks what the reference implementation checks: a header inside the
 * file and under 100 MB, JSON that is an object, known dtypes, sizes that match
 * shapes, and offsets that tile the data exactly (no gaps, overlaps, or bytes past
 * the end). Each failure is a {@link FormatError}. The input may be any `ArrayBufferView`
 * or `ArrayBuffer` and is read only inside its range; the header's JSON may nest at most
 * `maxDepth` levels (a {@link LimitError} past that). Tensors never take more bytes than
 * the file holds (the offsets tile the data exactly), at most 4x once widened to int32.
 *
 * dtypes: F32 ↔ float32, F64 ↔ float64, I32 ↔ int32, BOOL ↔ bool; I64 is read into
 * int32 (out-of-range values are an error) and written from an {@link Int64}
 * marker; F16 and BF16 are read into float32, and I8, U8 and I16 into int32.
 */
import type { Backend } from '../backend.ts';
import type { DType, StorageArray } from '../dtype.ts';
import { ValueError } from '../errors.ts';
import { numelOf } from '../shape.ts';
import { Tensor, backendOr } from '../tensor/index.ts';
import { DEFAULT_LIMITS, copyBytes, limitOf, toBytes, type BytesInput, type ReadLimits } from './bytes.ts';
import { FormatError, LimitError } from './errors.ts';
import { halfToNumber } from '../float16.ts';
import { Int64 } from './torch-ckpt.ts';

/** A loaded safetensors file. */
export interface SafetensorsFile {
  /** The tensors, in the order of their data in the file. */
  readonly tensors: Map<string, Tensor>;
  /** The `__metadata__` strings, or null when the file has none. */
  readonly metadata: Record<string, string> | null;
}

/** Options of {@link loadSafetensors}; `maxDepth` (default 1000) bounds the header's JSON nesting. */
export interface LoadSafetensorsOptions extends Pick<ReadLimits, 'maxDepth'> {
  /** The backend the tensors go to (default: the default backend). */
  readonly backend?: Backend;
}

interface Kind {
  readonly dtype: DType;
  readonly size: number;
  /** The reference implementation's sort rank: higher is written first. */
  readonly rank: number;
}

const KINDS: Readonly<Record<string, Kind>> = {
  BOOL: { dtype: 'bool', size: 1, rank: 0 },
  U8: { dtype: 'int32', size: 1, rank: 1 },
  I8: { dtype: 'int32', size: 1, rank: 2 },
  I16: { dtype: 'int32', size: 2, rank: 5 },
  F16: { dtype: 'float32', size: 2, rank: 7 },
  BF16: { dtype: 'float32', size: 2, rank: 8 },
  I32: { dtype: 'int32', size: 4, rank: 9 },
  F32: { dtype: 'float32', size: 4, rank: 11 },
  F64: { dtype: 'float64', size: 8, rank: 12 },
  I64: { dtype: 'int32', size: 8, rank: 13 },
};

const WRITE_NAMES: Readonly<Record<DType, string>> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/** The reference implementation's limit on the header. */
const MAX_HEADER = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * A safetensors file holding `tensors` (an {@link Int64} marker writes I64) and optional string `metadata`.
 * @example
 * const bytes = await saveSafetensors(model.stateDict(), { format: 'pt' });
 */
export async function saveSafetensors(
  tensors: ReadonlyMap<string, Tensor | Int64> | Readonly<Record<string, Tensor | Int64>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<Uint8Array> {
  if (!LITTLE_ENDIAN_HOST)
    throw new FormatError('safetensors: big-endian host; expected a little-endian host, got big-endian');
  const entries =
    tensors instanceof Map ? [...(tensors as ReadonlyMap<string, Tensor | Int64>)] : Object.entries(tensors);
  interface Item {
    name: string;
    kind: string;
    shape: readonly number[];
    data: Uint8Array;
  }
  const items: Item[] = [];
  for (const [name, t] of entries) {
    if (name === '__metadata__')
      throw new ValueError(
        "safetensors: reserved tensor name; expected any name but '__metadata__', got '__metadata__'",
      );
    if (t instanceof Int64) {
      const v = t.value;
      const values = typeof v === 'number' || typeof v === 'bigint' ? [v] : Array.from(await v.data());
      const out = new BigInt64Array(values.length);
      values.forEach((x, i) => {
        if (typeof x === 'number' && !Number.isSafeInteger(x)) {
          throw new ValueError(
            `safetensors: int64 tensor '${nameOf(name)}' holds a non-integer; expected integers, got ${x} at flat index ${i}`,
          );
        }
        out[i] = BigInt(x);
      });
      items.push({ name, kind: 'I64', shape: v instanceof Tensor ? v.shape : [], data: bytesOf(out) });
    } else if (t instanceof Tensor) {
      items.push({ name, kind: WRITE_NAMES[t.dtype], shape: t.shape, data: bytesOf(await t.data()) });
    } else {
      throw new ValueError(
        `safetensors: '${nameOf(name)}' is not a tensor; expected a Tensor or int64(...), got ${typeof t}`,
      );
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new ValueError(`safetensors: metadata '${k}' is not a string; expected string values, got ${typeof v}`);
    }
  }
  items.sort((a, b) => KINDS[b.kind]!.rank - KINDS[a.kind]!.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header['__metadata__'] = { ...metadata };
  let at = 0;
  for (const it of items) {
    header[it.name] = { dtype: it.kind, shape: [...it.shape], data_offsets: [at, at + it.data.length] };
    at += it.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let o = 8 + padded;
  for (const it of items) {
    out.set(it.data, o);
    o += it.data.length;
  }
  return out;
}

function decode(kind: string, raw: Uint8Array, name: string): StorageArray {
  // A fresh aligned copy; not raw.slice().buffer, which for a Node Buffer is the whole pool.
  const buf = copyBytes(raw).buffer;
  switch (kind) {
    case 'F32':
      return new Float32Array(buf);
    case 'F64':
      return new Float64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'BOOL':
      return new Uint8Array(buf).map((b) => (b === 0 ? 0 : 1));
    case 'U8':
      return Int32Array.from(new Uint8Array(buf));
    case 'I8':
      return Int32Array.from(new Int8Array(buf));
    case 'I16':
      return Int32Array.from(new Int16Array(buf));
    case 'F16':
      return Float32Array.from(new Uint16Array(buf), halfToNumber);
    case 'BF16': {
      const src = new Uint16Array(buf);
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    default: {
      // I64
      const src = new BigInt64Array(buf);
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const x = src[i]!;
        if (x < -2147483648n || x > 2147483647n) {
          throw new FormatError(
            `safetensors: int64 value out of int32 range in '${nameOf(name)}'; expected values in [-2147483648, 2147483647], got ${x} at element ${i}`,
          );
        }
        out[i] = Number(x);
      }
      return out;
    }
  }
}

/** A JSON value for an error message: short, and safe however deep it nests. */
function show(x: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(x) ?? String(x);
  } catch {
    text = 'a value nested too deeply to show';
  }
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

/** A tensor name for an error message, cut to a readable length. */
function nameOf(name: string): string {
  return name.length > 120 ? `${name.slice(0, 120)}...` : name;
}

/** The deepest nesting of arrays and objects in JSON text, scanned before parsing. */
function jsonDepth(text: Uint8Array, max: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max)
        throw new LimitError('safetensors', 'header nesting depth', 'maxDepth', max, `more than ${max}`, 'levels');
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reads a safetensors file, validating it strictly (see the module notes).
 * @example
 * const { tensors, metadata } = loadSafetensors(await platform.readFile('model.safetensors'));
 * model.loadStateDict(tensors);
 */
export function loadSafetensors(input: BytesInput, options: LoadSafetensorsOptions = {}): SafetensorsFile {
  if (!LITTLE_ENDIAN_HOST)
    throw new FormatError('safetensors: big-endian host; expected a little-endian host, got big-endian');
  const bytes = toBytes(input, 'safetensors');
  const maxDepth = limitOf('safetensors', 'maxDepth', options.maxDepth, DEFAULT_LIMITS.maxDepth);
  if (bytes.length < 8) {
    throw new FormatError(`safetensors: truncated header length; expected at least 8 bytes, got ${bytes.length}`);
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) {
    throw new FormatError(`safetensors: header too large; expected at most ${MAX_HEADER} bytes, got ${n64}`);
  }
  const n = Number(n64);
  if (8 + n > bytes.length) {
    throw new FormatError(
      `safetensors: truncated header; expected ${n} header bytes after the length, got ${bytes.length - 8}`,
    );
  }
  if (n < 2 || bytes[8] !== 0x7b) {
    throw new FormatError(
      `safetensors: bad header; expected JSON starting with '{', got ${n === 0 ? 'an empty header' : `byte 0x${bytes[8]!.toString(16)}`}`,
    );
  }
  jsonDepth(bytes.subarray(8, 8 + n), maxDepth);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FormatError(`safetensors: bad header JSON; expected a JSON object, got a parse error (${reason})`, {
      cause: error,
    });
  }
  if (!isRecord(header))
    throw new FormatError(
      `safetensors: bad header; expected a JSON object, got ${Array.isArray(header) ? 'an array' : typeof header}`,
    );
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;

  let metadata: Record<string, string> | null = null;
  interface Entry {
    name: string;
    kind: string;
    shape: number[];
    begin: number;
    end: number;
  }
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(info) || !Object.values(info).every((v) => typeof v === 'string')) {
        throw new FormatError('safetensors: bad __metadata__; expected an object of strings, got another value');
      }
      metadata = { ...(info as Record<string, string>) };
      continue;
    }
    if (!isRecord(info))
      throw new FormatError(
        `safetensors: bad entry '${nameOf(name)}'; expected {dtype, shape, data_offsets}, got ${show(info)}`,
      );
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || KINDS[dtype] === undefined) {
      throw new FormatError(
        `safetensors: unsupported dtype of '${nameOf(name)}'; expected one of ${Object.keys(KINDS).join(', ')}, got ${show(dtype)}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new FormatError(
        `safetensors: bad shape of '${nameOf(name)}'; expected an array of non-negative integers, got ${show(shape)}`,
      );
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) ||
      (offsets[0] as number) > (offsets[1] as number)
    ) {
      throw new FormatError(
        `safetensors: bad data_offsets of '${nameOf(name)}'; expected [begin, end] with 0 <= begin <= end, got ${show(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const s = shape as number[];
    const expected = numelOf(s) * KINDS[dtype]!.size;
    if (end - begin !== expected) {
      throw new FormatError(
        `safetensors: size of '${nameOf(name)}' does not match its shape; expected ${expected} bytes for ${dtype} ${show(s)}, got ${end - begin}`,
      );
    }
    entries.push({ name, kind: dtype, shape: s, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin !== at) {
      throw new FormatError(
        e.begin < at
          ? `safetensors: '${nameOf(e.name)}' overlaps the tensor before it; expected data_offsets to start at ${at}, got ${e.begin}`
          : `safetensors: gap before '${nameOf(e.name)}'; expected data_offsets to start at ${at}, got ${e.begin}`,
      );
    }
    at = e.end;
  }
  if (at !== dataLength) {
    throw new FormatError(
      at > dataLength
        ? `safetensors: truncated data; expected ${at} bytes of tensor data, got ${dataLength}`
        : `safetensors: trailing bytes after the tensors; expected ${at} bytes of tensor data, got ${dataLength}`,
    );
  }
  const backend = backendOr(options.backend);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const data = decode(e.kind, bytes.subarray(dataStart + e.begin, dataStart + e.end), e.name);
    tensors.set(e.name, Tensor.fromArray(backend, KINDS[e.kind]!.dtype, e.shape, data));
  }
  return { tensors, metadata };
}
