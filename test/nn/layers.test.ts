/**
 * @module nn/layers.test — the layers: Linear (init and forward), activations, Dropout,
 * Flatten, LayerNorm, BatchNorm1d/2d and Embedding, with hand-computed values, their
 * reprs against PyTorch's, shape errors, and float64 gradient checks.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import { cat, ones, randn, tensor, zeros, type Tensor } from '../../runtime/tensor/index.ts';
import { DTypeError, IndexError, ShapeError, ValueError } from '../../runtime/errors.ts';
import { manualSeed } from '../../runtime/random.ts';
import { liveBuffers, tidy } from '../../runtime/memory.ts';
import {
  BatchNorm1d,
  BatchNorm2d,
  Dropout,
  Embedding,
  Flatten,
  GELU,
  Identity,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  ReLU,
  Sequential,
  SiLU,
  Sigmoid,
  Softmax,
  Tanh,
} from '../../runtime/nn/index.ts';
import * as F from '../../runtime/nn/functional.ts';
import { erf } from '../../runtime/backends/reference/special.ts';
import { BACKENDS, expectNear, values } from './helpers.ts';
import { gradcheck as sharedGradcheck, type GradInput } from '../helpers/gradcheck.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';

const REFERENCE = createReferenceBackend();
/** The shared float64 gradcheck on the reference backend. */
const gradcheck = (fn: (...xs: Tensor[]) => Tensor, inputs: readonly GradInput[]): Promise<void> =>
  sharedGradcheck(REFERENCE, fn, inputs);

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

for (const backend of BACKENDS) {
  describe(`nn layers on ${backend.name}`, () => {
    beforeEach(() => {
      setDefaultBackend(backend);
      manualSeed(0);
    });

    it('Linear: weight [out, in] and bias [out] from U(-1/sqrt(in), 1/sqrt(in)), as torch', async () => {
      const l = new Linear(784, 64);
      expect(l.weight.shape).toEqual([64, 784]);
      expect(l.bias!.shape).toEqual([64]);
      const bound = 1 / Math.sqrt(784);
      const w = await values(l.weight);
      const b = await values(l.bias!);
      expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.999 * bound);
      expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(bound);
      // U(-a, a): mean 0 (std of the mean a/sqrt(3n)) and variance a²/3.
      const n = w.length;
      const mean = w.reduce((s, v) => s + v, 0) / n;
      const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
      expect(Math.abs(mean)).toBeLessThan((4 * bound) / Math.sqrt(3 * n));
      expect(Math.abs(variance / ((bound * bound) / 3) - 1)).toBeLessThan(0.03);
      expect(new Linear(3, 2, { bias: false }).bias).toBeNull();
    });

    it('Linear: manualSeed makes initialisation repeatable', async () => {
      manualSeed(123);
      const a = await values(new Linear(5, 4).weight);
      manualSeed(123);
      const b = await values(new Linear(5, 4).weight);
      expect(a).toEqual(b);
      expect(await values(new Linear(5, 4).weight)).not.toEqual(a);
    });

    it('Linear: forward computes x·Wᵀ + b over leading dims', async () => {
      const l = new Linear(3, 2);
      l.loadStateDict({
        weight: tensor([
          [1, 2, 3],
          [-1, 0, 1],
        ]),
        bias: tensor([0.5, -0.5]),
      });
      const y = l.forward(tensor([[[1, 1, 1]], [[1, 0, -1]]]));
      expect(y.shape).toEqual([2, 1, 2]);
      expect(await values(y)).toEqual([6.5, -0.5, -1.5, -2.5]);
    });

    it('Linear: a wrong input shape is a ShapeError naming the module and shapes', () => {
      const l = new Linear(784, 64);
      expect(() => l.forward(zeros([32, 100]))).toThrow(ShapeError);
      expect(() => l.forward(zeros([32, 100]))).toThrow(
        'Linear: input features differ; expected x[-1] == 784, got [32,100]',
      );
    });

    it('activations: values match the formulas', async () => {
      const xs = [-2, -0.5, 0, 0.5, 3];
      const x = tensor(xs);
      expectNear(
        await values(new ReLU().forward(x)),
        xs.map((v) => Math.max(v, 0)),
      );
      expectNear(
        await values(new LeakyReLU(0.2).forward(x)),
        xs.map((v) => (v > 0 ? v : 0.2 * v)),
      );
      expectNear(await values(new Sigmoid().forward(x)), xs.map(sigmoid));
      expectNear(await values(new Tanh().forward(x)), xs.map(Math.tanh));
      expectNear(
        await values(new SiLU().forward(x)),
        xs.map((v) => v * sigmoid(v)),
      );
      expectNear(
        await values(new GELU().forward(x)),
        xs.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
      );
      const tanhGelu = (v: number): number =>
        0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      expectNear(await values(new GELU({ approximate: 'tanh' }).forward(x)), xs.map(tanhGelu));
      expect(await values(new Identity().forward(x))).toEqual(await values(x));
      const z = tensor([
        [1, 2, 3],
        [0, 0, 0],
      ]);
      const e = [1, 2, 3].map(Math.exp);
      const s = e.reduce((a, b) => a + b);
      expectNear(await values(new Softmax(1).forward(z)), [...e.map((v) => v / s), 1 / 3, 1 / 3, 1 / 3]);
      expectNear(await values(new LogSoftmax(-1).forward(z)), [
        ...e.map((v) => Math.log(v / s)),
        -Math.log(3),
        -Math.log(3),
        -Math.log(3),
      ]);
      expect(() => new GELU({ approximate: 'fast' as 'tanh' })).toThrow(ValueError);
    });

    it('activations and simple layers: reprs match PyTorch', () => {
      expect(String(new ReLU())).toBe('ReLU()');
      expect(String(new LeakyReLU())).toBe('LeakyReLU(negative_slope=0.01)');
      expect(String(new LeakyReLU(1))).toBe('LeakyReLU(negative_slope=1.0)');
      expect(String(new GELU())).toBe("GELU(approximate='none')");
      expect(String(new SiLU())).toBe('SiLU()');
      expect(String(new Sigmoid())).toBe('Sigmoid()');
      expect(String(new Tanh())).toBe('Tanh()');
      expect(String(new Softmax(1))).toBe('Softmax(dim=1)');
      expect(String(new LogSoftmax(-1))).toBe('LogSoftmax(dim=-1)');
      expect(String(new Dropout())).toBe('Dropout(p=0.5, inplace=False)');
      expect(String(new Flatten())).toBe('Flatten(start_dim=1, end_dim=-1)');
      expect(String(new Identity())).toBe('Identity()');
      expect(String(new LayerNorm([3, 4], { eps: 1e-6 }))).toBe(
        'LayerNorm((3, 4), eps=1e-06, elementwise_affine=True)',
      );
      expect(String(new BatchNorm2d(8, { momentum: null, affine: false }))).toBe(
        'BatchNorm2d(8, eps=1e-05, momentum=None, affine=False, track_running_stats=True)',
      );
      expect(String(new Embedding(10, 3))).toBe('Embedding(10, 3)');
      expect(String(new Embedding(10, 3, { paddingIdx: -1 }))).toBe('Embedding(10, 3, padding_idx=9)');
    });

    it('Dropout: training zeroes about p and scales the rest by 1/(1-p); eval is the identity', async () => {
      const d = new Dropout(0.25);
      const x = ones([4000]);
      const y = await values(d.forward(x));
      const zeros_ = y.filter((v) => v === 0).length;
      expect(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
      expect(Math.abs(zeros_ / 4000 - 0.25)).toBeLessThan(0.03);
      d.eval();
      expect(d.forward(x)).toBe(x);
      expect(new Dropout(0).forward(x)).toBe(x);
      expect(await values(new Dropout(1).forward(ones([3])))).toEqual([0, 0, 0]);
      expect(() => new Dropout(1.5)).toThrow(ValueError);
      expect(() => F.dropout(x, -0.1)).toThrow(ValueError);
      expect(F.dropout(x, 0.5, { training: false })).toBe(x);
    });

    it('Dropout: the mask repeats under manualSeed and its gradient is the mask', async () => {
      manualSeed(7);
      const a = await values(new Dropout(0.5).forward(ones([16])));
      manualSeed(7);
      const x = ones([16], { requiresGrad: true });
      const y = new Dropout(0.5).forward(x);
      expect(await values(y)).toEqual(a);
      y.sum().backward();
      expect(await values(x.grad!)).toEqual(a);
    });

    it('Flatten: flattens startDim..endDim', () => {
      expect(new Flatten().forward(zeros([2, 1, 28, 28])).shape).toEqual([2, 784]);
      expect(new Flatten(0, 1).forward(zeros([2, 3, 4])).shape).toEqual([6, 4]);
    });

    it('LayerNorm: normalises the trailing dims with the biased variance, then scales and shifts', async () => {
      const ln = new LayerNorm(3);
      expect(ln.weight!.shape).toEqual([3]);
      expect(await values(ln.weight!)).toEqual([1, 1, 1]);
      expect(await values(ln.bias!)).toEqual([0, 0, 0]);
      const y = await values(
        ln.forward(
          tensor([
            [1, 2, 3],
            [2, 4, 6],
          ]),
        ),
      );
      const s1 = 1 / Math.sqrt(2 / 3 + 1e-5);
      const s2 = 1 / Math.sqrt(8 / 3 + 1e-5);
      expectNear(y, [-s1, 0, s1, -2 * s2, 0, 2 * s2]);
      ln.loadStateDict({ weight: tensor([2, 2, 2]), bias: tensor([1, 1, 1]) });
      expectNear(await values(ln.forward(tensor([[1, 2, 3]]))), [1 - 2 * s1, 1, 1 + 2 * s1]);
      expect(new LayerNorm(3, { elementwiseAffine: false }).parameters()).toHaveLength(0);
      expect(() => ln.forward(zeros([2, 4]))).toThrow(ShapeError);
      expect(() => ln.forward(zeros([2, 4]))).toThrow(
        "LayerNorm: input's trailing dims differ from normalizedShape; expected x[-1:] == [3], got [2,4]",
      );
    });

    it('BatchNorm1d: training normalises per channel and updates running stats (unbiased variance)', async () => {
      const bn = new BatchNorm1d(2);
      const x = tensor([
        [1, 10],
        [2, 20],
        [3, 30],
        [6, 40],
      ]);
      const y = await values(bn.forward(x));
      // channel 0: mean 3, biased var 3.5, unbiased 14/3; channel 1: mean 25, biased var 125, unbiased 500/3.
      const c0 = [1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5));
      const c1 = [10, 20, 30, 40].map((v) => (v - 25) / Math.sqrt(125 + 1e-5));
      expectNear(y, [c0[0]!, c1[0]!, c0[1]!, c1[1]!, c0[2]!, c1[2]!, c0[3]!, c1[3]!]);
      expectNear(await values(bn.runningMean!), [0.3, 2.5]);
      expectNear(await values(bn.runningVar!), [0.9 + (0.1 * 14) / 3, 0.9 + (0.1 * 500) / 3]);
      expect(bn.numBatchesTracked!.dtype).toBe('int32');
      expect(await values(bn.numBatchesTracked!)).toEqual([1]);
      bn.eval();
      const rm = await values(bn.runningMean!);
      const rv = await values(bn.runningVar!);
      expectNear(await values(bn.forward(tensor([[1, 10]]))), [
        (1 - rm[0]!) / Math.sqrt(rv[0]! + 1e-5),
        (10 - rm[1]!) / Math.sqrt(rv[1]! + 1e-5),
      ]);
      expect(await values(bn.numBatchesTracked!)).toEqual([1]);
      expectNear(await values(bn.runningMean!), [0.3, 2.5]);
    });

    it('BatchNorm1d: momentum null averages cumulatively; no running stats uses batch stats in eval', async () => {
      const bn = new BatchNorm1d(1, { momentum: null });
      bn.forward(tensor([[1], [3]]));
      bn.forward(tensor([[5], [7]]));
      expectNear(await values(bn.runningMean!), [(2 + 6) / 2]);
      expect(await values(bn.numBatchesTracked!)).toEqual([2]);
      const free = new BatchNorm1d(1, { trackRunningStats: false, affine: false });
      expect(free.buffers()).toHaveLength(0);
      expect(free.parameters()).toHaveLength(0);
      free.eval();
      expectNear(await values(free.forward(tensor([[1], [3]]))), [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)]);
    });

    it('BatchNorm1d/2d: 3-D and 4-D inputs reduce over batch and spatial dims', async () => {
      const x3 = tensor([
        [
          [1, 3],
          [0, 0],
        ],
        [
          [5, 7],
          [2, 2],
        ],
      ]); // [N=2, C=2, L=2]
      const y3 = await values(new BatchNorm1d(2).forward(x3));
      const s = 1 / Math.sqrt(5 + 1e-5); // channel 0: values 1,3,5,7: mean 4, var 5
      const t = 1 / Math.sqrt(1 + 1e-5); // channel 1: 0,0,2,2: mean 1, var 1
      expectNear(y3, [-3 * s, -s, -t, -t, s, 3 * s, t, t]);
      const bn2 = new BatchNorm2d(2);
      const y4 = await values(bn2.forward(x3.reshape([2, 2, 1, 2])));
      expectNear(y4, [-3 * s, -s, -t, -t, s, 3 * s, t, t]);
      expectNear(await values(bn2.runningVar!), [0.9 + (0.1 * 20) / 3, 0.9 + (0.1 * 4) / 3]);
    });

    it('BatchNorm2d: with a process group, statistics, running stats and input gradients are those of every rank together', async () => {
      // A stand-in for two ranks whose other rank holds the very same batch and upstream gradient:
      // its sums are this rank's doubled. One process on the batch twice is then the reference.
      const calls: number[] = [];
      const twin = {
        allReduceSumSync: (v: Float32Array) => {
          calls.push(v.length);
          return v.map((a) => a + a);
        },
      };
      const x = randn([3, 2, 2, 2]);
      const w = randn([3, 2, 2, 2]);
      const synced = new BatchNorm2d(2);
      synced.processGroup = twin;
      const alone = new BatchNorm2d(2);
      const xs = x.detach().requiresGrad_(true);
      const xa = cat([x, x]).requiresGrad_(true);
      if (!backend.capabilities.syncReadback) {
        expect(() => synced.forward(xs)).toThrow(/statistics over ranks need synchronous readback/);
        return;
      }
      const ys = synced.forward(xs);
      const ya = alone.forward(xa);
      // Forward: the sum and count, then the squared deviations ([C + 1] values each).
      expect(calls).toEqual([3, 3]);
      expectNear(await values(ys), (await values(ya)).slice(0, 24), 1e-5, 1e-5);
      expectNear(await values(synced.runningMean!), await values(alone.runningMean!));
      // The unbiased running variance uses the global count (2 × 3 × 2 × 2 = 24 values per channel).
      expectNear(await values(synced.runningVar!), await values(alone.runningVar!));
      ys.mul(w).sum().backward();
      ya.mul(cat([w, w]))
        .sum()
        .backward();
      expect(calls).toEqual([3, 3, 3, 3]);
      // Each rank's input gradient is that of both ranks' losses; the affine gradients are this
      // rank's share (DDP averages them over the ranks).
      expectNear(await values(xs.grad!), (await values(xa.grad!)).slice(0, 24), 1e-4, 1e-5);
      expectNear(
        (await values(synced.weight!.grad!)).map((g) => 2 * g),
        await values(alone.weight!.grad!),
        1e-4,
        1e-5,
      );
      expectNear(
        (await values(synced.bias!.grad!)).map((g) => 2 * g),
        await values(alone.bias!.grad!),
        1e-4,
        1e-5,
      );
      // Eval never syncs (running statistics), as torch's SyncBatchNorm.
      synced.eval().forward(xs);
      expect(calls).toHaveLength(4);
    });

    it('BatchNorm: wrong rank, wrong channels and one value per channel in training are typed errors', () => {
      expect(() => new BatchNorm1d(3).forward(zeros([2, 3, 4, 5]))).toThrow(
        'BatchNorm1d: wrong input rank; expected 2D or 3D input [N, C] or [N, C, L], got [2,3,4,5]',
      );
      expect(() => new BatchNorm2d(3).forward(zeros([2, 3]))).toThrow(ShapeError);
      expect(() => new BatchNorm1d(3).forward(zeros([2, 4]))).toThrow(
        'BatchNorm1d: channels differ; expected x[1] == 3, got [2,4]',
      );
      expect(() => new BatchNorm1d(3).forward(zeros([1, 3]))).toThrow(ValueError);
      expect(new BatchNorm1d(3).eval().forward(zeros([1, 3])).shape).toEqual([1, 3]);
      expect(() => new BatchNorm1d(3, { momentum: 2 })).toThrow(ValueError);
    });

    it('Embedding: N(0,1) init, row lookup, padding row zero and without gradient', async () => {
      const emb = new Embedding(4, 3, { paddingIdx: 0 });
      expect(emb.weight.shape).toEqual([4, 3]);
      const w = await values(emb.weight);
      expect(w.slice(0, 3)).toEqual([0, 0, 0]);
      const idx = tensor(
        [
          [1, 0],
          [1, 3],
        ],
        { dtype: 'int32' },
      );
      const out = emb.forward(idx);
      expect(out.shape).toEqual([2, 2, 3]);
      expect(await values(out)).toEqual([...w.slice(3, 6), 0, 0, 0, ...w.slice(3, 6), ...w.slice(9, 12)]);
      out.sum().backward();
      expect(await values(emb.weight.grad!)).toEqual([0, 0, 0, 2, 2, 2, 0, 0, 0, 1, 1, 1]);
      expect(() => emb.forward(tensor([1.0]))).toThrow(DTypeError);
      expect(() => new Embedding(4, 3, { paddingIdx: 4 })).toThrow(ValueError);
      const big = await values(new Embedding(1000, 10).weight);
      const mean = big.reduce((a, b) => a + b) / big.length;
      const sd = Math.sqrt(big.reduce((a, b) => a + (b - mean) ** 2, 0) / big.length);
      expect(Math.abs(mean)).toBeLessThan(0.05);
      expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    });

    it('Embedding: an index out of range is an IndexError', () => {
      if (!backend.capabilities.syncReadback) return;
      expect(() => new Embedding(4, 3).forward(tensor([4], { dtype: 'int32' }))).toThrow(IndexError);
    });

    it('layers: a training step in tidy leaves only the parameter gradients alive', () => {
      const m = new Sequential(
        new Linear(4, 8),
        new BatchNorm1d(8),
        new ReLU(),
        new Dropout(0.2),
        new LayerNorm(8),
        new Linear(8, 2),
      );
      const emb = new Embedding(5, 4, { paddingIdx: 0 });
      const idx = tensor([1, 0, 2, 4, 3], { dtype: 'int32' });
      const t = tensor([0, 1, 0, 1, 1], { dtype: 'int32' });
      const before = liveBuffers(backend).liveBuffers;
      tidy(() => {
        F.crossEntropy(m.forward(emb.forward(idx)), t).backward();
      });
      expect(liveBuffers(backend).liveBuffers).toBe(before + m.parameters().length + 1);
      tidy(() => {
        F.crossEntropy(m.forward(emb.forward(idx)), t).backward();
      });
      expect(liveBuffers(backend).liveBuffers).toBe(before + m.parameters().length + 1);
      m.zeroGrad();
      emb.zeroGrad();
      expect(liveBuffers(backend).liveBuffers).toBe(before);
    });

    it('F: functional layer forms match the modules', async () => {
      const x = randn([3, 4]);
      const l = new Linear(4, 2);
      expect(await values(F.linear(x, l.weight, l.bias))).toEqual(await values(l.forward(x)));
      expect(await values(F.layerNorm(x, [4]))).toEqual(await values(new LayerNorm(4).forward(x)));
      expect(await values(F.relu(x))).toEqual(await values(new ReLU().forward(x)));
      expect(await values(F.softmax(x, 1))).toEqual(await values(new Softmax(1).forward(x)));
      const oh = F.oneHot(tensor([0, 2], { dtype: 'int32' }), 3);
      expect(await values(oh)).toEqual([1, 0, 0, 0, 0, 1]);
      const e = await values(
        F.embedding(
          tensor([1], { dtype: 'int32' }),
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      );
      expect(e).toEqual([3, 4]);
      const rm = zeros([4]);
      const rv = ones([4]);
      const y = F.batchNorm(x, rm, rv, { training: false });
      expectNear(
        await values(y),
        (await values(x)).map((v) => v / Math.sqrt(1 + 1e-5)),
      );
    });
  });
}

describe('nn layers: float64 gradient checks (reference backend)', () => {
  const data = (n: number, seed: number): number[] =>
    Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 1.5);

  it('gradcheck: layerNorm with weight and bias', async () => {
    await gradcheck(
      (x, w, b) => F.layerNorm(x, [4], { weight: w, bias: b }),
      [
        { data: data(12, 1), shape: [3, 4] },
        { data: data(4, 2), shape: [4] },
        { data: data(4, 3), shape: [4] },
      ],
    );
  });

  it('gradcheck: batchNorm in training with weight and bias', async () => {
    await gradcheck(
      (x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }),
      [
        { data: data(12, 4), shape: [3, 2, 2] },
        { data: data(2, 5), shape: [2] },
        { data: data(2, 6), shape: [2] },
      ],
    );
  });

  it('gradcheck: linear, activations and embedding', async () => {
    await gradcheck(
      (x, w, b) => F.gelu(F.linear(x, w, b)),
      [
        { data: data(6, 7), shape: [2, 3] },
        { data: data(12, 8), shape: [4, 3] },
        { data: data(4, 9), shape: [4] },
      ],
    );
    await gradcheck((x) => F.logSoftmax(F.silu(x), 1), [{ data: data(6, 10), shape: [2, 3] }]);
    await gradcheck(
      (w) => F.embedding(tensor([2, 0, 2], { dtype: 'int32', backend: w.backend }), w, { paddingIdx: 1 }),
      [{ data: data(6, 11), shape: [3, 2] }],
    );
  });
});
