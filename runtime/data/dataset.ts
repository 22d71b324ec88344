/**
 * @module data/dataset — map-style and iterable datasets, Subset and ConcatDataset
 * (torch.utils.data.Dataset and friends).
 *
 * A map-style dataset has `length` and `getItem(index)` (`__len__` and
 * `__getitem__` in PyTorch); `getItem` may return a value or a Promise. It may
 * also offer `getBatch(indices)`, which returns an already collated batch in
 * one step (TensorDataset gathers whole rows at once); DataLoader uses it when
 * no `collateFn` is given.
 */
import { IndexError, ValueError } from '../errors.ts';

/**
 * A map-style dataset: `length` items, read by index. Subclass it, or pass any
 * object with the same two members.
 * @example
 * class Squares extends Dataset<[number, number]> {
 *   readonly length = 10;
 *   getItem(i: number): [number, number] { return [i, i * i]; }
 * }
 */
export abstract class Dataset<T> {
  /** The number of items, as `len(dataset)`. */
  abstract readonly length: number;
  /** The item at `index` (0 <= index < length), as `dataset[index]`. */
  abstract getItem(index: number): T | Promise<T>;
}

/**
 * The optional batch fast path of a map-style dataset: the collated batch of
 * `indices` in one call, equal to `defaultCollate(indices.map(getItem))`.
 * @example
 * const [x, y] = await tensorDataset.getBatch([3, 1, 2]); // x: rows 3, 1, 2 in one gather
 */
export interface BatchedDataset<T, B> extends Dataset<T> {
  getBatch(indices: readonly number[]): B | Promise<B>;
}

/**
 * True when `dataset` offers `getBatch`.
 * @example hasGetBatch(new TensorDataset(x, y)) // true
 */
export function hasGetBatch<T>(dataset: Dataset<T>): dataset is BatchedDataset<T, unknown> {
  return typeof (dataset as Partial<BatchedDataset<T, unknown>>).getBatch === 'function';
}

/**
 * A dataset read as a stream (torch.utils.data.IterableDataset): implement
 * `[Symbol.asyncIterator]`. DataLoader batches it in order; it cannot be shuffled
 * or sampled. `length` is optional (it lets `DataLoader.length` answer).
 * @example
 * class Counter extends IterableDataset<number> {
 *   async *[Symbol.asyncIterator]() { for (let i = 0; i < 5; i++) yield i; }
 * }
 */
export abstract class IterableDataset<T> implements AsyncIterable<T> {
  abstract [Symbol.asyncIterator](): AsyncIterator<T>;
}

/**
 * True for iterable-style datasets (anything async-iterable or iterable without `getItem`).
 * @example isIterableDataset([1, 2, 3]) // true; isIterableDataset(new TensorDataset(x)) // false
 */
export function isIterableDataset<T>(dataset: unknown): dataset is AsyncIterable<T> | Iterable<T> {
  if (typeof dataset !== 'object' || dataset === null) return false;
  if (typeof (dataset as Partial<Dataset<T>>).getItem === 'function') return false;
  return Symbol.asyncIterator in dataset || Symbol.iterator in dataset;
}

/** @internal Throws an IndexError unless 0 <= index < length (negative indices count from the end, as in Python). */
export function checkIndex(component: string, index: number, length: number): number {
  const i = index < 0 ? index + length : index;
  if (!Number.isInteger(i) || i < 0 || i >= length) {
    throw new IndexError(
      `${component}: index out of range; expected an integer in [${-length}, ${length}), got ${index}`,
    );
  }
  return i;
}

/**
 * The items of `dataset` at `indices`, in that order (torch.utils.data.Subset).
 * `randomSplit` returns these.
 * @example const firstTen = new Subset(ds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 */
export class Subset<T> extends Dataset<T> {
  readonly dataset: Dataset<T>;
  readonly indices: readonly number[];
  /** Present only when the wrapped dataset has `getBatch`: the indices are mapped and batched there. */
  readonly getBatch?: (indices: readonly number[]) => unknown;

  constructor(dataset: Dataset<T>, indices: readonly number[] | Int32Array) {
    super();
    this.dataset = dataset;
    this.indices = Array.from(indices);
    const n = dataset.length;
    for (const i of this.indices) checkIndex('Subset', i, n);
    if (hasGetBatch(dataset)) {
      this.getBatch = (batch) =>
        dataset.getBatch(batch.map((i) => this.indices[checkIndex('Subset', i, this.indices.length)]!));
    }
  }

  get length(): number {
    return this.indices.length;
  }

  getItem(index: number): T | Promise<T> {
    return this.dataset.getItem(this.indices[checkIndex('Subset', index, this.indices.length)]!);
  }
}

/**
 * Several datasets read as one, in order (torch.utils.data.ConcatDataset).
 * @example const all = new ConcatDataset([trainSet, extraSet]); all.length // sum of both
 */
export class ConcatDataset<T> extends Dataset<T> {
  readonly datasets: readonly Dataset<T>[];
  /** Running totals of the lengths, as torch's `cumulative_sizes`. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: readonly Dataset<T>[]) {
    super();
    if (datasets.length === 0) {
      throw new ValueError('ConcatDataset: no datasets; expected at least 1 dataset, got 0');
    }
    for (const d of datasets) {
      if (isIterableDataset(d)) {
        throw new ValueError(
          'ConcatDataset: does not support iterable datasets; expected map-style datasets with getItem, got an IterableDataset',
        );
      }
    }
    this.datasets = [...datasets];
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => (total += d.length));
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1] ?? 0;
  }

  getItem(index: number): T | Promise<T> {
    const i = checkIndex('ConcatDataset', index, this.length);
    // Binary search for the first cumulative size above i (bisect_right).
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulativeSizes[mid]! > i) hi = mid;
      else lo = mid + 1;
    }
    const start = lo === 0 ? 0 : this.cumulativeSizes[lo - 1]!;
    return this.datasets[lo]!.getItem(i - start);
  }
}
