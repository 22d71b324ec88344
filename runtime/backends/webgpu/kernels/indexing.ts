/**
 * @module webgpu/kernels/indexing — `gather` and `scatter_add` (torch.gather /
 * torch.scatter_add along one axis).
 *
 * gather: one thread per output element; the index may broadcast (stride 0) along any dim,
 * as ops.ts allows; values move as raw 32-bit words (exact for every dtype).
 *
 * scatter_add: out ← base (a copy launch), then one thread per index "column" (every
 * position of index's shape with the axis dim left out) loops over the axis in index
 * order and adds src into its own column of out. Two threads never write one element, so
 * there are no float atomics and the sums run in the contract's index order: the result is
 * deterministic and matches the reference's order.
 *
 * Bounds: a GPU cannot throw, and WebGPU cannot read back synchronously. An index outside
 * `[0, x.shape[axis])` makes the thread record the op, the bad value and the limit in the
 * backend's error buffer (the first one wins; {@link INDEX_ERROR_WORDS} words) and skip the
 * element; the backend reads that buffer back with the batch and raises an IndexError
 * naming gather or scatter_add at the next `read()` or `flush()`. Nothing is clamped.
 */
import type { DType } from '../../../dtype.ts';
import type { GpuView, KernelContext, Launch, Program } from '../program.ts';
import {
  FLAT_INDEX,
  MAIN_PARAMS,
  WG,
  cachedProgram,
  contiguousStrides,
  dispatch1D,
  numel,
  suffix,
  uniformDecl,
  uniformWords,
  uw,
  wgslType,
} from './common.ts';
import { elementwiseLaunches } from './elementwise.ts';

/** Words of the error buffer: [op code (bits, first op in E[3]), bad index (i32 bits), limit, first op code]. */
export const INDEX_ERROR_WORDS = 4;
/** Op codes in the error buffer. */
export const INDEX_ERROR_CODES = { gather: 1, scatter_add: 2 } as const;

/**
 * The attributes of the indexing kernels: the axis, and the backend's error buffer.
 * @example { axis: 1, errors: backendErrorBuffer }
 */
export interface IndexingAttrs {
  readonly axis: number;
  readonly errors: GPUBuffer;
}

const programs = new Map<string, Program>();

/** WGSL that records index `v` (i32) as out of `[0, limit)` for op `code`. */
function reportCode(code: number, limit: string): string {
  return `let prev = atomicOr(&E[0], ${code}u);
    if (prev == 0u) { atomicStore(&E[1], bitcast<u32>(v)); atomicStore(&E[2], ${limit}); atomicStore(&E[3], ${code}u); }`;
}

/**
 * The uniform words `[...header, ...lists[0], ...lists[1], …]` (each list one word per dim),
 * and the word where each list starts, for the WGSL to address.
 * @example layoutWords([7], [[2, 3], [3, 1]]) // { w: [7, 2, 3, 3, 1], at: [1, 3] }
 */
function layoutWords(
  header: readonly number[],
  lists: readonly (readonly number[])[],
): { w: number[]; at: [number, number, number] } {
  const w = [...header];
  const at: number[] = [];
  for (const list of lists) {
    at.push(w.length);
    w.push(...list);
  }
  return { w, at: [at[0] ?? 0, at[1] ?? 0, at[2] ?? 0] };
}

/**
 * The launch of `gather`: inputs `[x (contiguous), index (int32, contiguous or stride 0)]`,
 * out of index's shape (contiguous). The backend has checked shapes and dtypes.
 * @example gatherLaunches(ctx, out, [x, index], { axis: 1, errors })
 */
export function gatherLaunches(
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  attrs: IndexingAttrs,
): Launch[] {
  const [x, index] = inputs as readonly [GpuView, GpuView];
  const n = numel(index.shape);
  if (n === 0) return [];
  const rank = index.shape.length;
  const axis = attrs.axis;
  const xStrides = contiguousStrides(x.shape);
  // Words: n, axisSize, out offset, index offset, x offset, shape[R], index strides[R], x strides[R].
  const {
    w,
    at: [W_SHAPE, W_IS, W_XS],
  } = layoutWords([n, x.shape[axis] ?? 1, out.offset, index.offset, x.offset], [index.shape, index.strides, xStrides]);
  const words = w.length;
  const key = `gather_x32_r${rank}_a${axis}`;
  const source = (): string => {
    const lines: string[] = ['var rem: u32 = i;', `var io: u32 = ${uw(3)};`, `var xo: u32 = ${uw(4)};`];
    for (let d = rank - 1; d >= 0; d--) {
      lines.push(d > 0 ? `{ let s = ${uw(W_SHAPE + d)}; let c = rem % s; rem = rem / s;` : '{ let c = rem;');
      lines.push(`  io = io + c * ${uw(W_IS + d)};`);
      if (d !== axis) lines.push(`  xo = xo + c * ${uw(W_XS + d)};`);
      lines.push('}');
    }
    return `${uniformDecl(words)}
@group(0) @binding(1) var<storage, read_write> Y: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<u32>;
@group(0) @binding(3) var<storage, read> I: array<i32>;
@group(0) @binding(4) var<storage, read_write> E: array<atomic<u32>>;
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  let i = ${FLAT_INDEX};
  if (i >= ${uw(0)}) { return; }
  ${lines.join('\n  ')}
  let v = I[io];
  let limit = ${uw(1)};
  if (v < 0 || u32(v) >= limit) {
    ${reportCode(INDEX_ERROR_CODES.gather, 'limit')}
    Y[${uw(2)} + i] = 0u;
    return;
  }
  Y[${uw(2)} + i] = X[xo + u32(v) * ${uw(W_XS + axis)}];
}
`;
  };
  return [
    {
      program: cachedProgram(programs, key, source),
      buffers: [
        { buffer: out.buffer, readOnly: false },
        { buffer: x.buffer, readOnly: true },
        { buffer: index.buffer, readOnly: true },
        { buffer: attrs.errors, readOnly: false },
      ],
      uniforms: uniformWords(w),
      workgroups: dispatch1D(n, ctx.limits.maxComputeWorkgroupsPerDimension),
    },
  ];
}

/**
 * The launches of `scatter_add`: inputs `[base, index (int32), src]`, contiguous; index
 * and src of equal shape; out of base's shape (contiguous, fresh). A copy of base into
 * out, then the column-owning scatter.
 * @example scatterAddLaunches(ctx, out, [base, index, src], { axis: 0, errors })
 */
export function scatterAddLaunches(
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  attrs: IndexingAttrs,
): Launch[] {
  const [base, index, src] = inputs as readonly [GpuView, GpuView, GpuView];
  const launches = elementwiseLaunches(ctx, out, [base], { op: 'copy', attrs: {} });
  const n = numel(index.shape);
  if (n === 0) return launches;
  const rank = index.shape.length;
  const axis = attrs.axis;
  const len = index.shape[axis] ?? 1;
  const columns = n / len;
  const iStrides = contiguousStrides(index.shape);
  const oStrides = contiguousStrides(base.shape);
  // Words: columns, L, axisSize, out offset, index offset, src offset, shape[R], index strides[R], out strides[R].
  const {
    w,
    at: [W_SHAPE, W_IS, W_OS],
  } = layoutWords(
    [columns, len, base.shape[axis] ?? 1, out.offset, index.offset, src.offset],
    [index.shape, iStrides, oStrides],
  );
  const words = w.length;
  const dtype: DType = out.dtype;
  const t = wgslType(dtype);
  const key = `scatter_add_${suffix(dtype)}_r${rank}_a${axis}`;
  const source = (): string => {
    const lines: string[] = ['var rem: u32 = i;', 'var io: u32 = 0u;', `var oo: u32 = ${uw(3)};`];
    for (let d = rank - 1; d >= 0; d--) {
      if (d === axis) continue;
      const outermost = d === (axis === 0 ? 1 : 0);
      lines.push(outermost ? '{ let c = rem;' : `{ let s = ${uw(W_SHAPE + d)}; let c = rem % s; rem = rem / s;`);
      lines.push(`  io = io + c * ${uw(W_IS + d)};`);
      lines.push(`  oo = oo + c * ${uw(W_OS + d)};`);
      lines.push('}');
    }
    return `${uniformDecl(words)}
@group(0) @binding(1) var<storage, read_write> Y: array<${t}>;
@group(0) @binding(2) var<storage, read> I: array<i32>;
@group(0) @binding(3) var<storage, read> S: array<${t}>;
@group(0) @binding(4) var<storage, read_write> E: array<atomic<u32>>;
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  let i = ${FLAT_INDEX};
  if (i >= ${uw(0)}) { return; }
  ${lines.join('\n  ')}
  let len = ${uw(1)};
  let limit = ${uw(2)};
  let istep = ${uw(W_IS + axis)};
  let ostep = ${uw(W_OS + axis)};
  for (var j: u32 = 0u; j < len; j = j + 1u) {
    let at = io + j * istep;
    let v = I[${uw(4)} + at];
    if (v < 0 || u32(v) >= limit) {
      ${reportCode(INDEX_ERROR_CODES.scatter_add, 'limit')}
      continue;
    }
    let o = oo + u32(v) * ostep;
    Y[o] = Y[o] + S[${uw(5)} + at];
  }
}
`;
  };
  launches.push({
    program: cachedProgram(programs, key, source),
    buffers: [
      { buffer: out.buffer, readOnly: false },
      { buffer: index.buffer, readOnly: true },
      { buffer: src.buffer, readOnly: true },
      { buffer: attrs.errors, readOnly: false },
    ],
    uniforms: uniformWords(w),
    workgroups: dispatch1D(columns, ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return launches;
}
