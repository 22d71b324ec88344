/**
 * @module io/bytes — the input side of every reader: any `ArrayBufferView` or
 * `ArrayBuffer`, seen as exactly its own bytes, and the limits a file may not exceed.
 *
 * A Node `Buffer` from `fs.readFile` is often a view into a shared pool, and its
 * `slice()` returns another view, so `buf.slice().buffer` is the whole pool, not a copy.
 * Readers therefore turn their input into a plain `Uint8Array` over the view's
 * own range once ({@link toBytes}), and copy with {@link copyBytes}, never with
 * `.slice().buffer`.
 */
import { ValueError } from '../errors.ts';
import { LimitError } from './errors.ts';

/** What a reader accepts: any typed array, DataView or Node Buffer (its own range only), or a whole buffer. */
export type BytesInput = ArrayBufferView | ArrayBufferLike;

/**
 * The bounds a file may not make a reader exceed. Every field is optional; each
 * reader documents which ones it takes and their defaults ({@link DEFAULT_LIMITS}).
 * @example await loadTorch(bytes, { maxBytes: 8 * 2 ** 30 }) // an 8 GiB checkpoint of expanded views
 */
export interface ReadLimits {
  /**
   * The most bytes a reader may produce: inflated (gzip, zip DEFLATE) data, and the
   * tensor data a checkpoint materialises (stride-0 and overlapping views expand).
   * Default: the larger of 256 MiB and 16 times the input's length.
   */
  readonly maxBytes?: number;
  /** The deepest nesting of containers (pickle lists, tuples, dicts; safetensors header JSON). Default 1000, Python's recursion limit. */
  readonly maxDepth?: number;
  /**
   * The most work units one unpickle may spend: one per opcode, plus one per element a call
   * copies or examines (an OrderedDict built from a list, a tensor's size tuple). A pickle
   * without such calls spends about one unit per byte. Default: 2^20 plus twice the
   * pickle's length in bytes.
   */
  readonly maxItems?: number;
  /** The most bytes of one pickled int (LONG1/LONG4), or digits of a text INT/LONG. Default 65,536. */
  readonly maxIntBytes?: number;
}

/**
 * The default limits, as functions of the input's length in bytes.
 * @example DEFAULT_LIMITS.maxBytes(1000) // 268435456
 */
export const DEFAULT_LIMITS = {
  maxBytes: (inputLength: number): number => Math.max(256 * 2 ** 20, 16 * inputLength),
  maxDepth: 1000,
  maxItems: (inputLength: number): number => 2 ** 20 + 2 * inputLength,
  maxIntBytes: 65536,
} as const;

/**
 * A limit from options, checked to be a number >= 0, or its default.
 * @example limitOf('gzip', 'maxBytes', options.maxBytes, DEFAULT_LIMITS.maxBytes(bytes.length))
 */
export function limitOf(reader: string, name: keyof ReadLimits, given: number | undefined, fallback: number): number {
  if (given === undefined) return fallback;
  if (typeof given !== 'number' || Number.isNaN(given) || given < 0) {
    throw new ValueError(`${reader}: invalid ${name} option; expected a number >= 0, got ${String(given)}`);
  }
  return given;
}

/**
 * Throws a {@link LimitError} when `got` is over `max`.
 * @example checkLimit('gzip', 'inflated data', 'maxBytes', max, total, 'bytes')
 */
export function checkLimit(
  reader: string,
  what: string,
  limit: keyof ReadLimits,
  max: number,
  got: number,
  unit = '',
): void {
  if (!(got <= max)) throw new LimitError(reader, what, limit, max, got, unit);
}

/**
 * `input`'s own bytes as a plain `Uint8Array` over the same memory (no copy); never
 * the rest of a pooled Buffer's backing store.
 * @example toBytes(Buffer.from('hi'), 'idx') // Uint8Array [104, 105], not a Buffer
 */
export function toBytes(input: BytesInput, reader: string): Uint8Array {
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer))
    return new Uint8Array(input);
  const got =
    input === null
      ? 'null'
      : typeof input === 'object'
        ? ((Object.getPrototypeOf(input) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object')
        : typeof input;
  throw new ValueError(
    `${reader}: input is not bytes; expected an ArrayBufferView (Uint8Array, Buffer, DataView, ...) or an ArrayBuffer, got ${got}`,
  );
}

/**
 * A fresh, exactly sized copy of `bytes` (its own ArrayBuffer, aligned for any typed array).
 * @example new Float32Array(copyBytes(raw).buffer)
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/**
 * A short description of an untrusted value for an error message: bounded in length
 * and cost (no recursion into containers, no huge decimal conversions).
 * @example brief([1, 2, 3]) // 'an array of 3 items'
 */
export function brief(x: unknown, max = 60): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x === 'string') return JSON.stringify(x.length > max ? `${x.slice(0, max)}...` : x);
  if (typeof x === 'bigint') {
    const bits = x < 0n ? (-x).toString(16).length * 4 : x.toString(16).length * 4;
    return bits > 200 ? `an int of about ${bits} bits` : String(x);
  }
  if (typeof x !== 'object') return String(x);
  if (Array.isArray(x)) return `an array of ${x.length} items`;
  if (x instanceof Map) return `a dict of ${x.size} entries`;
  if (x instanceof Set) return `a set of ${x.size} items`;
  const name = (Object.getPrototypeOf(x) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === undefined || name === 'Object' ? 'an object' : `a ${name}`;
}
