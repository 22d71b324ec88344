/**
 * @module ops — the closed list of primitives every backend implements.
 *
 * The tensor layer builds everything else (softmax, var, mean, cat, ...) from
 * these. A primitive has one name in every layer: `'matmul'` here,
 * `matmul_f32` in assembly/, and `matmul_f32` as a WGSL program key.
 *
 * Calling convention, for `backend.run(op, out, inputs, attrs)`:
 * - `out` is a freshly allocated contiguous view (row-major strides, offset 0),
 *   except for `copy`, whose `out` may be any strided view of an existing buffer.
 * - Elementwise ops (unary, binary, `where`, `copy`, `cast`, `unary_backward`)
 *   accept inputs of any strides, including stride 0 for broadcast dims. Their
 *   inputs already have the output's shape (the tensor layer expands them).
 * - Every other op receives contiguous inputs (row-major strides; the offset may be non-zero),
 *   except `matmul`, described at {@link MatmulAttrs}, and gather's index, which may
 *   broadcast (stride 0) along any dim.
 * - Binary ops receive inputs of one dtype: the tensor layer casts first.
 * - `adam` is the one exception to "out is fresh, inputs are read-only": it updates the
 *   parameter and moment buffers of many parameters in place, and its `out` is the first
 *   parameter (see {@link AdamAttrs}).
 *
 * `checkOp` (op-check.ts) checks this convention, every view against its buffer and each
 * primitive's attributes once, at the top of every backend's `run`; a backend checks only
 * its own limits (dtypes it lacks, freed or foreign buffers, device limits).
 */
import type { DType } from './dtype.ts';

/** Elementwise functions of one input. */
export const UNARY_OPS = [
  'neg',
  'abs',
  'sign',
  'exp',
  'log',
  'sqrt',
  'relu',
  'sigmoid',
  'tanh',
  'gelu',
  'gelu_tanh',
  'silu',
  'softplus',
  'elu',
  'leaky_relu',
  'clamp',
  'logical_not',
  'round_f16',
  'round_bf16',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** The activations that have a fused backward (`unary_backward`). */
export const ACTIVATIONS = [
  'relu',
  'sigmoid',
  'tanh',
  'gelu',
  'gelu_tanh',
  'silu',
  'softplus',
  'elu',
  'leaky_relu',
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Elementwise functions of two inputs of the same dtype. Comparisons output bool. */
export const BINARY_OPS = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** The binary ops whose output is bool. */
export const COMPARISON_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;

/** Reductions over one axis. `argmax`/`argmin` output int32. */
export const REDUCE_OPS = ['sum', 'max', 'min', 'argmax', 'argmin'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** Parameters shared by the activations that take one. */
export interface ActivationAttrs {
  /** elu's alpha (default 1), leaky_relu's negative slope (default 0.01). */
  readonly alpha: number;
  /** softplus's beta (default 1). */
  readonly beta: number;
  /** softplus's threshold (default 20): above `beta * x > threshold` it is the identity. */
  readonly threshold: number;
}

/**
 * `matmul`: out[b] = op(a[b]) @ op(b[b]) (+ bias), where the inputs are 3-D views
 * `a: [B, M, K]`, `b: [B, K, N]` and the optional third input `bias: [N]`.
 * Each input's last two dims are either row-major contiguous (strides `[.., K, 1]`)
 * or a transposed contiguous matrix (strides `[.., 1, M]`); the backend reads the
 * layout from the strides. The batch stride may be 0 (broadcast). `out` is `[B, M, N]`.
 *
 * `precision` is a hint that `a` and `b` already hold 16-bit values (float32 numbers that
 * `round_f16` / `round_bf16` produced, as autocast passes them): a backend may multiply in
 * that precision while accumulating in float32 (webgpu with `shader-f16` does). Backends
 * without 16-bit arithmetic ignore it and compute in float32 on the rounded inputs, which
 * is what the 16-bit path computes: the product of two f16 (or bf16) values is exact in
 * float32 (11 + 11 and 8 + 8 significant bits fit in 24).
 * ```
 * backend.run('matmul', out, [a16, b16], { precision: 'f16' })
 * ```
 */
export interface MatmulAttrs {
  readonly precision?: 'f16' | 'bf16';
}

/**
 * The window geometry shared by `im2col` and `col2im` (torch.nn.functional.unfold/fold's
 * `kernel_size`, `stride`, `padding`, `dilation`, split into height and width). Input
 * element (ih, iw) of output position (oh, ow) and kernel offset (ki, kj) is
 * `ih = oh·strideH − padH + ki·dilationH`, `iw = ow·strideW − padW + kj·dilationW`.
 * Every field is a non-negative integer; kernel, stride and dilation are >= 1.
 */
export interface Im2colAttrs {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
}

/**
 * `adam`: one Adam/AdamW step over `count` parameters at once, IN PLACE (a multi-tensor
 * apply, as torch's foreach/fused Adam). This is the one primitive that breaks the
 * out-only contract of `run`:
 * - `inputs` holds `count` entries back to back, each `[param, grad, expAvg, expAvgSq]`,
 *   plus `maxExpAvgSq` when `amsgrad` (so `inputs.length` is `count · 4` or `count · 5`);
 *   every view is contiguous and of one dtype, and an entry's views have equal numel
 *   (shapes may differ; different entries may have different lengths, zero included);
 * - `out` is the first entry's param itself (same buffer, offset and numel; the backend
 *   checks), only because `run` needs an `out`: every param, the first included, is read
 *   and written in place;
 * - `expAvg`, `expAvgSq` and (amsgrad) `maxExpAvgSq` are read and written in place; `grad`
 *   is only read. Views of different entries must not overlap (the entries are
 *   independent; their order of update is not part of the contract);
 * - every entry is at the same step, so the scalars below are shared (the optimizer makes
 *   one call per parameter group and step count).
 * ```
 * backend.run('adam', p0, [p0, g0, m0, v0, p1, g1, m1, v1], { ...hyper, count: 2 })
 * ```
 *
 * Per element, in this order (torch 1.13's `_single_tensor_adam(w)`, operation for operation):
 * ```
 * g = maximize ? −g : g
 * decoupled (AdamW): p = p · (1 − lr·wd)        else: g = g + wd·p
 * m = m·β1 + g·(1 − β1)
 * v = v·β2 + (g·(1 − β2))·g
 * amsgrad: vmax = max(vmax, v)
 * denom = sqrt(amsgrad ? vmax : v) / bc2Sqrt + eps
 * p = p + (−stepSize · m) / denom
 * ```
 * One departure from torch: an `m` or `v` result of magnitude below the dtype's smallest
 * normal number (2^-126 for float32) is stored, and used, as a zero of its sign. A gradient
 * that stays 0 (weights of an always-black pixel) decays `m` into subnormals within ~800
 * steps, where x86 arithmetic slows 2.5× (measured on the wasm kernel); the update such an
 * `m` would add is below 1e-30, so parameters match torch's unless they are themselves ~0.
 *
 * `stepSize = lr / (1 − β1^t)` and `bc2Sqrt = sqrt(1 − β2^t)` are computed in float64
 * by the caller; each factor above (1 − lr·wd, 1 − β1, 1 − β2, −stepSize) is formed in
 * float64 and then used at the tensor's dtype, as torch's Python scalars are.
 */
export interface AdamAttrs {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
  /** AdamW's decoupled decay instead of Adam's L2 term. */
  readonly decoupled: boolean;
  /** lr / (1 − β1^t), in float64. */
  readonly stepSize: number;
  /** sqrt(1 − β2^t), in float64. */
  readonly bc2Sqrt: number;
  /** How many parameter entries `inputs` holds (>= 1). */
  readonly count: number;
}

/** Each primitive's attributes. */
export interface OpAttrs {
  neg: Record<string, never>;
  abs: Record<string, never>;
  /** −1, 0 or 1; sign(NaN) = 0, as torch's `(0 < x) - (x < 0)`. */
  sign: Record<string, never>;
  exp: Record<string, never>;
  log: Record<string, never>;
  sqrt: Record<string, never>;
  relu: Record<string, never>;
  sigmoid: Record<string, never>;
  tanh: Record<string, never>;
  /** Exact GELU, x * Φ(x), with Φ through erf. */
  gelu: Record<string, never>;
  /** GELU's tanh approximation, as torch's `approximate='tanh'`. */
  gelu_tanh: Record<string, never>;
  silu: Record<string, never>;
  softplus: ActivationAttrs;
  elu: ActivationAttrs;
  leaky_relu: ActivationAttrs;
  /** `min`/`max` may be null for a one-sided clamp. NaN stays NaN. */
  clamp: { readonly min: number | null; readonly max: number | null };
  /** bool → bool. */
  logical_not: Record<string, never>;
  /**
   * x rounded to the nearest IEEE float16 value (ties to even), kept in x's dtype, as
   * torch's `x.half().float()`: beyond ±65504 (from 65520 up) gives ±Infinity, values
   * below 2^-14 become float16 subnormals (multiples of 2^-24) or a signed zero, NaN stays NaN.
   */
  round_f16: Record<string, never>;
  /**
   * x rounded to the nearest bfloat16 value (ties to even: torch's round_to_nearest_even),
   * kept in x's dtype, as torch's `x.bfloat16().float()`; overflow gives ±Infinity, NaN stays NaN.
   */
  round_bf16: Record<string, never>;
  add: Record<string, never>;
  sub: Record<string, never>;
  /** float: IEEE division. int32 is never passed (the tensor layer true-divides in float). */
  div: Record<string, never>;
  mul: Record<string, never>;
  /**
   * float: Math.pow semantics (so pow(1, NaN) is NaN, where torch gives 1).
   * int32: exact integer power wrapping modulo 2^32; negative exponents give 0 except for base ±1.
   */
  pow: Record<string, never>;
  /** NaN-propagating, as torch.maximum. */
  maximum: Record<string, never>;
  /** NaN-propagating, as torch.minimum. */
  minimum: Record<string, never>;
  eq: Record<string, never>;
  ne: Record<string, never>;
  lt: Record<string, never>;
  le: Record<string, never>;
  gt: Record<string, never>;
  ge: Record<string, never>;
  /** inputs `[cond (bool), a, b]`, all already of out's shape; out = cond ? a : b. */
  where: Record<string, never>;
  /**
   * Reductions over `axis` (in [0, rank)) of a contiguous input. `out` has the input's shape
   * with `shape[axis] = 1`. Sums accumulate in a fixed order (the same bits every run; each
   * backend's order is its own, so backends agree within float tolerance, not bitwise):
   * the reference in index order; wasm in index order except over a last axis of 64 or more
   * float elements, which it adds as 16 interleaved partial sums (assembly/reduce.ts); webgpu
   * in index order except for a long axis with few outputs, where a fixed-shape workgroup
   * tree sums (webgpu/kernels/reduce.ts).
   * max/min propagate NaN. argmax/argmin give the first index of the extreme
   * (the first NaN if any). An empty axis: sum gives 0; the others never get one
   * (the tensor layer raises first).
   */
  sum: { readonly axis: number };
  max: { readonly axis: number };
  min: { readonly axis: number };
  argmax: { readonly axis: number };
  argmin: { readonly axis: number };
  matmul: MatmulAttrs;
  /** out (any strided view) ← input (any strided view), same shape and dtype. */
  copy: Record<string, never>;
  /**
   * out ← input converted to out.dtype. float → int32 truncates toward zero and
   * saturates at the int32 range, NaN → 0 (wasm's trunc_sat); → bool is `!= 0` (NaN → true).
   */
  cast: Record<string, never>;
  /** out ← value (no inputs). */
  fill: { readonly value: number };
  /**
   * torch.gather: inputs `[x, index (int32)]` of equal rank; x is contiguous, and index is
   * contiguous except that any of its dims may have stride 0 (a broadcast view: indexSelect
   * passes its index `[1, L, 1]` expanded to `[outer, L, inner]`, so a backend may copy
   * whole rows); out has index's shape; out[i][j][k] = x[i][index[i][j][k]][k] for axis 1.
   * An index outside `[0, x.shape[axis])` throws an IndexError.
   */
  gather: { readonly axis: number };
  /**
   * torch.scatter_add: inputs `[base, index (int32), src]`, contiguous; index and src
   * have equal shapes; out has base's shape; out = base, then
   * out[i][index[i][j][k]][k] += src[i][j][k] for axis 1, in index order.
   */
  scatter_add: { readonly axis: number };
  /**
   * The fused gradient of an activation: inputs `[x, gradOut]` (elementwise,
   * any strides) → out = gradOut * f'(x), with f one of {@link ACTIVATIONS}.
   * Branches test as torch's backward kernels do: relu gives `x <= 0 ? 0 : g`,
   * elu `x <= 0 ? g·α·eˣ : g`, so a NaN x passes g through.
   */
  unary_backward: ActivationAttrs & { readonly fn: Activation };
  /**
   * torch.nn.functional.unfold with a pad value: input `[N, C, H, W]` (contiguous) →
   * out `[N, C·kH·kW, oH, oW]`, where row `c·kH·kW + ki·kW + kj` holds, at (oh, ow), the
   * input element of {@link Im2colAttrs}'s formula, or `padValue` where that lies outside
   * the input (0 for convolution, −∞ for max pooling). The output's spatial dims choose
   * how many windows there are: the caller computes torch's floor formula
   * `⌊(H + 2·padH − dilationH·(kH − 1) − 1) / strideH⌋ + 1`, or pooling's ceil mode.
   * Reshaping out to `[N, C·kH·kW, oH·oW]` (free, it is contiguous) gives torch's layout.
   */
  im2col: Im2colAttrs & { readonly padValue: number };
  /**
   * torch.nn.functional.fold, the adjoint of `im2col`: input `[N, C·kH·kW, oH, oW]`
   * (contiguous) → out `[N, C, H, W]` (its shape gives the image size), each column
   * element added into the input element it was read from; elements that `im2col` took
   * from the padding are dropped. Sums run in the input's row-major order (deterministic).
   */
  col2im: Im2colAttrs;
  /** The fused optimizer step; see {@link AdamAttrs} (writes in place). */
  adam: AdamAttrs;
}

/** Every primitive's name. */
export type OpName = keyof OpAttrs;

/** The list of every primitive, for tests that iterate over all of them. */
export const OP_NAMES: readonly OpName[] = [
  ...UNARY_OPS,
  ...BINARY_OPS,
  'where',
  ...REDUCE_OPS,
  'matmul',
  'copy',
  'cast',
  'fill',
  'gather',
  'scatter_add',
  'unary_backward',
  'im2col',
  'col2im',
  'adam',
];

/** The dtypes each primitive must accept on a backend that supports the dtype. */
export function opDTypes(op: OpName): readonly DType[] {
  switch (op) {
    case 'neg':
    case 'abs':
    case 'sign':
    case 'add':
    case 'sub':
    case 'mul':
    case 'pow':
    case 'maximum':
    case 'minimum':
    case 'sum':
    case 'max':
    case 'min':
    case 'argmax':
    case 'argmin':
    case 'gather':
    case 'scatter_add':
    case 'where':
    case 'clamp':
      return ['float32', 'float64', 'int32'];
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return ['float32', 'float64', 'int32'];
    case 'copy':
    case 'cast':
    case 'fill':
      return ['float32', 'float64', 'int32', 'bool'];
    case 'logical_not':
      return ['bool'];
    default:
      return ['float32', 'float64'];
  }
}
