/**
 * Op semantics of the public tensor API on every available backend, against the plain-JS
 * float64 oracles of oracle.ts: odd lengths (SIMD tails), broadcasting, zero-size tensors,
 * non-contiguous views as inputs, and type promotion.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import type { DType } from '../../runtime/dtype.ts';
import { setDefaultBackend } from '../../runtime/default-backend.ts';
import {
  type Tensor,
  tensor,
  zeros,
  abs,
  add,
  clamp,
  div,
  elu,
  eq,
  exp,
  ge,
  gelu,
  gt,
  le,
  leakyRelu,
  log,
  lt,
  matmul,
  maximum,
  minimum,
  mul,
  ne,
  neg,
  pow,
  relu,
  sigmoid,
  silu,
  softplus,
  sqrt,
  sub,
  tanh,
  where,
  sum,
  mean,
  std,
  logSumExp,
  softmax,
  logSoftmax,
  linear,
  cat,
  stack,
  gather,
  indexSelect,
  oneHot,
  scatterAdd,
  sign,
  amax,
  amin,
} from '../../runtime/index.ts';
import { variance } from '../../runtime/tensor/index.ts';
import { availableBackends } from '../helpers/backends.ts';
import {
  argmaxOf,
  argminOf,
  broadcastTo,
  eluOf,
  expectTensor,
  f32,
  floats,
  geluOf,
  geluTanhOf,
  map,
  matmulNd,
  meanOf,
  nd,
  numel,
  permute,
  reduce,
  sigmoidOf,
  sliceNd,
  softplusOf,
  sumOf,
  tolFor,
  transpose,
  varOf,
  zip,
  type Nd,
} from './oracle.ts';
import type { OpName } from '../../runtime/ops.ts';

const backends = await availableBackends();
afterAll(() => {
  for (const b of backends) b.dispose();
});

const EXACT = { rtol: 0, atol: 0 };
/** Composites (softmax, var, ...) chain a few rounded/transcendental steps. */
const COMPOSITE = { float32: { rtol: 2e-5, atol: 2e-6 }, float64: { rtol: 1e-11, atol: 1e-13 } } as const;

function floatDTypes(b: Backend): DType[] {
  return (['float32', 'float64'] as const).filter((d) => b.capabilities.dtypes.includes(d));
}

/** The values a tensor of `dtype` really holds. */
function held(v: readonly number[], dtype: DType): number[] {
  return dtype === 'float32' ? f32(v) : [...v];
}

type Layout = 'contiguous' | 'transposed' | 'stepped' | 'expanded';

/**
 * An input of logical `shape` laid out as `layout` (a non-contiguous view for all but
 * 'contiguous'), with the oracle's copy of its logical values.
 */
function input(
  backend: Backend,
  dtype: DType,
  shape: readonly number[],
  layout: Layout,
  seed: number,
  lo = -2,
  hi = 2,
): [Tensor, Nd] {
  const o = { backend, dtype };
  switch (layout) {
    case 'contiguous': {
      const v = held(floats(numel(shape), seed, lo, hi), dtype);
      return [tensor(v, o).reshape([...shape]), nd(shape, v)];
    }
    case 'transposed': {
      const base = [...shape].reverse();
      const v = held(floats(numel(base), seed, lo, hi), dtype);
      const rank = shape.length;
      const order = shape.map((_, i) => rank - 1 - i);
      const t = tensor(v, o).reshape(base).permute(order);
      expect(t.isContiguous()).toBe(rank < 2);
      return [t, permute(nd(base, v), order)];
    }
    case 'stepped': {
      const last = shape.length - 1;
      const base = [...shape];
      base[last] = 2 * shape[last]! + 1;
      const v = held(floats(numel(base), seed, lo, hi), dtype);
      const t = tensor(v, o).reshape(base).slice(last, 1, undefined, 2);
      return [t, sliceNd(nd(base, v), last, 1, base[last]!, 2)];
    }
    case 'expanded': {
      const base = [1, ...shape.slice(1)];
      const v = held(floats(numel(base), seed, lo, hi), dtype);
      const t = tensor(v, o)
        .reshape(base)
        .expand([...shape]);
      return [t, nd(shape, broadcastTo(nd(base, v), shape))];
    }
  }
}

interface UnaryCase {
  readonly name: string;
  readonly op: OpName;
  readonly fn: (t: Tensor) => Tensor;
  readonly oracle: (x: number) => number;
  readonly lo?: number;
  readonly hi?: number;
}

const UNARY: readonly UnaryCase[] = [
  { name: 'neg', op: 'neg', fn: (t) => neg(t), oracle: (x) => -x },
  { name: 'abs', op: 'abs', fn: (t) => abs(t), oracle: Math.abs },
  { name: 'sign', op: 'sign', fn: (t) => sign(t), oracle: Math.sign },
  { name: 'sqrt', op: 'sqrt', fn: (t) => sqrt(t), oracle: Math.sqrt, lo: 0.01, hi: 4 },
  { name: 'exp', op: 'exp', fn: (t) => exp(t), oracle: Math.exp, lo: -4, hi: 4 },
  { name: 'log', op: 'log', fn: (t) => log(t), oracle: Math.log, lo: 0.01, hi: 8 },
  { name: 'clamp', op: 'clamp', fn: (t) => clamp(t, -0.5, 1), oracle: (x) => Math.min(Math.max(x, -0.5), 1) },
  { name: 'clamp(min only)', op: 'clamp', fn: (t) => clamp(t, 0.25), oracle: (x) => Math.max(x, 0.25) },
  { name: 'clamp(max only)', op: 'clamp', fn: (t) => clamp(t, null, -0.25), oracle: (x) => Math.min(x, -0.25) },
  { name: 'relu', op: 'relu', fn: (t) => relu(t), oracle: (x) => Math.max(x, 0) },
  { name: 'leakyRelu', op: 'leaky_relu', fn: (t) => leakyRelu(t), oracle: (x) => (x > 0 ? x : 0.01 * x) },
  { name: 'leakyRelu(0.2)', op: 'leaky_relu', fn: (t) => leakyRelu(t, 0.2), oracle: (x) => (x > 0 ? x : 0.2 * x) },
  { name: 'sigmoid', op: 'sigmoid', fn: (t) => sigmoid(t), oracle: sigmoidOf, lo: -6, hi: 6 },
  { name: 'tanh', op: 'tanh', fn: (t) => tanh(t), oracle: Math.tanh, lo: -3, hi: 3 },
  { name: 'gelu', op: 'gelu', fn: (t) => gelu(t), oracle: geluOf, lo: -4, hi: 4 },
  {
    name: 'gelu(tanh)',
    op: 'gelu_tanh',
    fn: (t) => gelu(t, { approximate: 'tanh' }),
    oracle: geluTanhOf,
    lo: -4,
    hi: 4,
  },
  { name: 'silu', op: 'silu', fn: (t) => silu(t), oracle: (x) => x * sigmoidOf(x), lo: -4, hi: 4 },
  { name: 'softplus', op: 'softplus', fn: (t) => softplus(t), oracle: (x) => softplusOf(x), lo: -4, hi: 4 },
  // beta 2, threshold 1: beta*x > 1 takes the identity branch for x > 0.5.
  {
    name: 'softplus(beta 2, threshold 1)',
    op: 'softplus',
    fn: (t) => softplus(t, { beta: 2, threshold: 1 }),
    oracle: (x) => softplusOf(x, 2, 1),
    lo: -2,
    hi: 2,
  },
  { name: 'elu', op: 'elu', fn: (t) => elu(t), oracle: (x) => eluOf(x), lo: -3, hi: 3 },
  { name: 'elu(0.5)', op: 'elu', fn: (t) => elu(t, 0.5), oracle: (x) => eluOf(x, 0.5), lo: -3, hi: 3 },
];

interface BinaryCase {
  readonly name: string;
  readonly op: OpName;
  readonly fn: (a: Tensor, b: Tensor) => Tensor;
  readonly oracle: (x: number, y: number) => number;
  readonly lo?: number;
  readonly hi?: number;
  readonly out?: DType;
}

const BINARY: readonly BinaryCase[] = [
  { name: 'add', op: 'add', fn: (a, b) => add(a, b), oracle: (x, y) => x + y },
  { name: 'sub', op: 'sub', fn: (a, b) => sub(a, b), oracle: (x, y) => x - y },
  { name: 'mul', op: 'mul', fn: (a, b) => mul(a, b), oracle: (x, y) => x * y },
  { name: 'div', op: 'div', fn: (a, b) => div(a, b), oracle: (x, y) => x / y, lo: 0.25, hi: 3 },
  { name: 'pow', op: 'pow', fn: (a, b) => pow(a, b), oracle: (x, y) => x ** y, lo: 0.25, hi: 2.5 },
  { name: 'maximum', op: 'maximum', fn: (a, b) => maximum(a, b), oracle: Math.max },
  { name: 'minimum', op: 'minimum', fn: (a, b) => minimum(a, b), oracle: Math.min },
  { name: 'eq', op: 'eq', fn: (a, b) => eq(a, b), oracle: (x, y) => Number(x === y), out: 'bool' },
  { name: 'ne', op: 'ne', fn: (a, b) => ne(a, b), oracle: (x, y) => Number(x !== y), out: 'bool' },
  { name: 'lt', op: 'lt', fn: (a, b) => lt(a, b), oracle: (x, y) => Number(x < y), out: 'bool' },
  { name: 'le', op: 'le', fn: (a, b) => le(a, b), oracle: (x, y) => Number(x <= y), out: 'bool' },
  { name: 'gt', op: 'gt', fn: (a, b) => gt(a, b), oracle: (x, y) => Number(x > y), out: 'bool' },
  { name: 'ge', op: 'ge', fn: (a, b) => ge(a, b), oracle: (x, y) => Number(x >= y), out: 'bool' },
];

/** Shape pairs: odd lengths, broadcasting both ways, zero-size. */
const BINARY_SHAPES: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[1], [1]],
  [[3], [3]],
  [[5], [5]],
  [[17], [17]],
  [
    [2, 17],
    [2, 17],
  ],
  [
    [3, 1],
    [1, 5],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 1, 5],
    [3, 1],
  ],
  [[17], []],
  [[0, 3], [3]],
  [[0], [1]],
];

for (const backend of backends) {
  describe(`ops on ${backend.name}`, () => {
    beforeEach(() => setDefaultBackend(backend));

    for (const dtype of floatDTypes(backend)) {
      for (const c of UNARY) {
        it(`${c.name}: matches the float64 formula for ${dtype} at lengths 1, 3, 5, 17, zero-size and strided views`, async () => {
          const tol = tolFor(c.op, dtype);
          for (const [shape, layout] of [
            [[1], 'contiguous'],
            [[3], 'contiguous'],
            [[5], 'contiguous'],
            [[17], 'contiguous'],
            [[3, 17], 'contiguous'],
            [[0, 4], 'contiguous'],
            [[5, 3], 'transposed'],
            [[3, 5], 'stepped'],
            [[4, 5], 'expanded'],
          ] as const) {
            const [x, xv] = input(backend, dtype, shape, layout, shape.length * 31 + numel(shape), c.lo, c.hi);
            const y = c.fn(x);
            await expectTensor(y, map(xv, c.oracle), tol, `${c.name} ${dtype} ${layout} [${shape.join(',')}]`, dtype);
            expect(await x.data(), 'the input is left unchanged').toEqual(
              new (dtype === 'float32' ? Float32Array : Float64Array)(xv.data),
            );
          }
        });
      }

      for (const c of BINARY) {
        it(`${c.name}: matches the float64 formula for ${dtype} with broadcasting, zero-size and odd lengths`, async () => {
          const tol = c.out === 'bool' ? EXACT : tolFor(c.op, dtype);
          for (const [sa, sb] of BINARY_SHAPES) {
            const [a, av] = input(backend, dtype, sa, 'contiguous', 7 + numel(sa), c.lo, c.hi);
            // Comparisons need some exact ties: b takes some of a's values when the shapes agree.
            let [b, bv] = input(backend, dtype, sb, 'contiguous', 11 + numel(sb), c.lo, c.hi);
            if (c.out === 'bool' && sa.join() === sb.join()) {
              const mixed = bv.data.map((v, i) => (i % 2 === 0 ? av.data[i]! : v));
              b = tensor(mixed, { dtype }).reshape([...sb]);
              bv = nd(sb, mixed);
            }
            await expectTensor(
              c.fn(a, b),
              zip(av, bv, c.oracle),
              tol,
              `${c.name} ${dtype} [${sa}] op [${sb}]`,
              c.out ?? dtype,
            );
            await expectTensor(
              c.fn(b, a),
              zip(bv, av, c.oracle),
              tol,
              `${c.name} ${dtype} [${sb}] op [${sa}]`,
              c.out ?? dtype,
            );
          }
        });

        it(`${c.name}: reads non-contiguous inputs (transposed, stepped slice, expanded) for ${dtype}`, async () => {
          const tol = c.out === 'bool' ? EXACT : tolFor(c.op, dtype);
          for (const layout of ['transposed', 'stepped', 'expanded'] as const) {
            const [a, av] = input(backend, dtype, [3, 5], layout, 3, c.lo, c.hi);
            const [b, bv] = input(backend, dtype, [3, 5], 'contiguous', 5, c.lo, c.hi);
            await expectTensor(c.fn(a, b), zip(av, bv, c.oracle), tol, `${c.name} ${layout} lhs`, c.out ?? dtype);
            await expectTensor(c.fn(b, a), zip(bv, av, c.oracle), tol, `${c.name} ${layout} rhs`, c.out ?? dtype);
          }
        });
      }

      it(`where: picks a where cond else b, broadcasting all three, for ${dtype}`, async () => {
        const cond = tensor([[true], [false], [true]], { dtype: 'bool' });
        const [a, av] = input(backend, dtype, [3, 5], 'transposed', 1);
        const [b, bv] = input(backend, dtype, [5], 'contiguous', 2);
        const expected = nd(
          [3, 5],
          av.data.map((v, i) => (Math.floor(i / 5) !== 1 ? v : bv.data[i % 5]!)),
        );
        await expectTensor(where(cond, a, b), expected, EXACT, 'where', dtype);
        await expectTensor(
          where(cond, a, 0),
          nd(
            [3, 5],
            av.data.map((v, i) => (Math.floor(i / 5) !== 1 ? v : 0)),
          ),
          EXACT,
          'where scalar',
          dtype,
        );
        await expectTensor(
          where(zeros([0, 5]).gt(0), zeros([0, 5], { dtype }), 1),
          nd([0, 5], []),
          EXACT,
          'where zero-size',
          dtype,
        );
      });

      it(`scalar operands: tensor op number broadcasts the number (${dtype})`, async () => {
        const [x, xv] = input(backend, dtype, [5], 'contiguous', 9, 0.5, 2);
        await expectTensor(
          add(x, 2.5),
          map(xv, (v) => v + 2.5),
          tolFor('add', dtype),
          'add scalar',
          dtype,
        );
        await expectTensor(
          sub(2.5, x),
          map(xv, (v) => 2.5 - v),
          tolFor('sub', dtype),
          'rsub scalar',
          dtype,
        );
        await expectTensor(
          mul(x, -3),
          map(xv, (v) => v * -3),
          tolFor('mul', dtype),
          'mul scalar',
          dtype,
        );
        await expectTensor(
          div(1, x),
          map(xv, (v) => 1 / v),
          tolFor('div', dtype),
          'rdiv scalar',
          dtype,
        );
        await expectTensor(
          pow(x, 2),
          map(xv, (v) => v * v),
          tolFor('pow', dtype),
          'pow scalar',
          dtype,
        );
        await expectTensor(
          x.gt(1),
          map(xv, (v) => Number(v > 1)),
          EXACT,
          'gt scalar',
          'bool',
        );
      });

      // ---------------------------------------------------------------- reductions

      const REDUCE_SHAPE = [3, 5, 17] as const;
      const DIMS: readonly (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2]];
      const norm = (d: number | number[] | undefined): number[] =>
        d === undefined ? [0, 1, 2] : (typeof d === 'number' ? [d] : d).map((x) => (x < 0 ? x + 3 : x)).sort();

      for (const layout of ['contiguous', 'transposed'] as const) {
        it(`sum/mean/var/std: match the oracle over dims and keepdim on a ${layout} ${dtype} input`, async () => {
          const [x, xv] = input(backend, dtype, REDUCE_SHAPE, layout, 21, -4, 4);
          for (const dim of DIMS) {
            for (const keepdim of [false, true]) {
              const dims = norm(dim);
              const terms = dims.reduce((n, d) => n * REDUCE_SHAPE[d]!, 1);
              const ctx = `${layout} dim ${JSON.stringify(dim)} keepdim ${keepdim}`;
              await expectTensor(
                sum(x, dim, keepdim),
                reduce(xv, dims, keepdim, sumOf),
                tolFor('sum', dtype, terms),
                `sum ${ctx}`,
                dtype,
              );
              await expectTensor(
                mean(x, dim, keepdim),
                reduce(xv, dims, keepdim, meanOf),
                tolFor('sum', dtype, terms),
                `mean ${ctx}`,
                dtype,
              );
              await expectTensor(
                variance(x, dim, { keepdim }),
                reduce(xv, dims, keepdim, (v) => varOf(v)),
                COMPOSITE[dtype as 'float32'],
                `var ${ctx}`,
                dtype,
              );
              await expectTensor(
                std(x, dim, { keepdim }),
                reduce(xv, dims, keepdim, (v) => Math.sqrt(varOf(v))),
                COMPOSITE[dtype as 'float32'],
                `std ${ctx}`,
                dtype,
              );
              await expectTensor(
                variance(x, dim, { keepdim, correction: 0 }),
                reduce(xv, dims, keepdim, (v) => varOf(v, 0)),
                COMPOSITE[dtype as 'float32'],
                `var(correction 0) ${ctx}`,
                dtype,
              );
            }
          }
        });

        it(`max/min/argmax/argmin: values and first indices over each dim on a ${layout} ${dtype} input`, async () => {
          const [x, xv] = input(backend, dtype, REDUCE_SHAPE, layout, 22);
          for (const dim of [0, 1, 2, -1]) {
            for (const keepdim of [false, true]) {
              const dims = norm(dim);
              const ctx = `${layout} dim ${dim} keepdim ${keepdim}`;
              const mx = x.max(dim, keepdim);
              await expectTensor(
                mx.values,
                reduce(xv, dims, keepdim, (v) => Math.max(...v)),
                EXACT,
                `max.values ${ctx}`,
                dtype,
              );
              await expectTensor(mx.indices, reduce(xv, dims, keepdim, argmaxOf), EXACT, `max.indices ${ctx}`, 'int32');
              const mn = x.min(dim, keepdim);
              await expectTensor(
                mn.values,
                reduce(xv, dims, keepdim, (v) => Math.min(...v)),
                EXACT,
                `min.values ${ctx}`,
                dtype,
              );
              await expectTensor(mn.indices, reduce(xv, dims, keepdim, argminOf), EXACT, `min.indices ${ctx}`, 'int32');
              await expectTensor(
                x.argmax(dim, keepdim),
                reduce(xv, dims, keepdim, argmaxOf),
                EXACT,
                `argmax ${ctx}`,
                'int32',
              );
              await expectTensor(
                x.argmin(dim, keepdim),
                reduce(xv, dims, keepdim, argminOf),
                EXACT,
                `argmin ${ctx}`,
                'int32',
              );
            }
          }
          await expectTensor(x.max(), nd([], [Math.max(...xv.data)]), EXACT, 'max()', dtype);
          await expectTensor(amin(x), nd([], [Math.min(...xv.data)]), EXACT, 'amin()', dtype);
          await expectTensor(amax(x), nd([], [Math.max(...xv.data)]), EXACT, 'amax()', dtype);
          await expectTensor(x.argmax(), nd([], [argmaxOf([...xv.data])]), EXACT, 'argmax() flat', 'int32');
          await expectTensor(x.argmin(), nd([], [argminOf([...xv.data])]), EXACT, 'argmin() flat', 'int32');
        });
      }

      it(`argmax/max: ties give the first index, as torch (${dtype})`, async () => {
        const x = tensor(
          [
            [1, 3, 3, 0],
            [2, 2, -1, 2],
          ],
          { dtype },
        );
        expect(await x.argmax(1).tolist()).toEqual([1, 0]);
        expect(await x.max(1).indices.tolist()).toEqual([1, 0]);
        expect(await x.argmin(0).tolist()).toEqual([0, 1, 1, 0]);
        expect(
          await tensor(
            [
              [5, 5],
              [5, 5],
            ],
            { dtype },
          )
            .argmin()
            .item(),
        ).toBe(0);
        expect(await x.argmax().item()).toBe(1);
      });

      it(`sum: reduces a zero-size dim to 0 and over odd lengths 1, 3, 5, 17 (${dtype})`, async () => {
        await expectTensor(sum(zeros([0, 3], { dtype }), 0), nd([3], [0, 0, 0]), EXACT, 'sum zero-size', dtype);
        await expectTensor(
          sum(zeros([2, 0], { dtype }), 1, true),
          nd([2, 1], [0, 0]),
          EXACT,
          'sum zero-size keepdim',
          dtype,
        );
        for (const n of [1, 3, 5, 17, 33]) {
          const [x, xv] = input(backend, dtype, [n], 'contiguous', n);
          await expectTensor(sum(x), nd([], [sumOf([...xv.data])]), tolFor('sum', dtype, n), `sum length ${n}`, dtype);
        }
        expect(Number.isNaN(await mean(zeros([0], { dtype })).item()), 'mean of nothing is nan').toBe(true);
      });

      it(`logSumExp/softmax/logSoftmax: match the formulas over each dim (${dtype})`, async () => {
        const [x, xv] = input(backend, dtype, [3, 5, 7], 'transposed', 31, -5, 5);
        for (const dim of [0, 1, 2, -1]) {
          const d = dim < 0 ? dim + 3 : dim;
          const lse = reduce(xv, [d], true, (v) => Math.log(sumOf(v.map(Math.exp))));
          const lseB = broadcastTo(lse, xv.shape);
          const tol = COMPOSITE[dtype as 'float32'];
          await expectTensor(
            logSumExp(x, dim),
            reduce(xv, [d], false, (v) => Math.log(sumOf(v.map(Math.exp)))),
            tol,
            `logSumExp ${dim}`,
            dtype,
          );
          await expectTensor(logSumExp(x, dim, true), lse, tol, `logSumExp keepdim ${dim}`, dtype);
          await expectTensor(
            softmax(x, dim),
            nd(
              xv.shape,
              xv.data.map((v, i) => Math.exp(v - lseB[i]!)),
            ),
            tol,
            `softmax ${dim}`,
            dtype,
          );
          await expectTensor(
            logSoftmax(x, dim),
            nd(
              xv.shape,
              xv.data.map((v, i) => v - lseB[i]!),
            ),
            tol,
            `logSoftmax ${dim}`,
            dtype,
          );
        }
        await expectTensor(
          logSumExp(x, [0, 2]),
          reduce(xv, [0, 2], false, (v) => Math.log(sumOf(v.map(Math.exp)))),
          COMPOSITE[dtype as 'float32'],
          'logSumExp [0,2]',
          dtype,
        );
      });

      it(`softmax/logSumExp: stay finite for large inputs (shifted by the max) (${dtype})`, async () => {
        const x = tensor([1000, 1001, 1002], { dtype });
        const e = [Math.exp(-2), Math.exp(-1), 1];
        const z = sumOf(e);
        await expectTensor(
          softmax(x, 0),
          nd(
            [3],
            e.map((v) => v / z),
          ),
          COMPOSITE[dtype as 'float32'],
          'softmax large',
          dtype,
        );
        await expectTensor(
          logSumExp(x, 0),
          nd([], [1002 + Math.log(z)]),
          COMPOSITE[dtype as 'float32'],
          'logSumExp large',
          dtype,
        );
        const neg = tensor([-Infinity, 0, -Infinity], { dtype });
        await expectTensor(softmax(neg, 0), nd([3], [0, 1, 0]), EXACT, 'softmax with -inf', dtype);
      });

      // ------------------------------------------------------------------ matmul

      const MATMUL_SHAPES: readonly (readonly [readonly number[], readonly number[]])[] = [
        [[5], [5]],
        [[3], [3, 4]],
        [[2, 3], [3]],
        [
          [3, 5],
          [5, 17],
        ],
        [
          [1, 1],
          [1, 1],
        ],
        [
          [17, 3],
          [3, 5],
        ],
        [
          [2, 3, 4],
          [4, 5],
        ],
        [
          [3, 4],
          [2, 4, 5],
        ],
        [
          [2, 1, 3, 4],
          [5, 4, 2],
        ],
        [[4, 2, 3], [3]],
        [[3], [4, 3, 2]],
        [
          [0, 3],
          [3, 4],
        ],
        [
          [2, 0],
          [0, 3],
        ],
      ];
      const asMatrix = (v: Nd, side: 'a' | 'b'): Nd =>
        v.shape.length !== 1 ? v : side === 'a' ? nd([1, v.shape[0]!], v.data) : nd([v.shape[0]!, 1], v.data);
      const matmulOracle = (av: Nd, bv: Nd): Nd => {
        const r = matmulNd(asMatrix(av, 'a'), asMatrix(bv, 'b'));
        let shape = [...r.shape];
        if (bv.shape.length === 1) shape = shape.slice(0, -1);
        if (av.shape.length === 1) shape.splice(shape.length - (bv.shape.length === 1 ? 1 : 2), 1);
        return nd(shape, r.data);
      };

      it(`matmul: 1-D, 2-D and batched shapes with broadcasting follow torch.matmul (${dtype})`, async () => {
        for (const [sa, sb] of MATMUL_SHAPES) {
          const [a, av] = input(backend, dtype, sa, 'contiguous', numel(sa) + 1, -1, 1);
          const [b, bv] = input(backend, dtype, sb, 'contiguous', numel(sb) + 2, -1, 1);
          const k = sa[sa.length - 1]!;
          await expectTensor(
            matmul(a, b),
            matmulOracle(av, bv),
            tolFor('matmul', dtype, k),
            `matmul [${sa}] @ [${sb}]`,
            dtype,
          );
        }
      });

      it(`matmul: reads transposed, stepped and expanded operands (${dtype})`, async () => {
        for (const la of ['contiguous', 'transposed', 'stepped', 'expanded'] as const) {
          for (const lb of ['contiguous', 'transposed', 'stepped', 'expanded'] as const) {
            const [a, av] = input(backend, dtype, [3, 5], la, 41, -1, 1);
            const [b, bv] = input(backend, dtype, [5, 4], lb, 42, -1, 1);
            await expectTensor(
              matmul(a, b),
              matmulOracle(av, bv),
              tolFor('matmul', dtype, 5),
              `matmul ${la} @ ${lb}`,
              dtype,
            );
          }
        }
        // A batched operand whose batch is a transposed view.
        const [a, av] = input(backend, dtype, [4, 3, 2], 'contiguous', 43, -1, 1);
        const at = a.permute(1, 0, 2); // [3,4,2], batch stride 2, not mergeable as contiguous
        const [b, bv] = input(backend, dtype, [2, 5], 'contiguous', 44, -1, 1);
        await expectTensor(
          matmul(at, b),
          matmulOracle(permute(av, [1, 0, 2]), bv),
          tolFor('matmul', dtype, 2),
          'matmul permuted batch',
          dtype,
        );
      });

      it(`linear: x·wᵀ + b for 1-D, 2-D and 3-D inputs, with and without bias (${dtype})`, async () => {
        const [w, wv] = input(backend, dtype, [5, 3], 'contiguous', 51, -1, 1);
        const [bias, bv] = input(backend, dtype, [5], 'contiguous', 52, -1, 1);
        const wt = transpose(wv, 0, 1);
        for (const xs of [[3], [4, 3], [2, 4, 3], [0, 3]]) {
          const [x, xv] = input(backend, dtype, xs, 'contiguous', 53, -1, 1);
          const plain = matmulOracle(xv, wt);
          await expectTensor(linear(x, w), plain, tolFor('matmul', dtype, 3), `linear no bias [${xs}]`, dtype);
          await expectTensor(
            linear(x, w, bias),
            zip(plain, bv, (p, q) => p + q),
            tolFor('matmul', dtype, 4),
            `linear bias [${xs}]`,
            dtype,
          );
        }
        const [xt, xtv] = input(backend, dtype, [4, 3], 'transposed', 54, -1, 1);
        await expectTensor(
          linear(xt, w, bias),
          zip(matmulOracle(xtv, wt), bv, (p, q) => p + q),
          tolFor('matmul', dtype, 4),
          'linear transposed x',
          dtype,
        );
      });

      // ---------------------------------------------------------------- indexing

      it(`cat/stack: join along each dim, including zero-size parts and views (${dtype})`, async () => {
        const [a, av] = input(backend, dtype, [2, 3], 'contiguous', 61);
        const [b, bv] = input(backend, dtype, [2, 3], 'transposed', 62);
        const [c, cv] = input(backend, dtype, [1, 3], 'contiguous', 63);
        const e = zeros([0, 3], { dtype });
        await expectTensor(
          cat([a, e, c, b], 0),
          nd([5, 3], [...av.data, ...cv.data, ...bv.data]),
          EXACT,
          'cat dim 0',
          dtype,
        );
        const rows = (v: Nd, r: number): number[] => v.data.slice(r * 3, r * 3 + 3);
        await expectTensor(
          cat([a, b], 1),
          nd([2, 6], [...rows(av, 0), ...rows(bv, 0), ...rows(av, 1), ...rows(bv, 1)]),
          EXACT,
          'cat dim 1',
          dtype,
        );
        await expectTensor(
          cat([a, b], -1),
          nd([2, 6], [...rows(av, 0), ...rows(bv, 0), ...rows(av, 1), ...rows(bv, 1)]),
          EXACT,
          'cat dim -1',
          dtype,
        );
        await expectTensor(stack([a, b], 0), nd([2, 2, 3], [...av.data, ...bv.data]), EXACT, 'stack dim 0', dtype);
        const s1: number[] = [];
        for (let i = 0; i < 2; i++) s1.push(...rows(av, i), ...rows(bv, i));
        await expectTensor(stack([a, b], 1), nd([2, 2, 3], s1), EXACT, 'stack dim 1', dtype);
        const s2: number[] = [];
        for (let i = 0; i < 6; i++) s2.push(av.data[i]!, bv.data[i]!);
        await expectTensor(stack([a, b], 2), nd([2, 3, 2], s2), EXACT, 'stack dim 2', dtype);
        await expectTensor(stack([a, b], -1), nd([2, 3, 2], s2), EXACT, 'stack dim -1', dtype);
      });

      it(`cat: promotes mixed dtypes (int32 with ${dtype} gives ${dtype})`, async () => {
        const r = cat([tensor([1, 2], { dtype: 'int32' }), tensor([0.5], { dtype })]);
        await expectTensor(r, nd([3], [1, 2, 0.5]), EXACT, 'cat promote', dtype);
      });

      it(`gather: out[i][j] = x[i][index[i][j]] along dim 1, 0 and -1 (${dtype})`, async () => {
        const [x, xv] = input(backend, dtype, [3, 4], 'contiguous', 71);
        const idx1 = tensor(
          [
            [0, 3, 3],
            [1, 0, 2],
            [2, 2, 1],
          ],
          { dtype: 'int32' },
        );
        const g1 = [
          [0, 3, 3],
          [1, 0, 2],
          [2, 2, 1],
        ].flatMap((r, i) => r.map((j) => xv.data[i * 4 + j]!));
        await expectTensor(gather(x, 1, idx1), nd([3, 3], g1), EXACT, 'gather dim 1', dtype);
        const idx0 = tensor([[2, 0, 1, 1]], { dtype: 'int32' });
        await expectTensor(
          gather(x, 0, idx0),
          nd(
            [1, 4],
            [2, 0, 1, 1].map((i, j) => xv.data[i * 4 + j]!),
          ),
          EXACT,
          'gather dim 0',
          dtype,
        );
        await expectTensor(x.gather(-1, idx1), nd([3, 3], g1), EXACT, 'gather dim -1', dtype);
        const [xt, xtv] = input(backend, dtype, [3, 4], 'transposed', 72);
        const gt1 = [
          [0, 3, 3],
          [1, 0, 2],
          [2, 2, 1],
        ].flatMap((r, i) => r.map((j) => xtv.data[i * 4 + j]!));
        await expectTensor(gather(xt, 1, idx1), nd([3, 3], gt1), EXACT, 'gather transposed input', dtype);
      });

      it(`indexSelect: picks whole slices along dim 0 and 1, and none for an empty index (${dtype})`, async () => {
        const [x, xv] = input(backend, dtype, [3, 4], 'transposed', 73);
        const sel = tensor([2, 0, 2], { dtype: 'int32' });
        await expectTensor(
          indexSelect(x, 0, sel),
          nd(
            [3, 4],
            [2, 0, 2].flatMap((i) => xv.data.slice(i * 4, i * 4 + 4)),
          ),
          EXACT,
          'indexSelect dim 0',
          dtype,
        );
        const sel1 = tensor([3, 1], { dtype: 'int32' });
        await expectTensor(
          x.indexSelect(1, sel1),
          nd(
            [3, 2],
            [0, 1, 2].flatMap((i) => [xv.data[i * 4 + 3]!, xv.data[i * 4 + 1]!]),
          ),
          EXACT,
          'indexSelect dim 1',
          dtype,
        );
        await expectTensor(
          indexSelect(x, 0, tensor([], { dtype: 'int32' })),
          nd([0, 4], []),
          EXACT,
          'indexSelect empty',
          dtype,
        );
      });

      it(`scatterAdd: adds src at index along dim into a copy of base, repeated indices accumulate (${dtype})`, async () => {
        const base = tensor(
          [
            [1, 1, 1, 1],
            [2, 2, 2, 2],
          ],
          { dtype },
        );
        const src = tensor(
          [
            [1, 2, 4],
            [8, 16, 32],
          ],
          { dtype },
        );
        const idx = tensor(
          [
            [0, 0, 3],
            [2, 1, 2],
          ],
          { dtype: 'int32' },
        );
        await expectTensor(
          scatterAdd(base, 1, idx, src),
          nd([2, 4], [4, 1, 1, 5, 2, 18, 42, 2]),
          EXACT,
          'scatterAdd dim 1',
          dtype,
        );
        expect(await base.tolist(), 'scatterAdd is out of place').toEqual([
          [1, 1, 1, 1],
          [2, 2, 2, 2],
        ]);
        const idx0 = tensor([[1, 0, 1, 1]], { dtype: 'int32' });
        const src0 = tensor([[10, 20, 30, 40]], { dtype });
        await expectTensor(
          scatterAdd(base, 0, idx0, src0),
          nd([2, 4], [1, 21, 1, 1, 12, 2, 32, 42]),
          EXACT,
          'scatterAdd dim 0',
          dtype,
        );
      });
    }

    // ------------------------------------------------------- int32 and promotion

    it('type promotion: int32 + 0.5 is float32, int32/int32 true-divides to float32, comparisons give bool', async () => {
      const i = tensor([1, 2, 3], { dtype: 'int32' });
      const r = add(i, 0.5);
      expect(r.dtype).toBe('float32');
      expect(await r.tolist()).toEqual([1.5, 2.5, 3.5]);
      const q = div(tensor([7, -7, 1], { dtype: 'int32' }), tensor([2, 2, 3], { dtype: 'int32' }));
      expect(q.dtype).toBe('float32');
      expect(Array.from(await q.data())).toEqual([3.5, -3.5, Math.fround(1 / 3)]);
      const s = add(i, 2);
      expect(s.dtype).toBe('int32');
      expect(await s.tolist()).toEqual([3, 4, 5]);
      const m = mul(i, tensor([0.5, 0.5, 0.5]));
      expect(m.dtype).toBe('float32');
      expect(await m.tolist()).toEqual([0.5, 1, 1.5]);
      const c = i.gt(1.5);
      expect(c.dtype).toBe('bool');
      expect(await c.tolist()).toEqual([false, true, true]);
      expect(await i.eq(tensor([1, 0, 3], { dtype: 'int32' })).tolist()).toEqual([true, false, true]);
      // A 0-d float tensor of a higher category decides the dtype; a same-category one does not.
      expect(add(i, tensor(0.5)).dtype).toBe('float32');
      expect(add(tensor([0.5]), tensor(2, { dtype: 'int32' })).dtype).toBe('float32');
      // bool arithmetic computes in int32.
      const b = add(tensor([true, false]), tensor([true, true]));
      expect(b.dtype).toBe('int32');
      expect(await b.tolist()).toEqual([2, 1]);
      // exp and sqrt of ints give float32, as torch.
      const e = exp(tensor([0, 1], { dtype: 'int32' }));
      expect(e.dtype).toBe('float32');
      expect(Array.from(await e.data())).toEqual([1, Math.fround(Math.E)]);
      expect(await sqrt(tensor([4, 9], { dtype: 'int32' })).tolist()).toEqual([2, 3]);
    });

    it('int32 ops: neg abs add sub mul pow maximum minimum clamp sum max argmax are exact', async () => {
      const a = tensor([-3, 0, 7, -2147483647, 5], { dtype: 'int32' });
      const b = tensor([2, -5, 7, 1, 3], { dtype: 'int32' });
      expect(await neg(a).tolist()).toEqual([3, 0, -7, 2147483647, -5]);
      expect(await abs(a).tolist()).toEqual([3, 0, 7, 2147483647, 5]);
      expect(await add(a, b).tolist()).toEqual([-1, -5, 14, -2147483646, 8]);
      expect(await sub(a, b).tolist()).toEqual([-5, 5, 0, -2147483648, 2]);
      expect(await mul(a, b).tolist()).toEqual([-6, 0, 49, -2147483647, 15]);
      expect(
        await pow(
          tensor([2, -3, 1, -1, 5], { dtype: 'int32' }),
          tensor([10, 3, -2, -3, 0], { dtype: 'int32' }),
        ).tolist(),
      ).toEqual([1024, -27, 1, -1, 1]);
      expect(await maximum(a, b).tolist()).toEqual([2, 0, 7, 1, 5]);
      expect(await minimum(a, b).tolist()).toEqual([-3, -5, 7, -2147483647, 3]);
      expect(await clamp(a, -2, 6).tolist()).toEqual([-2, 0, 6, -2, 5]);
      const s = sum(
        tensor(
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          { dtype: 'int32' },
        ),
        1,
      );
      expect(s.dtype).toBe('int32');
      expect(await s.tolist()).toEqual([6, 15]);
      expect(await sum(tensor([true, true, false])).item()).toBe(2);
      expect(await b.max().item()).toBe(7);
      expect(await b.argmax().item()).toBe(2);
      expect(await where(tensor([true, false, true]), tensor([1, 2, 3], { dtype: 'int32' }), 0).tolist()).toEqual([
        1, 0, 3,
      ]);
    });

    it('oneHot: one row per index with a 1 at the class, int32, with numClasses inferred or given', async () => {
      const r = oneHot(tensor([2, 0, 1], { dtype: 'int32' }));
      expect(r.dtype).toBe('int32');
      expect(r.shape).toEqual([3, 3]);
      expect(await r.tolist()).toEqual([
        [0, 0, 1],
        [1, 0, 0],
        [0, 1, 0],
      ]);
      const r5 = oneHot(tensor([[1], [4]], { dtype: 'int32' }), 5);
      expect(await r5.tolist()).toEqual([[[0, 1, 0, 0, 0]], [[0, 0, 0, 0, 1]]]);
      expect(oneHot(tensor([], { dtype: 'int32' }), 4).shape).toEqual([0, 4]);
    });
  });
}
