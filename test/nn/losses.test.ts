/**
 * @module nn/losses.test — every loss of F against hand-computed values (small literal
 * cases; the expected numbers follow torch's documented formulas), each reduction,
 * bad input, buffer accounting, and float64 finite-difference gradient checks.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { ones, randn, tensor, zeros, type Tensor } from '../../runtime/tensor/index.ts';
import { DTypeError, IndexError, ShapeError, ValueError } from '../../runtime/errors.ts';
import { liveBuffers, tidy } from '../../runtime/memory.ts';
import { manualSeed } from '../../runtime/random.ts';
import * as F from '../../runtime/nn/functional.ts';
import { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss } from '../../runtime/nn/index.ts';
import { BACKENDS, expectNear, values } from './helpers.ts';
import { gradcheck as sharedGradcheck, type GradInput } from '../helpers/gradcheck.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';

const REFERENCE = createReferenceBackend();
/** The shared float64 gradcheck on the reference backend. */
const gradcheck = (fn: (...xs: Tensor[]) => Tensor, inputs: readonly GradInput[]): Promise<void> =>
  sharedGradcheck(REFERENCE, fn, inputs);

const int = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'int32' });
/** log-softmax of one row, in float64. */
const logSoftmaxRow = (row: number[]): number[] => {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
};
const softplus = (x: number): number => Math.log1p(Math.exp(x));

const LOGITS = [
  [1, 2, 3],
  [1, 1, 1],
];
const LP = LOGITS.map(logSoftmaxRow);

for (const backend of BACKENDS) {
  describe(`F losses on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
      manualSeed(0);
    });
    const x = (): Tensor => tensor([1, 2, 3]);
    const y = (): Tensor => tensor([0, 2, 5]);

    it('mseLoss: (x - y)² with mean, sum and none', async () => {
      expectNear(await values(F.mseLoss(x(), y())), [5 / 3]);
      expectNear(await values(F.mseLoss(x(), y(), { reduction: 'sum' })), [5]);
      expect(await values(F.mseLoss(x(), y(), { reduction: 'none' }))).toEqual([1, 0, 4]);
      expect(F.mseLoss(x(), y()).shape).toEqual([]);
      expectNear(await values(new MSELoss().forward(x(), y())), [5 / 3]);
    });

    it('l1Loss: |x - y|', async () => {
      expectNear(await values(F.l1Loss(x(), y())), [1]);
      expectNear(await values(F.l1Loss(x(), y(), { reduction: 'sum' })), [3]);
      expect(await values(F.l1Loss(x(), y(), { reduction: 'none' }))).toEqual([1, 0, 2]);
    });

    it('smoothL1Loss and huberLoss: quadratic below beta/delta, linear above', async () => {
      // |d| = 1, 0, 2
      expect(await values(F.smoothL1Loss(x(), y(), { reduction: 'none' }))).toEqual([0.5, 0, 1.5]);
      expect(await values(F.smoothL1Loss(x(), y(), { reduction: 'none', beta: 2 }))).toEqual([0.25, 0, 1]);
      expect(await values(F.smoothL1Loss(x(), y(), { reduction: 'none', beta: 0 }))).toEqual([1, 0, 2]);
      expectNear(await values(F.smoothL1Loss(x(), y())), [2 / 3]);
      expect(await values(F.huberLoss(x(), y(), { reduction: 'none', delta: 2 }))).toEqual([0.5, 0, 2]);
      expect(() => F.smoothL1Loss(x(), y(), { beta: -1 })).toThrow(ValueError);
    });

    it('crossEntropy: class indices, all reductions', async () => {
      const t = int([2, 0]);
      const per = [-LP[0]![2]!, -LP[1]![0]!];
      expectNear(await values(F.crossEntropy(tensor(LOGITS), t, { reduction: 'none' })), per);
      expectNear(await values(F.crossEntropy(tensor(LOGITS), t)), [(per[0]! + per[1]!) / 2]);
      expectNear(await values(F.crossEntropy(tensor(LOGITS), t, { reduction: 'sum' })), [per[0]! + per[1]!]);
      expectNear(await values(new CrossEntropyLoss().forward(tensor(LOGITS), t)), [(per[0]! + per[1]!) / 2]);
    });

    it('crossEntropy: weighted mean divides by the weights of the non-ignored targets', async () => {
      const w = tensor([1, 2, 3]);
      const per = [-3 * LP[0]![2]!, -1 * LP[1]![0]!];
      expectNear(await values(F.crossEntropy(tensor(LOGITS), int([2, 0]), { weight: w, reduction: 'none' })), per);
      expectNear(await values(F.crossEntropy(tensor(LOGITS), int([2, 0]), { weight: w })), [(per[0]! + per[1]!) / 4]);
      expectNear(await values(F.crossEntropy(tensor(LOGITS), int([2, -100]), { weight: w })), [per[0]! / 3]);
      expectNear(await values(F.crossEntropy(tensor(LOGITS), int([2, 1]), { weight: w, ignoreIndex: 1 })), [
        per[0]! / 3,
      ]);
      expectNear(await values(F.crossEntropy(tensor(LOGITS), int([2, -100]), { reduction: 'none' })), [-LP[0]![2]!, 0]);
      expect(await values(F.crossEntropy(tensor(LOGITS), int([-100, -100])))).toEqual([NaN]);
      expectNear(await values(new CrossEntropyLoss({ weight: w }).forward(tensor(LOGITS), int([2, 0]))), [
        (per[0]! + per[1]!) / 4,
      ]);
    });

    it('crossEntropy: label smoothing mixes in the uniform distribution, as torch', async () => {
      const eps = 0.1;
      const per = [0, 1].map((i) => (1 - eps) * -LP[i]![[2, 0][i]!]! + (eps / 3) * -LP[i]!.reduce((a, b) => a + b));
      expectNear(
        await values(F.crossEntropy(tensor(LOGITS), int([2, 0]), { labelSmoothing: eps, reduction: 'none' })),
        per,
      );
      expectNear(await values(F.crossEntropy(tensor(LOGITS), int([2, 0]), { labelSmoothing: eps })), [
        (per[0]! + per[1]!) / 2,
      ]);
      // with weight [1, 2, 3] and row 1 ignored: nll 3·(−lp02)/3, smooth −Σ w_c·lp0c / 3.
      const w = [1, 2, 3];
      const smooth = -LP[0]!.reduce((s, v, c) => s + w[c]! * v, 0);
      const expected = (1 - eps) * -LP[0]![2]! + (eps / 3) * (smooth / 3);
      expectNear(
        await values(F.crossEntropy(tensor(LOGITS), int([2, -100]), { labelSmoothing: eps, weight: tensor(w) })),
        [expected],
      );
      expect(() => F.crossEntropy(tensor(LOGITS), int([2, 0]), { labelSmoothing: 1.5 })).toThrow(ValueError);
    });

    it('crossEntropy: class probabilities, with smoothing and weight; the mean divides by N', async () => {
      const p = [
        [0, 0.25, 0.75],
        [1, 0, 0],
      ];
      const per = p.map((row, i) => -row.reduce((s, v, c) => s + v * LP[i]![c]!, 0));
      expectNear(await values(F.crossEntropy(tensor(LOGITS), tensor(p), { reduction: 'none' })), per);
      expectNear(await values(F.crossEntropy(tensor(LOGITS), tensor(p))), [(per[0]! + per[1]!) / 2]);
      const w = [1, 2, 3];
      const eps = 0.2;
      const perW = p.map((row, i) => -row.reduce((s, v, c) => s + ((1 - eps) * v + eps / 3) * w[c]! * LP[i]![c]!, 0));
      expectNear(await values(F.crossEntropy(tensor(LOGITS), tensor(p), { weight: tensor(w), labelSmoothing: eps })), [
        (perW[0]! + perW[1]!) / 2,
      ]);
    });

    it('crossEntropy: [N, C, d] input with [N, d] targets, and unbatched [C] input', async () => {
      const logits = tensor([
        [
          [0, 1],
          [1, 0],
        ],
      ]); // N=1, C=2, d=2
      const out = await values(F.crossEntropy(logits, int([[1, 1]]), { reduction: 'none' }));
      expectNear(out, [softplus(-1), softplus(1)]);
      expectNear(await values(F.crossEntropy(logits, int([[1, 1]]))), [(softplus(-1) + softplus(1)) / 2]);
      const single = F.crossEntropy(tensor([1, 2, 3]), tensor(2, { dtype: 'int32' }), { reduction: 'none' });
      expect(single.shape).toEqual([]);
      expectNear(await values(single), [-LP[0]![2]!]);
      expectNear(
        await values(F.crossEntropy(tensor([1, 2, 3]), tensor(2, { dtype: 'int32' }), { labelSmoothing: 0.1 })),
        [0.9 * -LP[0]![2]! + (0.1 / 3) * -LP[0]!.reduce((a, b) => a + b)],
      );
    });

    it('nllLoss: picks −input[target], weights and ignores', async () => {
      const lp = tensor([
        [-1, -2, -3],
        [-4, -5, -6],
      ]);
      expect(await values(F.nllLoss(lp, int([1, 2]), { reduction: 'none' }))).toEqual([2, 6]);
      expectNear(await values(F.nllLoss(lp, int([1, 2]))), [4]);
      expectNear(await values(F.nllLoss(lp, int([1, 2]), { weight: tensor([0, 1, 3]) })), [(2 + 18) / 4]);
      expectNear(await values(F.nllLoss(lp, int([1, 2]), { weight: tensor([0, 1, 3]), reduction: 'sum' })), [20]);
      expectNear(await values(F.nllLoss(lp, int([1, 0]), { ignoreIndex: 0 })), [2]);
    });

    it('binaryCrossEntropy: logs clamped at -100, weights and reductions', async () => {
      const p = tensor([0.8, 0.2, 0]);
      const t = tensor([1, 0, 1]);
      const per = [-Math.log(0.8), -Math.log(0.8), 100];
      expectNear(await values(F.binaryCrossEntropy(p, t, { reduction: 'none' })), per);
      expectNear(await values(F.binaryCrossEntropy(p, t)), [(per[0]! + per[1]! + 100) / 3]);
      expectNear(await values(F.binaryCrossEntropy(p, t, { weight: tensor([1, 2, 3]), reduction: 'sum' })), [
        per[0]! + 2 * per[1]! + 300,
      ]);
      // torch's kernel (t − 1)·max(log1p(−x), −100) − t·max(log x, −100) gives +0 at x = t = 0 and −0 at x = t = 1.
      expect(await values(F.binaryCrossEntropy(tensor([0, 1]), tensor([0, 1]), { reduction: 'none' }))).toEqual([
        0, -0,
      ]);
      expectNear(await values(new BCELoss().forward(p, t)), [(per[0]! + per[1]! + 100) / 3]);
    });

    it("binaryCrossEntropy: the gradient at 0 and 1 is torch's (x − t) / max(x(1 − x), 1e-12)", async () => {
      const p = tensor([0, 1, 0, 0.5], { requiresGrad: true });
      F.binaryCrossEntropy(p, tensor([1, 0, 0, 1]), { reduction: 'sum' }).backward();
      expectNear(await values(p.grad!), [-1e12, 1e12, 0, -2], 1e-6);
    });

    it('binaryCrossEntropyWithLogits: stable, with posWeight and weight', async () => {
      const z = tensor([0, 2, -3, 40, -40]);
      const t = tensor([1, 0, 1, 1, 0]);
      const per = [softplus(0), 2 + softplus(-2), softplus(3), softplus(-40), softplus(-40)];
      expectNear(await values(F.binaryCrossEntropyWithLogits(z, t, { reduction: 'none' })), per, 1e-5, 1e-12);
      expectNear(await values(F.binaryCrossEntropyWithLogits(z, t)), [per.reduce((a, b) => a + b) / 5]);
      const lw = [2, 1, 2, 2, 1];
      const perPw = [0, 1, 2, 3, 4].map(
        (i) => (1 - [1, 0, 1, 1, 0][i]!) * [0, 2, -3, 40, -40][i]! + lw[i]! * softplus(-[0, 2, -3, 40, -40][i]!),
      );
      expectNear(
        await values(F.binaryCrossEntropyWithLogits(z, t, { posWeight: tensor([2]), reduction: 'none' })),
        perPw,
        1e-5,
        1e-12,
      );
      expectNear(
        await values(F.binaryCrossEntropyWithLogits(z, t, { weight: tensor([1, 1, 2, 1, 1]), reduction: 'sum' })),
        [per.reduce((a, b) => a + b) + per[2]!],
      );
      // float32 cancellation check: −10 + softplus(10) would lose most digits.
      expectNear(await values(F.binaryCrossEntropyWithLogits(tensor([-10]), tensor([0]))), [softplus(-10)], 1e-5);
      expectNear(await values(new BCEWithLogitsLoss({ posWeight: tensor([2]) }).forward(z, t)), [
        perPw.reduce((a, b) => a + b) / 5,
      ]);
      const g = tensor([0, 3], { requiresGrad: true });
      F.binaryCrossEntropyWithLogits(g, tensor([1, 0]), { reduction: 'sum' }).backward();
      expectNear(await values(g.grad!), [-0.5, 1 / (1 + Math.exp(-3))]);
    });

    it('losses: an unknown reduction is a ValueError', () => {
      const bad = { reduction: 'avg' as 'mean' };
      for (const f of [
        () => F.mseLoss(x(), y(), bad),
        () => F.l1Loss(x(), y(), bad),
        () => F.smoothL1Loss(x(), y(), bad),
        () => F.huberLoss(x(), y(), bad),
        () => F.crossEntropy(tensor(LOGITS), int([0, 1]), bad),
        () => F.nllLoss(tensor(LOGITS), int([0, 1]), bad),
        () => F.binaryCrossEntropy(tensor([0.5]), tensor([1]), bad),
        () => F.binaryCrossEntropyWithLogits(tensor([0.5]), tensor([1]), bad),
      ]) {
        expect(f).toThrow(ValueError);
        expect(f).toThrow("unknown reduction; expected 'mean', 'sum' or 'none', got \"avg\"");
      }
    });

    it('losses: shape, dtype and range errors are typed', () => {
      expect(() => F.mseLoss(zeros([4, 1]), zeros([4]))).toThrow(
        'mseLoss: input and target shapes differ; expected target [4,1], got [4]',
      );
      expect(() => F.crossEntropy(tensor(LOGITS), int([0, 1, 2]))).toThrow(ShapeError);
      expect(() => F.crossEntropy(tensor(LOGITS), tensor([[0, 1, 0]]))).toThrow(ShapeError);
      expect(() => F.crossEntropy(tensor(LOGITS), tensor([0, 1], { dtype: 'bool' }))).toThrow(DTypeError);
      expect(() => F.crossEntropy(tensor(LOGITS), int([0, 1]), { weight: tensor([1, 2]) })).toThrow(ShapeError);
      expect(() => F.nllLoss(tensor(LOGITS), tensor([0, 1]))).toThrow(DTypeError);
      expect(() => F.binaryCrossEntropy(tensor([0.5, 0.5]), tensor([1]))).toThrow(ShapeError);
      expect(() =>
        F.binaryCrossEntropyWithLogits(tensor([0.5, 0.5]), tensor([1, 0]), { posWeight: tensor([1, 2, 3]) }),
      ).toThrow(ShapeError);
      if (backend.capabilities.syncReadback) {
        expect(() => F.crossEntropy(tensor(LOGITS), int([3, 0]))).toThrow(IndexError);
        expect(() => F.crossEntropy(tensor(LOGITS), int([3, 0]))).toThrow(
          'crossEntropy: target out of bounds; expected 0 <= target < 3 or ignoreIndex -100, got 3',
        );
        expect(() => F.binaryCrossEntropy(tensor([1.5]), tensor([1]))).toThrow(ValueError);
      }
    });

    it('losses: a step in tidy leaves only the leaf gradient alive', () => {
      const logits = randn([8, 5], { requiresGrad: true });
      const t = tensor([0, 1, 2, 3, 4, 0, 1, 2], { dtype: 'int32' });
      const before = liveBuffers(backend).liveBuffers;
      tidy(() => {
        F.crossEntropy(logits, t, { labelSmoothing: 0.1, weight: ones([5]) }).backward();
        F.binaryCrossEntropyWithLogits(logits, zeros([8, 5]), { posWeight: ones([5]) }).backward();
      });
      expect(liveBuffers(backend).liveBuffers).toBe(before + 1);
      logits.dispose();
    });
  });
}

describe('F losses: float64 gradient checks (reference backend)', () => {
  const data = (n: number, seed: number, lo = -1.5, hi = 1.5): number[] =>
    Array.from({ length: n }, (_, i) => lo + (hi - lo) * (0.5 + 0.5 * Math.sin(seed * 3.7 + i * 2.3)));

  it('gradcheck: mseLoss, l1Loss, smoothL1Loss and huberLoss (both arguments)', async () => {
    for (const f of [
      F.mseLoss,
      F.l1Loss,
      (a: Tensor, b: Tensor) => F.smoothL1Loss(a, b, { beta: 0.7 }),
      (a: Tensor, b: Tensor) => F.huberLoss(a, b, { delta: 0.6 }),
    ]) {
      await gradcheck(
        (a, b) => f(a, b),
        [
          { data: data(6, 1), shape: [2, 3] },
          { data: data(6, 2), shape: [2, 3] },
        ],
      );
    }
  });

  it('gradcheck: crossEntropy with indices, weight, ignoreIndex and label smoothing', async () => {
    const target = { data: [2, -100, 0, 1], shape: [4], dtype: 'int32' as const };
    await gradcheck(
      (z, t, w) => F.crossEntropy(z, t, { weight: w, labelSmoothing: 0.2 }),
      [{ data: data(12, 3), shape: [4, 3] }, target, { data: [0.5, 1, 2], shape: [3], requiresGrad: false }],
    );
    await gradcheck(
      (z, t) => F.crossEntropy(z, t, { reduction: 'sum' }),
      [
        { data: data(12, 4), shape: [2, 3, 2] },
        { data: [0, 2, 1, 1], shape: [2, 2], dtype: 'int32' },
      ],
    );
  });

  it('gradcheck: crossEntropy with probabilities (input and target)', async () => {
    await gradcheck(
      (z, p) => F.crossEntropy(z, p, { labelSmoothing: 0.1 }),
      [
        { data: data(6, 5), shape: [2, 3] },
        { data: data(6, 6, 0, 1), shape: [2, 3] },
      ],
    );
  });

  it('gradcheck: nllLoss', async () => {
    await gradcheck(
      (lp, t) => F.nllLoss(lp, t, { weight: null }),
      [
        { data: data(6, 7), shape: [2, 3] },
        { data: [1, 0], shape: [2], dtype: 'int32' },
      ],
    );
  });

  it('gradcheck: binaryCrossEntropy (input, target and weight)', async () => {
    await gradcheck(
      (p, t, w) => F.binaryCrossEntropy(p, t, { weight: w }),
      [
        { data: data(5, 8, 0.05, 0.95), shape: [5] },
        { data: data(5, 9, 0, 1), shape: [5] },
        { data: data(5, 10, 0.5, 2), shape: [5] },
      ],
    );
  });

  it('gradcheck: binaryCrossEntropyWithLogits (input, target, posWeight, weight)', async () => {
    await gradcheck(
      (z, t, pw, w) => F.binaryCrossEntropyWithLogits(z, t, { posWeight: pw, weight: w, reduction: 'sum' }),
      [
        { data: data(6, 11, -4, 4), shape: [2, 3] },
        { data: data(6, 12, 0, 1), shape: [2, 3] },
        { data: data(3, 13, 0.5, 3), shape: [3] },
        { data: data(6, 14, 0.5, 2), shape: [2, 3] },
      ],
    );
    await gradcheck(
      (z, t) => F.binaryCrossEntropyWithLogits(z, t),
      [
        { data: data(4, 15, -3, 3), shape: [4] },
        { data: data(4, 16, 0, 1), shape: [4] },
      ],
    );
  });
});
