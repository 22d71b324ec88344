/**
 * @module data/collate.test — defaultCollate: what each item type becomes, and the errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '../../runtime/errors.ts';
import { tensor, zeros } from '../../runtime/tensor/index.ts';
import { defaultCollate } from '../../runtime/data/collate.ts';
import { RawImage } from '../../runtime/data/raw-image.ts';
import { TensorDataset } from '../../runtime/data/tensor-dataset.ts';
import { useTestRuntime } from './setup.ts';

beforeAll(() => {
  useTestRuntime();
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('defaultCollate', () => {
  it('defaultCollate: stacks tensors along a new first dim', async () => {
    const b = defaultCollate([tensor([[1, 2]]), tensor([[3, 4]]), tensor([[5, 6]])]);
    expect(b.shape).toEqual([3, 1, 2]);
    expect(await b.tolist()).toEqual([[[1, 2]], [[3, 4]], [[5, 6]]]);
  });

  it('defaultCollate: integers become int32 (torch: int64), other numbers float32', async () => {
    const ints = defaultCollate([3, 0, 9]);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(await ints.data())).toEqual([3, 0, 9]);
    expect(defaultCollate([1, 2.5]).dtype).toBe('float32');
    expect(defaultCollate([1, 3e9]).dtype).toBe('float32');
  });

  it('defaultCollate: typed arrays stack into a 2-D tensor; strings stay a list', async () => {
    const b = defaultCollate([new Uint8Array([1, 2]), new Uint8Array([3, 4])]);
    expect(b.shape).toEqual([2, 2]);
    expect(b.dtype).toBe('int32');
    expect(defaultCollate([new Float32Array([0.5]), new Float32Array([1])]).dtype).toBe('float32');
    expect(defaultCollate(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('defaultCollate: nested tuples and objects collate position by position and key by key', async () => {
    const b = defaultCollate([{ a: [1, { c: 2.5 }] as const }, { a: [3, { c: 4.5 }] as const }]);
    expect(Array.from(await b.a[0].data())).toEqual([1, 3]);
    expect(Array.from(await b.a[1].c.data())).toEqual([2.5, 4.5]);
  });

  it('defaultCollate: mismatches are typed errors that say where', () => {
    let e = thrown(() => defaultCollate([zeros([2]), zeros([3])]));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe('defaultCollate: tensors of one batch differ in shape at batch; expected [2], got [3]');
    e = thrown(() => defaultCollate([[1, 2], [1]]));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe(
      'defaultCollate: each element in list of batch should be of equal size at batch; expected length 2, got 1',
    );
    e = thrown(() => defaultCollate([{ x: 1 }, { y: 1 }] as { x?: number; y?: number }[]));
    expect(e).toBeInstanceOf(ValueError);
    e = thrown(() =>
      defaultCollate([
        [1, 'a'],
        [2, 3],
      ] as unknown[]),
    );
    expect(e.message).toBe(
      'defaultCollate: items of one batch differ in type at batch[1]; expected every item to be string, got number',
    );
    e = thrown(() => defaultCollate([new RawImage(new Uint8Array(1), 1, 1)]));
    expect(e.message).toBe(
      'defaultCollate: unsupported item type at batch (turn images into tensors first, e.g. transform: new ToTensor()); expected tensors, numbers, booleans, strings, typed arrays, arrays or plain objects, got RawImage',
    );
    expect(thrown(() => defaultCollate([]))).toBeInstanceOf(ValueError);
  });

  it('TensorDataset: getBatch gathers bool rows too', async () => {
    const flags = tensor([
      [true, false],
      [false, false],
      [true, true],
    ]);
    const [b] = new TensorDataset(flags).getBatch([2, 0]);
    expect(b.dtype).toBe('bool');
    expect(await b.tolist()).toEqual([
      [true, true],
      [true, false],
    ]);
  });
});
