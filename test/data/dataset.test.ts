/**
 * @module data/dataset.test — Dataset, Subset, ConcatDataset, TensorDataset and randomSplit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { IndexError, ShapeError, ValueError } from '../../runtime/errors.ts';
import { arange, tensor } from '../../runtime/tensor/index.ts';
import { Generator } from '../../runtime/random.ts';
import { ConcatDataset, Dataset, Subset } from '../../runtime/data/dataset.ts';
import { randomSplit } from '../../runtime/data/random-split.ts';
import { TensorDataset } from '../../runtime/data/tensor-dataset.ts';
import { useTestRuntime } from './setup.ts';

beforeAll(() => {
  useTestRuntime();
});

class Range extends Dataset<number> {
  readonly length: number;
  readonly start: number;
  constructor(length: number, start = 0) {
    super();
    this.length = length;
    this.start = start;
  }
  getItem(i: number): number {
    return this.start + i;
  }
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('Subset and ConcatDataset', () => {
  it('Subset: maps indices, counts from the end for negatives, checks range', () => {
    const s = new Subset(new Range(10), [7, 2, 5]);
    expect(s.length).toBe(3);
    expect([0, 1, 2, -1].map((i) => s.getItem(i))).toEqual([7, 2, 5, 5]);
    expect(thrown(() => s.getItem(3))).toBeInstanceOf(IndexError);
    const e = thrown(() => new Subset(new Range(4), [0, 4]));
    expect(e).toBeInstanceOf(IndexError);
    expect(e.message).toBe('Subset: index out of range; expected an integer in [-4, 4), got 4');
  });

  it('ConcatDataset: reads across boundaries, with cumulativeSizes like torch', () => {
    const c = new ConcatDataset([new Range(3, 100), new Range(0, 200), new Range(2, 300)]);
    expect(c.length).toBe(5);
    expect(c.cumulativeSizes).toEqual([3, 3, 5]);
    expect(Array.from({ length: 5 }, (_, i) => c.getItem(i))).toEqual([100, 101, 102, 300, 301]);
    expect(c.getItem(-1)).toBe(301);
    expect(thrown(() => c.getItem(5))).toBeInstanceOf(IndexError);
    expect(thrown(() => new ConcatDataset([]))).toBeInstanceOf(ValueError);
  });
});

describe('TensorDataset', () => {
  it('TensorDataset: items are tuples of row slices', async () => {
    const x = arange(12).reshape([4, 3]);
    const y = tensor([0, 1, 2, 3], { dtype: 'int32' });
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(4);
    const [xi, yi] = ds.getItem(2);
    expect(xi.shape).toEqual([3]);
    expect(yi.shape).toEqual([]);
    expect(await xi.tolist()).toEqual([6, 7, 8]);
    expect(await yi.item()).toBe(2);
  });

  it('TensorDataset: a first-dim mismatch is a ShapeError naming every shape', () => {
    const e = thrown(() => new TensorDataset(arange(6).reshape([3, 2]), arange(4)));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe(
      'TensorDataset: size mismatch between tensors; expected every tensor to have first dim 3, got shapes [3,2], [4]',
    );
    expect(thrown(() => new TensorDataset())).toBeInstanceOf(ValueError);
  });

  it('TensorDataset: getBatch slices runs and gathers other orders', async () => {
    const x = arange(10).mul(10).reshape([5, 2]);
    const y = arange(5);
    const ds = new TensorDataset(x, y);
    const [xr, yr] = ds.getBatch([1, 2, 3]);
    expect(xr.shape).toEqual([3, 2]);
    expect(await xr.tolist()).toEqual([
      [20, 30],
      [40, 50],
      [60, 70],
    ]);
    expect(await yr.tolist()).toEqual([1, 2, 3]);
    const [xg, yg] = ds.getBatch([4, 0, 4]);
    expect(await xg.tolist()).toEqual([
      [80, 90],
      [0, 10],
      [80, 90],
    ]);
    expect(await yg.tolist()).toEqual([4, 0, 4]);
    expect(thrown(() => ds.getBatch([5]))).toBeInstanceOf(IndexError);
  });
});

describe('randomSplit', () => {
  it('randomSplit: lengths give disjoint subsets covering the dataset, repeatable by seed', () => {
    const ds = new Range(10);
    const [a, b] = randomSplit(ds, [7, 3], { generator: new Generator(42) });
    expect(a!.length).toBe(7);
    expect(b!.length).toBe(3);
    const all = [...a!.indices, ...b!.indices].sort((p, q) => p - q);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = randomSplit(ds, [7, 3], { generator: new Generator(42) });
    expect(again[0]!.indices).toEqual(a!.indices);
    // The split is a permutation drawn from the generator, as torch's randperm(n).
    expect([...a!.indices, ...b!.indices]).toEqual(Array.from(new Generator(42).permutation(10)));
    expect(randomSplit(ds, [7, 3], { generator: new Generator(43) })[0]!.indices).not.toEqual(a!.indices);
  });

  it('randomSplit: fractions floor each part and hand out the remainder round-robin', () => {
    // torch: random_split(range(10), [0.3, 0.3, 0.4]) -> 3, 3, 4;  range(11), [0.25]*4 -> 3, 3, 3, 2
    expect(randomSplit(new Range(10), [0.3, 0.3, 0.4]).map((s) => s.length)).toEqual([3, 3, 4]);
    expect(randomSplit(new Range(11), [0.25, 0.25, 0.25, 0.25]).map((s) => s.length)).toEqual([3, 3, 3, 2]);
    expect(randomSplit(new Range(5), [0.5, 0.5]).map((s) => s.length)).toEqual([3, 2]);
    expect(randomSplit(new Range(60000), [0.9, 0.1]).map((s) => s.length)).toEqual([54000, 6000]);
    // 0.1 + 0.2 + 0.7 is 0.9999999999999999: close enough to 1, as math.isclose says.
    expect(randomSplit(new Range(7), [0.1, 0.2, 0.7]).map((s) => s.length)).toEqual([1, 2, 4]);
  });

  it('randomSplit: lengths that do not add up are a ValueError naming them and the size', () => {
    const e = thrown(() => randomSplit(new Range(100), [50, 40]));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe(
      'randomSplit: sum of input lengths does not equal the length of the input dataset; expected a sum of 100 (or fractions summing to 1), got [50, 40] (sum 90)',
    );
    expect(thrown(() => randomSplit(new Range(10), [0.5, 0.6])).message).toMatch(
      /expected counts summing to 10, got \[0\.5, 0\.6\]/,
    );
    expect(thrown(() => randomSplit(new Range(10), [-1, 11]))).toBeInstanceOf(ValueError);
    expect(thrown(() => randomSplit(new Range(10), []))).toBeInstanceOf(ValueError);
  });

  it('randomSplit: Subsets of a TensorDataset keep the batch fast path', async () => {
    const ds = new TensorDataset(arange(8).reshape([4, 2]));
    const [s] = randomSplit(ds, [4], { generator: new Generator(1) });
    expect(typeof s!.getBatch).toBe('function');
    const [rows] = (await s!.getBatch!([0, 1])) as [import('../../runtime/tensor/index.ts').Tensor];
    const expected = s!.indices.slice(0, 2).map((i) => [2 * i, 2 * i + 1]);
    expect(await rows.tolist()).toEqual(expected);
    expect(new Subset(new Range(3), [0]).getBatch).toBeUndefined();
  });
});
