/**
 * @module webgpu/kernels/reduce — `sum`, `max`, `min`, `argmax`, `argmin` over one axis of
 * a contiguous input, viewed as `[outer, r, inner]`; out is `[outer, inner]` contiguous.
 *
 * Two fixed-shape programs, chosen by the shape alone (so one shape always takes the same
 * path and gives the same bits, run after run):
 * - `seq` (most shapes): one thread per output element loops over the axis in index order,
 *   exactly the contract's order of ops.ts.
 * - `tree` (a long axis, `r > TREE_MIN_R`, and few outputs, `outer·inner <= TREE_MAX_OUT`): one
 *   workgroup of 256 threads per output; thread t folds the elements k ≡ t (mod 256) in
 *   index order, then the 256 partials combine in a fixed binary tree in workgroup memory
 *   (stride 128, 64, …, 1). The float sum is therefore deterministic but not in index
 *   order: it is not bitwise equal to wasm's, and lies within the `sum` tolerance (the tree
 *   is, if anything, more accurate). int32 sums wrap modulo 2^32, which is associative, so
 *   they are exact either way; max/min/argmax/argmin are selections, and the combine step
 *   breaks ties by the lower index, so they equal the sequential answer bit for bit.
 *
 * With `subgroups` (ctx.subgroups), the tree's combine runs in subgroups first (programs
 * `…_tree_sg`): every thread folds its elements as above; then each subgroup combines its
 * lanes' partials by a butterfly, `subgroupShuffleXor` with masks `size/2, size/4, …, 1`
 * (`subgroup_size` read at run time), so lane i first meets lane i^(size/2), and so on; the
 * butterfly leaves the same value in every lane (float `+` is commutative, and the
 * selection's order is total). The lane holding the lowest `local_invocation_index` of its
 * subgroup (found with `subgroupMin`) stores that value at its own index of a workgroup
 * array filled with the identity (0; none for selections), so the scheme depends on no
 * particular lane-to-index mapping. After one barrier, each lane j folds slots j, j+size,
 * j+2·size, … in index order, and a second butterfly combines the lanes. The float sum's
 * order is thus fixed by the subgroup size and the device's lane mapping: the same on one
 * device run after run, not across devices. `subgroupAdd` is not used for floats: its
 * order is unspecified. int32 max/min use `subgroupMax`/`subgroupMin` (exact); float
 * max/min and argmax/argmin use the butterfly with the NaN-aware, lower-index-wins
 * comparison, so their answers are the sequential ones bit for bit. The workgroup of 256
 * is a multiple of every subgroup size (powers of two up to 128), so subgroups are full.
 *
 * NaN propagates through max/min, and argmax/argmin give the first NaN's index when there
 * is one (as torch and the reference). NaN is tested on the bits (see common.ts).
 */
import type { DType } from '../../../dtype.ts';
import type { ReduceOp } from '../../../ops.ts';
import type { GpuView, KernelContext, Launch, Program } from '../program.ts';
import {
  F32_HELPERS,
  FLAT_INDEX,
  MAIN_PARAMS,
  WG,
  cachedProgram,
  dispatch1D,
  numel,
  suffix,
  uniformDecl,
  uniformWords,
  uw,
  wgslType,
} from './common.ts';

/** The axis length above which a few outputs take the workgroup tree. */
export const TREE_MIN_R = 512;
/** The most outputs that take the tree (beyond it, one thread per output has enough parallelism). */
export const TREE_MAX_OUT = 4096;

/**
 * What {@link reduceLaunches} needs: the op and the axis.
 * @example { op: 'argmax', axis: 1 }
 */
export interface ReduceAttrs {
  readonly op: ReduceOp;
  readonly axis: number;
}

const programs = new Map<string, Program>();

// Uniform words: nOut, r, inner, x offset, out offset.
const W_NOUT = 0;
const W_R = 1;
const W_INNER = 2;
const W_XOFF = 3;
const W_OOFF = 4;
const WORDS = 5;

/** WGSL: `(v2, k2)` is preferred over `(v1, k1)` for max (`>`) or min (`<`); k = 0xffffffff is none. */
function betterFn(t: string, cmp: '>' | '<', isFloat: boolean): string {
  const nan = isFloat
    ? `let n1 = is_nan(v1); let n2 = is_nan(v2);
  if (n1 && n2) { return k2 < k1; }
  if (n1) { return false; }
  if (n2) { return true; }`
    : '';
  return `fn better(v1: ${t}, k1: u32, v2: ${t}, k2: u32) -> bool {
  if (k2 == 0xffffffffu) { return false; }
  if (k1 == 0xffffffffu) { return true; }
  ${nan}
  if (v2 ${cmp} v1) { return true; }
  if (v2 == v1) { return k2 < k1; }
  return false;
}`;
}

/**
 * The launch of one reduction. `x` is contiguous (its offset may be non-zero), out is
 * contiguous with `shape[axis] = 1`; an empty axis only reaches here for `sum` (gives 0).
 * @example reduceLaunches(ctx, out, [x], { op: 'sum', axis: 1 })
 */
export function reduceLaunches(
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  attrs: ReduceAttrs,
): Launch[] {
  const x = inputs[0] as GpuView;
  const { op, axis } = attrs;
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= x.shape[i] ?? 1;
  for (let i = axis + 1; i < x.shape.length; i++) inner *= x.shape[i] ?? 1;
  const r = x.shape.length === 0 ? 1 : (x.shape[axis] ?? 1);
  const nOut = outer * inner;
  if (nOut === 0 || numel(out.shape) === 0) return [];
  const isArg = op === 'argmax' || op === 'argmin';
  const tree = r > TREE_MIN_R && nOut <= TREE_MAX_OUT;
  const sg = tree && ctx.subgroups;
  const key = `${op}_${suffix(x.dtype)}_${tree ? 'tree' : 'seq'}${sg ? '_sg' : ''}`;
  const source = (): string =>
    sg ? treeSubgroupSource(op, x.dtype, isArg) : tree ? treeSource(op, x.dtype, isArg) : seqSource(op, x.dtype, isArg);
  const w = [nOut, r, inner, x.offset, out.offset];
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  let workgroups: [number, number, number];
  if (tree) {
    const y = Math.ceil(nOut / maxDim);
    workgroups = [Math.ceil(nOut / y), y, 1];
  } else {
    workgroups = dispatch1D(nOut, maxDim);
  }
  return [
    {
      program: cachedProgram(programs, key, source),
      buffers: [
        { buffer: out.buffer, readOnly: false },
        { buffer: x.buffer, readOnly: true },
      ],
      uniforms: uniformWords(w),
      workgroups,
    },
  ];
}

function header(dtype: DType, isArg: boolean): string {
  const t = wgslType(dtype);
  return `${uniformDecl(WORDS)}
@group(0) @binding(1) var<storage, read_write> Y: array<${isArg ? 'i32' : t}>;
@group(0) @binding(2) var<storage, read> X: array<${t}>;
${F32_HELPERS}`;
}

function seqSource(op: ReduceOp, dtype: DType, isArg: boolean): string {
  const t = wgslType(dtype);
  const isFloat = dtype === 'float32';
  let body: string;
  if (op === 'sum') {
    // Index order; float32 accumulation, int32 wraps.
    body = `var acc: ${t} = ${t}(0);
  for (var k: u32 = 0u; k < r; k = k + 1u) { acc = acc + X[base + k * inner]; }
  Y[${uw(W_OOFF)} + i] = acc;`;
  } else {
    const cmp = op === 'max' || op === 'argmax' ? '>' : '<';
    const stop = isFloat ? 'if (is_nan(best)) { break; }' : '';
    const take = isFloat ? `is_nan(v) || v ${cmp} best` : `v ${cmp} best`;
    body = `var best = X[base];
  var bk: u32 = 0u;
  for (var k: u32 = 1u; k < r; k = k + 1u) {
    ${stop}
    let v = X[base + k * inner];
    if (${take}) { best = v; bk = k; }
  }
  Y[${uw(W_OOFF)} + i] = ${isArg ? 'i32(bk)' : 'best'};`;
  }
  return `${header(dtype, isArg)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  let i = ${FLAT_INDEX};
  if (i >= ${uw(W_NOUT)}) { return; }
  ${outputBase('i')}
  ${body}
}
`;
}

/** WGSL: the axis of output `index` as `base` + k·`inner` for k < `r` (every variant's prologue). */
function outputBase(index: string): string {
  return `let r = ${uw(W_R)};
  let inner = ${uw(W_INNER)};
  let p = ${index} / inner;
  let q = ${index} % inner;
  let base = ${uw(W_XOFF)} + p * r * inner + q;`;
}

/** WGSL: a tree thread's sum of elements lid, lid + WG, … of its axis, into `acc`. */
function strideSum(t: string): string {
  return `var acc: ${t} = ${t}(0);
  for (var k: u32 = lid; k < r; k = k + ${WG}u) { acc = acc + X[base + k * inner]; }`;
}

/** WGSL: a tree thread's best (value, index) of elements lid, lid + WG, …, into `best`/`bk` (`bk` none: 0xffffffff). */
function strideBest(t: string): string {
  return `var best: ${t} = ${t}(0);
  var bk: u32 = 0xffffffffu;
  for (var k: u32 = lid; k < r; k = k + ${WG}u) {
    let v = X[base + k * inner];
    if (better(best, bk, v, k)) { best = v; bk = k; }
  }`;
}

function treeSource(op: ReduceOp, dtype: DType, isArg: boolean): string {
  const t = wgslType(dtype);
  const isFloat = dtype === 'float32';
  const steps: string[] = [];
  for (let s = WG / 2; s >= 1; s /= 2) {
    const combine =
      op === 'sum'
        ? `sv[lid] = sv[lid] + sv[lid + ${s}u];`
        : `if (better(sv[lid], sk[lid], sv[lid + ${s}u], sk[lid + ${s}u])) { sv[lid] = sv[lid + ${s}u]; sk[lid] = sk[lid + ${s}u]; }`;
    steps.push(`if (lid < ${s}u) { ${combine} }\n  workgroupBarrier();`);
  }
  const cmp = op === 'max' || op === 'argmax' ? '>' : '<';
  const fold =
    op === 'sum'
      ? `${strideSum(t)}
  sv[lid] = acc;`
      : `${strideBest(t)}
  sv[lid] = best;
  sk[lid] = bk;`;
  const result = op === 'sum' ? 'sv[0]' : isArg ? 'i32(sk[0])' : 'sv[0]';
  return `${header(dtype, isArg)}
var<workgroup> sv: array<${t}, ${WG}>;
var<workgroup> sk: array<u32, ${WG}>;
${op === 'sum' ? '' : betterFn(t, cmp, isFloat)}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ${uw(W_NOUT)}) { return; }
  ${outputBase('g')}
  ${fold}
  workgroupBarrier();
  ${steps.join('\n  ')}
  if (lid == 0u) { Y[${uw(W_OOFF)} + g] = ${result}; }
}
`;
}

/** The tree with a subgroup stage (see the module comment for the order of the sum). */
function treeSubgroupSource(op: ReduceOp, dtype: DType, isArg: boolean): string {
  const t = wgslType(dtype);
  const isFloat = dtype === 'float32';
  const cmp = op === 'max' || op === 'argmax' ? '>' : '<';
  const isSum = op === 'sum';
  // A subgroup-wide combine of (v, k) in every lane.
  let combine: string;
  if (isSum) {
    combine = `fn combine(v0: ${t}, k0: u32, sz: u32) -> Pair {
  var v = v0;
  for (var o = sz / 2u; o > 0u; o = o / 2u) { v = v + subgroupShuffleXor(v, o); }
  return Pair(v, k0);
}`;
  } else if (!isFloat && !isArg) {
    combine = `fn combine(v0: ${t}, k0: u32, sz: u32) -> Pair {
  return Pair(${op === 'max' ? 'subgroupMax' : 'subgroupMin'}(v0), k0);
}`;
  } else {
    combine = `${betterFn(t, cmp, isFloat)}
fn combine(v0: ${t}, k0: u32, sz: u32) -> Pair {
  var v = v0;
  var k = k0;
  for (var o = sz / 2u; o > 0u; o = o / 2u) {
    let v2 = subgroupShuffleXor(v, o);
    let k2 = subgroupShuffleXor(k, o);
    if (better(v, k, v2, k2)) { v = v2; k = k2; }
  }
  return Pair(v, k);
}`;
  }
  // int32 max/min carry no index and have no "none": their identity is the type's extreme.
  const noneV = !isSum && !isFloat && !isArg ? (op === 'max' ? 'i32(-2147483647 - 1)' : 'i32(2147483647)') : `${t}(0)`;
  const fold = isSum
    ? `${strideSum(t)}
  let mine = Pair(acc, 0u);`
    : !isFloat && !isArg
      ? `var best: ${t} = ${noneV};
  for (var k: u32 = lid; k < r; k = k + ${WG}u) { best = ${op}(best, X[base + k * inner]); }
  let mine = Pair(best, 0u);`
      : `${strideBest(t)}
  let mine = Pair(best, bk);`;
  const result = isArg ? 'i32(total.k)' : 'total.v';
  return `enable subgroups;
${header(dtype, isArg)}
struct Pair { v: ${t}, k: u32 }
var<workgroup> sv: array<${t}, ${WG}>;
var<workgroup> sk: array<u32, ${WG}>;
${combine}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}, @builtin(subgroup_size) sz: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ${uw(W_NOUT)}) { return; }
  ${outputBase('g')}
  sv[lid] = ${noneV};
  sk[lid] = 0xffffffffu;
  ${fold}
  let part = combine(mine.v, mine.k, sz);
  // Each thread writes only its own slot (identity, then maybe its subgroup's value).
  if (lid == subgroupMin(lid)) { sv[lid] = part.v; sk[lid] = part.k; }
  workgroupBarrier();
  var slots = Pair(sv[lane], sk[lane]);
  for (var s: u32 = lane + sz; s < ${WG}u; s = s + sz) {
    ${isSum ? 'slots.v = slots.v + sv[s];' : !isFloat && !isArg ? `slots.v = ${op}(slots.v, sv[s]);` : 'if (better(slots.v, slots.k, sv[s], sk[s])) { slots = Pair(sv[s], sk[s]); }'}
  }
  let total = combine(slots.v, slots.k, sz);
  if (lid == 0u) { Y[${uw(W_OOFF)} + g] = ${result}; }
}
`;
}
