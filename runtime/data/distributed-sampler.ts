/**
 * @module data/distributed-sampler — each rank's share of a dataset in data-parallel training
 * (torch.utils.data.DistributedSampler).
 */
import { ValueError } from '../errors.ts';
import { Generator } from '../random.ts';
import type { Sampler } from './sampler.ts';

/** Options of {@link DistributedSampler}; the defaults are torch's. */
export interface DistributedSamplerOptions {
  /** How many ranks share the dataset (>= 1). */
  readonly numReplicas: number;
  /** This rank, in [0, numReplicas). */
  readonly rank: number;
  /** A new order every epoch, from `seed + epoch`. Default true. */
  readonly shuffle?: boolean;
  /** The seed of the shuffle (the same on every rank). Default 0. */
  readonly seed?: number;
  /** Drop the tail so every rank gets the same count, instead of padding. Default false. */
  readonly dropLast?: boolean;
}

/**
 * Rank `rank`'s indices of the epoch, as torch's DistributedSampler: the epoch's order (a
 * permutation seeded with `seed + epoch`, else 0..n-1) is padded by repeating it from the
 * start to a multiple of `numReplicas` (or cut, with `dropLast`), and rank r takes
 * `indices[r::numReplicas]`. Every rank gets the same count. Call `setEpoch(e)` before each
 * epoch (the Trainer does) for a new shuffle.
 * @example [...new DistributedSampler({ length: 5 }, { numReplicas: 2, rank: 1, shuffle: false })] // [1, 3, 0]
 */
export class DistributedSampler implements Sampler {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** The epoch whose order is drawn (see setEpoch). */
  epoch = 0;
  readonly #dataSource: { readonly length: number };

  constructor(dataSource: { readonly length: number }, options: DistributedSamplerOptions) {
    const { numReplicas, rank, shuffle = true, seed = 0, dropLast = false } = options;
    if (!Number.isInteger(numReplicas) || numReplicas < 1) {
      throw new ValueError(
        `DistributedSampler: numReplicas must be a positive integer; expected an integer >= 1, got ${String(numReplicas)}`,
      );
    }
    if (!Number.isInteger(rank) || rank < 0 || rank >= numReplicas) {
      throw new ValueError(
        `DistributedSampler: invalid rank; expected an integer in [0, ${numReplicas - 1}], got ${String(rank)}`,
      );
    }
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new ValueError(`DistributedSampler: invalid seed; expected an integer >= 0, got ${String(seed)}`);
    }
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    this.#dataSource = dataSource;
  }

  /** Sets the epoch, so the next iteration draws that epoch's order (torch's `set_epoch`). */
  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  /** Indices per rank per epoch. */
  get length(): number {
    const n = this.#dataSource.length;
    const r = this.numReplicas;
    return this.dropLast && n % r !== 0 ? Math.ceil((n - r) / r) : Math.ceil(n / r);
  }

  *[Symbol.iterator](): Iterator<number> {
    const n = this.#dataSource.length;
    const count = this.length;
    const total = count * this.numReplicas;
    if (n === 0 || count === 0) return;
    const order = this.shuffle
      ? new Generator(this.seed + this.epoch).permutation(n)
      : Int32Array.from({ length: n }, (_, i) => i);
    for (let k = this.rank; k < total; k += this.numReplicas) yield order[k % n]!;
  }
}
