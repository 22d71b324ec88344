/**
 * Autograd behaviour on every available backend: propagation of requiresGrad,
 * accumulation, retainGraph, noGrad, detach, explicit gradients, deep and diamond graphs.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { AutogradError, enableGrad, isGradEnabled, noGrad, ones, tensor, tidy, zeros } from '../../runtime/index.ts';
import { availableBackends } from '../helpers/backends.ts';
import { expectClose } from '../helpers/tolerance.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

for (const backend of backends) {
  describe(`autograd on ${backend.name}`, () => {
    beforeEach(() => setDefaultBackend(backend));

    it('requiresGrad: propagates to op results, which are non-leaves with a gradFn', () => {
      const x = tensor([1, 2], { requiresGrad: true });
      const c = tensor([3, 4]);
      expect(x.isLeaf).toBe(true);
      expect(x.gradFn).toBeNull();
      const y = x.mul(c);
      expect(y.requiresGrad).toBe(true);
      expect(y.isLeaf).toBe(false);
      expect(y.gradFn?.name).toBe('Mul');
      const z = c.mul(2);
      expect(z.requiresGrad).toBe(false);
      expect(z.gradFn).toBeNull();
      expect(x.view(2, 1).requiresGrad, 'views record too').toBe(true);
      expect(x.gt(1).requiresGrad, 'comparisons give no gradient').toBe(false);
      expect(x.argmax().requiresGrad).toBe(false);
      const r = zeros([2]).requiresGrad_();
      expect(r.requiresGrad).toBe(true);
    });

    it('backward: fills .grad of leaves only, with values of d(sum(x*x + 3x))/dx = 2x + 3', async () => {
      const x = tensor([1, -2, 0.5], { requiresGrad: true });
      const h = x.mul(x);
      const y = h.add(x.mul(3)).sum();
      y.backward();
      expect(await x.grad!.tolist()).toEqual([5, -1, 4]);
      expect(h.grad, 'non-leaves keep no grad (torch without retain_grad)').toBeNull();
    });

    it('backward: accumulates into .grad over two backward calls', async () => {
      const x = tensor([1, 2, 3], { requiresGrad: true });
      x.mul(2).sum().backward();
      expect(await x.grad!.tolist()).toEqual([2, 2, 2]);
      x.mul(x).sum().backward();
      expect(await x.grad!.tolist()).toEqual([4, 6, 8]);
    });

    it('backward: two leaves that receive the same gradient tensor keep separate .grad buffers', async () => {
      // add's rule passes the incoming gradient to both parents unchanged.
      const a = tensor([1, 2], { requiresGrad: true });
      const b = tensor([3, 4], { requiresGrad: true });
      const w = tensor([1, 10]);
      a.add(b).mul(w).sum().backward();
      expect(await a.grad!.tolist()).toEqual([1, 10]);
      expect(await b.grad!.tolist()).toEqual([1, 10]);
      expect(a.grad).not.toBe(b.grad);
      a.add(b).mul(w).sum().backward();
      expect(await a.grad!.tolist(), 'a second backward adds once to each').toEqual([2, 20]);
      expect(await b.grad!.tolist()).toEqual([2, 20]);
      a.grad!.zero_();
      expect(await b.grad!.tolist(), 'zeroing one grad leaves the other').toEqual([2, 20]);
    });

    it('backward: a leaf and a view of another leaf sharing one gradient keep separate .grad buffers', async () => {
      const a = tensor([[1, 2]], { requiresGrad: true });
      const b = tensor([3, 4], { requiresGrad: true });
      a.view(2)
        .add(b)
        .mul(tensor([1, 10]))
        .sum()
        .backward();
      a.grad!.fill_(0);
      expect(await b.grad!.tolist()).toEqual([1, 10]);
    });

    it('retainGraph: a second backward without it throws a typed error; with it gradients double', async () => {
      const x = tensor([1, 2], { requiresGrad: true });
      const y = x.mul(x).sum();
      y.backward();
      expect(() => y.backward()).toThrow(AutogradError);
      expect(() => y.backward()).toThrow(
        "backward: the graph through 'Sum' was already freed; expected retainGraph: true on the first backward, got a second backward",
      );
      const x2 = tensor([1, 2], { requiresGrad: true });
      const y2 = x2.mul(x2).sum();
      y2.backward(undefined, { retainGraph: true });
      expect(await x2.grad!.tolist()).toEqual([2, 4]);
      y2.backward(undefined, { retainGraph: true });
      expect(await x2.grad!.tolist()).toEqual([4, 8]);
      y2.backward();
      expect(await x2.grad!.tolist()).toEqual([6, 12]);
    });

    it('noGrad: records nothing inside, restores the mode after (also after a throw); enableGrad re-enables', () => {
      const x = tensor([1], { requiresGrad: true });
      const y = noGrad(() => x.mul(2));
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      expect(isGradEnabled()).toBe(true);
      expect(() =>
        noGrad(() => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(isGradEnabled()).toBe(true);
      const z = noGrad(() => enableGrad(() => x.mul(2)));
      expect(z.requiresGrad).toBe(true);
    });

    it('detach: cuts the graph; the detached tensor gets no gradient and none flows through it', async () => {
      const x = tensor([2, 3], { requiresGrad: true });
      const d = x.mul(2).detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.isLeaf).toBe(true);
      const y = x.mul(d).sum();
      y.backward();
      expect(await x.grad!.tolist(), 'd/dx sum(x * stop(2x)) = 2x').toEqual([4, 6]);
    });

    it('backward: a non-scalar output takes an explicit gradient of its shape', async () => {
      const x = tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { requiresGrad: true },
      );
      const y = x.mul(x);
      y.backward(
        tensor([
          [1, 0],
          [0.5, 2],
        ]),
      );
      expect(await x.grad!.tolist()).toEqual([
        [2, 0],
        [3, 16],
      ]);
    });

    it('backward: a chain of 20,000 sequential adds does not overflow the stack', async () => {
      const x = tensor([1], { requiresGrad: true });
      let y = x;
      for (let i = 0; i < 20_000; i++) y = y.add(1);
      expect(await y.item()).toBe(20_001);
      y.sum().backward();
      expect(await x.grad!.item()).toBe(1);
    });

    it('backward: a diamond graph (x used by two branches) sums both paths', async () => {
      const x = tensor([2], { requiresGrad: true });
      const a = x.mul(3);
      const b = x.exp();
      const y = a.mul(b).sum(); // 3x·e^x → d/dx = 3e^x + 3x·e^x
      y.backward();
      const e2 = Math.exp(2);
      expect(await x.grad!.item()).toBeCloseTo(3 * e2 + 6 * e2, 4);
      const z = tensor([1.5], { requiresGrad: true });
      const w = z.add(z).add(z.mul(z)); // 2z + z² → 2 + 2z
      w.sum().backward();
      expect(await z.grad!.item()).toBe(5);
    });

    it('kinks and ties: gradients follow torch (relu/abs at 0 give 0, clamp bounds pass, ties split or go first)', async () => {
      const grad = async (
        values: number[],
        f: (x: ReturnType<typeof tensor>) => ReturnType<typeof tensor>,
      ): Promise<unknown> => {
        const x = tensor(values, { requiresGrad: true });
        f(x).sum().backward();
        return x.grad!.tolist();
      };
      expect(await grad([-1, 0, 2], (x) => x.relu())).toEqual([0, 0, 1]);
      expect(await grad([-1, 0, 2], (x) => x.abs())).toEqual([-1, 0, 1]);
      expect(
        await grad([-1, -0.5, 0, 1, 2], (x) => x.clamp(-0.5, 1)),
        'clamp passes the gradient at its bounds',
      ).toEqual([0, 1, 1, 1, 0]);
      expect(await grad([3, 1, 3], (x) => x.max()), 'amax splits ties evenly').toEqual([0.5, 0, 0.5]);
      expect(await grad([1, 1, 1, 1], (x) => x.min()), 'amin splits ties evenly').toEqual([0.25, 0.25, 0.25, 0.25]);
      expect(await grad([3, 1, 3], (x) => x.max(0).values), 'max(dim) sends it to the first index').toEqual([1, 0, 0]);
      const a = tensor([1, 2, 3], { requiresGrad: true });
      const b = tensor([1, 5, 0], { requiresGrad: true });
      a.maximum(b).sum().backward();
      expect(await a.grad!.tolist(), 'maximum splits ties in half').toEqual([0.5, 0, 1]);
      expect(await b.grad!.tolist()).toEqual([0.5, 1, 0]);
    });

    it('backward: zero_() on .grad between steps accumulates into the same buffer without growing memory', async () => {
      const w = tensor([1, 2], { requiresGrad: true });
      const x = tensor([3, 4]);
      tidy(() => {
        w.mul(x).sum().backward();
      });
      const buffer = w.grad!;
      const start = backend.memory().liveBuffers;
      for (let i = 0; i < 50; i++) {
        tidy(() => {
          w.grad!.zero_();
          w.mul(x).mul(w).sum().backward();
        });
      }
      expect(w.grad).toBe(buffer);
      expect(await w.grad!.tolist()).toEqual([6, 16]);
      expect(backend.memory().liveBuffers).toBe(start);
    });

    it('requiresGrad: int32 and bool tensors cannot require gradients', () => {
      expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(AutogradError);
      expect(() => tensor([1], { dtype: 'int32' }).requiresGrad_()).toThrow(
        'requiresGrad_: only floating-point tensors can require gradients; expected float32 or float64, got int32',
      );
      expect(() => tensor([true]).requiresGrad_()).toThrow(AutogradError);
    });

    it('backward: integer casts and comparisons stop the gradient', async () => {
      const x = tensor([0.5, 2], { requiresGrad: true });
      const y = x.mul(x.gt(1).float()).sum();
      y.backward();
      expect(await x.grad!.tolist()).toEqual([0, 1]);
    });

    it('backward: inside tidy frees the graph intermediates but keeps .grad', async () => {
      const before = backend.memory().liveBuffers;
      const x = tensor([1, 2, 3], { requiresGrad: true });
      tidy(() => {
        x.mul(x).exp().sum().backward();
      });
      expect(x.grad!.isDisposed).toBe(false);
      expectClose(
        await x.grad!.data(),
        [1, 2, 3].map((v) => 2 * v * Math.exp(v * v)),
        { rtol: 1e-5, atol: 0 },
        'd/dx sum(exp(x²))',
      );
      x.dispose();
      expect(backend.memory().liveBuffers).toBe(before);
    });

    it('in place: a leaf that requires grad cannot be modified while recording, but can under noGrad', async () => {
      const w = ones([2], { requiresGrad: true });
      expect(() => w.add_(1)).toThrow(AutogradError);
      noGrad(() => w.add_(1));
      expect(await w.tolist()).toEqual([2, 2]);
      expect(w.requiresGrad).toBe(true);
    });
  });
}
