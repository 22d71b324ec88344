/**
 * @module nn/conv.test — conv2d and the pools: float64 gradient checks of every option,
 * unfold/fold as adjoints, typed errors naming the module, default init, reprs, and a
 * tiny CNN that learns, on every backend.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { randn, tensor, type Tensor } from '../../runtime/tensor/index.ts';
import { NotImplementedOpError, ShapeError, ValueError } from '../../runtime/errors.ts';
import { manualSeed } from '../../runtime/random.ts';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from '../../runtime/nn/index.ts';
import * as F from '../../runtime/nn/functional.ts';
import { Adam } from '../../runtime/optim/index.ts';
import { BACKENDS, values } from './helpers.ts';
import { gradcheck as sharedGradcheck, input, type GradInput } from '../helpers/gradcheck.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';

const REFERENCE = createReferenceBackend();
const gradcheck = (fn: (...xs: Tensor[]) => Tensor, inputs: readonly GradInput[]): Promise<void> =>
  sharedGradcheck(REFERENCE, fn, inputs);

describe('conv gradchecks (float64, reference)', () => {
  it('gradcheck: conv2d with bias', async () => {
    await gradcheck((x, w, b) => F.conv2d(x, w, b), [input([2, 2, 5, 4], 1), input([3, 2, 3, 2], 2), input([3], 3)]);
  });
  it('gradcheck: conv2d with stride, padding and dilation', async () => {
    await gradcheck(
      (x, w, b) => F.conv2d(x, w, b, { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }),
      [input([1, 2, 6, 5], 4), input([2, 2, 3, 2], 5), input([2], 6)],
    );
  });
  it('gradcheck: conv2d with groups and no bias', async () => {
    await gradcheck(
      (x, w) => F.conv2d(x, w, null, { groups: 2, padding: 1 }),
      [input([1, 4, 4, 4], 7), input([4, 2, 3, 3], 8)],
    );
  });
  it("gradcheck: conv2d with padding 'same' and an even kernel", async () => {
    await gradcheck(
      (x, w) => F.conv2d(x, w, null, { padding: 'same' }),
      [input([1, 1, 4, 5], 9), input([2, 1, 2, 2], 10)],
    );
  });
  it('gradcheck: maxPool2d with stride, padding, dilation and ceil mode', async () => {
    await gradcheck((x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [input([1, 2, 6, 7], 11)]);
    await gradcheck((x) => F.maxPool2d(x, [2, 2], { stride: 1, dilation: 2 }), [input([1, 1, 5, 5], 12)]);
  });
  it('gradcheck: avgPool2d with countIncludePad, ceil mode and divisorOverride', async () => {
    await gradcheck(
      (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      [input([1, 2, 6, 7], 13)],
    );
    await gradcheck((x) => F.avgPool2d(x, [2, 3], { stride: 1, divisorOverride: 5 }), [input([1, 1, 4, 5], 14)]);
  });
  it('gradcheck: adaptiveAvgPool2d, uneven and even windows', async () => {
    await gradcheck((x) => F.adaptiveAvgPool2d(x, [3, 2]), [input([1, 2, 5, 7], 15)]);
    await gradcheck((x) => F.adaptiveAvgPool2d(x, 2), [input([1, 1, 4, 6], 16)]);
  });
  it('gradcheck: unfold and fold', async () => {
    await gradcheck(
      (x) => F.unfold(x, [2, 3], { stride: [1, 2], padding: 1, dilation: [2, 1] }),
      [input([1, 2, 5, 6], 17)],
    );
    await gradcheck((x) => F.fold(x, [4, 5], 2, { padding: 1 }), [input([1, 8, 30], 18, { gap: 0.001 })]);
  });
});

for (const backend of BACKENDS) {
  describe(`conv layers on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
    });

    it('unfold/fold: fold is the adjoint of unfold (<unfold x, y> == <x, fold y>)', async () => {
      manualSeed(1);
      const x = randn([2, 3, 7, 8]);
      const opts = { stride: 2, padding: 1, dilation: [1, 2] as const };
      const u = F.unfold(x, 3, opts);
      const y = randn(u.shape);
      const lhs = (await values(u.mul(y).sum()))[0]!;
      const rhs = (await values(x.mul(F.fold(y, [7, 8], 3, opts)).sum()))[0]!;
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(lhs)));
    });

    it('Conv2d: default init is U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weight and bias, fanIn = in/groups·kH·kW', async () => {
      manualSeed(0);
      const conv = new Conv2d(4, 16, [3, 2], { groups: 2 });
      expect([...conv.weight.shape]).toEqual([16, 2, 3, 2]);
      const bound = 1 / Math.sqrt(2 * 3 * 2);
      for (const p of [conv.weight, conv.bias!]) {
        const v = await values(p);
        expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
        expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(bound * 0.6);
      }
    });

    it('Conv2d: a wrong input shape is a ShapeError naming the module and the shapes', () => {
      const conv = new Conv2d(3, 8, 3);
      expect(() => conv.forward(randn([2, 1, 28, 28]))).toThrow(ShapeError);
      expect(() => conv.forward(randn([2, 1, 28, 28]))).toThrow(
        /^Conv2d: wrong number of input channels; expected input \[N, 3, H, W\].*got \[2,1,28,28\]/,
      );
      expect(() => conv.forward(randn([28, 28]))).toThrow(
        /^Conv2d: wrong input rank; expected input \[N, 3, H, W\] or \[3, H, W\], got \[28,28\]/,
      );
      expect(() => conv.forward(randn([1, 3, 2, 2]))).toThrow(/^Conv2d: input is smaller than the \(dilated\) kernel/);
      expect(() => new MaxPool2d(2).forward(randn([4, 4]))).toThrow(/^MaxPool2d: wrong input rank/);
      expect(() => new AvgPool2d(3, { padding: 2 }).forward(randn([1, 1, 8, 8]))).toThrow(
        /^AvgPool2d: pad should be at most half of kernel size/,
      );
    });

    it("Conv2d: options torch rejects throw; paddingMode other than 'zeros' is not implemented", () => {
      expect(() => new Conv2d(3, 8, 3, { paddingMode: 'reflect' })).toThrow(NotImplementedOpError);
      expect(() => new Conv2d(3, 8, 3, { groups: 2 })).toThrow(ValueError);
      expect(() => new Conv2d(3, 8, 3, { padding: 'same', stride: 2 })).toThrow(ValueError);
    });

    it('Conv2d and the pools: reprs as torch prints them', () => {
      expect(String(new Conv2d(1, 32, 3))).toBe('Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))');
      expect(String(new Conv2d(4, 8, [3, 5], { stride: 2, padding: 1, dilation: 2, groups: 4, bias: false }))).toBe(
        'Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=4, bias=False)',
      );
      expect(String(new MaxPool2d(2))).toBe(
        'MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)',
      );
      expect(String(new AvgPool2d(2))).toBe('AvgPool2d(kernel_size=2, stride=2, padding=0)');
      expect(String(new AdaptiveAvgPool2d([5, 7]))).toBe('AdaptiveAvgPool2d(output_size=(5, 7))');
    });

    it('conv2d: an unbatched [C, H, W] input gives [Cout, oH, oW]', () => {
      const y = F.conv2d(randn([2, 5, 5]), randn([3, 2, 3, 3]), null, { padding: 1 });
      expect([...y.shape]).toEqual([3, 5, 5]);
    });

    it('tiny CNN: Conv2d -> ReLU -> MaxPool2d -> Flatten -> Linear trains with decreasing loss', async () => {
      manualSeed(42);
      const model = new Sequential(
        new Conv2d(1, 4, 3),
        new ReLU(),
        new MaxPool2d(2),
        new Flatten(),
        new Linear(4 * 3 * 3, 3),
      );
      const x = randn([6, 1, 8, 8]);
      const target = tensor([0, 1, 2, 0, 1, 2], { dtype: 'int32' });
      const opt = new Adam(model.parameters(), { lr: 0.01 });
      const losses: number[] = [];
      for (let step = 0; step < 12; step++) {
        opt.zeroGrad();
        const loss = F.crossEntropy(model.forward(x), target);
        loss.backward();
        opt.step();
        losses.push((await values(loss))[0]!);
      }
      expect(losses[11]!).toBeLessThan(losses[0]! * 0.7);
      expect(losses.every(Number.isFinite)).toBe(true);
    });
  });
}
