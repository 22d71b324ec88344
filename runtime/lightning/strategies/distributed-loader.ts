/**
 * @module lightning/strategies/distributed-loader — each rank's share of a loader under DDP, as
 * Lightning's `use_distributed_sampler`: a DataLoader over a map-style dataset gets a
 * DistributedSampler (shuffled per epoch from the seed when the loader shuffled, padded to equal
 * length); predict takes whole batches round-robin (batch k on rank k mod N), so that rank 0 can
 * put the gathered outputs back in the loader's order.
 */
import { DataLoader } from '../../data/dataloader.ts';
import { DistributedSampler } from '../../data/distributed-sampler.ts';
import { RandomSampler, SequentialSampler, type Sampler } from '../../data/sampler.ts';
import { defaultCollate } from '../../data/collate.ts';
import { Tensor } from '../../tensor/index.ts';
import type { Loader } from '../datamodule.ts';

/** Which loop a loader feeds: training shuffles (when the loader did), evaluation does not, predict keeps whole batches. */
export type ShardMode = 'train' | 'eval' | 'predict';

/** Batches k with k mod `world` == `rank` of another batch sampler. */
class StridedBatches implements Sampler<readonly number[]> {
  readonly #inner: Sampler<readonly number[]>;
  readonly #rank: number;
  readonly #world: number;
  constructor(inner: Sampler<readonly number[]>, rank: number, world: number) {
    this.#inner = inner;
    this.#rank = rank;
    this.#world = world;
  }
  get length(): number {
    return Math.max(0, Math.ceil((this.#inner.length - this.#rank) / this.#world));
  }
  *[Symbol.iterator](): Iterator<readonly number[]> {
    let k = 0;
    for (const b of this.#inner) if (k++ % this.#world === this.#rank) yield b;
  }
}

function disposeTensors(x: unknown): void {
  if (x instanceof Tensor) x.dispose();
  else if (Array.isArray(x)) for (const v of x) disposeTensors(v);
  else if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype)
    for (const v of Object.values(x)) disposeTensors(v);
}

/** Any loader's batches k with k mod `world` == `rank` (the others are made and freed). */
function strided(loader: Loader, rank: number, world: number): Loader {
  const n = loader.length;
  return {
    ...(n === undefined ? {} : { length: Math.max(0, Math.ceil((n - rank) / world)) }),
    async *[Symbol.asyncIterator]() {
      let k = 0;
      for await (const b of loader as AsyncIterable<unknown>) {
        if (k++ % world === rank) yield b;
        else disposeTensors(b);
      }
    },
  };
}

/**
 * Rank `rank`'s share of `loader` (the loader itself on one rank). Loaders that are not a
 * DataLoader with a sequential or random sampler (a user's DistributedSampler, a batch sampler,
 * an iterable) are left as they are in training and evaluation: every rank then iterates them
 * whole, as Lightning does with iterable datasets.
 * @example shardLoader(trainLoader, 'train', 1, 2, 42) // a DataLoader over rank 1's half
 */
export function shardLoader(loader: Loader, mode: ShardMode, rank: number, world: number, seed: number): Loader {
  if (world === 1) return loader;
  const custom = loader instanceof DataLoader && loader.collateFn !== (defaultCollate as unknown);
  if (loader instanceof DataLoader && mode === 'predict' && loader.batchSampler !== undefined) {
    return new DataLoader(loader.dataset, {
      batchSampler: new StridedBatches(loader.batchSampler, rank, world),
      ...(custom ? { collateFn: loader.collateFn } : {}),
    });
  }
  if (mode === 'predict') return strided(loader, rank, world);
  const sampler = loader instanceof DataLoader ? loader.sampler : undefined;
  if (!(loader instanceof DataLoader) || !(sampler instanceof SequentialSampler || sampler instanceof RandomSampler))
    return loader;
  const dataset = loader.dataset as { readonly length: number };
  return new DataLoader(loader.dataset, {
    batchSize: loader.batchSize ?? 1,
    dropLast: loader.dropLast,
    sampler: new DistributedSampler(dataset, {
      numReplicas: world,
      rank,
      shuffle: mode === 'train' && sampler instanceof RandomSampler,
      seed,
    }),
    ...(custom ? { collateFn: loader.collateFn } : {}),
  });
}
