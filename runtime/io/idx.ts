/**
 * @module io/idx — the IDX format of MNIST-style datasets (LeCun et al.), as pure functions.
 *
 * Layout: magic `0x00 0x00 <type> <ndim>`, then `ndim` big-endian uint32 sizes,
 * then the elements, big-endian, row-major. Types: 0x08 uint8, 0x09 int8,
 * 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 * Parsing is strict: a bad magic number, a truncated header or body, and
 * trailing bytes each raise a {@link FormatError}. The reader takes any
 * `ArrayBufferView` or `ArrayBuffer`, reads only inside it, and allocates only
 * after the declared shape is checked against the bytes present.
 */
import { copyBytes, toBytes, type BytesInput } from './bytes.ts';
import { FormatError } from './errors.ts';

/** The element types IDX files hold. */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array each {@link IdxDType} parses into (native byte order). */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: row-major elements and their shape. */
export interface IdxData {
  readonly dtype: IdxDType;
  readonly shape: readonly number[];
  readonly data: IdxArray;
}

const CODES: readonly (readonly [number, IdxDType, number])[] = [
  [0x08, 'uint8', 1],
  [0x09, 'int8', 1],
  [0x0b, 'int16', 2],
  [0x0c, 'int32', 4],
  [0x0d, 'float32', 4],
  [0x0e, 'float64', 8],
];

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Parses IDX bytes (already decompressed). The result owns its data (a copy,
 * converted from big-endian).
 * @example
 * const { dtype, shape, data } = parseIdx(bytes); // 'uint8', [60000, 28, 28], Uint8Array
 */
export function parseIdx(input: BytesInput, name = 'idx'): IdxData {
  const bytes = toBytes(input, name);
  if (bytes.length < 4) {
    throw new FormatError(
      `${name}: truncated header; expected at least 4 bytes (magic 0x00 0x00 <type> <ndim>), got ${bytes.length}`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(
      `${name}: bad magic number; expected 0x00 0x00 <type> <ndim>, got ${Array.from(bytes.subarray(0, 4), hex).join(' ')}`,
    );
  }
  const code = bytes[2]!;
  const entry = CODES.find(([c]) => c === code);
  if (entry === undefined) {
    throw new FormatError(
      `${name}: unknown data type code; expected one of ${CODES.map(([c]) => hex(c)).join(', ')}, got ${hex(code)}`,
    );
  }
  const [, dtype, size] = entry;
  const ndim = bytes[3]!;
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) {
    throw new FormatError(
      `${name}: truncated header; expected ${headerLength} bytes for ${ndim} dimensions, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const got = bytes.length - headerLength;
  // A zero anywhere makes 0, even after the product overflowed to Infinity (0 * Infinity is NaN);
  // a product past 2^53 is inexact but far above any real length, so the checks below refuse it.
  const numel = shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1);
  const expected = numel * size;
  if (got < expected) {
    throw new FormatError(
      `${name}: truncated data; expected ${expected} bytes for shape ${shapeString(shape)} ${dtype}, got ${got}`,
    );
  }
  if (got > expected) {
    throw new FormatError(
      `${name}: trailing bytes after the data; expected ${expected} bytes for shape ${shapeString(shape)} ${dtype}, got ${got}`,
    );
  }
  return { dtype, shape, data: readElements(view, headerLength, numel, dtype, bytes) };
}

function readElements(view: DataView, at: number, n: number, dtype: IdxDType, bytes: Uint8Array): IdxArray {
  switch (dtype) {
    case 'uint8':
      return copyBytes(bytes.subarray(at, at + n));
    case 'int8':
      return new Int8Array(copyBytes(bytes.subarray(at, at + n)).buffer);
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

/**
 * Encodes elements as IDX bytes (the inverse of {@link parseIdx}).
 * @example encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([3, 7]) })
 * // Uint8Array [0, 0, 8, 1, 0, 0, 0, 2, 3, 7]
 */
export function encodeIdx(idx: IdxData): Uint8Array {
  const entry = CODES.find(([, d]) => d === idx.dtype);
  if (entry === undefined) {
    throw new FormatError(
      `idx: unknown dtype; expected one of ${CODES.map(([, d]) => d).join(', ')}, got ${String(idx.dtype)}`,
    );
  }
  const [code, dtype, size] = entry;
  if (idx.shape.length > 255) {
    throw new FormatError(`idx: too many dimensions; expected at most 255, got ${idx.shape.length}`);
  }
  const numel = idx.shape.reduce((a, b) => a * b, 1);
  if (idx.data.length !== numel) {
    throw new FormatError(
      `idx: data length does not match the shape; expected ${numel} elements for ${shapeString(idx.shape)}, got ${idx.data.length}`,
    );
  }
  const header = 4 + 4 * idx.shape.length;
  const out = new Uint8Array(header + numel * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = idx.shape.length;
  idx.shape.forEach((n, i) => view.setUint32(4 + 4 * i, n, false));
  for (let i = 0; i < numel; i++) {
    const v = idx.data[i]!;
    const at = header + i * size;
    switch (dtype) {
      case 'uint8':
        view.setUint8(at, v);
        break;
      case 'int8':
        view.setInt8(at, v);
        break;
      case 'int16':
        view.setInt16(at, v, false);
        break;
      case 'int32':
        view.setInt32(at, v, false);
        break;
      case 'float32':
        view.setFloat32(at, v, false);
        break;
      case 'float64':
        view.setFloat64(at, v, false);
        break;
    }
  }
  return out;
}
