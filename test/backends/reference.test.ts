/**
 * @module reference.test — hand-checked values for every primitive family of the reference
 * backend, and its error cases. Expected values come from the formulas torch documents
 * (computed by hand or with Python's math module, quoted to full double precision).
 */
import { describe, expect, it } from 'vitest';
import type { TensorView } from '../../runtime/backend.ts';
import type { DType } from '../../runtime/dtype.ts';
import type { ActivationAttrs, OpAttrs, OpName } from '../../runtime/ops.ts';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { erf, erfc } from '../../runtime/backends/reference/special.ts';
import {
  BackendError,
  DisposedError,
  DTypeError,
  IndexError,
  NotImplementedOpError,
  ShapeError,
  ValueError,
} from '../../runtime/errors.ts';
import { runOp } from '../helpers/backends.ts';
import type { ViewSpec } from '../helpers/backends.ts';

const be = createReferenceBackend();
const ACT: ActivationAttrs = { alpha: 0.01, beta: 1, threshold: 20 };

/** Runs an elementwise op on contiguous 1-D inputs and returns a plain array. */
async function ew<O extends OpName>(
  op: O,
  dtype: DType,
  inputs: readonly (readonly number[])[],
  attrs: OpAttrs[O],
  outDType: DType = dtype,
  inDTypes?: readonly DType[],
): Promise<number[]> {
  const n = inputs[0]?.length ?? 0;
  const specs: ViewSpec[] = inputs.map((data, i) => ({ dtype: inDTypes?.[i] ?? dtype, shape: [n], data }));
  return Array.from(await runOp(be, op, { dtype: outDType, shape: [n] }, specs, attrs));
}

function close(actual: readonly number[], expected: readonly number[], rtol = 1e-15): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i] ?? NaN;
    if (Number.isNaN(e)) expect(a, `index ${i}`).toBeNaN();
    else if (!Number.isFinite(e)) expect(a, `index ${i}`).toBe(e);
    else
      expect(Math.abs(a - e), `index ${i}: got ${a}, expected ${e}`).toBeLessThanOrEqual(rtol * Math.abs(e) + 1e-300);
  });
}

describe('special', () => {
  it('special: erf matches known values to ~1e-15', () => {
    close(
      [0.1, 0.5, 1, 2, 3, -2.5].map(erf),
      [
        0.1124629160182849, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, 0.9999779095030014,
        -0.999593047982555,
      ],
      2e-15,
    );
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
  });
  it('special: erfc keeps relative accuracy in the tail', () => {
    close(
      [1, 2, 3, 5, 10].map(erfc),
      [0.15729920705028513, 0.004677734981047265, 2.2090496998585438e-5, 1.5374597944280351e-12, 2.088487583762545e-45],
      5e-15,
    );
    expect(erfc(-Infinity)).toBe(2);
  });
});

describe('reference unary', () => {
  it('reference: neg, abs and sign of float32 (sign(NaN) = 0 as torch)', async () => {
    expect(await ew('neg', 'float32', [[1, -2, 0]], {})).toEqual([-1, 2, -0]);
    expect(await ew('abs', 'float32', [[1, -2, -0]], {})).toEqual([1, 2, 0]);
    expect(await ew('sign', 'float32', [[-3, 0, 2, NaN]], {})).toEqual([-1, 0, 1, 0]);
  });
  it('reference: int32 neg and abs wrap at -2^31 as torch', async () => {
    expect(await ew('neg', 'int32', [[-2147483648, 5]], {})).toEqual([-2147483648, -5]);
    expect(await ew('abs', 'int32', [[-2147483648, -5]], {})).toEqual([-2147483648, 5]);
    expect(await ew('sign', 'int32', [[-7, 0, 9]], {})).toEqual([-1, 0, 1]);
  });
  it('reference: exp, log and sqrt with their IEEE edge values', async () => {
    close(await ew('exp', 'float64', [[0, 1, -Infinity]], {}), [1, Math.E, 0]);
    close(await ew('log', 'float64', [[1, 0, -1, Math.E]], {}), [0, -Infinity, NaN, 1]);
    close(await ew('sqrt', 'float64', [[4, -1, 2]], {}), [2, NaN, Math.SQRT2]);
    expect(await ew('exp', 'float32', [[1]], {})).toEqual([Math.fround(Math.E)]);
  });
  it('reference: relu keeps NaN and sends 0 and negatives to 0', async () => {
    const r = await ew('relu', 'float32', [[-1, 0, 2, NaN]], {});
    close(r, [0, 0, 2, NaN]);
  });
  it('reference: sigmoid, tanh, silu at known points', async () => {
    close(await ew('sigmoid', 'float64', [[0, 1, -Infinity]], {}), [0.5, 0.7310585786300049, 0]);
    close(await ew('tanh', 'float64', [[0, Infinity]], {}), [0, 1]);
    close(await ew('silu', 'float64', [[0, 1]], {}), [0, 0.7310585786300049]);
  });
  it('reference: gelu is exact 0.5x(1+erf(x/sqrt2)) and gelu_tanh the tanh form', async () => {
    close(
      await ew('gelu', 'float64', [[0, 1, -1, 2.5]], {}),
      [0, 0.8413447460685429, -0.15865525393145707, 2.4844758366855597],
      4e-15,
    );
    close(await ew('gelu_tanh', 'float64', [[0, 1, -0.5]], {}), [0, 0.8411919906082768, -0.15428599017485606], 4e-15);
  });
  it('reference: softplus follows beta and the threshold rule', async () => {
    close(await ew('softplus', 'float64', [[0, 30]], ACT), [Math.LN2, 30]);
    // beta = 2, threshold = 1: x = 1 gives beta*x = 2 > 1, so x; x = 0.25 gives log1p(exp(0.5)) / 2.
    close(await ew('softplus', 'float64', [[1, 0.25]], { alpha: 1, beta: 2, threshold: 1 }), [1, 0.48703849209005334]);
  });
  it('reference: elu uses alpha * expm1(x) for x <= 0', async () => {
    close(await ew('elu', 'float64', [[-1, 0, 2]], { ...ACT, alpha: 1 }), [-0.6321205588285577, 0, 2]);
    close(await ew('elu', 'float64', [[-1]], { ...ACT, alpha: 0.5 }), [-0.6321205588285577 / 2]);
  });
  it('reference: leaky_relu scales negatives by alpha', async () => {
    close(await ew('leaky_relu', 'float64', [[-5, 3, 0]], { ...ACT, alpha: 0.2 }), [-1, 3, 0]);
  });
  it('reference: clamp with both, one or crossed bounds, NaN preserved', async () => {
    close(await ew('clamp', 'float32', [[-2, 0.5, 2, NaN]], { min: -1, max: 1 }), [-1, 0.5, 1, NaN]);
    close(await ew('clamp', 'float32', [[-2, 2]], { min: null, max: 0 }), [-2, 0]);
    close(await ew('clamp', 'float32', [[-2, 2]], { min: 0, max: null }), [0, 2]);
    // torch: min > max sets every element to max.
    close(await ew('clamp', 'float32', [[-5, 0, 5]], { min: 2, max: 1 }), [1, 1, 1]);
    expect(await ew('clamp', 'int32', [[-5, 3, 9]], { min: -2, max: 4 })).toEqual([-2, 3, 4]);
  });
  it('reference: logical_not of bool', async () => {
    expect(await ew('logical_not', 'bool', [[0, 1]], {})).toEqual([1, 0]);
  });
});

describe('reference binary', () => {
  it('reference: int32 add and mul wrap modulo 2^32', async () => {
    expect(
      await ew(
        'add',
        'int32',
        [
          [2147483647, -3],
          [1, 5],
        ],
        {},
      ),
    ).toEqual([-2147483648, 2]);
    expect(await ew('sub', 'int32', [[-2147483648], [1]], {})).toEqual([2147483647]);
    expect(
      await ew(
        'mul',
        'int32',
        [
          [65536, 46341, -7],
          [65536, 46341, 6],
        ],
        {},
      ),
    ).toEqual([0, -2147479015, -42]);
  });
  it('reference: float32 div follows IEEE', async () => {
    close(
      await ew(
        'div',
        'float32',
        [
          [1, -1, 0, 1],
          [0, 0, 0, 4],
        ],
        {},
      ),
      [Infinity, -Infinity, NaN, 0.25],
    );
  });
  it('reference: int32 pow is exact with torch negative-exponent rules', async () => {
    expect(
      await ew(
        'pow',
        'int32',
        [
          [2, 3, -1, -1, 1, 0, 2, 5, -3],
          [10, -1, -3, -2, -5, 0, 31, -2, 3],
        ],
        {},
      ),
    ).toEqual([1024, 0, -1, 1, 1, 1, -2147483648, 0, -27]);
  });
  it('reference: float pow is Math.pow, as ops.ts specifies (pow(1, NaN) = NaN, unlike torch)', async () => {
    close(
      await ew(
        'pow',
        'float64',
        [
          [2, 1, -1, -8, 0, 5],
          [0.5, NaN, Infinity, 1 / 3, -1, 0],
        ],
        {},
      ),
      [Math.SQRT2, NaN, NaN, NaN, Infinity, 1],
    );
  });
  it('reference: maximum and minimum propagate NaN', async () => {
    close(
      await ew(
        'maximum',
        'float32',
        [
          [1, NaN, 3],
          [2, 0, NaN],
        ],
        {},
      ),
      [2, NaN, NaN],
    );
    close(
      await ew(
        'minimum',
        'float32',
        [
          [1, NaN, 3],
          [2, 0, NaN],
        ],
        {},
      ),
      [1, NaN, NaN],
    );
  });
  it('reference: comparisons give bool and NaN compares unequal', async () => {
    const a = [1, NaN, 2];
    const b = [1, NaN, 3];
    expect(await ew('eq', 'float32', [a, b], {}, 'bool')).toEqual([1, 0, 0]);
    expect(await ew('ne', 'float32', [a, b], {}, 'bool')).toEqual([0, 1, 1]);
    expect(await ew('lt', 'float32', [a, b], {}, 'bool')).toEqual([0, 0, 1]);
    expect(await ew('le', 'float32', [a, b], {}, 'bool')).toEqual([1, 0, 1]);
    expect(
      await ew(
        'gt',
        'int32',
        [
          [3, 1],
          [2, 1],
        ],
        {},
        'bool',
      ),
    ).toEqual([1, 0]);
    expect(
      await ew(
        'ge',
        'int32',
        [
          [3, 1],
          [2, 1],
        ],
        {},
        'bool',
      ),
    ).toEqual([1, 1]);
  });
  it('reference: binary ops read broadcast (stride-0) views', async () => {
    const r = await runOp(
      be,
      'add',
      { dtype: 'float32', shape: [2, 3] },
      [
        { dtype: 'float32', shape: [2, 3], strides: [1, 0], data: [10, 20] },
        { dtype: 'float32', shape: [2, 3], strides: [0, 1], data: [1, 2, 3] },
      ],
      {},
    );
    expect(Array.from(r)).toEqual([11, 12, 13, 21, 22, 23]);
  });
  it('reference: where picks a where cond is true', async () => {
    expect(
      await ew(
        'where',
        'float32',
        [
          [1, 0, 1],
          [1, 2, 3],
          [10, 20, 30],
        ],
        {},
        'float32',
        ['bool', 'float32', 'float32'],
      ),
    ).toEqual([1, 20, 3]);
  });
});

describe('reference reduce', () => {
  const x = { dtype: 'float32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] } as const;
  it('reference: sum over each axis keeps the axis as 1', async () => {
    expect(Array.from(await runOp(be, 'sum', { dtype: 'float32', shape: [1, 3] }, [x], { axis: 0 }))).toEqual([
      5, 7, 9,
    ]);
    expect(Array.from(await runOp(be, 'sum', { dtype: 'float32', shape: [2, 1] }, [x], { axis: 1 }))).toEqual([6, 15]);
  });
  it('reference: int32 sum wraps and an empty axis sums to 0', async () => {
    const r = await runOp(
      be,
      'sum',
      { dtype: 'int32', shape: [1] },
      [{ dtype: 'int32', shape: [2], data: [2147483647, 2] }],
      { axis: 0 },
    );
    expect(Array.from(r)).toEqual([-2147483647]);
    const e = await runOp(
      be,
      'sum',
      { dtype: 'float32', shape: [2, 1] },
      [{ dtype: 'float32', shape: [2, 0], data: [] }],
      { axis: 1 },
    );
    expect(Array.from(e)).toEqual([0, 0]);
  });
  it('reference: max and min propagate NaN', async () => {
    const y = { dtype: 'float32', shape: [2, 3], data: [1, NaN, 3, -4, 5, -6] } as const;
    close(Array.from(await runOp(be, 'max', { dtype: 'float32', shape: [2, 1] }, [y], { axis: 1 })), [NaN, 5]);
    close(Array.from(await runOp(be, 'min', { dtype: 'float32', shape: [2, 1] }, [y], { axis: 1 })), [NaN, -6]);
  });
  it('reference: argmax and argmin give the first extreme, or the first NaN', async () => {
    const y = { dtype: 'float32', shape: [3, 3], data: [1, 3, 3, 2, NaN, NaN, 2, 1, 1] } as const;
    expect(Array.from(await runOp(be, 'argmax', { dtype: 'int32', shape: [3, 1] }, [y], { axis: 1 }))).toEqual([
      1, 1, 0,
    ]);
    expect(Array.from(await runOp(be, 'argmin', { dtype: 'int32', shape: [3, 1] }, [y], { axis: 1 }))).toEqual([
      0, 1, 1,
    ]);
    expect(Array.from(await runOp(be, 'argmax', { dtype: 'int32', shape: [1, 3] }, [y], { axis: 0 }))).toEqual([
      1, 1, 1,
    ]);
  });
  it('reference: max over an empty axis throws IndexError', async () => {
    await expect(
      runOp(be, 'max', { dtype: 'float32', shape: [2, 1] }, [{ dtype: 'float32', shape: [2, 0], data: [] }], {
        axis: 1,
      }),
    ).rejects.toThrow(IndexError);
  });
  it('reference: a reduction rejects a non-contiguous input and a bad axis', async () => {
    await expect(
      runOp(be, 'sum', { dtype: 'float32', shape: [3, 1] }, [{ ...x, shape: [3, 2], strides: [1, 3] }], { axis: 1 }),
    ).rejects.toThrow(ShapeError);
    await expect(runOp(be, 'sum', { dtype: 'float32', shape: [2, 1] }, [x], { axis: 2 })).rejects.toThrow(
      /axis out of range/,
    );
  });
});

describe('reference matmul', () => {
  const a = [1, 2, 3, 4];
  const b = [5, 6, 7, 8];
  const mm = (inputs: readonly ViewSpec[], batch = 1): Promise<number[]> =>
    runOp(be, 'matmul', { dtype: 'float32', shape: [batch, 2, 2] }, inputs, {}).then((r) => Array.from(r));
  it('reference: matmul of row-major matrices, with and without bias', async () => {
    const A = { dtype: 'float32', shape: [1, 2, 2], data: a } as const;
    const B = { dtype: 'float32', shape: [1, 2, 2], data: b } as const;
    expect(await mm([A, B])).toEqual([19, 22, 43, 50]);
    expect(await mm([A, B, { dtype: 'float32', shape: [2], data: [1, -1] }])).toEqual([20, 21, 44, 49]);
  });
  it('reference: matmul reads transposed layouts from the strides', async () => {
    // a^T and b^T stored row-major, viewed as a and b through strides [.., 1, rows].
    const At = { dtype: 'float32', shape: [1, 2, 2], strides: [4, 1, 2], data: [1, 3, 2, 4] } as const;
    const Bt = { dtype: 'float32', shape: [1, 2, 2], strides: [4, 1, 2], data: [5, 7, 6, 8] } as const;
    const B = { dtype: 'float32', shape: [1, 2, 2], data: b } as const;
    expect(await mm([At, B])).toEqual([19, 22, 43, 50]);
    expect(await mm([At, Bt])).toEqual([19, 22, 43, 50]);
  });
  it('reference: matmul broadcasts a batch stride of 0', async () => {
    const A = { dtype: 'float32', shape: [2, 2, 2], strides: [0, 2, 1], data: a } as const;
    const B = { dtype: 'float32', shape: [2, 2, 2], data: [...b, 1, 0, 0, 1] } as const;
    expect(await mm([A, B], 2)).toEqual([19, 22, 43, 50, 1, 2, 3, 4]);
  });
  it('reference: matmul with K = 0 gives the bias', async () => {
    const r = await runOp(
      be,
      'matmul',
      { dtype: 'float64', shape: [1, 1, 2] },
      [
        { dtype: 'float64', shape: [1, 1, 0], data: [] },
        { dtype: 'float64', shape: [1, 0, 2], data: [] },
        { dtype: 'float64', shape: [2], data: [3, 4] },
      ],
      {},
    );
    expect(Array.from(r)).toEqual([3, 4]);
  });
  it('reference: matmul inner dimension mismatch throws ShapeError', async () => {
    await expect(
      runOp(
        be,
        'matmul',
        { dtype: 'float32', shape: [1, 2, 5] },
        [
          { dtype: 'float32', shape: [1, 2, 3] },
          { dtype: 'float32', shape: [1, 4, 5] },
        ],
        {},
      ),
    ).rejects.toThrow('matmul: inner dimensions differ; expected a[-1] == b[-2], got [1,2,3] @ [1,4,5]');
  });
});

describe('reference movement and conversion', () => {
  it('reference: copy between strided views leaves other elements alone', async () => {
    // Copy the transpose of [[1,2,3],[4,5,6]] into every other element of a 7-element buffer.
    const r = await runOp(
      be,
      'copy',
      { dtype: 'int32', shape: [3, 2], strides: [2, 1], offset: 1, data: [9, 9, 9, 9, 9, 9, 9] },
      [{ dtype: 'int32', shape: [3, 2], strides: [1, 3], data: [1, 2, 3, 4, 5, 6] }],
      {},
    );
    expect(Array.from(r)).toEqual([9, 1, 4, 2, 5, 3, 6]);
  });
  it('reference: cast truncates toward zero, saturates int32 and maps != 0 to true', async () => {
    expect(await ew('cast', 'float32', [[-2.7, 2.7, NaN, 3e9, Infinity, -3e9, -Infinity]], {}, 'int32')).toEqual([
      -2, 2, 0, 2147483647, 2147483647, -2147483648, -2147483648,
    ]);
    expect(await ew('cast', 'float32', [[0, -0, NaN, 0.1]], {}, 'bool')).toEqual([0, 0, 1, 1]);
    expect(await ew('cast', 'int32', [[16777217, -3]], {}, 'float32')).toEqual([16777216, -3]);
    expect(await ew('cast', 'bool', [[1, 0]], {}, 'float64')).toEqual([1, 0]);
    expect(await ew('cast', 'float64', [[0.1]], {}, 'float32')).toEqual([Math.fround(0.1)]);
  });
  it('reference: fill converts the value as cast does', async () => {
    expect(Array.from(await runOp(be, 'fill', { dtype: 'int32', shape: [2] }, [], { value: 2.7 }))).toEqual([2, 2]);
    expect(Array.from(await runOp(be, 'fill', { dtype: 'bool', shape: [2] }, [], { value: 5 }))).toEqual([1, 1]);
    expect(Array.from(await runOp(be, 'fill', { dtype: 'float32', shape: [1] }, [], { value: 0.1 }))).toEqual([
      Math.fround(0.1),
    ]);
  });
  it('reference: gather along axis 1 (torch docs example)', async () => {
    const r = await runOp(
      be,
      'gather',
      { dtype: 'float32', shape: [2, 2] },
      [
        { dtype: 'float32', shape: [2, 2], data: [1, 2, 3, 4] },
        { dtype: 'int32', shape: [2, 2], data: [0, 0, 1, 0] },
      ],
      { axis: 1 },
    );
    expect(Array.from(r)).toEqual([1, 1, 4, 3]);
  });
  it('reference: gather index out of range throws IndexError with the range', async () => {
    await expect(
      runOp(
        be,
        'gather',
        { dtype: 'float32', shape: [1] },
        [
          { dtype: 'float32', shape: [5] },
          { dtype: 'int32', shape: [1], data: [7] },
        ],
        { axis: 0 },
      ),
    ).rejects.toThrow(new IndexError('gather: index out of range; expected 0 <= index < 5, got 7'));
    await expect(
      runOp(
        be,
        'gather',
        { dtype: 'float32', shape: [1] },
        [
          { dtype: 'float32', shape: [5] },
          { dtype: 'int32', shape: [1], data: [-1] },
        ],
        { axis: 0 },
      ),
    ).rejects.toThrow(IndexError);
  });
  it('reference: scatter_add accumulates repeated indices (torch docs example)', async () => {
    const r = await runOp(
      be,
      'scatter_add',
      { dtype: 'float32', shape: [3, 5] },
      [
        { dtype: 'float32', shape: [3, 5] },
        { dtype: 'int32', shape: [1, 5], data: [0, 1, 2, 0, 0] },
        { dtype: 'float32', shape: [1, 5], data: [1, 1, 1, 1, 1] },
      ],
      { axis: 0 },
    );
    expect(Array.from(r)).toEqual([1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
    const s = await runOp(
      be,
      'scatter_add',
      { dtype: 'int32', shape: [3] },
      [
        { dtype: 'int32', shape: [3], data: [10, 20, 30] },
        { dtype: 'int32', shape: [4], data: [2, 0, 2, 2] },
        { dtype: 'int32', shape: [4], data: [1, 2, 3, 4] },
      ],
      { axis: 0 },
    );
    expect(Array.from(s)).toEqual([12, 20, 38]);
  });
  it('reference: scatter_add index out of range throws IndexError', async () => {
    await expect(
      runOp(
        be,
        'scatter_add',
        { dtype: 'float32', shape: [3] },
        [
          { dtype: 'float32', shape: [3] },
          { dtype: 'int32', shape: [1], data: [3] },
          { dtype: 'float32', shape: [1], data: [1] },
        ],
        { axis: 0 },
      ),
    ).rejects.toThrow('scatter_add: index out of range; expected 0 <= index < 3, got 3');
  });
});

describe('reference unary_backward', () => {
  const grad = async (
    fn: OpAttrs['unary_backward']['fn'],
    x: readonly number[],
    attrs: Partial<ActivationAttrs> = {},
  ): Promise<number[]> => ew('unary_backward', 'float64', [x, x.map(() => 2)], { ...ACT, ...attrs, fn });
  it("reference: relu backward is 0 at x <= 0 (relu'(0) = 0) and g above", async () => {
    expect(await grad('relu', [-1, 0, 3])).toEqual([0, 0, 2]);
  });
  it('reference: leaky_relu backward applies the slope at 0, as torch (x > 0 ? g : g * slope)', async () => {
    close(await grad('leaky_relu', [-1, 0, 3], { alpha: 0.1 }), [0.2, 0.2, 2]);
  });
  it('reference: sigmoid, tanh, silu, gelu and gelu_tanh backward at 0', async () => {
    close(await grad('sigmoid', [0]), [0.5]);
    close(await grad('tanh', [0]), [2]);
    close(await grad('silu', [0]), [1]);
    close(await grad('gelu', [0]), [1]);
    close(await grad('gelu_tanh', [0]), [1]);
  });
  it('reference: gelu backward at 1 is cdf + x pdf', async () => {
    // Φ(1) + φ(1) = 0.8413447460685429 + 0.24197072451914337
    close(await grad('gelu', [1]), [2 * (0.8413447460685429 + 0.24197072451914337)], 4e-15);
  });
  it('reference: elu backward is g * alpha * exp(x) for x <= 0', async () => {
    close(await grad('elu', [-1, 0, 1], { alpha: 0.5 }), [2 * 0.5 * Math.exp(-1), 1, 2]);
  });
  it('reference: softplus backward is g * sigmoid(beta x) below the threshold and g above', async () => {
    close(await grad('softplus', [0, 2], { beta: 1, threshold: 1 }), [1, 2]);
  });
});

describe('reference buffers', () => {
  it('reference: read and readSync return copies', async () => {
    const b = createReferenceBackend();
    const buf = b.alloc('float32', 3);
    b.write(buf, new Float32Array([1, 2, 3]));
    const first = b.readSync(buf, 0, 3);
    first[0] = 99;
    expect(Array.from(await b.read(buf, 1, 2))).toEqual([2, 3]);
    expect(Array.from(b.readSync(buf, 0, 1))).toEqual([1]);
    b.dispose();
  });
  it('reference: memory counts live buffers and bytes', () => {
    const b = createReferenceBackend();
    const x = b.alloc('float64', 4);
    const y = b.alloc('bool', 3);
    expect(b.memory()).toEqual({ liveBuffers: 2, reservedBytes: 35 });
    b.free(x);
    expect(b.memory().liveBuffers).toBe(1);
    b.free(y);
    expect(b.memory()).toEqual({ liveBuffers: 0, reservedBytes: 0 });
  });
  it('reference: double free and use after free throw DisposedError', () => {
    const b = createReferenceBackend();
    const x = b.alloc('float32', 2);
    b.free(x);
    expect(() => b.free(x)).toThrow(DisposedError);
    expect(() => b.readSync(x, 0, 1)).toThrow(DisposedError);
    const out = b.alloc('float32', 2);
    const view = (buffer: typeof x): TensorView => ({ buffer, dtype: 'float32', shape: [2], strides: [1], offset: 0 });
    expect(() => b.run('neg', view(out), [view(x)], {})).toThrow(DisposedError);
    b.dispose();
    expect(() => b.alloc('float32', 1)).toThrow(DisposedError);
  });
  it('reference: a buffer of another backend throws BackendError', () => {
    const b = createReferenceBackend();
    const other = createReferenceBackend().alloc('float32', 1);
    expect(() => b.readSync(other, 0, 1)).toThrow(BackendError);
  });
  it('reference: write checks the dtype and the range', () => {
    const b = createReferenceBackend();
    const x = b.alloc('float32', 2);
    expect(() => b.write(x, new Int32Array(2))).toThrow(DTypeError);
    expect(() => b.write(x, new Float32Array(2), 1)).toThrow(IndexError);
    expect(() => b.readSync(x, 1, 2)).toThrow(IndexError);
    expect(() => b.alloc('float32', -1)).toThrow(ValueError);
  });
  it('reference: a view reaching outside its buffer throws IndexError', async () => {
    await expect(
      runOp(
        be,
        'neg',
        { dtype: 'float32', shape: [3] },
        [{ dtype: 'float32', shape: [3], strides: [2], data: [1, 2, 3] }],
        {},
      ),
    ).rejects.toThrow(/view reaches outside its buffer; expected element indices in \[0, 3\), got \[0, 4\]/);
    await expect(
      runOp(
        be,
        'neg',
        { dtype: 'float32', shape: [2] },
        [{ dtype: 'float32', shape: [2], offset: 2, data: [1, 2, 3] }],
        {},
      ),
    ).rejects.toThrow(IndexError);
  });
  it('reference: dtype and shape misuse throw typed errors', async () => {
    await expect(ew('exp', 'int32', [[1]], {})).rejects.toThrow(DTypeError);
    await expect(ew('add', 'float32', [[1], [1]], {}, 'float32', ['float32', 'float64'])).rejects.toThrow(DTypeError);
    await expect(ew('lt', 'float32', [[1], [1]], {}, 'float32')).rejects.toThrow(DTypeError);
    await expect(
      runOp(
        be,
        'add',
        { dtype: 'float32', shape: [2] },
        [
          { dtype: 'float32', shape: [3] },
          { dtype: 'float32', shape: [2] },
        ],
        {},
      ),
    ).rejects.toThrow(ShapeError);
    await expect(ew('add', 'float32', [[1]], {})).rejects.toThrow(ValueError);
  });
  it('reference: an unknown op throws NotImplementedOpError naming op and backend', () => {
    const b = createReferenceBackend();
    const x = b.alloc('float32', 1);
    const v: TensorView = { buffer: x, dtype: 'float32', shape: [1], strides: [1], offset: 0 };
    expect(() => b.run('conv2d' as OpName, v, [v], {} as never)).toThrow(NotImplementedOpError);
    expect(() => b.run('conv2d' as OpName, v, [v], {} as never)).toThrow(/conv2d.*reference/);
  });
});
