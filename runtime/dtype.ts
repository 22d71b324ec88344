/**
 * @module dtype — element types, their storage arrays and PyTorch's promotion order.
 *
 * `bool` is stored one byte per element (Uint8Array, 0 or 1). `float64` exists
 * for the gradient checker and is supported by the reference backend only.
 */
import { DTypeError } from './errors.ts';

/** The element types a tensor can hold. */
export type DType = 'float32' | 'int32' | 'bool' | 'float64';

/** The typed array that stores each dtype. */
export type StorageArray = Float32Array | Int32Array | Uint8Array | Float64Array;

/** All dtypes, in promotion order (a later one wins). */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

/** Bytes per element, e.g. `bytesPerElement('float32') === 4`. */
export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'bool':
      return 1;
    case 'int32':
      return 4;
    case 'float32':
      return 4;
    case 'float64':
      return 8;
  }
}

/** A zeroed storage array, e.g. `allocArray('int32', 3)` is `Int32Array(3)`. */
export function allocArray(dtype: DType, length: number): StorageArray {
  switch (dtype) {
    case 'bool':
      return new Uint8Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
  }
}

/** True for float32 and float64. */
export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/**
 * The result type of a binary op, as torch.result_type for tensors of equal
 * rank category: bool < int32 < float32 < float64.
 * @example promoteTypes('int32', 'float32') // 'float32'
 */
export function promoteTypes(a: DType, b: DType): DType {
  return DTYPES.indexOf(a) >= DTYPES.indexOf(b) ? a : b;
}

/** The dtype a storage array holds. */
export function dtypeOfArray(a: StorageArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return 'float64';
}

/** Throws unless `dtype` is one of `allowed`. */
export function checkDType(op: string, dtype: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(dtype)) {
    throw new DTypeError(`${op}: unsupported dtype; expected one of ${allowed.join(', ')}, got ${dtype}`);
  }
}
