/**
 * @module data/sampler — the orders in which a DataLoader visits a dataset
 * (torch.utils.data.Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, BatchSampler).
 *
 * A sampler is an iterable of indices with a `length`. Each iteration is one
 * epoch; RandomSampler draws a new permutation from its generator every time.
 */
import { ValueError } from '../errors.ts';
import { defaultGenerator, type Generator } from '../random.ts';

/**
 * Anything that yields dataset indices and knows how many.
 * @example const s: Sampler = { length: 3, *[Symbol.iterator]() { yield* [2, 0, 1]; } };
 */
export interface Sampler<I = number> extends Iterable<I> {
  readonly length: number;
}

function checkCount(component: string, what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new ValueError(
      `${component}: ${what} must be a non-negative integer; expected an integer >= 0, got ${String(n)}`,
    );
  }
}

/**
 * 0, 1, ..., n-1 in order.
 * @example [...new SequentialSampler(ds)] // [0, 1, 2, ...]
 */
export class SequentialSampler implements Sampler {
  readonly #n: () => number;

  constructor(dataSource: { readonly length: number }) {
    this.#n = () => dataSource.length;
  }

  get length(): number {
    return this.#n();
  }

  *[Symbol.iterator](): Iterator<number> {
    const n = this.#n();
    for (let i = 0; i < n; i++) yield i;
  }
}

/** Options of {@link RandomSampler}. */
export interface RandomSamplerOptions {
  /** Draw with replacement. Default false (a permutation). */
  readonly replacement?: boolean;
  /** Indices per epoch. Default: the dataset's length. Only with `replacement` may it exceed it. */
  readonly numSamples?: number;
  /** The generator to draw from. Default: the global one that `manualSeed` seeds. */
  readonly generator?: Generator;
}

/**
 * A random order, new every epoch, drawn from `generator`.
 * Without replacement and with `numSamples > length` it repeats whole
 * permutations as torch does; with replacement it draws independent indices.
 * @example const s = new RandomSampler(ds, { generator: new Generator(42) }); [...s]; [...s] // two different orders
 */
export class RandomSampler implements Sampler {
  readonly replacement: boolean;
  readonly generator: Generator | undefined;
  readonly #dataSource: { readonly length: number };
  readonly #numSamples: number | undefined;

  constructor(dataSource: { readonly length: number }, options: RandomSamplerOptions = {}) {
    const { replacement = false, numSamples, generator, ...rest } = options;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) {
      throw new ValueError(
        `RandomSampler: unknown option; expected replacement, numSamples or generator, got ${unknown.join(', ')}`,
      );
    }
    if (typeof replacement !== 'boolean') {
      throw new ValueError(
        `RandomSampler: replacement must be a boolean; expected true or false, got ${String(replacement)}`,
      );
    }
    if (numSamples !== undefined && (!Number.isInteger(numSamples) || numSamples <= 0)) {
      throw new ValueError(
        `RandomSampler: numSamples must be a positive integer; expected an integer >= 1, got ${String(numSamples)}`,
      );
    }
    this.replacement = replacement;
    this.generator = generator;
    this.#dataSource = dataSource;
    this.#numSamples = numSamples;
  }

  /** Indices per epoch. */
  get length(): number {
    return this.#numSamples ?? this.#dataSource.length;
  }

  *[Symbol.iterator](): Iterator<number> {
    const n = this.#dataSource.length;
    const count = this.length;
    const g = this.generator ?? defaultGenerator;
    if (n === 0 || count === 0) return;
    if (this.replacement) {
      // Blocks of 32 draws, as torch.randint in RandomSampler.
      for (let done = 0; done < count; done += 32) {
        const draws = g.integers(Math.min(32, count - done), 0, n);
        for (const v of draws) yield v;
      }
      return;
    }
    for (let k = 0; k < Math.floor(count / n); k++) yield* g.permutation(n);
    const rest = count % n;
    if (rest > 0) yield* g.permutation(n).subarray(0, rest);
  }
}

/**
 * A random order of the given indices, new every epoch (torch.utils.data.SubsetRandomSampler).
 * @example new SubsetRandomSampler([10, 11, 12], { generator: new Generator(0) })
 */
export class SubsetRandomSampler implements Sampler {
  readonly indices: readonly number[];
  readonly generator: Generator | undefined;

  constructor(indices: readonly number[], options: { readonly generator?: Generator } = {}) {
    this.indices = [...indices];
    this.generator = options.generator;
  }

  get length(): number {
    return this.indices.length;
  }

  *[Symbol.iterator](): Iterator<number> {
    const perm = (this.generator ?? defaultGenerator).permutation(this.indices.length);
    for (const p of perm) yield this.indices[p]!;
  }
}

/** Options of {@link BatchSampler}. */
export interface BatchSamplerOptions {
  /** Indices per batch (>= 1). */
  readonly batchSize: number;
  /** Drop the last batch when it is smaller than `batchSize`. Default false. */
  readonly dropLast?: boolean;
}

/**
 * Groups a sampler's indices into batches.
 * @example [...new BatchSampler(new SequentialSampler({ length: 5 }), { batchSize: 2 })] // [[0, 1], [2, 3], [4]]
 */
export class BatchSampler implements Sampler<number[]> {
  readonly sampler: Sampler;
  readonly batchSize: number;
  readonly dropLast: boolean;

  constructor(sampler: Sampler, options: BatchSamplerOptions) {
    const { batchSize, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ValueError(
        `BatchSampler: batchSize must be a positive integer; expected an integer >= 1, got ${String(batchSize)}`,
      );
    }
    if (typeof dropLast !== 'boolean') {
      throw new ValueError(`BatchSampler: dropLast must be a boolean; expected true or false, got ${String(dropLast)}`);
    }
    checkCount('BatchSampler', 'the sampler length', sampler.length);
    this.sampler = sampler;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
  }

  /** The number of batches per epoch. */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<number[]> {
    let batch: number[] = [];
    for (const i of this.sampler) {
      batch.push(i);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}
