/**
 * @module data/collate — turning a list of items into one batch
 * (torch.utils.data.default_collate).
 *
 * Tensors are stacked along a new first dim; numbers become a float32 tensor,
 * or an int32 tensor when every one is an integer (torch makes int64 for
 * Python ints, e.g. class labels); booleans a bool tensor; typed arrays a
 * stacked tensor; strings stay a list; tuples/arrays are collated position by
 * position and plain objects key by key.
 */
import { ShapeError, ValueError } from '../errors.ts';
import { Tensor, arrayFrom, backendOr, stack } from '../tensor/index.ts';
import { shapeString } from '../shape.ts';

/**
 * The batch type `defaultCollate` makes from items of type `T`.
 * @example type B = Collated<[Tensor, number]>; // [Tensor, Tensor]
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends ArrayBufferView
        ? Tensor
        : T extends readonly unknown[]
          ? { -readonly [K in keyof T]: Collated<T[K]> }
          : T extends object
            ? { -readonly [K in keyof T]: Collated<T[K]> }
            : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor ?? 'object';
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

type NumericArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Uint8ClampedArray;

function isNumericArray(value: unknown): value is NumericArray {
  return (
    value instanceof Float32Array ||
    value instanceof Float64Array ||
    value instanceof Int32Array ||
    value instanceof Int16Array ||
    value instanceof Int8Array ||
    value instanceof Uint8Array ||
    value instanceof Uint16Array ||
    value instanceof Uint8ClampedArray
  );
}

/**
 * Collates `batch` (a list of items) into one batch, as torch's default_collate.
 * @example
 * defaultCollate([[tensor([1, 2]), 0], [tensor([3, 4]), 1]])
 * // [Tensor [2, 2] float32, Tensor [2] int32 ([0, 1])]
 */
export function defaultCollate<T>(batch: readonly T[]): Collated<T> {
  return collate(batch, 'batch') as Collated<T>;
}

function collate(batch: readonly unknown[], path: string): unknown {
  const first = batch[0];
  if (batch.length === 0) {
    throw new ValueError('defaultCollate: empty batch; expected at least 1 item, got 0');
  }
  const kind = describe(first);
  for (const item of batch) {
    if (describe(item) !== kind) {
      throw new ValueError(
        `defaultCollate: items of one batch differ in type at ${path}; expected every item to be ${kind}, got ${describe(item)}`,
      );
    }
  }
  if (first instanceof Tensor) {
    const tensors = batch as readonly Tensor[];
    for (const t of tensors) {
      if (t.shape.length !== first.shape.length || t.shape.some((s, i) => s !== first.shape[i])) {
        throw new ShapeError(
          `defaultCollate: tensors of one batch differ in shape at ${path}; expected ${shapeString(first.shape)}, got ${shapeString(t.shape)}`,
        );
      }
    }
    return stack(tensors, 0);
  }
  if (typeof first === 'number') {
    const values = batch as readonly number[];
    const dtype = values.every((v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) ? 'int32' : 'float32';
    return Tensor.fromArray(backendOr(undefined), dtype, [values.length], arrayFrom(dtype, values));
  }
  if (typeof first === 'boolean') {
    const values = (batch as readonly boolean[]).map(Number);
    return Tensor.fromArray(backendOr(undefined), 'bool', [values.length], arrayFrom('bool', values));
  }
  if (typeof first === 'string') return [...(batch as readonly string[])];
  if (isNumericArray(first)) {
    const arrays = batch as readonly NumericArray[];
    const n = first.length;
    for (const a of arrays) {
      if (a.length !== n) {
        throw new ShapeError(
          `defaultCollate: arrays of one batch differ in length at ${path}; expected ${n}, got ${a.length}`,
        );
      }
    }
    const dtype = first instanceof Float32Array || first instanceof Float64Array ? 'float32' : 'int32';
    const flat = dtype === 'float32' ? new Float32Array(n * arrays.length) : new Int32Array(n * arrays.length);
    arrays.forEach((a, k) => flat.set(a, k * n));
    return Tensor.fromArray(backendOr(undefined), dtype, [arrays.length, n], flat);
  }
  if (Array.isArray(first)) {
    const rows = batch as readonly (readonly unknown[])[];
    const width = first.length;
    for (const r of rows) {
      if (r.length !== width) {
        throw new ShapeError(
          `defaultCollate: each element in list of batch should be of equal size at ${path}; expected length ${width}, got ${r.length}`,
        );
      }
    }
    const out: unknown[] = [];
    for (let j = 0; j < width; j++)
      out.push(
        collate(
          rows.map((r) => r[j]),
          `${path}[${j}]`,
        ),
      );
    return out;
  }
  if (typeof first === 'object' && first !== null && isPlainObject(first)) {
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      out[key] = collate(
        batch.map((item) => {
          if (!Object.hasOwn(item as object, key)) {
            throw new ValueError(
              `defaultCollate: an item lacks a key at ${path}; expected keys ${keys.join(', ')}, got ${Object.keys(item as object).join(', ')}`,
            );
          }
          return (item as Record<string, unknown>)[key];
        }),
        `${path}.${key}`,
      );
    }
    return out;
  }
  const hint = kind === 'RawImage' ? ' (turn images into tensors first, e.g. transform: new ToTensor())' : '';
  throw new ValueError(
    `defaultCollate: unsupported item type at ${path}${hint}; expected tensors, numbers, booleans, strings, typed arrays, arrays or plain objects, got ${kind}`,
  );
}
