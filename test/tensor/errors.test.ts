/**
 * Bad input on every available backend: each case throws the typed error class of
 * runtime/errors.ts with a message in the format `<op>: <what is wrong>; expected <x>, got <y>`.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import {
  AutogradError,
  DisposedError,
  DTypeError,
  IndexError,
  ShapeError,
  ValueError,
  type LightningError,
  add,
  arange,
  cat,
  clamp,
  exp,
  gather,
  indexSelect,
  linear,
  matmul,
  mean,
  oneHot,
  randint,
  relu,
  scatterAdd,
  softmax,
  stack,
  tensor,
  var as variance,
  where,
  zeros,
} from '../../runtime/index.ts';
import { availableBackends } from '../helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

type ErrorClass = new (message: string) => LightningError;

/** Asserts that `fn` throws exactly `cls` (not merely a subclass of Error) with `message`. */
function expectError(fn: () => unknown, cls: ErrorClass, message: string): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${cls.name}: ${message}`).toBeInstanceOf(cls);
  expect((thrown as Error).name).toBe(cls.name);
  expect((thrown as Error).message).toBe(message);
  expect((thrown as Error).message).toMatch(/^[\w.]+: .+; expected .+, got .+/);
}

/** As expectError, for async readback. */
async function expectRejection(fn: () => Promise<unknown>, cls: ErrorClass, message: string): Promise<void> {
  await expect(fn()).rejects.toBeInstanceOf(cls);
  await expect(fn()).rejects.toThrow(message);
}

const int = (data: number[] | number[][]): ReturnType<typeof tensor> => tensor(data, { dtype: 'int32' });

for (const backend of backends) {
  describe(`errors on ${backend.name}`, () => {
    beforeEach(() => setDefaultBackend(backend));

    it('shape mismatch: add of shapes that cannot broadcast throws ShapeError', () => {
      expectError(
        () => add(zeros([2, 3]), zeros([4])),
        ShapeError,
        'add: shapes cannot broadcast; expected equal sizes or 1 at each dim, got [2,3] and [4]',
      );
      expectError(
        () => zeros([2, 3]).mul(zeros([3, 2])),
        ShapeError,
        'mul: shapes cannot broadcast; expected equal sizes or 1 at each dim, got [2,3] and [3,2]',
      );
    });

    it('shape mismatch: matmul inner dimensions, 0-d operands and batch dims throw ShapeError', () => {
      expectError(
        () => matmul(zeros([2, 3]), zeros([4, 5])),
        ShapeError,
        'matmul: inner dimensions differ; expected a[-1] == b[-2], got [2,3] @ [4,5]',
      );
      expectError(
        () => matmul(zeros([3]), zeros([4])),
        ShapeError,
        'matmul: inner dimensions differ; expected a[-1] == b[-2], got [1,3] @ [4,1]',
      );
      expectError(
        () => matmul(zeros([]), zeros([4, 5])),
        ShapeError,
        'matmul: both arguments need at least 1 dim; expected rank >= 1, got [] @ [4,5]',
      );
      expectError(
        () => matmul(zeros([2, 2, 3]), zeros([3, 3, 4])),
        ShapeError,
        'matmul: shapes cannot broadcast; expected equal sizes or 1 at each dim, got [2] and [3]',
      );
    });

    it('shape mismatch: linear weight and bias shapes throw ShapeError', () => {
      expectError(
        () => linear(zeros([2, 3]), zeros([4, 5])),
        ShapeError,
        "linear: input features differ from the weight's; expected x[-1] == 5, got [2,3] with weight [4,5]",
      );
      expectError(
        () => linear(zeros([2, 3]), zeros([3])),
        ShapeError,
        'linear: weight must be 2-D; expected [out, in], got [3]',
      );
      expectError(
        () => linear(zeros([2, 3]), zeros([4, 3]), zeros([5])),
        ShapeError,
        'linear: bias must be [out]; expected [4], got [5]',
      );
    });

    it('shape mismatch: view of incompatible strides or sizes throws ShapeError', () => {
      expectError(
        () => zeros([2, 3]).t().view(6),
        ShapeError,
        "view: size is not compatible with the input's strides; expected a contiguous input or a compatible shape, got [3,2] -> [6] (use reshape)",
      );
      expectError(
        () => zeros([2, 3]).view(4, 2),
        ShapeError,
        'view: shape is invalid for input of size 6; expected 6 elements, got [4,2]',
      );
      expectError(
        () => zeros([2, 3]).view(-1, -1),
        ShapeError,
        'view: only one dimension can be inferred; expected at most one -1, got [-1,-1]',
      );
      expectError(
        () => zeros([2, 3]).reshape(-1, 4),
        ShapeError,
        'reshape: shape is invalid for input of size 6; expected a shape whose product divides 6, got [-1,4]',
      );
    });

    it('shape mismatch: cat and stack of mismatched shapes throw ShapeError; an empty list ValueError', () => {
      expectError(
        () => cat([zeros([2, 3]), zeros([2, 4])], 0),
        ShapeError,
        'cat: sizes must match except in dim 0; expected [2,3], got [2,4]',
      );
      expectError(
        () => cat([zeros([2, 3]), zeros([3])], 0),
        ShapeError,
        'cat: sizes must match except in dim 0; expected [2,3], got [3]',
      );
      expectError(() => cat([]), ValueError, 'cat: expected a non-empty list of tensors; expected at least 1, got 0');
      expectError(
        () => stack([zeros([2, 3]), zeros([3, 2])]),
        ShapeError,
        'stack: every tensor must have the same shape; expected [2,3], got [3,2]',
      );
      expectError(
        () => zeros([2, 3]).expand(4, 3),
        ShapeError,
        'expand: the expanded size must match the existing size at non-singleton dim 0; expected 2 or from 1, got [2,3] -> [4,3]',
      );
      expectError(
        () => scatterAdd(zeros([2, 3]), 1, int([[0]]), zeros([1, 2])),
        ShapeError,
        'scatterAdd: src and index shapes differ; expected [1,1], got [1,2]',
      );
    });

    it('wrong dtype: mean/var/softmax/relu of int32 throw DTypeError; exp casts ints to float32 as torch', async () => {
      const i = int([1, 2]);
      expectError(() => mean(i), DTypeError, 'mean: unsupported dtype; expected one of float32, float64, got int32');
      expectError(() => variance(i), DTypeError, 'var: unsupported dtype; expected one of float32, float64, got int32');
      expectError(
        () => softmax(i, 0),
        DTypeError,
        'softmax: unsupported dtype; expected one of float32, float64, got int32',
      );
      expectError(() => relu(i), DTypeError, 'relu: unsupported dtype; expected one of float32, float64, got int32');
      const e = exp(i);
      expect(e.dtype).toBe('float32');
      expect(Array.from(await e.data())).toEqual([Math.fround(Math.E), Math.fround(Math.E ** 2)]);
      expectError(
        () => where(zeros([2]), zeros([2]), zeros([2])),
        DTypeError,
        'where: condition must be bool; expected bool, got float32',
      );
    });

    it('wrong dtype: requiresGrad on int32 throws AutogradError; a float index to gather throws DTypeError', () => {
      expectError(
        () => int([1, 2]).requiresGrad_(),
        AutogradError,
        'requiresGrad_: only floating-point tensors can require gradients; expected float32 or float64, got int32',
      );
      expectError(
        () => gather(zeros([2, 3]), 1, zeros([2, 3])),
        DTypeError,
        'gather: index must be an integer tensor; expected int32, got float32',
      );
      expectError(
        () => indexSelect(zeros([2, 3]), 0, zeros([1])),
        DTypeError,
        'indexSelect: index must be an integer tensor; expected int32, got float32',
      );
    });

    it('out-of-range dims: sum(5) on 2-D, transpose, squeeze throw IndexError', () => {
      expectError(() => zeros([2, 3]).sum(5), IndexError, 'sum: dim out of range; expected -2 <= dim < 2, got 5');
      expectError(() => zeros([2, 3]).sum(-3), IndexError, 'sum: dim out of range; expected -2 <= dim < 2, got -3');
      expectError(
        () => zeros([2, 3]).softmax(2),
        IndexError,
        'softmax: dim out of range; expected -2 <= dim < 2, got 2',
      );
      expectError(
        () => zeros([2, 3]).transpose(0, 2),
        IndexError,
        'transpose: dim out of range; expected -2 <= dim < 2, got 2',
      );
      expectError(() => zeros([2]).squeeze(2), IndexError, 'squeeze: dim out of range; expected -1 <= dim < 1, got 2');
      expectError(() => zeros([2]).size(1), IndexError, 'size: dim out of range; expected -1 <= dim < 1, got 1');
    });

    it('out-of-range indices: gather, indexSelect, select, narrow, oneHot throw IndexError', () => {
      expectError(
        () => gather(zeros([2, 3]), 1, int([[0, 3]])),
        IndexError,
        'gather: index out of range; expected 0 <= index < 3, got 3',
      );
      expectError(
        () => gather(zeros([2, 3]), 1, int([[0, -1]])),
        IndexError,
        'gather: index out of range; expected 0 <= index < 3, got -1',
      );
      expectError(
        () => indexSelect(zeros([2, 3]), 0, int([2])),
        IndexError,
        'gather: index out of range; expected 0 <= index < 2, got 2',
      );
      expectError(
        () => zeros([2, 3]).select(1, 3),
        IndexError,
        'select: index out of range; expected -3 <= index < 3, got 3',
      );
      expectError(
        () => zeros([2, 3]).narrow(1, 2, 2),
        IndexError,
        'narrow: range out of bounds; expected 0 <= start and start + length <= 3, got start 2, length 2',
      );
      expectError(
        () => oneHot(int([3]), 2),
        IndexError,
        'oneHot: class values must be smaller than numClasses; expected < 2, got 3',
      );
      expectError(
        () => tensor(1).select(0, 0),
        IndexError,
        'select: cannot be applied to a 0-dim tensor; expected rank >= 1, got shape []',
      );
      expectError(
        () => tensor(1).narrow(0, 0, 1),
        IndexError,
        'narrow: cannot be applied to a 0-dim tensor; expected rank >= 1, got shape []',
      );
    });

    it('backward: from a non-scalar without a gradient, from a constant, or with a wrongly shaped gradient throws', () => {
      expectError(
        () => zeros([2], { requiresGrad: true }).mul(2).backward(),
        AutogradError,
        'backward: grad can be implicitly created only for scalar outputs; expected a tensor of 1 element, got shape [2]',
      );
      expectError(
        () => zeros([2]).sum().backward(),
        AutogradError,
        'backward: tensor does not require grad and has no grad_fn; expected a tensor computed from one with requiresGrad, got a constant',
      );
      expectError(
        () =>
          zeros([2], { requiresGrad: true })
            .mul(2)
            .backward(zeros([3])),
        ShapeError,
        'backward: gradient has the wrong shape; expected [2], got [3]',
      );
    });

    it('use after dispose: reading, viewing or using a disposed tensor as an op input throws DisposedError', async () => {
      const msg = 'tensor: used after dispose; expected a live tensor, got a disposed tensor of shape [2]';
      const d = zeros([2]);
      d.dispose();
      expect(d.isDisposed).toBe(true);
      d.dispose(); // twice is safe
      await expectRejection(() => d.data(), DisposedError, msg);
      await expectRejection(() => d.tolist(), DisposedError, msg);
      expectError(() => d.add(1), DisposedError, msg);
      expectError(() => add(zeros([2]), d), DisposedError, msg);
      expectError(() => matmul(d, zeros([2])), DisposedError, msg);
      expectError(() => d.view(2), DisposedError, msg);
      expectError(() => d.contiguous(), DisposedError, msg);
      expectError(() => cat([zeros([1]), d]), DisposedError, msg);
      expectError(() => zeros([2]).copy_(d), DisposedError, msg);
      const s = zeros([1]);
      s.dispose();
      await expectRejection(
        () => s.item(),
        DisposedError,
        'tensor: used after dispose; expected a live tensor, got a disposed tensor of shape [1]',
      );
    });

    it('use after dispose: a view outlives its disposed base (shared storage is reference-counted)', async () => {
      const base = tensor([1, 2, 3]);
      const v = base.narrow(0, 1, 2);
      base.dispose();
      expect(await v.tolist()).toEqual([2, 3]);
    });

    it('bad arguments: clamp without bounds, slice step 0, arange direction, randint range, ragged data, negative sizes, item of many', async () => {
      await expectRejection(
        () => zeros([2]).item(),
        ShapeError,
        'item: a tensor with 2 elements cannot be converted to a number; expected 1 element, got shape [2]',
      );
      expectError(
        () => clamp(zeros([2]), null, null),
        ValueError,
        'clamp: no bound given; expected at least one of min and max, got neither',
      );
      expectError(
        () => zeros([2]).slice(0, 0, 2, 0),
        ValueError,
        'slice: step must be positive; expected an integer >= 1, got 0',
      );
      expectError(
        () => arange(0, 5, -1),
        ValueError,
        'arange: upper bound and step are inconsistent; expected sign(end - start) == sign(step), got start 0, end 5, step -1',
      );
      expectError(
        () => randint(3, 3, [2]),
        ValueError,
        'randint: invalid range; expected integers low < high, got [3, 3)',
      );
      expectError(
        () => tensor([[1, 2], [3]]),
        ShapeError,
        'tensor: nested arrays are ragged; expected length 2 at depth 1, got 1',
      );
      expectError(
        () => zeros([-1, 2]),
        ShapeError,
        'zeros: invalid shape; expected non-negative integer sizes, got [-1,2]',
      );
      expectError(
        () => zeros([0]).max(),
        ShapeError,
        'max: cannot reduce an empty tensor; expected at least 1 element, got shape [0]',
      );
      expectError(
        () => zeros([0, 2]).argmax(0),
        ShapeError,
        'argmax: cannot reduce over a zero-size dim; expected size > 0 at dim 0, got shape [0,2]',
      );
    });
  });
}
