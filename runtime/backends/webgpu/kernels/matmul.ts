/**
 * @module webgpu/kernels/matmul — `matmul` (batched, any of the four transpose layouts,
 * batch stride 0, optional bias) as a tiled WGSL kernel with register blocking.
 *
 * One workgroup computes a `BM × BN` block of one batch's output. Per `BK`-deep slice of
 * K, the workgroup copies an `A` tile (`BM × BK`) and a `B` tile (`BK × BN`) into
 * workgroup memory, both stored k-major (`tile[k][m]`, `tile[k][n]`) so that the inner
 * product reads `vec4`s; each thread then accumulates its `TM × TN` micro-tile in
 * registers (`TM·TN/4` vec4 accumulators, `fma` of a splatted A value by a vec4 of B).
 * The two tiles are double-buffered: the next slice is fetched from global memory into
 * registers while the current one is multiplied, then stored into the other half of
 * workgroup memory, so one barrier per slice suffices. A thread's rows (and columns) are
 * split into chunks of 4 that lie `BM / (TM/4)` apart, so a warp's workgroup-memory
 * reads and its global stores are consecutive vec4s.
 *
 * Layouts come from the strides (runtime/ops.ts's {@link MatmulAttrs}): an operand whose
 * inner (K) stride is 1 is loaded k-fastest and transposed into workgroup memory; one
 * whose M (or N) stride is 1 is loaded m-fastest and stored as is. Global loads use
 * `vec4` when the contiguous extent, the other stride, the batch stride and the offset
 * are multiples of 4 (then a group of 4 is wholly inside or outside the matrix); the
 * scalar path reads any strides with bounds checks, which covers odd M/N/K edges.
 *
 * The tile configuration is chosen by shape, so that small and skinny products still
 * put enough workgroups on the GPU: 128×128×8 with 8×8 per thread for large outputs,
 * 64×64×16 with 4×4, and 32×32×16 with 4×4 (64 threads) for small ones. Every config's
 * two double-buffered tiles take at most 16 KiB, WebGPU's default
 * `maxComputeWorkgroupStorageSize`.
 *
 * `precision: 'f16'` (ops.ts: the inputs already hold float16 values) with `shader-f16`
 * stores the tiles in workgroup memory as f16, at twice the K depth in the same bytes;
 * products and sums stay float32, so the result is the float32 one on those inputs (the
 * product of two f16 values is exact in f32). `'bf16'`, or `'f16'` without the feature,
 * computes in float32 on the (already rounded) inputs, as ops.ts allows.
 *
 * With `subgroups` (ctx.subgroups), a GEMV-like product (M ≤ {@link SUBGROUP_MAX_M} per
 * batch, where the tiled kernel's 32-row tile is mostly padding) takes the subgroup kernel
 * instead (program `matmul_f32_sg_r4x128`): a workgroup of 128 threads computes 4 rows ×
 * 128 columns, one column per thread, 4 row accumulators in a vec4. Per chunk of K as long
 * as the subgroup (`subgroup_size`, read at run time: 4 to 128), lane l loads the 4 rows' A
 * values at k0 + l into one vec4, and the inner loop hands chunk element j to every lane
 * with `subgroupShuffle(aFrag, j)` instead of a round trip through workgroup memory; B is
 * read straight from global memory (each B element is used by one workgroup row, so there
 * is nothing to share). No barriers, no workgroup memory, no branches in the K loop (rows
 * and columns past the edge read the last one, in bounds, and are never stored; the inner
 * loop stops at K). 128 is a multiple of every subgroup size WebGPU allows (powers of two
 * up to 128), so subgroups are full. Any layout: all loads are scalar with the strides.
 * `precision: 'f16'`/`'bf16'` computes in float32 on the (already rounded) inputs, which is
 * what the tiled kernel's f16 tiles compute too. The M ≤ 4 threshold is untuned: no GPU
 * timing has been taken yet (bench/gpu.mjs times both kernels on m = 1 and 4).
 * The choice is the explicit shape rule of {@link useSubgroupKernel}, not a fallback.
 *
 * Accumulation is in float32 in index order of K within a thread (one thread owns each
 * output element), so results are deterministic run to run; the GPU may contract the
 * multiply-add into an FMA, which the `matmul` tolerance covers.
 */
import type { MatmulAttrs } from '../../../ops.ts';
import { BackendError, DTypeError, ShapeError, ValueError } from '../../../errors.ts';
import type { GpuView, KernelContext, Launch, Program } from '../program.ts';
import { fmt } from './common.ts';

/** A block-tile configuration. */
interface TileConfig {
  readonly name: 'large' | 'medium' | 'small';
  /** Output rows per workgroup. */
  readonly bm: number;
  /** Output columns per workgroup. */
  readonly bn: number;
  /** Depth of one K slice. */
  readonly bk: number;
  /** Output rows per thread (4 or 8). */
  readonly tm: number;
  /** Output columns per thread (4 or 8). */
  readonly tn: number;
}

const LARGE: TileConfig = { name: 'large', bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 };
const MEDIUM: TileConfig = { name: 'medium', bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };
const SMALL: TileConfig = { name: 'small', bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 };

/** The tile configurations, largest first (exported for the tests and the benchmark). */
export const MATMUL_TILE_CONFIGS: readonly TileConfig[] = [LARGE, MEDIUM, SMALL];

/**
 * How one operand is read: `inner` when its K stride is 1 (A row-major, B transposed),
 * `outer` when its M/N stride is 1 (A transposed, B row-major); `vec4` for vec4 loads.
 */
interface OperandLayout {
  readonly contig: 'inner' | 'outer';
  readonly vec4: boolean;
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/**
 * Picks the largest tile whose grid still has enough workgroups to fill a large GPU
 * (an H100 has 132 SMs; 128×128 tiles keep one or two workgroups per SM busy).
 * @example pickTileConfig(1, 4096, 4096).name // 'large'
 */
export function pickTileConfig(batch: number, m: number, n: number): TileConfig {
  const tiles = (c: TileConfig): number => batch * ceilDiv(m, c.bm) * ceilDiv(n, c.bn);
  if (tiles(LARGE) >= 256) return LARGE;
  if (tiles(MEDIUM) >= 128) return MEDIUM;
  return SMALL;
}

/**
 * The layout of an operand from its strides. `dStride`/`kStride` are the strides along
 * its M (or N) dim and its K dim; `dExtent` is M (or N).
 */
function operandLayout(
  dStride: number,
  kStride: number,
  dExtent: number,
  k: number,
  offset: number,
  batchStride: number,
): OperandLayout {
  const aligned = (x: number): boolean => x % 4 === 0;
  if (kStride === 1) {
    return { contig: 'inner', vec4: aligned(k) && aligned(dStride) && aligned(offset) && aligned(batchStride) };
  }
  if (dStride === 1) {
    return { contig: 'outer', vec4: aligned(dExtent) && aligned(kStride) && aligned(offset) && aligned(batchStride) };
  }
  // Neither stride is 1 (allowed only through size-1 dims): the strided scalar path.
  return { contig: 'inner', vec4: false };
}

/** The WGSL of one configuration. */
function matmulSource(
  c: TileConfig,
  a: OperandLayout,
  b: OperandLayout,
  bias: boolean,
  outVec4: boolean,
  h16: boolean,
): string {
  const st = h16 ? 'f16' : 'f32';
  const wx = c.bn / c.tn;
  const wy = c.bm / c.tm;
  const threads = wx * wy;
  const cm = c.tm / 4;
  const cn = c.tn / 4;
  const aTile = (c.bk * c.bm) / 4;
  const bTile = (c.bk * c.bn) / 4;
  const lines: string[] = [];
  const L = (s: string): void => {
    lines.push(s);
  };

  if (h16) L('enable f16;');
  L(`struct U {
  M: u32, N: u32, K: u32, aOff: u32,
  aBS: u32, aSD: u32, aSK: u32, bOff: u32,
  bBS: u32, bSK: u32, bSD: u32, biasOff: u32,
  biasS: u32, outOff: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> A: array<${a.vec4 ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read> B: array<${b.vec4 ? 'vec4<f32>' : 'f32'}>;`);
  if (bias) {
    L(`@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<${outVec4 ? 'vec4<f32>' : 'f32'}>;`);
  } else {
    L(`@group(0) @binding(3) var<storage, read_write> O: array<${outVec4 ? 'vec4<f32>' : 'f32'}>;`);
  }
  L(`var<workgroup> As: array<vec4<${st}>, ${2 * aTile}>;
var<workgroup> Bs: array<vec4<${st}>, ${2 * bTile}>;`);

  /**
   * The load of operand `X` (A or B) for the tile at k0 into registers `rX_l`, and the
   * store of those registers into workgroup memory half `half`.
   */
  const loadStore = (
    x: 'A' | 'B',
    lay: OperandLayout,
    d: number,
  ): { decl: string; load: (k0: string) => string; store: (half: string) => string } => {
    const ext = x === 'A' ? 'u.M' : 'u.N';
    const d0 = x === 'A' ? 'm0' : 'n0';
    const base = x === 'A' ? 'aBase' : 'bBase';
    const sd = x === 'A' ? 'u.aSD' : 'u.bSD';
    const sk = x === 'A' ? 'u.aSK' : 'u.bSK';
    const tile = (c.bk * d) / 4;
    // Every load fills one vec4 register: 4 consecutive k of one row (vec4, inner), or 4
    // consecutive rows at one k (vec4 outer, and the scalar paths, whose register is then
    // stored whole: no dynamic vector-component stores, which some shader compilers
    // (SwiftShader) handle very slowly).
    const count = (c.bk * d) / threads / 4;
    const decl: string[] = [];
    const load: string[] = [];
    const store: string[] = [];
    const S = x === 'A' ? 'As' : 'Bs';
    const off = `HALF * ${tile}u`;
    for (let l = 0; l < count; l++) {
      const reg = `r${x}${l}`;
      decl.push(`var ${reg} = vec4<f32>(0.0);`);
      // Group g of this thread's l-th load: its first row dl and its k, kl, in the tile.
      const g = `(tid + ${l * threads}u)`;
      let dl: string;
      let kl: string;
      if (lay.contig === 'inner' && lay.vec4) {
        dl = `(${g} / ${c.bk / 4}u)`;
        kl = `((${g} % ${c.bk / 4}u) * 4u)`;
      } else if (lay.contig === 'inner') {
        // k fastest across threads, so a warp's loads of one row are consecutive in memory.
        kl = `(${g} % ${c.bk}u)`;
        dl = `((${g} / ${c.bk}u) * 4u)`;
      } else {
        kl = `(${g} / ${d / 4}u)`;
        dl = `((${g} % ${d / 4}u) * 4u)`;
      }
      if (lay.vec4) {
        const idx = lay.contig === 'inner' ? `(${base} + dd * ${sd} + kk) / 4u` : `(${base} + kk * ${sk} + dd) / 4u`;
        load.push(`{ let dd = ${d0} + ${dl}; let kk = KK + ${kl};
      if (dd < ${ext} && kk < u.K) { ${reg} = ${x}[${idx}]; } else { ${reg} = vec4<f32>(0.0); } }`);
      } else {
        // Rows past the edge read the last row (always in bounds) and are replaced by 0.
        const parts = [0, 1, 2, 3].map(
          (j) => `select(0.0, ${x}[${base} + min(dd + ${j}u, ${ext} - 1u) * ${sd} + kk * ${sk}], dd + ${j}u < ${ext})`,
        );
        load.push(`{ let dd = ${d0} + ${dl}; let kk = KK + ${kl};
      if (kk < u.K && dd < ${ext}) { ${reg} = vec4<f32>(${parts.join(', ')}); } else { ${reg} = vec4<f32>(0.0); } }`);
      }
      if (lay.vec4 && lay.contig === 'inner') {
        for (let j = 0; j < 4; j++) {
          store.push(
            `{ let dl = ${dl}; ${S}[${off} + (${kl} + ${j}u) * ${d / 4}u + dl / 4u][dl % 4u] = ${st}(${reg}[${j}]); }`,
          );
        }
      } else {
        store.push(`${S}[${off} + ${kl} * ${d / 4}u + ${dl} / 4u] = vec4<${st}>(${reg});`);
      }
    }
    return {
      decl: decl.join('\n  '),
      load: (k0) => `{ let KK = ${k0};\n      ${load.join('\n      ')} }`,
      store: (half) => `{ let HALF = ${half};\n      ${store.join('\n      ')} }`,
    };
  };
  const la = loadStore('A', a, c.bm);
  const lb = loadStore('B', b, c.bn);

  L(`
@compute @workgroup_size(${wx}, ${wy}, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * ${wx}u + tx;
  let batch = wg.z;
  let m0 = wg.y * ${c.bm}u;
  let n0 = wg.x * ${c.bn}u;
  let aBase = u.aOff + batch * u.aBS;
  let bBase = u.bOff + batch * u.bBS;
  let numTiles = (u.K + ${c.bk - 1}u) / ${c.bk}u;
  ${la.decl}
  ${lb.decl}`);
  for (let r = 0; r < c.tm; r++) {
    for (let j = 0; j < cn; j++) L(`  var acc${r}_${j} = vec4<f32>(0.0);`);
  }
  L(`  if (numTiles > 0u) {
    ${la.load('0u')}
    ${lb.load('0u')}
    ${la.store('0u')}
    ${lb.store('0u')}
  }
  workgroupBarrier();
  for (var t = 0u; t < numTiles; t++) {
    let cur = t & 1u;
    let hasNext = t + 1u < numTiles;
    if (hasNext) {
      ${la.load(`(t + 1u) * ${c.bk}u`)}
      ${lb.load(`(t + 1u) * ${c.bk}u`)}
    }
    let aT = cur * ${aTile}u;
    let bT = cur * ${bTile}u;`);
  for (let kk = 0; kk < c.bk; kk++) {
    for (let i = 0; i < cm; i++)
      L(`    let a${i}_${kk} = vec4<f32>(As[aT + ${kk * (c.bm / 4) + i * (c.bm / 4 / cm)}u + ty]);`);
    for (let j = 0; j < cn; j++)
      L(`    let b${j}_${kk} = vec4<f32>(Bs[bT + ${kk * (c.bn / 4) + j * (c.bn / 4 / cn)}u + tx]);`);
    for (let i = 0; i < cm; i++) {
      for (let q = 0; q < 4; q++) {
        const r = i * 4 + q;
        for (let j = 0; j < cn; j++) {
          L(`    acc${r}_${j} = fma(vec4<f32>(a${i}_${kk}[${q}]), b${j}_${kk}, acc${r}_${j});`);
        }
      }
    }
  }
  L(`    if (hasNext) {
      ${la.store('1u - cur')}
      ${lb.store('1u - cur')}
    }
    workgroupBarrier();
  }`);

  // Epilogue: bias, then the stores (vec4 where N and the output offset allow).
  for (let j = 0; j < cn; j++) {
    L(`  let nc${j} = n0 + ${j * (c.bn / cn)}u + tx * 4u;`);
    if (bias) {
      L(`  var bias${j} = vec4<f32>(0.0);
  for (var q = 0u; q < 4u; q++) { if (nc${j} + q < u.N) { bias${j}[q] = BIAS[u.biasOff + (nc${j} + q) * u.biasS]; } }`);
    }
  }
  for (let i = 0; i < cm; i++) {
    for (let q = 0; q < 4; q++) {
      const r = i * 4 + q;
      L(`  { let m = m0 + ${i * (c.bm / cm) + q}u + ty * 4u;
    if (m < u.M) {
      let rowBase = u.outOff + (batch * u.M + m) * u.N;`);
      for (let j = 0; j < cn; j++) {
        const v = bias ? `acc${r}_${j} + bias${j}` : `acc${r}_${j}`;
        if (outVec4) {
          L(`      if (nc${j} < u.N) { O[(rowBase + nc${j}) / 4u] = ${v}; }`);
        } else {
          L(
            `      { let v = ${v}; for (var q = 0u; q < 4u; q++) { if (nc${j} + q < u.N) { O[rowBase + nc${j} + q] = v[q]; } } }`,
          );
        }
      }
      L(`    }
  }`);
    }
  }
  L('}');
  return lines.join('\n');
}

/** The most rows (per batch) for which {@link useSubgroupKernel} picks the subgroup kernel. */
export const SUBGROUP_MAX_M = 4;
/** Rows and columns of the subgroup kernel's workgroup. */
const SG_ROWS = 4;
const SG_COLS = 128;

/**
 * Whether a product takes the subgroup kernel: the device has subgroups and M is at most
 * {@link SUBGROUP_MAX_M} (a GEMV-like product).
 * @example useSubgroupKernel({ subgroups: true }, 1) // true
 */
export function useSubgroupKernel(ctx: Pick<KernelContext, 'subgroups'>, m: number): boolean {
  return ctx.subgroups && m <= SUBGROUP_MAX_M;
}

/** The WGSL of the subgroup kernel (see the module comment). */
function matmulSubgroupSource(bias: boolean): string {
  const rows = [0, 1, 2, 3].map((q) => `  let a${q} = aBase + min(m0 + ${q}u, u.M - 1u) * u.aSD;`).join('\n');
  const store = [0, 1, 2, 3]
    .map(
      (q) =>
        `    if (m0 + ${q}u < u.M) { O[u.outOff + (batch * u.M + m0 + ${q}u) * u.N + n] = acc[${q}]${bias ? ' + bv' : ''}; }`,
    )
    .join('\n');
  return `enable subgroups;
struct U {
  M: u32, N: u32, K: u32, aOff: u32,
  aBS: u32, aSD: u32, aSK: u32, bOff: u32,
  bBS: u32, bSK: u32, bSD: u32, biasOff: u32,
  biasS: u32, outOff: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
${
  bias
    ? `@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;`
    : '@group(0) @binding(3) var<storage, read_write> O: array<f32>;'
}

@compute @workgroup_size(${SG_COLS}, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_size) sz: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let batch = wg.z;
  let m0 = wg.y * ${SG_ROWS}u;
  let n = wg.x * ${SG_COLS}u + lid;
  let aBase = u.aOff + batch * u.aBS;
${rows}
  let bCol = u.bOff + batch * u.bBS + min(n, u.N - 1u) * u.bSD;
  var acc = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < u.K; k0 = k0 + sz) {
    let ka = min(k0 + lane, u.K - 1u) * u.aSK;
    let aFrag = vec4<f32>(A[a0 + ka], A[a1 + ka], A[a2 + ka], A[a3 + ka]);
    let kEnd = min(sz, u.K - k0);
    for (var j = 0u; j < kEnd; j = j + 1u) {
      acc = fma(subgroupShuffle(aFrag, j), vec4<f32>(B[bCol + (k0 + j) * u.bSK]), acc);
    }
  }
  if (n < u.N) {
${bias ? '    let bv = BIAS[u.biasOff + n * u.biasS];\n' : ''}${store}
  }
}
`;
}

const programCache = new Map<string, Program>();

function subgroupProgram(bias: boolean): Program {
  const key = `matmul_f32_sg_r${SG_ROWS}x${SG_COLS}${bias ? '_bias' : ''}`;
  let p = programCache.get(key);
  if (p === undefined) {
    p = { key, source: () => matmulSubgroupSource(bias), workgroupSize: [SG_COLS, 1, 1] };
    programCache.set(key, p);
  }
  return p;
}

function program(
  c: TileConfig,
  a: OperandLayout,
  b: OperandLayout,
  bias: boolean,
  outVec4: boolean,
  h16: boolean,
): Program {
  const lay = (x: OperandLayout): string => `${x.contig === 'inner' ? 'k' : 'd'}${x.vec4 ? '4' : '1'}`;
  const key = `matmul_f32_t${c.bm}x${c.bn}x${c.bk}_r${c.tm}x${c.tn}_a${lay(a)}_b${lay(b)}_o${outVec4 ? 4 : 1}${bias ? '_bias' : ''}${h16 ? '_h16' : ''}`;
  let p = programCache.get(key);
  if (p === undefined) {
    p = { key, source: () => matmulSource(c, a, b, bias, outVec4, h16), workgroupSize: [c.bn / c.tn, c.bm / c.tm, 1] };
    programCache.set(key, p);
  }
  return p;
}

/** Options for {@link matmulLaunches} beyond ops.ts's attributes (for tests and benchmarks). */
export interface MatmulTuning {
  /** Force a tile configuration by name instead of the shape heuristic (the tiled kernel). */
  readonly tile?: TileConfig['name'];
  /** Force the kernel instead of {@link useSubgroupKernel}'s rule; `'subgroup'` needs ctx.subgroups. */
  readonly kernel?: 'tiled' | 'subgroup';
}

/**
 * The launches of one `matmul` call: `out[b] = a[b] @ b[b] (+ bias)` over 3-D views, the
 * transpose layouts read from the strides, batch stride 0 allowed (ops.ts's MatmulAttrs).
 * An empty output gives no launch; K = 0 gives the bias (or zeros).
 *
 * @example
 * // a: [1, 256, 784] row-major, b: [1, 784, 64] given as w^T (strides [0, 1, 784]), bias [64]
 * const launches = matmulLaunches(ctx, out, [a, b, bias], {});
 * // one launch of `matmul_f32_t32x32x16_r4x4_ak4_bk4_o4_bias`, 2×8 workgroups
 */
export function matmulLaunches(
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  attrs: MatmulAttrs,
  tuning: MatmulTuning = {},
): Launch[] {
  const op = 'matmul';
  if (inputs.length !== 2 && inputs.length !== 3) {
    throw new ValueError(`${op}: wrong number of inputs; expected 2 or 3, got ${inputs.length}`);
  }
  const [a, b, bias] = inputs as readonly [GpuView, GpuView, GpuView | undefined];
  for (const [role, v] of [
    ['a', a],
    ['b', b],
    ['out', out],
    ['bias', bias],
  ] as const) {
    if (v !== undefined && v.dtype !== 'float32') {
      throw new DTypeError(`${op}: ${role} has a dtype WebGPU cannot multiply; expected float32, got ${v.dtype}`);
    }
  }
  if (a.shape.length !== 3 || b.shape.length !== 3 || out.shape.length !== 3) {
    throw new ShapeError(
      `${op}: views must be 3-D; expected [B,M,K] @ [B,K,N] -> [B,M,N], got ${fmt(a.shape)} @ ${fmt(b.shape)} -> ${fmt(out.shape)}`,
    );
  }
  const [ba, m, k] = a.shape as readonly [number, number, number];
  const [bb, kb, n] = b.shape as readonly [number, number, number];
  const batch = out.shape[0] as number;
  if (k !== kb) {
    throw new ShapeError(
      `${op}: inner dimensions differ; expected a[-1] == b[-2], got ${fmt(a.shape)} @ ${fmt(b.shape)}`,
    );
  }
  if ((ba !== batch && ba !== 1) || (bb !== batch && bb !== 1) || out.shape[1] !== m || out.shape[2] !== n) {
    throw new ShapeError(
      `${op}: out does not fit the inputs; expected [${batch},${m},${n}] with a[0], b[0] in {1, ${batch}}, got ${fmt(a.shape)} @ ${fmt(b.shape)} -> ${fmt(out.shape)}`,
    );
  }
  if ((out.strides[2] !== 1 && n > 1) || (out.strides[1] !== n && m > 1) || (out.strides[0] !== m * n && batch > 1)) {
    throw new ShapeError(`${op}: out must be contiguous; expected strides [${m * n},${n},1], got ${fmt(out.strides)}`);
  }
  if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
    throw new ShapeError(`${op}: bias has the wrong shape; expected [${n}], got ${fmt(bias.shape)}`);
  }
  if (batch === 0 || m === 0 || n === 0) return [];

  if (attrs.precision !== undefined && attrs.precision !== 'f16' && attrs.precision !== 'bf16') {
    throw new ValueError(`${op}: unknown precision; expected 'f16', 'bf16' or none, got ${String(attrs.precision)}`);
  }
  if (tuning.kernel === 'subgroup' && !ctx.subgroups) {
    throw new ValueError(`${op}: the subgroup kernel needs a device with subgroups; expected ctx.subgroups, got false`);
  }
  const sg =
    tuning.kernel === undefined ? tuning.tile === undefined && useSubgroupKernel(ctx, m) : tuning.kernel === 'subgroup';
  // f16 tiles hold the same bytes as f32 ones at twice the depth; products and sums stay f32.
  const h16 = attrs.precision === 'f16' && ctx.f16;
  const base =
    tuning.tile === undefined
      ? pickTileConfig(batch, m, n)
      : (MATMUL_TILE_CONFIGS.find((t) => t.name === tuning.tile) ?? SMALL);
  const c = h16 ? { ...base, bk: base.bk * 2 } : base;
  const grid: [number, number, number] = sg
    ? [ceilDiv(n, SG_COLS), ceilDiv(m, SG_ROWS), batch]
    : [ceilDiv(n, c.bn), ceilDiv(m, c.bm), batch];
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (grid.some((g) => g > maxDim)) {
    throw new BackendError(
      `${op}: too many workgroups for one dispatch; expected at most ${maxDim} per dimension, got ${fmt(grid)} for [${batch},${m},${n}]`,
    );
  }
  const aBS = ba === 1 ? 0 : (a.strides[0] as number);
  const bBS = bb === 1 ? 0 : (b.strides[0] as number);
  const aSD = a.strides[1] as number;
  const aSK = a.strides[2] as number;
  const bSK = b.strides[1] as number;
  const bSD = b.strides[2] as number;
  const aLay = operandLayout(aSD, aSK, m, k, a.offset, aBS);
  const bLay = operandLayout(bSD, bSK, n, k, b.offset, bBS);
  const outVec4 = n % 4 === 0 && out.offset % 4 === 0;

  const uniforms = new Uint32Array([
    m,
    n,
    k,
    a.offset,
    aBS,
    aSD,
    aSK,
    b.offset,
    bBS,
    bSK,
    bSD,
    bias?.offset ?? 0,
    bias?.strides[0] ?? 0,
    out.offset,
    0,
    0,
  ]);
  const buffers = [
    { buffer: a.buffer, readOnly: true },
    { buffer: b.buffer, readOnly: true },
    ...(bias === undefined ? [] : [{ buffer: bias.buffer, readOnly: true }]),
    { buffer: out.buffer, readOnly: false },
  ];
  const prog = sg ? subgroupProgram(bias !== undefined) : program(c, aLay, bLay, bias !== undefined, outVec4, h16);
  return [{ program: prog, buffers, uniforms, workgroups: grid }];
}
