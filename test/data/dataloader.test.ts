/**
 * @module data/dataloader.test — DataLoader batching, shuffling, dropLast, lengths,
 * samplers, iterable datasets, option checks, and the TensorDataset fast path
 * (on every available backend).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import { ValueError } from '../../runtime/errors.ts';
import { arange, tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { Generator, manualSeed } from '../../runtime/random.ts';
import { liveBuffers, tidy } from '../../runtime/memory.ts';
import { DataLoader } from '../../runtime/data/dataloader.ts';
import { Dataset, IterableDataset } from '../../runtime/data/dataset.ts';
import { BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler } from '../../runtime/data/sampler.ts';
import { TensorDataset } from '../../runtime/data/tensor-dataset.ts';
import { availableBackends } from '../helpers/backends.ts';
import { useTestRuntime } from './setup.ts';

beforeAll(() => {
  useTestRuntime();
});

class Labels extends Dataset<[number, number]> {
  readonly length: number;
  constructor(length: number) {
    super();
    this.length = length;
  }
  getItem(i: number): [number, number] {
    return [i, i % 3];
  }
}

async function collect<B>(loader: AsyncIterable<B>): Promise<B[]> {
  const out: B[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

async function firstColumn(batches: readonly [Tensor, Tensor][]): Promise<number[][]> {
  return Promise.all(batches.map(async ([x]) => Array.from(await x.data())));
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('DataLoader', () => {
  it('DataLoader: batchSize defaults to 1, as in PyTorch', async () => {
    const loader = new DataLoader(new Labels(3));
    expect(loader.batchSize).toBe(1);
    expect(loader.length).toBe(3);
    const batches = await collect(loader);
    expect(batches.length).toBe(3);
    expect(batches[0]![0].shape).toEqual([1]);
  });

  it('DataLoader: batches in order, the last one short, and length counts batches', async () => {
    const loader = new DataLoader(new Labels(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = await collect(loader);
    expect(await firstColumn(batches)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(batches[0]![0].dtype).toBe('int32');
    expect(Array.from(await batches[2]![1].data())).toEqual([2, 0]);
  });

  it('DataLoader: dropLast drops the short batch and counts it out of length', async () => {
    const loader = new DataLoader(new Labels(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(await firstColumn(await collect(loader))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(new DataLoader(new Labels(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new DataLoader(new Labels(3), { batchSize: 4, dropLast: true }).length).toBe(0);
  });

  it('DataLoader: shuffle with a seeded generator is repeatable and new each epoch', async () => {
    const make = (): DataLoader<[number, number]> =>
      new DataLoader(new Labels(20), { batchSize: 5, shuffle: true, generator: new Generator(7) });
    const a = make();
    const epoch1 = (await firstColumn(await collect(a))).flat();
    const epoch2 = (await firstColumn(await collect(a))).flat();
    expect([...epoch1].sort((p, q) => p - q)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(epoch2).not.toEqual(epoch1);
    const b = make();
    expect((await firstColumn(await collect(b))).flat()).toEqual(epoch1);
    expect((await firstColumn(await collect(b))).flat()).toEqual(epoch2);
    // The order is the generator's permutation, one per epoch.
    const g = new Generator(7);
    expect(epoch1).toEqual(Array.from(g.permutation(20)));
    expect(epoch2).toEqual(Array.from(g.permutation(20)));
  });

  it('DataLoader: shuffle without a generator follows manualSeed', async () => {
    manualSeed(3);
    const first = (
      await firstColumn(await collect(new DataLoader(new Labels(12), { batchSize: 12, shuffle: true })))
    ).flat();
    manualSeed(3);
    const again = (
      await firstColumn(await collect(new DataLoader(new Labels(12), { batchSize: 12, shuffle: true })))
    ).flat();
    expect(again).toEqual(first);
    expect(first).not.toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('DataLoader: collates tuples of tensors and numbers, and objects key by key', async () => {
    class Mixed extends Dataset<{ x: Tensor; y: number; w: number; name: string; pair: [number, boolean] }> {
      readonly length = 3;
      getItem(i: number) {
        return { x: tensor([i, -i]), y: i, w: i + 0.5, name: `n${i}`, pair: [i * 2, i % 2 === 0] as [number, boolean] };
      }
    }
    const [batch] = await collect(new DataLoader(new Mixed(), { batchSize: 3 }));
    expect(batch!.x.shape).toEqual([3, 2]);
    expect(await batch!.x.tolist()).toEqual([
      [0, -0],
      [1, -1],
      [2, -2],
    ]);
    expect(batch!.y.dtype).toBe('int32');
    expect(batch!.w.dtype).toBe('float32');
    expect(Array.from(await batch!.w.data())).toEqual([0.5, 1.5, 2.5]);
    expect(batch!.name).toEqual(['n0', 'n1', 'n2']);
    expect(batch!.pair[0].dtype).toBe('int32');
    expect(batch!.pair[1].dtype).toBe('bool');
    expect(await batch!.pair[1].tolist()).toEqual([true, false, true]);
  });

  it('DataLoader: awaits datasets whose getItem returns a Promise', async () => {
    class Slow extends Dataset<number> {
      readonly length = 5;
      async getItem(i: number): Promise<number> {
        await new Promise((r) => setTimeout(r, 5 - i));
        return i * 10;
      }
    }
    const batches = await collect(new DataLoader(new Slow(), { batchSize: 2 }));
    expect(await Promise.all(batches.map(async (b) => Array.from(await b.data())))).toEqual([[0, 10], [20, 30], [40]]);
  });

  it('DataLoader: collateFn replaces the default collate', async () => {
    const loader = new DataLoader(new Labels(5), {
      batchSize: 2,
      collateFn: (items) => items.map(([i]) => i).join(','),
    });
    expect(await collect(loader)).toEqual(['0,1', '2,3', '4']);
  });

  it('DataLoader: takes a sampler or a batchSampler', async () => {
    const sampler = {
      length: 4,
      *[Symbol.iterator]() {
        yield* [3, 1, 0, 2];
      },
    };
    expect(await firstColumn(await collect(new DataLoader(new Labels(4), { batchSize: 3, sampler })))).toEqual([
      [3, 1, 0],
      [2],
    ]);
    const batchSampler = new BatchSampler(new SequentialSampler({ length: 5 }), { batchSize: 2, dropLast: true });
    const loader = new DataLoader(new Labels(5), { batchSampler });
    expect(loader.length).toBe(2);
    expect(await firstColumn(await collect(loader))).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('DataLoader: batches an iterable dataset in order', async () => {
    class Stream extends IterableDataset<number> {
      async *[Symbol.asyncIterator](): AsyncGenerator<number> {
        for (let i = 0; i < 7; i++) yield i;
      }
    }
    const batches = await collect(new DataLoader(new Stream(), { batchSize: 3 }));
    expect(await Promise.all(batches.map(async (b) => Array.from(await b.data())))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6],
    ]);
    const dropped = await collect(new DataLoader(new Stream(), { batchSize: 3, dropLast: true }));
    expect(dropped.length).toBe(2);
    expect(thrown(() => new DataLoader(new Stream(), { batchSize: 3 }).length)).toBeInstanceOf(ValueError);
    expect(thrown(() => new DataLoader(new Stream(), { shuffle: true })).message).toBe(
      'DataLoader: shuffle does not apply to an iterable dataset; expected shuffle false and no sampler or batchSampler, got shuffle',
    );
  });

  it('DataLoader: unknown and invalid options are ValueErrors', () => {
    const e = thrown(() => new DataLoader(new Labels(3), { batch_size: 2 } as never));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe(
      "DataLoader: unknown option 'batch_size'; expected one of batchSize, shuffle, dropLast, sampler, batchSampler, generator, collateFn, got batch_size",
    );
    expect(thrown(() => new DataLoader(new Labels(3), { batchSize: 0 })).message).toBe(
      'DataLoader: batchSize must be a positive integer; expected an integer >= 1, got 0',
    );
    expect(thrown(() => new DataLoader(new Labels(3), { batchSize: 2.5 }))).toBeInstanceOf(ValueError);
    expect(thrown(() => new DataLoader(new Labels(3), { shuffle: 'yes' as never }))).toBeInstanceOf(ValueError);
    const sampler = new SequentialSampler({ length: 3 });
    expect(thrown(() => new DataLoader(new Labels(3), { sampler, shuffle: true })).message).toBe(
      'DataLoader: sampler option is mutually exclusive with shuffle; expected one of them, got both',
    );
    const batchSampler = new BatchSampler(sampler, { batchSize: 1 });
    expect(thrown(() => new DataLoader(new Labels(3), { batchSampler, batchSize: 2 }))).toBeInstanceOf(ValueError);
    expect(thrown(() => new DataLoader({} as never))).toBeInstanceOf(ValueError);
  });
});

describe('samplers', () => {
  it('RandomSampler: a permutation per epoch; with replacement, numSamples draws in range', () => {
    const s = new RandomSampler({ length: 6 }, { generator: new Generator(5) });
    const e1 = [...s];
    const e2 = [...s];
    expect([...e1].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(e2).not.toEqual(e1);
    const r = new RandomSampler({ length: 3 }, { replacement: true, numSamples: 50, generator: new Generator(1) });
    const draws = [...r];
    expect(r.length).toBe(50);
    expect(draws.length).toBe(50);
    expect(draws.every((d) => d >= 0 && d < 3)).toBe(true);
    expect(new Set(draws).size).toBe(3);
    const more = [...new RandomSampler({ length: 4 }, { numSamples: 10, generator: new Generator(2) })];
    expect(more.length).toBe(10);
    expect([...more.slice(0, 4)].sort()).toEqual([0, 1, 2, 3]);
    expect(thrown(() => new RandomSampler({ length: 3 }, { numSamples: 0 }))).toBeInstanceOf(ValueError);
  });

  it('SubsetRandomSampler and BatchSampler: shuffle given indices; group them', () => {
    const s = new SubsetRandomSampler([10, 20, 30], { generator: new Generator(0) });
    expect([...s].sort()).toEqual([10, 20, 30]);
    const b = new BatchSampler(new SequentialSampler({ length: 5 }), { batchSize: 2 });
    expect([...b]).toEqual([[0, 1], [2, 3], [4]]);
    expect(b.length).toBe(3);
    expect(thrown(() => new BatchSampler(new SequentialSampler({ length: 5 }), { batchSize: -1 }))).toBeInstanceOf(
      ValueError,
    );
  });
});

const backends = await availableBackends();

describe.each(backends.map((b) => [b.name, b] as [string, Backend]))(
  'DataLoader over TensorDataset on %s',
  (_name, backend) => {
    it('DataLoader: the getBatch fast path equals per-item stacking, shuffled and in order', async () => {
      setDefaultBackend(backend);
      try {
        const x = arange(70).reshape([7, 2, 5]).float();
        const y = tensor([3, 1, 4, 1, 5, 9, 2], { dtype: 'int32' });
        const ds = new TensorDataset(x, y);
        for (const shuffle of [false, true]) {
          const fast = await collect(new DataLoader(ds, { batchSize: 3, shuffle, generator: new Generator(11) }));
          // A collateFn turns the fast path off; stacking the rows must give the same batches.
          const slow = await collect(
            new DataLoader(ds, {
              batchSize: 3,
              shuffle,
              generator: new Generator(11),
              collateFn: (items) => items.map(([a, b]) => [a, b] as const),
            }),
          );
          expect(fast.length).toBe(3);
          for (let k = 0; k < fast.length; k++) {
            const [xb, yb] = fast[k]!;
            const rows = slow[k]!;
            expect(xb.shape).toEqual([rows.length, 2, 5]);
            expect(xb.dtype).toBe('float32');
            expect(yb.dtype).toBe('int32');
            expect(await xb.tolist()).toEqual(await Promise.all(rows.map(([a]) => a.tolist())));
            expect(Array.from(await yb.data())).toEqual(await Promise.all(rows.map(([, b]) => b.item())));
          }
        }
      } finally {
        setDefaultBackend(backends[0]!);
      }
    });

    it('DataLoader: batch tensors belong to the caller, and a scope frees them all', async () => {
      setDefaultBackend(backend);
      try {
        const ds = new TensorDataset(arange(40).reshape([20, 2]), arange(20));
        const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(0) });
        const before = liveBuffers().liveBuffers;
        for await (const batch of loader) {
          await tidy(async () => {
            const [xb] = batch;
            expect(xb.shape).toEqual([4, 2]);
            await xb.sum().item();
            for (const t of batch) t.dispose();
          });
        }
        expect(liveBuffers().liveBuffers).toBe(before);
      } finally {
        setDefaultBackend(backends[0]!);
      }
    });
  },
);
