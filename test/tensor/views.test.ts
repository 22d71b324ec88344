/**
 * Views on every available backend: values and shapes, and storage sharing where torch
 * shares it (an in-place write through a view is visible in its base).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { arange, tensor, zeros, type Tensor } from '../../runtime/index.ts';
import { availableBackends } from '../helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

/** 0..n-1 as float32 in `shape`. */
function iota(shape: number[]): Tensor {
  return arange(shape.reduce((a, b) => a * b, 1))
    .float()
    .reshape(shape);
}

for (const backend of backends) {
  describe(`views on ${backend.name}`, () => {
    beforeEach(() => setDefaultBackend(backend));

    it('view/reshape: infer one -1, accept sizes or an array, and share storage', async () => {
      const x = iota([2, 6]);
      const v = x.view(3, -1);
      expect(v.shape).toEqual([3, 4]);
      expect(await v.tolist()).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
      ]);
      expect(x.view([-1]).shape).toEqual([12]);
      expect(x.reshape(2, 3, 2).shape).toEqual([2, 3, 2]);
      expect(x.reshape([4, -1]).shape).toEqual([4, 3]);
      v.select(0, 1).fill_(-1);
      expect(await x.tolist(), 'a write through view() reaches the base').toEqual([
        [0, 1, 2, 3, -1, -1],
        [-1, -1, 8, 9, 10, 11],
      ]);
      const r = x.reshape(12);
      r.narrow(0, 0, 2).fill_(9);
      expect(((await x.tolist()) as number[][])[0]!.slice(0, 3), 'reshape of a contiguous tensor is a view').toEqual([
        9, 9, 2,
      ]);
      expect(zeros([0, 3]).view(-1, 3).shape).toEqual([0, 3]);
      expect(tensor(5).view(1, 1).shape).toEqual([1, 1]);
      expect(await tensor([7]).view([]).item()).toBe(7);
    });

    it('reshape: copies a non-contiguous input (writes do not reach the base), as torch', async () => {
      const x = iota([2, 3]);
      const t = x.t();
      const r = t.reshape(6);
      expect(await r.tolist()).toEqual([0, 3, 1, 4, 2, 5]);
      r.fill_(0);
      expect(await x.tolist()).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      // A transposed tensor whose split dims stay together can still be viewed.
      const y = iota([2, 3, 4]).permute(2, 0, 1); // [4,2,3], strides [1,12,4]
      const v = y.view(4, 6);
      expect(await v.tolist()).toEqual(await y.reshape(4, 6).tolist());
    });

    it('permute/transpose/t: reorder dims without copying', async () => {
      const x = iota([2, 3, 4]);
      const p = x.permute(2, 0, 1);
      expect(p.shape).toEqual([4, 2, 3]);
      expect(p.isContiguous()).toBe(false);
      const pl = (await p.tolist()) as number[][][];
      expect(pl[3]![1]![2]).toBe(1 * 12 + 2 * 4 + 3);
      expect(x.permute([-1, 0, 1]).shape).toEqual([4, 2, 3]);
      const tr = x.transpose(0, 2);
      expect(tr.shape).toEqual([4, 3, 2]);
      expect(((await tr.tolist()) as number[][][])[1]![2]![0]).toBe(0 * 12 + 2 * 4 + 1);
      const m = iota([2, 3]);
      const mt = m.t();
      expect(await mt.tolist()).toEqual([
        [0, 3],
        [1, 4],
        [2, 5],
      ]);
      mt.select(0, 2).fill_(-5);
      expect(await m.tolist(), 'a write through t() reaches the base').toEqual([
        [0, 1, -5],
        [3, 4, -5],
      ]);
      expect(await iota([3]).t().tolist()).toEqual([0, 1, 2]);
      expect(x.transpose(-1, -2).shape).toEqual([2, 4, 3]);
    });

    it('narrow/slice/select: pick ranges and steps, sharing storage', async () => {
      const x = iota([4, 5]);
      expect(await x.narrow(1, 1, 3).tolist()).toEqual([
        [1, 2, 3],
        [6, 7, 8],
        [11, 12, 13],
        [16, 17, 18],
      ]);
      expect(await x.narrow(0, -2, 2).tolist()).toEqual([
        [10, 11, 12, 13, 14],
        [15, 16, 17, 18, 19],
      ]);
      expect(await x.slice(1, 0, 5, 2).tolist()).toEqual([
        [0, 2, 4],
        [5, 7, 9],
        [10, 12, 14],
        [15, 17, 19],
      ]);
      expect(await x.slice(1, 1, undefined, 3).tolist()).toEqual([
        [1, 4],
        [6, 9],
        [11, 14],
        [16, 19],
      ]);
      expect(await x.slice(0, -1).tolist(), 'negative start counts from the end').toEqual([[15, 16, 17, 18, 19]]);
      expect(x.slice(0, 3, 1).shape, 'an empty slice').toEqual([0, 5]);
      expect(x.slice(0, 0, 100).shape, 'an end past the size is clamped').toEqual([4, 5]);
      expect(await x.select(0, 2).tolist()).toEqual([10, 11, 12, 13, 14]);
      expect(await x.select(1, -1).tolist()).toEqual([4, 9, 14, 19]);
      expect(x.select(0, 1).select(0, 3).shape).toEqual([]);
      expect(await x.select(0, 1).select(0, 3).item()).toBe(8);
      x.slice(1, 0, undefined, 2).select(0, 0).fill_(100);
      expect(((await x.tolist()) as number[][])[0], 'a write through a stepped slice reaches the base').toEqual([
        100, 1, 100, 3, 100,
      ]);
      x.narrow(0, 3, 1).mul_(0);
      expect(((await x.tolist()) as number[][])[3]).toEqual([0, 0, 0, 0, 0]);
    });

    it('expand/expandAs: broadcast with stride 0, -1 keeps a size, new leading dims', async () => {
      const x = tensor([[1], [2]]);
      const e = x.expand(2, 3);
      expect(await e.tolist()).toEqual([
        [1, 1, 1],
        [2, 2, 2],
      ]);
      expect(e.strides[1]).toBe(0);
      expect(await x.expand([3, -1, 2]).tolist()).toEqual([
        [
          [1, 1],
          [2, 2],
        ],
        [
          [1, 1],
          [2, 2],
        ],
        [
          [1, 1],
          [2, 2],
        ],
      ]);
      expect(await tensor(4).expand(3).tolist()).toEqual([4, 4, 4]);
      expect(x.expandAs(zeros([5, 2, 4])).shape).toEqual([5, 2, 4]);
      expect(await e.contiguous().tolist()).toEqual([
        [1, 1, 1],
        [2, 2, 2],
      ]);
      expect(await e.sum(1).tolist()).toEqual([3, 6]);
    });

    it('squeeze/unsqueeze: remove and insert size-1 dims, sharing storage', async () => {
      const x = zeros([1, 3, 1, 2]);
      expect(x.squeeze().shape).toEqual([3, 2]);
      expect(x.squeeze(0).shape).toEqual([3, 1, 2]);
      expect(x.squeeze(1).shape, 'a non-1 dim stays').toEqual([1, 3, 1, 2]);
      expect(x.squeeze(-2).shape).toEqual([1, 3, 2]);
      const y = iota([2, 3]);
      expect(y.unsqueeze(0).shape).toEqual([1, 2, 3]);
      expect(y.unsqueeze(1).shape).toEqual([2, 1, 3]);
      expect(y.unsqueeze(-1).shape).toEqual([2, 3, 1]);
      expect(await y.unsqueeze(1).tolist()).toEqual([[[0, 1, 2]], [[3, 4, 5]]]);
      expect(await y.t().unsqueeze(1).tolist()).toEqual([[[0, 3]], [[1, 4]], [[2, 5]]]);
      y.unsqueeze(0).squeeze(0).select(1, 0).fill_(8);
      expect(await y.tolist()).toEqual([
        [8, 1, 2],
        [8, 4, 5],
      ]);
      expect(tensor(1).unsqueeze(0).shape).toEqual([1]);
    });

    it('flatten: merges a dim range, copying only when the strides require it', async () => {
      const x = iota([2, 3, 4]);
      expect(x.flatten().shape).toEqual([24]);
      expect(x.flatten(1).shape).toEqual([2, 12]);
      expect(x.flatten(0, 1).shape).toEqual([6, 4]);
      expect(tensor(3).flatten().shape).toEqual([1]);
      expect(await x.transpose(1, 2).flatten(1).tolist()).toEqual([
        [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11],
        [12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23],
      ]);
      x.flatten().narrow(0, 0, 1).fill_(-1);
      expect(await x.select(0, 0).select(0, 0).select(0, 0).item()).toBe(-1);
    });

    it('contiguous/clone/detach: contiguous returns itself when already contiguous; clone copies; detach shares', async () => {
      const x = iota([2, 3]);
      expect(x.contiguous()).toBe(x);
      const t = x.t();
      const c = t.contiguous();
      expect(c).not.toBe(t);
      expect(c.isContiguous()).toBe(true);
      expect(await c.tolist()).toEqual([
        [0, 3],
        [1, 4],
        [2, 5],
      ]);
      const k = x.clone();
      k.fill_(1);
      expect(await x.tolist()).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      const d = x.detach();
      d.fill_(2);
      expect(await x.tolist(), 'detach shares storage, as torch').toEqual([
        [2, 2, 2],
        [2, 2, 2],
      ]);
    });

    it('in place: add_/sub_/mul_/div_/copy_/zero_ write into the tensor and return it', async () => {
      const x = tensor([1, 2, 3]);
      expect(x.add_(1)).toBe(x);
      expect(await x.tolist()).toEqual([2, 3, 4]);
      x.sub_(tensor([1, 1, 1]), 2);
      expect(await x.tolist()).toEqual([0, 1, 2]);
      x.mul_(3).div_(2);
      expect(await x.tolist()).toEqual([0, 1.5, 3]);
      x.copy_(tensor([7]));
      expect(await x.tolist(), 'copy_ broadcasts').toEqual([7, 7, 7]);
      x.copy_(tensor([1, 2, 3], { dtype: 'int32' }));
      expect(x.dtype).toBe('float32');
      expect(await x.tolist()).toEqual([1, 2, 3]);
      x.zero_();
      expect(await x.tolist()).toEqual([0, 0, 0]);
      const m = iota([3, 3]);
      m.t()
        .narrow(0, 1, 1)
        .copy_(tensor([[10, 20, 30]]));
      expect(await m.tolist(), 'copy_ into a transposed view').toEqual([
        [0, 10, 2],
        [3, 20, 5],
        [6, 30, 8],
      ]);
    });
  });
}
