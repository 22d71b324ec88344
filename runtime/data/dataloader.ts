/**
 * @module data/dataloader — batches from a dataset, by async iteration
 * (torch.utils.data.DataLoader).
 *
 * Runs in the calling thread (torch's `num_workers=0`). The per-batch cost is
 * the sampler plus either the dataset's `getBatch` (TensorDataset: one slice
 * or one gather per tensor) or `getItem` per index and a collate.
 */
import { ValueError } from '../errors.ts';
import type { Generator } from '../random.ts';
import { defaultCollate, type Collated } from './collate.ts';
import { hasGetBatch, isIterableDataset, type Dataset } from './dataset.ts';
import { BatchSampler, RandomSampler, SequentialSampler, type Sampler } from './sampler.ts';

/** Options of {@link DataLoader}; the defaults are PyTorch's. */
export interface DataLoaderOptions<T, B> {
  /** Items per batch. Default 1. */
  readonly batchSize?: number;
  /** Visit the dataset in a new random order each epoch. Default false. */
  readonly shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize`. Default false. */
  readonly dropLast?: boolean;
  /** Which indices to visit, in what order (excludes `shuffle`). */
  readonly sampler?: Sampler;
  /** Yields whole batches of indices (excludes batchSize, shuffle, sampler, dropLast). */
  readonly batchSampler?: Sampler<readonly number[]>;
  /** The generator `shuffle` draws from. Default: the global one that `manualSeed` seeds. */
  readonly generator?: Generator;
  /** Turns a list of items into a batch. Default {@link defaultCollate}. */
  readonly collateFn?: (items: T[]) => B;
}

const OPTION_NAMES = ['batchSize', 'shuffle', 'dropLast', 'sampler', 'batchSampler', 'generator', 'collateFn'] as const;

/** A map-style dataset or an iterable one (async or sync). */
export type DataSource<T> = Dataset<T> | AsyncIterable<T> | Iterable<T>;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Iterates a dataset in batches: `for await (const batch of loader)`. Each
 * `for await` is one epoch; with `shuffle` each epoch has a new order. The
 * tensors of a batch are new and belong to the caller (the Trainer's step
 * scope frees them).
 * @example
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true, generator: new Generator(0) });
 * for await (const [xb, yb] of loader) { ... }
 * loader.length // batches per epoch
 */
export class DataLoader<T, B = Collated<T>> implements AsyncIterable<B> {
  readonly dataset: DataSource<T>;
  /** Items per batch, or undefined when a `batchSampler` decides. */
  readonly batchSize: number | undefined;
  readonly dropLast: boolean;
  readonly generator: Generator | undefined;
  /** The index sampler (undefined for iterable datasets and with a batchSampler). */
  readonly sampler: Sampler | undefined;
  /** The batches of indices (undefined for iterable datasets). */
  readonly batchSampler: Sampler<readonly number[]> | undefined;
  readonly collateFn: (items: T[]) => B;
  readonly #customCollate: boolean;

  constructor(dataset: DataSource<T>, options: DataLoaderOptions<T, B> = {}) {
    const unknown = Object.keys(options).filter((k) => !(OPTION_NAMES as readonly string[]).includes(k));
    if (unknown.length > 0) {
      throw new ValueError(
        `DataLoader: unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; expected one of ${OPTION_NAMES.join(', ')}, got ${unknown.join(', ')}`,
      );
    }
    const { shuffle = false, dropLast = false, sampler, batchSampler, generator, collateFn } = options;
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ValueError(
        `DataLoader: batchSize must be a positive integer; expected an integer >= 1, got ${String(options.batchSize)}`,
      );
    }
    if (typeof shuffle !== 'boolean') {
      throw new ValueError(`DataLoader: shuffle must be a boolean; expected true or false, got ${String(shuffle)}`);
    }
    if (typeof dropLast !== 'boolean') {
      throw new ValueError(`DataLoader: dropLast must be a boolean; expected true or false, got ${String(dropLast)}`);
    }
    if (collateFn !== undefined && typeof collateFn !== 'function') {
      throw new ValueError(
        `DataLoader: collateFn must be a function; expected (items) => batch, got ${typeof collateFn}`,
      );
    }
    this.dataset = dataset;
    this.dropLast = dropLast;
    this.generator = generator;
    this.collateFn = collateFn ?? (defaultCollate as unknown as (items: T[]) => B);
    this.#customCollate = collateFn !== undefined;

    if (isIterableDataset(dataset)) {
      if (shuffle || sampler !== undefined || batchSampler !== undefined) {
        const which = shuffle ? 'shuffle' : sampler !== undefined ? 'sampler' : 'batchSampler';
        throw new ValueError(
          `DataLoader: ${which} does not apply to an iterable dataset; expected shuffle false and no sampler or batchSampler, got ${which}`,
        );
      }
      this.batchSize = batchSize;
      this.sampler = undefined;
      this.batchSampler = undefined;
      return;
    }
    if (typeof (dataset as Partial<Dataset<T>>).getItem !== 'function' || typeof dataset.length !== 'number') {
      throw new ValueError(
        'DataLoader: not a dataset; expected a map-style dataset (length and getItem) or an async iterable, got an object with neither',
      );
    }
    if (batchSampler !== undefined) {
      if (options.batchSize !== undefined || shuffle || sampler !== undefined || dropLast) {
        throw new ValueError(
          'DataLoader: batchSampler option is mutually exclusive with batchSize, shuffle, sampler, and dropLast; expected only batchSampler, got more',
        );
      }
      this.batchSize = undefined;
      this.sampler = undefined;
      this.batchSampler = batchSampler;
      return;
    }
    if (sampler !== undefined && shuffle) {
      throw new ValueError(
        'DataLoader: sampler option is mutually exclusive with shuffle; expected one of them, got both',
      );
    }
    this.batchSize = batchSize;
    this.sampler =
      sampler ??
      (shuffle
        ? new RandomSampler(dataset, generator === undefined ? {} : { generator })
        : new SequentialSampler(dataset));
    this.batchSampler = new BatchSampler(this.sampler, { batchSize, dropLast });
  }

  /** The number of batches per epoch, as `len(loader)`. Iterable datasets need a `length` for this. */
  get length(): number {
    if (this.batchSampler !== undefined) return this.batchSampler.length;
    const n = (this.dataset as { length?: unknown }).length;
    if (typeof n !== 'number') {
      throw new ValueError(
        'DataLoader: length of an iterable dataset is unknown; expected a dataset with a numeric length, got none',
      );
    }
    const size = this.batchSize ?? 1;
    return this.dropLast ? Math.floor(n / size) : Math.ceil(n / size);
  }

  /** One epoch of batches. */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    if (this.batchSampler === undefined) return this.#iterate();
    return this.#mapStyle(this.dataset as Dataset<T>, this.batchSampler);
  }

  async *#mapStyle(dataset: Dataset<T>, batches: Sampler<readonly number[]>): AsyncGenerator<B> {
    const fast = !this.#customCollate && hasGetBatch(dataset);
    for (const indices of batches) {
      if (fast) {
        const b = dataset.getBatch(indices);
        yield (isThenable(b) ? await b : b) as B;
        continue;
      }
      const items: (T | Promise<T>)[] = new Array<T | Promise<T>>(indices.length);
      let pending = false;
      for (let k = 0; k < indices.length; k++) {
        const item = dataset.getItem(indices[k]!);
        if (isThenable(item)) pending = true;
        items[k] = item;
      }
      yield this.collateFn(pending ? await Promise.all(items) : (items as T[]));
    }
  }

  async *#iterate(): AsyncGenerator<B> {
    const size = this.batchSize ?? 1;
    let items: T[] = [];
    for await (const item of this.dataset as AsyncIterable<T> | Iterable<T>) {
      items.push(item);
      if (items.length === size) {
        yield this.collateFn(items);
        items = [];
      }
    }
    if (items.length > 0 && !this.dropLast) yield this.collateFn(items);
  }
}
