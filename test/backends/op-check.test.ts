/**
 * @module op-check.test — the one contract check (runtime/op-check.ts): every backend rejects
 * the same misuse of a primitive with the same typed error and message, since each `run`
 * calls `checkOp` first; the backend's own limits stay its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, TensorView } from '../../runtime/backend.ts';
import type { DType } from '../../runtime/dtype.ts';
import type { OpAttrs, OpName } from '../../runtime/ops.ts';
import { checkOp } from '../../runtime/op-check.ts';
import type { OpCheckTarget } from '../../runtime/op-check.ts';
import { DTypeError, IndexError, NotImplementedOpError, ShapeError, ValueError } from '../../runtime/errors.ts';
import { availableBackends, contiguousStrides } from '../helpers/backends.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

/** A target that accepts every dtype, for calling checkOp alone. */
const lenient: OpCheckTarget = { name: 'test', supports: () => undefined, stridedViews: false };

/** The error `run` throws with views over fresh buffers of `length` elements each. */
function misuse<O extends OpName>(
  be: Backend,
  op: O,
  out: { dtype: DType; shape: readonly number[]; strides?: readonly number[]; offset?: number; length?: number },
  inputs: readonly {
    dtype: DType;
    shape: readonly number[];
    strides?: readonly number[];
    offset?: number;
    length?: number;
  }[],
  attrs: OpAttrs[O],
): unknown {
  const made: TensorView[] = [];
  const view = (s: typeof out): TensorView => {
    const length = s.length ?? s.shape.reduce((a, c) => a * c, 1);
    const v: TensorView = {
      buffer: be.alloc(s.dtype, length),
      dtype: s.dtype,
      shape: s.shape,
      strides: s.strides ?? contiguousStrides(s.shape),
      offset: s.offset ?? 0,
    };
    made.push(v);
    return v;
  };
  try {
    const ins = inputs.map(view);
    be.run(op, view(out), ins, attrs);
    return undefined;
  } catch (e) {
    return e;
  } finally {
    for (const v of made) be.free(v.buffer);
  }
}

const f32 = (
  shape: readonly number[],
  extra: Partial<{ strides: readonly number[]; offset: number; length: number }> = {},
) => ({ dtype: 'float32' as const, shape, ...extra });

describe('op-check', () => {
  for (const be of backends) {
    it(`op-check ${be.name}: wrong input count, views outside their buffer and bad attributes throw the shared errors`, () => {
      const count = misuse(be, 'add', f32([2]), [f32([2])], {});
      expect(count).toBeInstanceOf(ValueError);
      expect((count as Error).message).toBe('add: wrong number of inputs; expected 2, got 1');
      const outside = misuse(be, 'neg', f32([3]), [f32([3], { strides: [2], length: 3 })], {});
      expect(outside).toBeInstanceOf(IndexError);
      expect((outside as Error).message).toBe(
        'neg: input 0 view reaches outside its buffer; expected element indices in [0, 3), got [0, 4]',
      );
      const axis = misuse(be, 'sum', f32([2, 1]), [f32([2, 3])], { axis: 2 });
      expect(axis).toBeInstanceOf(IndexError);
      expect((axis as Error).message).toBe('sum: axis out of range; expected an integer 0 <= axis < 2, got 2');
      const bounds = misuse(be, 'clamp', f32([2]), [f32([2])], { min: 'a' as unknown as number, max: null });
      expect(bounds).toBeInstanceOf(ValueError);
      const shape = misuse(be, 'mul', f32([2]), [f32([2]), f32([3])], {});
      expect(shape).toBeInstanceOf(ShapeError);
      expect((shape as Error).message).toBe('mul: input 1 has the wrong shape; expected [2], got [3]');
      const cmp = misuse(be, 'lt', f32([2]), [f32([2]), f32([2])], {});
      expect(cmp).toBeInstanceOf(DTypeError);
      expect((cmp as Error).message).toBe('lt: out has the wrong dtype; expected bool, got float32');
      const inner = misuse(be, 'matmul', f32([1, 2, 5]), [f32([1, 2, 3]), f32([1, 4, 5])], {});
      expect((inner as Error).message).toBe(
        'matmul: inner dimensions differ; expected a[-1] == b[-2], got [1,2,3] @ [1,4,5]',
      );
      const geometry = misuse(be, 'im2col', f32([1, 1, 1, 1]), [f32([1, 1, 1, 1])], {
        kernelH: 1,
        kernelW: 1,
        strideH: 0,
        strideW: 1,
        padH: 0,
        padW: 0,
        dilationH: 1,
        dilationW: 1,
        padValue: 0,
      });
      expect(geometry).toBeInstanceOf(ValueError);
      expect((geometry as Error).message).toBe(
        'im2col: attribute strideH must be an integer >= 1; expected e.g. 2, got 0',
      );
    });

    it(`op-check ${be.name}: a name outside ops.ts is a NotImplementedOpError naming the backend`, () => {
      const e = misuse(be, 'conv2d' as OpName, f32([1]), [f32([1])], {} as never);
      expect(e).toBeInstanceOf(NotImplementedOpError);
      expect((e as Error).message).toBe(
        `conv2d: op not implemented on backend ${be.name}; expected a primitive from ops.ts, got 'conv2d'`,
      );
    });
  }

  it('op-check: checkOp alone passes a valid call and names the role of a bad view', () => {
    const buffer = { id: 1, dtype: 'float32' as const, length: 6 };
    const v = (shape: readonly number[], strides: readonly number[], offset = 0): TensorView => ({
      buffer,
      dtype: 'float32',
      shape,
      strides,
      offset,
    });
    expect(() => checkOp(lenient, 'add', v([2, 3], [3, 1]), [v([2, 3], [0, 1]), v([2, 3], [3, 1])], {})).not.toThrow();
    expect(() =>
      checkOp(lenient, 'matmul', v([1, 2, 2], [4, 2, 1]), [v([1, 2, 3], [6, 3, 1]), v([1, 2, 2], [4, 2, 1])], {}),
    ).toThrow(new ShapeError('matmul: inner dimensions differ; expected a[-1] == b[-2], got [1,2,3] @ [1,2,2]'));
    expect(() =>
      checkOp(lenient, 'gather', v([1], [1]), [v([1], [1]), { ...v([1], [1]), dtype: 'int32' }], { axis: 0 }),
    ).toThrow(new DTypeError('gather: index view dtype differs from its buffer; expected float32, got int32'));
    expect(() => checkOp(lenient, 'sum', v([1, 1], [1, 1]), [v([1, 3], [3, 1], 4)], { axis: 1 })).toThrow(
      new IndexError('sum: input view reaches outside its buffer; expected element indices in [0, 6), got [4, 6]'),
    );
  });

  it("op-check: a stridedViews target skips the contiguity ops.ts promises, except adam's in-place operands", () => {
    const buffer = { id: 1, dtype: 'float32' as const, length: 12 };
    const v = (shape: readonly number[], strides: readonly number[]): TensorView => ({
      buffer,
      dtype: 'float32',
      shape,
      strides,
      offset: 0,
    });
    const strided: OpCheckTarget = { ...lenient, stridedViews: true };
    const transposed = v([3, 4], [1, 3]);
    expect(() => checkOp(lenient, 'sum', v([3, 1], [1, 1]), [transposed], { axis: 1 })).toThrow(ShapeError);
    expect(() => checkOp(strided, 'sum', v([3, 1], [1, 1]), [transposed], { axis: 1 })).not.toThrow();
    const hyper = {
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      decoupled: false,
      stepSize: 1e-3,
      bc2Sqrt: 0.03,
      count: 1,
    };
    const p = v([3], [1]);
    expect(() => checkOp(strided, 'adam', p, [p, v([3], [2]), p, p], hyper)).toThrow(ShapeError);
  });
});
