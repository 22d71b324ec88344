/**
 * @module backends/cases — the backend parity cases, and a runner that needs no test framework.
 *
 * Every op, for each dtype both `opDTypes(op)` and a backend's capabilities list: odd lengths
 * (SIMD tails), broadcasting, zero-size tensors, non-contiguous views, reductions over each
 * axis, matmul in every transpose layout, batch broadcast and bias, window geometries,
 * error cases, and the fused Adam update in place. Each compares a backend with the
 * reference within the one tolerance table (test/helpers/tolerance.ts).
 *
 * Web-standard only (no vitest, no node:*): conformance.test.ts runs these cases under
 * vitest, one test each, and test/runtimes/webgpu/ runs them with {@link runCases} in
 * Deno, Chromium and Node against the WebGPU backend.
 */
import type { Backend } from '../../runtime/backend.ts';
import type { DType, StorageArray } from '../../runtime/dtype.ts';
import type { Activation, ActivationAttrs, OpAttrs, OpName } from '../../runtime/ops.ts';
import { ACTIVATIONS, BINARY_OPS, COMPARISON_OPS, OP_NAMES, UNARY_OPS, opDTypes } from '../../runtime/ops.ts';
import { allocArray } from '../../runtime/dtype.ts';
import { IndexError, ShapeError, ValueError } from '../../runtime/errors.ts';
import { contiguousStrides, runOp } from '../helpers/run-op.ts';
import type { ViewSpec } from '../helpers/run-op.ts';
import { expectClose, toleranceFor } from '../helpers/tolerance.ts';
import type { Tolerance } from '../helpers/tolerance.ts';
import { FLOAT_SPECIALS, INT32_SPECIALS, createRng, randomData, seedOf } from '../helpers/random-data.ts';
import type { RandomDataOptions, Rng } from '../helpers/random-data.ts';

/** Lengths that leave every SIMD tail size (and none) behind a 4- or 8-lane main loop. */
export const ODD_LENGTHS = [1, 3, 5, 7, 17, 33, 127] as const;

/** One comparison of a backend against the reference. */
export interface Case {
  readonly name: string;
  readonly op: OpName;
  /** Every dtype the case's buffers use; the case runs only where the backend has them all. */
  readonly dtypes: readonly DType[];
  readonly out: ViewSpec;
  readonly inputs: readonly ViewSpec[];
  readonly attrs: OpAttrs[OpName];
  readonly tol: Tolerance;
  /** When set, both backends must throw this error class. */
  readonly throws?: typeof IndexError;
}

// ---------------------------------------------------------------------------------------
// Views

export type Layout =
  | { readonly kind: 'contiguous' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'broadcast'; readonly dims: readonly number[] }
  | { readonly kind: 'permuted'; readonly perm: readonly number[] }
  | { readonly kind: 'stepped'; readonly step: number };

export const CONTIGUOUS: Layout = { kind: 'contiguous' };

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function describeLayout(l: Layout): string {
  switch (l.kind) {
    case 'contiguous':
      return 'contiguous';
    case 'offset':
      return `offset ${l.offset}`;
    case 'broadcast':
      return `broadcast dims ${l.dims.join(',')}`;
    case 'permuted':
      return `permuted ${l.perm.join(',')}`;
    case 'stepped':
      return `stepped ${l.step}`;
  }
}

/** A view of `shape` laid out as `layout` in a buffer filled by `fill` (garbage around it included). */
export function layoutView(
  dtype: DType,
  shape: readonly number[],
  layout: Layout,
  fill: (n: number) => StorageArray,
): ViewSpec {
  switch (layout.kind) {
    case 'contiguous':
      return { dtype, shape, data: fill(numel(shape)) };
    case 'offset':
      return { dtype, shape, offset: layout.offset, data: fill(numel(shape) + layout.offset + 2) };
    case 'broadcast': {
      const base = shape.map((s, d) => (layout.dims.includes(d) ? 1 : s));
      const strides = contiguousStrides(base).map((s, d) => (layout.dims.includes(d) ? 0 : s));
      return { dtype, shape, strides, data: fill(numel(base)) };
    }
    case 'permuted': {
      // The buffer holds the tensor in dim order `perm`; the view reads it back in order.
      const stored = layout.perm.map((d) => shape[d] ?? 0);
      const cs = contiguousStrides(stored);
      const strides = new Array<number>(shape.length).fill(0);
      layout.perm.forEach((d, i) => {
        strides[d] = cs[i] ?? 0;
      });
      return { dtype, shape, strides, data: fill(numel(shape)) };
    }
    case 'stepped': {
      const stored = shape.map((s) => s * layout.step);
      const strides = contiguousStrides(stored).map((s) => s * layout.step);
      return { dtype, shape, strides, offset: 1, data: fill(numel(stored) + 1) };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Data

function filler(dtype: DType, rng: Rng, options: RandomDataOptions): (n: number) => StorageArray {
  return (n) => randomData(dtype, n, rng, options);
}

const FLOAT_DEFAULT: RandomDataOptions = { specials: FLOAT_SPECIALS };
const INT_DEFAULT: RandomDataOptions = { specials: INT32_SPECIALS };
const SMALL_FLOATS: readonly number[] = [-2, -1, -0, 0, 0.5, 1, 2, NaN, Infinity, -Infinity];
/**
 * float16 edges: the largest half and the overflow threshold (65520 rounds to infinity),
 * ties to even (1 + 2^-11 stays 1, 1 + 3·2^-11 goes up), the smallest normal 2^-14 and
 * the subnormal step 2^-24 with its halves, values that flush to a signed zero.
 */
const F16_SPECIALS: readonly number[] = [
  ...FLOAT_SPECIALS,
  65504,
  -65504,
  65519,
  65520,
  -65520,
  1e6,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  -(1 + 2 ** -11),
  2 ** -14,
  -(2 ** -14),
  2 ** -14 - 2 ** -25,
  2 ** -24,
  2 ** -25,
  -(2 ** -25),
  3 * 2 ** -25,
  5 * 2 ** -26,
  1e-8,
  -1e-8,
  1e-40,
];
/** bfloat16 edges: the largest bfloat16 and past it, ties to even, float32 subnormals. */
const BF16_SPECIALS: readonly number[] = [
  ...FLOAT_SPECIALS,
  3.3895313892515355e38,
  3.39e38,
  -3.4e38,
  1 + 2 ** -8,
  1 + 3 * 2 ** -8,
  -(1 + 2 ** -8),
  65520,
  1e-40,
  -1e-40,
  1e-45,
  2 ** -126,
  1e-30,
];

/** How input `index` of `op` is drawn, for `dtype`. */
function dataOptions(op: OpName, dtype: DType, index: number): RandomDataOptions {
  if (dtype === 'bool') return {};
  const isInt = dtype === 'int32';
  if ((COMPARISON_OPS as readonly string[]).includes(op))
    return isInt ? { min: -4, max: 4 } : { choices: SMALL_FLOATS };
  switch (op) {
    case 'log':
    case 'sqrt':
      return { min: -0.5, max: 6, specials: FLOAT_SPECIALS };
    case 'exp':
      return { min: -12, max: 12, specials: FLOAT_SPECIALS };
    case 'round_f16':
      return { min: -70000, max: 70000, specials: F16_SPECIALS, specialRate: 0.6 };
    case 'round_bf16':
      return { min: -1e4, max: 1e4, specials: BF16_SPECIALS, specialRate: 0.6 };
    case 'pow':
      if (isInt) return index === 0 ? { min: -5, max: 5 } : { min: -3, max: 12 };
      return index === 0
        ? { min: -3, max: 3, specials: FLOAT_SPECIALS }
        : { min: -3, max: 3, specials: [...FLOAT_SPECIALS, 2, 3, -3, 0.5, -0.5], specialRate: 0.4 };
    case 'sum':
    case 'scatter_add':
      return isInt ? INT_DEFAULT : {};
    case 'matmul':
      return { min: -1, max: 1 };
    case 'col2im':
      return { min: -4, max: 4 };
    case 'unary_backward':
      return { specials: FLOAT_SPECIALS, specialRate: 0.08 };
    default:
      return isInt ? INT_DEFAULT : FLOAT_DEFAULT;
  }
}

// ---------------------------------------------------------------------------------------
// Case builders

interface ElementwiseSpec {
  readonly op: OpName;
  /** Prefix of each case name, e.g. 'add float32' or 'softplus float32 beta 2'. */
  readonly title: string;
  readonly outDType: DType;
  readonly inDTypes: readonly DType[];
  readonly attrs: OpAttrs[OpName];
  readonly tol: Tolerance;
  /** Draw options per input. */
  readonly data: (index: number) => RandomDataOptions;
  /** Only the short list of layouts (for attribute variants). */
  readonly short?: boolean;
}

/** Layout lists, one entry per input, for each named elementwise case. */
function elementwiseLayouts(arity: number, short: boolean): { name: string; shape: number[]; layouts: Layout[] }[] {
  const all = (l: Layout): Layout[] => new Array<Layout>(arity).fill(l);
  const cases: { name: string; shape: number[]; layouts: Layout[] }[] = [];
  const lengths = short ? [7, 33] : ODD_LENGTHS;
  for (const n of lengths) cases.push({ name: `length ${n}`, shape: [n], layouts: all(CONTIGUOUS) });
  if (arity === 0) {
    cases.push({ name: 'zero-size [0]', shape: [0], layouts: [] }, { name: '2-D [3,5]', shape: [3, 5], layouts: [] });
    return cases;
  }
  const patterns: number[][] = short ? [[0], [0, 1, 2]] : [[0], [1], [2], [0, 1], [1, 2], [0, 1, 2]];
  for (const dims of patterns) {
    for (let j = 0; j < arity; j++) {
      const layouts = all(CONTIGUOUS);
      layouts[j] = { kind: 'broadcast', dims };
      cases.push({ name: `broadcast input ${j} dims ${dims.join(',')} of [3,5,7]`, shape: [3, 5, 7], layouts });
    }
  }
  if (arity > 1) {
    const layouts = all({ kind: 'broadcast', dims: [0] });
    layouts[0] = { kind: 'broadcast', dims: [1] };
    cases.push({ name: 'broadcast input 0 dims 1, others dims 0 of [17,33]', shape: [17, 33], layouts });
  }
  cases.push({ name: 'zero-size [0]', shape: [0], layouts: all(CONTIGUOUS) });
  if (short) {
    cases.push({
      name: 'non-contiguous permuted 1,0 [5,7]',
      shape: [5, 7],
      layouts: all({ kind: 'permuted', perm: [1, 0] }),
    });
    return cases;
  }
  cases.push(
    { name: 'zero-size [2,0,3]', shape: [2, 0, 3], layouts: all(CONTIGUOUS) },
    { name: 'zero-size broadcast [0,3]', shape: [0, 3], layouts: all({ kind: 'broadcast', dims: [0] }) },
    { name: 'non-contiguous permuted 1,0 [5,7]', shape: [5, 7], layouts: all({ kind: 'permuted', perm: [1, 0] }) },
    {
      name: 'non-contiguous permuted 2,0,1 [3,4,5]',
      shape: [3, 4, 5],
      layouts: all({ kind: 'permuted', perm: [2, 0, 1] }),
    },
    { name: 'non-contiguous offset 3 [5,7]', shape: [5, 7], layouts: all({ kind: 'offset', offset: 3 }) },
    { name: 'non-contiguous stepped 2 [5,7]', shape: [5, 7], layouts: all({ kind: 'stepped', step: 2 }) },
    { name: 'non-contiguous stepped 3 [3,4,5]', shape: [3, 4, 5], layouts: all({ kind: 'stepped', step: 3 }) },
  );
  const mixed: Layout[] = [
    { kind: 'permuted', perm: [1, 0] },
    { kind: 'stepped', step: 2 },
    { kind: 'offset', offset: 5 },
    { kind: 'broadcast', dims: [1] },
  ];
  cases.push({
    name: 'non-contiguous mixed layouts [9,11]',
    shape: [9, 11],
    layouts: new Array(arity).fill(0).map((_, j) => mixed[j % mixed.length] ?? CONTIGUOUS),
  });
  return cases;
}

function elementwiseCases(spec: ElementwiseSpec): Case[] {
  const arity = spec.inDTypes.length;
  return elementwiseLayouts(arity, spec.short ?? false).map(({ name, shape, layouts }) => {
    const full = `${spec.title} ${name}`;
    const rng = createRng(seedOf(full));
    const inputs = layouts.map((l, j) =>
      layoutView(
        spec.inDTypes[j] ?? spec.outDType,
        shape,
        l,
        filler(spec.inDTypes[j] ?? spec.outDType, rng, spec.data(j)),
      ),
    );
    return {
      name: full,
      op: spec.op,
      dtypes: [spec.outDType, ...spec.inDTypes],
      out: { dtype: spec.outDType, shape },
      inputs,
      attrs: spec.attrs,
      tol: spec.tol,
    };
  });
}

const NO_ATTRS = {} as Record<string, never>;
const DEFAULT_ACT: ActivationAttrs = { alpha: 0.01, beta: 1, threshold: 20 };

/** Attribute variants of the ops that take attributes; the first one gets every layout. */
function attrVariants(op: OpName, dtype: DType): { label: string; attrs: OpAttrs[OpName] }[] {
  switch (op) {
    case 'softplus':
      return [
        { label: '', attrs: { alpha: 1, beta: 1, threshold: 20 } },
        { label: 'beta 2 threshold 1', attrs: { alpha: 1, beta: 2, threshold: 1 } },
        { label: 'beta 0.5 threshold 1', attrs: { alpha: 1, beta: 0.5, threshold: 1 } },
      ];
    case 'elu':
      return [
        { label: '', attrs: { ...DEFAULT_ACT, alpha: 1 } },
        { label: 'alpha 0.5', attrs: { ...DEFAULT_ACT, alpha: 0.5 } },
      ];
    case 'leaky_relu':
      return [
        { label: '', attrs: DEFAULT_ACT },
        { label: 'alpha 0.2', attrs: { ...DEFAULT_ACT, alpha: 0.2 } },
      ];
    case 'clamp':
      return dtype === 'int32'
        ? [
            { label: 'min -30 max 70', attrs: { min: -30, max: 70 } },
            { label: 'max 0', attrs: { min: null, max: 0 } },
            { label: 'min 5', attrs: { min: 5, max: null } },
          ]
        : [
            { label: 'min -0.5 max 0.5', attrs: { min: -0.5, max: 0.5 } },
            { label: 'max 0.3', attrs: { min: null, max: 0.3 } },
            { label: 'min -0.2', attrs: { min: -0.2, max: null } },
            { label: 'no bounds', attrs: { min: null, max: null } },
            { label: 'crossed min 1 max -1', attrs: { min: 1, max: -1 } },
          ];
    default:
      return [{ label: '', attrs: NO_ATTRS }];
  }
}

function title(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

function unaryOrBinaryCases(op: OpName, dtype: DType): Case[] {
  const isUnary = (UNARY_OPS as readonly string[]).includes(op);
  const isComparison = (COMPARISON_OPS as readonly string[]).includes(op);
  return attrVariants(op, dtype).flatMap(({ label, attrs }, v) =>
    elementwiseCases({
      op,
      title: title(op, dtype, label),
      outDType: isComparison ? 'bool' : dtype,
      inDTypes: isUnary ? [dtype] : [dtype, dtype],
      attrs,
      tol: toleranceFor(op, isComparison ? 'bool' : dtype),
      data: (j) => dataOptions(op, dtype, j),
      short: v > 0,
    }),
  );
}

function whereCases(dtype: DType): Case[] {
  return elementwiseCases({
    op: 'where',
    title: `where ${dtype}`,
    outDType: dtype,
    inDTypes: ['bool', dtype, dtype],
    attrs: NO_ATTRS,
    tol: toleranceFor('where', dtype),
    data: (j) => (j === 0 ? {} : dataOptions('where', dtype, j)),
  });
}

function unaryBackwardCases(dtype: DType): Case[] {
  return ACTIVATIONS.flatMap((fn: Activation) =>
    attrVariants(fn, dtype).flatMap(({ label, attrs }, v) =>
      elementwiseCases({
        op: 'unary_backward',
        title: title('unary_backward', dtype, fn, label),
        outDType: dtype,
        inDTypes: [dtype, dtype],
        attrs: { ...DEFAULT_ACT, ...(attrs as Partial<ActivationAttrs>), fn },
        tol: toleranceFor('unary_backward', dtype),
        data: (j) => dataOptions('unary_backward', dtype, j),
        short: v > 0 || (fn !== 'relu' && fn !== 'gelu'),
      }),
    ),
  );
}

function copyCases(dtype: DType): Case[] {
  const base = elementwiseCases({
    op: 'copy',
    title: `copy ${dtype}`,
    outDType: dtype,
    inDTypes: [dtype],
    attrs: NO_ATTRS,
    tol: toleranceFor('copy', dtype),
    data: () => dataOptions('copy', dtype, 0),
  });
  // copy is the one op whose out may be any strided view of an existing buffer: the
  // whole out buffer is compared, so elements outside the view must stay untouched.
  const outLayouts: [string, number[], Layout, Layout][] = [
    ['out permuted 1,0 [5,7]', [5, 7], { kind: 'permuted', perm: [1, 0] }, CONTIGUOUS],
    ['out stepped 2 [5,7] from broadcast', [5, 7], { kind: 'stepped', step: 2 }, { kind: 'broadcast', dims: [0] }],
    ['out offset 4 [33]', [33], { kind: 'offset', offset: 4 }, CONTIGUOUS],
    [
      'out stepped 3 [3,4,5] from permuted',
      [3, 4, 5],
      { kind: 'stepped', step: 3 },
      { kind: 'permuted', perm: [2, 1, 0] },
    ],
  ];
  const strided = outLayouts.map(([name, shape, outLayout, inLayout]) => {
    const full = `copy ${dtype} ${name}`;
    const rng = createRng(seedOf(full));
    const fill = filler(dtype, rng, dataOptions('copy', dtype, 0));
    return {
      name: full,
      op: 'copy' as const,
      dtypes: [dtype],
      out: layoutView(dtype, shape, outLayout, fill),
      inputs: [layoutView(dtype, shape, inLayout, fill)],
      attrs: NO_ATTRS,
      tol: toleranceFor('copy', dtype),
    };
  });
  return [...base, ...strided];
}

function castCases(from: DType): Case[] {
  const to: readonly DType[] = opDTypes('cast');
  return to.flatMap((target) => {
    const data: RandomDataOptions =
      from === 'bool'
        ? {}
        : from === 'int32'
          ? INT_DEFAULT
          : { min: -1000.9, max: 1000.9, specials: [0, -0, 1, -1, 0.5, -0.5, 0.9999, 16777217] };
    const cases = elementwiseCases({
      op: 'cast',
      title: `cast ${from}->${target}`,
      outDType: target,
      inDTypes: [from],
      attrs: NO_ATTRS,
      tol: toleranceFor('cast', target),
      data: () => data,
      short: true,
    });
    if (from === 'float32' || from === 'float64') {
      // float → int32 out of range and NaN: truncate, then wrap modulo 2^32 (NaN, ±Inf → 0), as Int32Array.
      cases.push(
        ...elementwiseCases({
          op: 'cast',
          title: `cast ${from}->${target} special values`,
          outDType: target,
          inDTypes: [from],
          attrs: NO_ATTRS,
          tol: toleranceFor('cast', target),
          short: true,
          data: () => ({
            choices: [NaN, Infinity, -Infinity, 3e9, -3e9, 2147483648, -2147483649, 1e300, -1e-300, -0.5],
          }),
        }).filter((c) => c.name.includes('length 33')),
      );
    }
    return cases;
  });
}

function fillCases(dtype: DType): Case[] {
  const values = dtype === 'bool' ? [0, 1, 5] : dtype === 'int32' ? [0, 7, -3, 2.7] : [0, -2.75, 0.1, NaN, 1e300];
  return values.flatMap((value) =>
    elementwiseLayouts(0, false).map(({ name, shape }) => ({
      name: `fill ${dtype} value ${value} ${name}`,
      op: 'fill' as const,
      dtypes: [dtype],
      out: { dtype, shape },
      inputs: [],
      attrs: { value },
      tol: toleranceFor('fill', dtype),
    })),
  );
}

function reduceCases(op: 'sum' | 'max' | 'min' | 'argmax' | 'argmin', dtype: DType): Case[] {
  const outDType: DType = op === 'argmax' || op === 'argmin' ? 'int32' : dtype;
  const specs: { name: string; shape: number[]; axis: number; layout?: Layout; data?: RandomDataOptions }[] = [];
  for (const axis of [0, 1, 2]) specs.push({ name: `axis ${axis} of [3,4,5]`, shape: [3, 4, 5], axis });
  for (const n of ODD_LENGTHS) {
    specs.push({ name: `length ${n}`, shape: [n], axis: 0 });
    specs.push({ name: `axis 1 of [3,${n}]`, shape: [3, n], axis: 1 });
  }
  specs.push({ name: 'axis 1 of [4,1000]', shape: [4, 1000], axis: 1 });
  specs.push({ name: 'axis 1 of [4,5] at offset 3', shape: [4, 5], axis: 1, layout: { kind: 'offset', offset: 3 } });
  specs.push(
    { name: 'zero-size [0,4] axis 1', shape: [0, 4], axis: 1 },
    { name: 'zero-size [4,0] axis 0', shape: [4, 0], axis: 0 },
  );
  if (op === 'sum') specs.push({ name: 'empty axis [3,0] axis 1', shape: [3, 0], axis: 1 });
  else
    specs.push({
      name: 'ties axis 1 of [7,9]',
      shape: [7, 9],
      axis: 1,
      data: dtype === 'int32' ? { min: -2, max: 2 } : { choices: [-1, 0, -0, 1, 2] },
    });
  return specs.map(({ name, shape, axis, layout, data }) => {
    const full = `${op} ${dtype} ${name}`;
    const rng = createRng(seedOf(full));
    const input = layoutView(dtype, shape, layout ?? CONTIGUOUS, filler(dtype, rng, data ?? dataOptions(op, dtype, 0)));
    const outShape = shape.map((s, d) => (d === axis ? 1 : s));
    return {
      name: full,
      op,
      dtypes: [dtype, outDType],
      out: { dtype: outDType, shape: outShape },
      inputs: [input],
      attrs: { axis },
      tol: toleranceFor(op, outDType, { terms: shape[axis] ?? 1 }),
    };
  });
}

type Trans = 'N' | 'T';

/** A `[B, rows, cols]` matmul operand, row-major or transposed, batch stride 0 if `shared`. */
function matmulOperand(
  dtype: DType,
  batch: number,
  rows: number,
  cols: number,
  trans: Trans,
  shared: boolean,
  rng: Rng,
): ViewSpec {
  const inner: [number, number] = trans === 'N' ? [cols, 1] : [1, rows];
  const data = randomData(dtype, (shared ? 1 : batch) * rows * cols, rng, dataOptions('matmul', dtype, 0));
  return { dtype, shape: [batch, rows, cols], strides: [shared ? 0 : rows * cols, ...inner], data };
}

function matmulCases(dtype: DType): Case[] {
  const specs: {
    name: string;
    b: number;
    m: number;
    n: number;
    k: number;
    ta: Trans;
    tb: Trans;
    bias: boolean;
    sa?: boolean;
    sb?: boolean;
  }[] = [];
  const layouts: [Trans, Trans][] = [
    ['N', 'N'],
    ['N', 'T'],
    ['T', 'N'],
    ['T', 'T'],
  ];
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [3, 17, 1],
    [17, 1, 3],
    [1, 65, 17],
    [65, 3, 130],
    [130, 17, 65],
    [17, 130, 3],
    [3, 3, 130],
  ];
  for (const [ta, tb] of layouts) {
    for (const [m, n, k] of sizes) {
      for (const bias of [false, true])
        specs.push({ name: `${ta}${tb} ${m}x${k}@${k}x${n}${bias ? ' bias' : ''}`, b: 1, m, n, k, ta, tb, bias });
    }
    for (const [sa, sb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      specs.push({
        name: `${ta}${tb} batch 3 of 5x9@9x7${sa ? ' a batch stride 0' : ''}${sb ? ' b batch stride 0' : ''} bias`,
        b: 3,
        m: 5,
        n: 7,
        k: 9,
        ta,
        tb,
        bias: true,
        sa,
        sb,
      });
    }
  }
  specs.push(
    { name: 'NN zero-size M 0', b: 1, m: 0, n: 5, k: 3, ta: 'N', tb: 'N', bias: true },
    { name: 'NN zero-size N 0', b: 2, m: 4, n: 0, k: 3, ta: 'N', tb: 'N', bias: false },
    { name: 'NN zero-size K 0 bias', b: 1, m: 4, n: 5, k: 0, ta: 'N', tb: 'N', bias: true },
    { name: 'NN zero-size K 0', b: 1, m: 4, n: 5, k: 0, ta: 'N', tb: 'T', bias: false },
    { name: 'NN zero-size batch 0', b: 0, m: 4, n: 5, k: 3, ta: 'N', tb: 'N', bias: false },
    { name: 'NN 256x784@784x64 bias', b: 1, m: 256, n: 64, k: 784, ta: 'N', tb: 'N', bias: true },
    { name: 'NT 256x784@784x64 bias (linear forward)', b: 1, m: 256, n: 64, k: 784, ta: 'N', tb: 'T', bias: true },
    { name: 'TN 784x256@256x64 (weight gradient)', b: 1, m: 784, n: 64, k: 256, ta: 'T', tb: 'N', bias: false },
  );
  return specs.map((s) => {
    const full = `matmul ${dtype} ${s.name}`;
    const rng = createRng(seedOf(full));
    const inputs = [
      matmulOperand(dtype, s.b, s.m, s.k, s.ta, s.sa ?? false, rng),
      matmulOperand(dtype, s.b, s.k, s.n, s.tb, s.sb ?? false, rng),
    ];
    if (s.bias)
      inputs.push({ dtype, shape: [s.n], data: randomData(dtype, s.n, rng, dataOptions('matmul', dtype, 0)) });
    return {
      name: full,
      op: 'matmul' as const,
      dtypes: [dtype],
      out: { dtype, shape: [s.b, s.m, s.n] },
      inputs,
      attrs: NO_ATTRS,
      tol: toleranceFor('matmul', dtype, { terms: s.k + (s.bias ? 1 : 0) }),
    };
  });
}

/** Index shapes for gather/scatter_add: the axis may be longer than the input's, other dims not. */
const INDEX_SPECS: { name: string; shape: number[]; index: number[]; axis: number }[] = [
  { name: 'axis 0 of [4,5,6]', shape: [4, 5, 6], index: [7, 3, 6], axis: 0 },
  { name: 'axis 1 of [4,5,6]', shape: [4, 5, 6], index: [2, 7, 5], axis: 1 },
  { name: 'axis 2 of [4,5,6]', shape: [4, 5, 6], index: [4, 5, 9], axis: 2 },
  ...ODD_LENGTHS.map((n) => ({ name: `length ${n}`, shape: [n], index: [n + 2], axis: 0 })),
  { name: 'zero-size index [4,0] axis 1', shape: [4, 5], index: [4, 0], axis: 1 },
];

function indexData(n: number, limit: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * limit);
  return out;
}

function gatherCases(dtype: DType): Case[] {
  const cases: Case[] = INDEX_SPECS.map(({ name, shape, index, axis }) => {
    const full = `gather ${dtype} ${name}`;
    const rng = createRng(seedOf(full));
    return {
      name: full,
      op: 'gather' as const,
      dtypes: [dtype, 'int32'],
      out: { dtype, shape: index },
      inputs: [
        { dtype, shape, data: randomData(dtype, numel(shape), rng, dataOptions('gather', dtype, 0)) },
        { dtype: 'int32', shape: index, data: indexData(numel(index), shape[axis] ?? 0, rng) },
      ],
      attrs: { axis },
      tol: toleranceFor('gather', dtype),
    };
  });
  // A broadcast (stride 0) index, as indexSelect passes it: [outer, L, inner] from [1, L, 1]
  // (the row-copy path: odd inner lengths cover its SIMD tail), and stride 0 on other dims.
  const BROADCAST_SPECS: { name: string; shape: number[]; index: number[]; axis: number; dims: number[] }[] = [
    ...[1, 3, 4, 7, 33, 127].map((inner) => ({
      name: `rows of ${inner}`,
      shape: [2, 9, inner],
      index: [2, 5, inner],
      axis: 1,
      dims: [0, 2],
    })),
    { name: 'rows of 5 along axis 0', shape: [6, 5], index: [11, 5], axis: 0, dims: [1] },
    { name: 'stride 0 on dim 1 only, axis 2', shape: [3, 4, 6], index: [3, 4, 5], axis: 2, dims: [1] },
  ];
  for (const { name, shape, index, axis, dims } of BROADCAST_SPECS) {
    const full = `gather ${dtype} broadcast index ${name}`;
    const rng = createRng(seedOf(full));
    cases.push({
      name: full,
      op: 'gather',
      dtypes: [dtype, 'int32'],
      out: { dtype, shape: index },
      inputs: [
        { dtype, shape, data: randomData(dtype, numel(shape), rng, dataOptions('gather', dtype, 0)) },
        layoutView('int32', index, { kind: 'broadcast', dims }, (n) => indexData(n, shape[axis] ?? 0, rng)),
      ],
      attrs: { axis },
      tol: toleranceFor('gather', dtype),
    });
  }
  cases.push({
    name: `gather ${dtype} broadcast index out of range throws IndexError`,
    op: 'gather',
    dtypes: [dtype, 'int32'],
    out: { dtype, shape: [3, 4] },
    inputs: [
      { dtype, shape: [5, 4] },
      { dtype: 'int32', shape: [3, 4], strides: [1, 0], data: [0, 5, 1] },
    ],
    attrs: { axis: 0 },
    tol: toleranceFor('gather', dtype),
    throws: IndexError,
  });
  for (const bad of [5, -1]) {
    cases.push({
      name: `gather ${dtype} index ${bad} out of range throws IndexError`,
      op: 'gather',
      dtypes: [dtype, 'int32'],
      out: { dtype, shape: [3] },
      inputs: [
        { dtype, shape: [5] },
        { dtype: 'int32', shape: [3], data: [0, bad, 1] },
      ],
      attrs: { axis: 0 },
      tol: toleranceFor('gather', dtype),
      throws: IndexError,
    });
  }
  return cases;
}

function scatterAddCases(dtype: DType): Case[] {
  const cases: Case[] = INDEX_SPECS.map(({ name, shape, index, axis }) => {
    const full = `scatter_add ${dtype} ${name}`;
    const rng = createRng(seedOf(full));
    const options = dataOptions('scatter_add', dtype, 0);
    return {
      name: full,
      op: 'scatter_add' as const,
      dtypes: [dtype, 'int32'],
      out: { dtype, shape },
      inputs: [
        { dtype, shape, data: randomData(dtype, numel(shape), rng, options) },
        { dtype: 'int32', shape: index, data: indexData(numel(index), shape[axis] ?? 0, rng) },
        { dtype, shape: index, data: randomData(dtype, numel(index), rng, options) },
      ],
      attrs: { axis },
      tol: toleranceFor('scatter_add', dtype, { terms: (index[axis] ?? 0) + 1 }),
    };
  });
  cases.push({
    name: `scatter_add ${dtype} index out of range throws IndexError`,
    op: 'scatter_add',
    dtypes: [dtype, 'int32'],
    out: { dtype, shape: [5] },
    inputs: [
      { dtype, shape: [5] },
      { dtype: 'int32', shape: [2], data: [0, 5] },
      { dtype, shape: [2] },
    ],
    attrs: { axis: 0 },
    tol: toleranceFor('scatter_add', dtype),
    throws: IndexError,
  });
  return cases;
}

interface WindowSpec {
  readonly name: string;
  /** The image `[N, C, H, W]`. */
  readonly image: readonly [number, number, number, number];
  readonly k: readonly [number, number];
  readonly s?: readonly [number, number];
  readonly p?: readonly [number, number];
  readonly d?: readonly [number, number];
  /** The window counts when not torch's floor formula (pooling's ceil mode). */
  readonly out?: readonly [number, number];
  readonly padValue?: number;
  readonly layout?: Layout;
}

/** Window geometries for im2col/col2im: SIMD tails, strides 1, 2 and 3, padding, dilation, ceil mode. */
const WINDOW_SPECS: readonly WindowSpec[] = [
  { name: 'k3 [2,3,7,9]', image: [2, 3, 7, 9], k: [3, 3] },
  { name: 'k3 pad 1 [1,2,5,17]', image: [1, 2, 5, 17], k: [3, 3], p: [1, 1] },
  { name: 'k2 stride 2 [2,3,8,8]', image: [2, 3, 8, 8], k: [2, 2], s: [2, 2] },
  { name: 'k3 stride 2 pad 1 [1,2,13,13]', image: [1, 2, 13, 13], k: [3, 3], s: [2, 2], p: [1, 1] },
  { name: 'k3 stride 2 pad 1 wide [1,1,3,41]', image: [1, 1, 3, 41], k: [3, 3], s: [2, 2], p: [1, 1] },
  {
    name: 'k2x3 stride 1x3 pad 0x2 dilation 2x1 [1,2,9,11]',
    image: [1, 2, 9, 11],
    k: [2, 3],
    s: [1, 3],
    p: [0, 2],
    d: [2, 1],
  },
  { name: 'k3 dilation 2 pad 2 [1,1,11,11]', image: [1, 1, 11, 11], k: [3, 3], p: [2, 2], d: [2, 2] },
  { name: 'k1 [2,3,4,5]', image: [2, 3, 4, 5], k: [1, 1] },
  { name: 'k3 pad 1 padValue -inf [1,2,6,7]', image: [1, 2, 6, 7], k: [3, 3], p: [1, 1], padValue: -Infinity },
  {
    name: 'ceil mode k2 stride 2 [1,2,5,5] out 3x3 padValue -inf',
    image: [1, 2, 5, 5],
    k: [2, 2],
    s: [2, 2],
    out: [3, 3],
    padValue: -Infinity,
  },
  {
    name: 'ceil mode k3 stride 2 pad 1 [1,1,6,6] out 4x4',
    image: [1, 1, 6, 6],
    k: [3, 3],
    s: [2, 2],
    p: [1, 1],
    out: [4, 4],
  },
  { name: 'MNIST conv1 k3 [2,1,28,28]', image: [2, 1, 28, 28], k: [3, 3] },
  { name: 'MNIST conv2 k3 [1,32,13,13]', image: [1, 32, 13, 13], k: [3, 3] },
  { name: 'window larger than the image k5 [1,1,3,3] pad 1', image: [1, 1, 3, 3], k: [5, 5], p: [1, 1] },
  { name: 'input at offset 3 k3 [1,2,5,6]', image: [1, 2, 5, 6], k: [3, 3], layout: { kind: 'offset', offset: 3 } },
  { name: 'zero-size batch [0,2,5,5]', image: [0, 2, 5, 5], k: [3, 3] },
  { name: 'zero-size output k5 [1,1,3,3]', image: [1, 1, 3, 3], k: [5, 5] },
];

/** The attrs and column shape `[N, C·kH·kW, oH, oW]` of a window spec. */
function windowGeometry(w: WindowSpec): { attrs: OpAttrs['col2im']; cols: number[] } {
  const [n, c, h, wd] = w.image;
  const [kh, kw] = w.k;
  const [sh, sw] = w.s ?? [1, 1];
  const [ph, pw] = w.p ?? [0, 0];
  const [dh, dw] = w.d ?? [1, 1];
  const floor = (size: number, k: number, s: number, p: number, d: number): number =>
    Math.max(0, Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1);
  const [oh, ow] = w.out ?? [floor(h, kh, sh, ph, dh), floor(wd, kw, sw, pw, dw)];
  return {
    attrs: { kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw },
    cols: [n, c * kh * kw, oh, ow],
  };
}

function im2colCases(dtype: DType): Case[] {
  return WINDOW_SPECS.map((w) => {
    const full = `im2col ${dtype} ${w.name}`;
    const rng = createRng(seedOf(full));
    const { attrs, cols } = windowGeometry(w);
    return {
      name: full,
      op: 'im2col' as const,
      dtypes: [dtype],
      out: { dtype, shape: cols },
      inputs: [layoutView(dtype, w.image, w.layout ?? CONTIGUOUS, filler(dtype, rng, dataOptions('im2col', dtype, 0)))],
      attrs: { ...attrs, padValue: w.padValue ?? 0 },
      tol: toleranceFor('im2col', dtype),
    };
  });
}

function col2imCases(dtype: DType): Case[] {
  return WINDOW_SPECS.filter((w) => w.padValue === undefined).map((w) => {
    const full = `col2im ${dtype} ${w.name}`;
    const rng = createRng(seedOf(full));
    const { attrs, cols } = windowGeometry(w);
    return {
      name: full,
      op: 'col2im' as const,
      dtypes: [dtype],
      out: { dtype, shape: w.image },
      inputs: [layoutView(dtype, cols, w.layout ?? CONTIGUOUS, filler(dtype, rng, dataOptions('col2im', dtype, 0)))],
      attrs,
      tol: toleranceFor('col2im', dtype, { terms: w.k[0] * w.k[1] }),
    };
  });
}

/** Adam variants: [label, attrs]; the bias corrections are formed as the optimizer forms them. */
export function adamVariants(): [string, OpAttrs['adam']][] {
  const make = (
    step: number,
    o: { lr?: number; wd?: number; amsgrad?: boolean; maximize?: boolean; decoupled?: boolean },
  ): OpAttrs['adam'] => {
    const lr = o.lr ?? 1e-3;
    const beta1 = 0.9;
    const beta2 = 0.999;
    return {
      lr,
      beta1,
      beta2,
      eps: 1e-8,
      weightDecay: o.wd ?? 0,
      amsgrad: o.amsgrad ?? false,
      maximize: o.maximize ?? false,
      decoupled: o.decoupled ?? false,
      stepSize: lr / (1 - beta1 ** step),
      bc2Sqrt: Math.sqrt(1 - beta2 ** step),
      count: 1,
    };
  };
  return [
    ['Adam step 1', make(1, {})],
    ['Adam step 7 wd 0.1 amsgrad maximize', make(7, { wd: 0.1, amsgrad: true, maximize: true })],
    ['AdamW step 3 wd 0.01 lr 0.01', make(3, { wd: 0.01, lr: 0.01, decoupled: true })],
    ['AdamW step 20 amsgrad', make(20, { decoupled: true, amsgrad: true })],
  ];
}

/** The inputs of an adam case: param, grad, expAvg, expAvgSq (>= 0) and maxExpAvgSq (>= 0). */
export function adamInputs(dtype: DType, n: number, amsgrad: boolean, rng: Rng): ViewSpec[] {
  const signed = (): ViewSpec => ({ dtype, shape: [n], data: randomData(dtype, n, rng, { min: -2, max: 2 }) });
  const positive = (): ViewSpec => ({
    dtype,
    shape: [n],
    data: randomData(dtype, n, rng, { min: 0, max: 0.5, specials: [0], specialRate: 0.1 }),
  });
  const inputs = [signed(), signed(), signed(), positive()];
  if (amsgrad) inputs.push(positive());
  return inputs;
}

/**
 * adam through the generic runner, whose `out` is a fresh buffer: only its calling-convention
 * errors fit there (the in-place cases below check the numbers). Both backends throw the
 * same class.
 */
function adamCases(dtype: DType): Case[] {
  const [label, attrs] = adamVariants()[0]!;
  const inputs = (k: number): ViewSpec[] =>
    Array.from({ length: k }, (_, e) => adamInputs(dtype, 5 + e, false, createRng(seedOf(`adam errors ${e}`)))).flat();
  const base = { op: 'adam' as const, dtypes: [dtype], out: { dtype, shape: [5] }, tol: toleranceFor('adam', dtype) };
  return [
    {
      ...base,
      name: `adam ${dtype} ${label}: a fresh out (not the first param) is a ShapeError`,
      inputs: inputs(1),
      attrs,
      throws: ShapeError,
    },
    {
      ...base,
      name: `adam ${dtype} ${label}: count 2 with one entry's inputs is a ValueError`,
      inputs: inputs(1),
      attrs: { ...attrs, count: 2 },
      throws: ValueError,
    },
    {
      ...base,
      name: `adam ${dtype} ${label}: count 0 is a ValueError`,
      inputs: inputs(1),
      attrs: { ...attrs, count: 0 },
      throws: ValueError,
    },
    {
      ...base,
      name: `adam ${dtype} ${label}: 3 entries with count 2 is a ValueError`,
      inputs: inputs(3),
      attrs: { ...attrs, count: 2 },
      throws: ValueError,
    },
  ];
}

/** The lengths of a k-entry in-place adam case: odd lengths (the SIMD tail), 0 and 1000 among them. */
export function adamEntryLengths(k: number): number[] {
  const pool = [...ODD_LENGTHS, 0, 1000];
  return Array.from({ length: k }, (_, e) => pool[(e * 2 + k) % pool.length] ?? 1);
}

/**
 * Runs adam in place over `entries` (each `[param, grad, expAvg, expAvgSq, (maxExpAvgSq)]`,
 * contiguous 1-D), in ONE call with out = the first param, or (`oneCallEach`) one call per
 * entry; returns every entry's param, expAvg, expAvgSq (and maxExpAvgSq), flattened in order.
 * Reads back with the async `read`, so backends without `readSync` (WebGPU) run it too.
 */
export async function adamInPlace(
  backend: Backend,
  entries: readonly (readonly ViewSpec[])[],
  attrs: OpAttrs['adam'],
  oneCallEach = false,
): Promise<StorageArray[]> {
  const bufs = entries.map((specs) =>
    specs.map((s) => {
      const b = backend.alloc(s.dtype, s.shape[0] ?? 0);
      const arr = allocArray(s.dtype, s.shape[0] ?? 0);
      for (let i = 0; i < arr.length; i++) arr[i] = s.data?.[i] ?? 0;
      backend.write(b, arr);
      return b;
    }),
  );
  try {
    const views = bufs.map((row, e) =>
      row.map((buffer, i) => ({ buffer, dtype: buffer.dtype, shape: entries[e]![i]!.shape, strides: [1], offset: 0 })),
    );
    if (oneCallEach) for (const row of views) backend.run('adam', row[0]!, row, { ...attrs, count: 1 });
    else backend.run('adam', views[0]![0]!, views.flat(), { ...attrs, count: entries.length });
    const results: StorageArray[] = [];
    for (const row of bufs) {
      for (const [i, b] of row.entries()) if (i !== 1) results.push(await backend.read(b, 0, b.length));
    }
    return results;
  } finally {
    for (const b of bufs.flat()) backend.free(b);
  }
}

/** Every case of `op` whose principal dtype is `dtype`. */
export function casesFor(op: OpName, dtype: DType): Case[] {
  if ((UNARY_OPS as readonly string[]).includes(op) || (BINARY_OPS as readonly string[]).includes(op))
    return unaryOrBinaryCases(op, dtype);
  switch (op) {
    case 'where':
      return whereCases(dtype);
    case 'sum':
    case 'max':
    case 'min':
    case 'argmax':
    case 'argmin':
      return reduceCases(op, dtype);
    case 'matmul':
      return matmulCases(dtype);
    case 'copy':
      return copyCases(dtype);
    case 'cast':
      return castCases(dtype);
    case 'fill':
      return fillCases(dtype);
    case 'gather':
      return gatherCases(dtype);
    case 'scatter_add':
      return scatterAddCases(dtype);
    case 'unary_backward':
      return unaryBackwardCases(dtype);
    case 'im2col':
      return im2colCases(dtype);
    case 'col2im':
      return col2imCases(dtype);
    case 'adam':
      return adamCases(dtype);
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------
// Running

async function outcome(backend: Backend, c: Case): Promise<StorageArray | Error> {
  try {
    return await runOp(backend, c.op, c.out, c.inputs, c.attrs);
  } catch (error) {
    if (c.throws !== undefined && error instanceof Error) return error;
    throw error;
  }
}

function describeOutcome(o: StorageArray | Error): string {
  return o instanceof Error ? `${o.name}: ${o.message}` : `a result of ${o.length} elements`;
}

/**
 * Runs case `c` on `backend` and on `reference`; throws an Error naming the case when they
 * disagree beyond the case's tolerance, when an expected error class is missing, or when
 * the backend's live-buffer count moved.
 * @example await checkCase(webgpu, createReferenceBackend(), casesFor('add', 'float32')[0]!);
 */
export async function checkCase(backend: Backend, reference: Backend, c: Case): Promise<void> {
  const before = backend.memory().liveBuffers;
  const expected = await outcome(reference, c);
  const actual = await outcome(backend, c);
  if (c.throws !== undefined) {
    if (!(expected instanceof c.throws))
      throw new Error(
        `${c.name}: reference did not throw; expected a ${c.throws.name}, got ${describeOutcome(expected)}`,
      );
    if (!(actual instanceof c.throws))
      throw new Error(
        `${c.name}: ${backend.name} did not throw; expected a ${c.throws.name}, got ${describeOutcome(actual)}`,
      );
  } else {
    expectClose(actual as StorageArray, expected as StorageArray, c.tol, `${backend.name} ${c.name}`);
  }
  const after = backend.memory().liveBuffers;
  if (after !== before)
    throw new Error(`${c.name}: live buffers after the op differ; expected ${before}, got ${after}`);
}

/** Equal lengths and every element the same value (`Object.is`: NaN equals NaN, -0 is not 0). */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * One in-place Adam step over k entries in ONE call against the reference: every param and
 * moment is written, within the Adam tolerance, and equals k calls of one entry exactly.
 * @example await checkAdamInPlace(webgpu, reference, 'float32', ...adamVariants()[0]!, 3);
 */
export async function checkAdamInPlace(
  backend: Backend,
  reference: Backend,
  dtype: DType,
  variant: string,
  attrs: OpAttrs['adam'],
  k: number,
): Promise<void> {
  const rng = createRng(seedOf(`adam in place ${variant} ${k}`));
  const entries = adamEntryLengths(k).map((n) => adamInputs(dtype, n, attrs.amsgrad, rng));
  const expected = await adamInPlace(reference, entries, attrs);
  const actual = await adamInPlace(backend, entries, attrs);
  const perEntry = await adamInPlace(backend, entries, attrs, true);
  const label = `${backend.name} adam ${variant}`;
  const names = attrs.amsgrad ? ['param', 'expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['param', 'expAvg', 'expAvgSq'];
  if (actual.length !== k * names.length)
    throw new Error(`${label}: results; expected ${k * names.length} buffers, got ${actual.length}`);
  expected.forEach((e, j) => {
    const entry = Math.floor(j / names.length);
    const i = j % names.length;
    const before = Array.from(entries[entry]![i === 0 ? 0 : i + 1]!.data ?? []);
    if (before.length > 0 && i !== 3 && sameValues(e, before))
      throw new Error(
        `${label}: ${names[i]} of entry ${entry} unchanged; expected the reference to write it, got its input back`,
      );
    expectClose(actual[j]!, e, toleranceFor('adam', dtype), `${label} entry ${entry} ${names[i]}`);
    // One call over k entries is the same per-element math as k calls of one.
    if (!sameValues(actual[j]!, perEntry[j]!))
      throw new Error(
        `${label}: entry ${entry} ${names[i]}: one call over ${k} entries differs from one call per entry; expected bitwise equal, got different values`,
      );
  });
}

/** The in-place Adam entry counts each variant runs with. */
const ADAM_ENTRY_COUNTS = [1, 3, 8] as const;

/** One named parity check: throws when `backend` disagrees with `reference`. */
export interface ParityCheck {
  /** E.g. `'add float32 length 7'`; unique within a list. */
  readonly name: string;
  run(backend: Backend, reference: Backend): Promise<void>;
}

/**
 * Every check a backend whose capabilities list `dtypes` must pass, in a fixed order: each
 * op's cases (those whose buffers use only `dtypes`), then the in-place Adam steps.
 * @example parityChecks(['float32', 'int32', 'bool']).length
 */
export function parityChecks(dtypes: readonly DType[]): ParityCheck[] {
  const checks: ParityCheck[] = [];
  for (const op of OP_NAMES) {
    for (const dtype of opDTypes(op)) {
      if (!dtypes.includes(dtype)) continue;
      for (const c of casesFor(op, dtype)) {
        if (!c.dtypes.every((d) => dtypes.includes(d))) continue;
        checks.push({ name: c.name, run: (backend, reference) => checkCase(backend, reference, c) });
      }
    }
  }
  for (const dtype of opDTypes('adam')) {
    if (!dtypes.includes(dtype)) continue;
    for (const [variant, attrs] of adamVariants()) {
      for (const k of ADAM_ENTRY_COUNTS) {
        const lengths = adamEntryLengths(k);
        checks.push({
          name: `adam ${dtype} ${variant}, ${k} ${k === 1 ? 'entry' : 'entries'} of lengths [${lengths.join(',')}] in one call: every param, expAvg, expAvgSq${attrs.amsgrad ? ', maxExpAvgSq' : ''} is written in place`,
          run: (backend, reference) => checkAdamInPlace(backend, reference, dtype, variant, attrs, k),
        });
      }
    }
  }
  return checks;
}

/** What {@link runCases} found: how many checks passed, and one line per failure. */
export interface ParityResult {
  readonly total: number;
  readonly passed: number;
  readonly failures: string[];
}

/** Options of {@link runCases}. */
export interface RunCasesOptions {
  /** Only the checks whose name passes; default all. */
  readonly filter?: (name: string) => boolean;
  /** Called before each check (a crash log names the case that was running). */
  readonly onCheck?: (name: string, index: number, total: number) => void;
}

/**
 * Runs every parity check for `backend`'s dtypes against `reference`, one after another,
 * and collects the failures instead of stopping at the first.
 * @example
 * const { passed, failures } = await runCases(webgpu, createReferenceBackend());
 * if (failures.length > 0) console.log(failures.join('\n'));
 */
export async function runCases(
  backend: Backend,
  reference: Backend,
  options: RunCasesOptions = {},
): Promise<ParityResult> {
  const checks = parityChecks(backend.capabilities.dtypes).filter((c) => options.filter?.(c.name) ?? true);
  const failures: string[] = [];
  let passed = 0;
  for (const [index, check] of checks.entries()) {
    options.onCheck?.(check.name, index, checks.length);
    try {
      await check.run(backend, reference);
      passed++;
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      // Most checks' messages already start with the case name.
      failures.push(
        error instanceof Error && error.message.startsWith(check.name) ? error.message : `${check.name}: ${text}`,
      );
    }
  }
  return { total: checks.length, passed, failures };
}
