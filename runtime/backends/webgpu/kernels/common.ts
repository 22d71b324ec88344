/**
 * @module webgpu/kernels/common — what the elementwise, reduce and indexing kernel files
 * share: the WGSL storage type of each dtype, 1-D dispatch over many workgroups, the
 * uniform block of 32-bit words, and IEEE helpers written with bit operations.
 *
 * Every buffer holds one 32-bit word per element: `f32` for float32, `i32` for int32 and
 * `u32` (0 or 1) for bool. WGSL lets an implementation assume no NaN or infinity in float
 * arithmetic, so the helpers below test NaN through the bit pattern and make infinities
 * with `bitcast`, never through comparisons a compiler may fold away.
 */
import type { DType } from '../../../dtype.ts';
import { DTypeError, ShapeError } from '../../../errors.ts';
import type { GpuView, Program } from '../program.ts';

/**
 * Threads per workgroup of every 1-D kernel in these files.
 * @example `@compute @workgroup_size(${WG})`
 */
export const WG = 256;

/**
 * The WGSL element type of a dtype's storage.
 * @example wgslType('bool') // 'u32'
 */
export function wgslType(dtype: DType): 'f32' | 'i32' | 'u32' {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
    default:
      throw new DTypeError(`webgpu: unsupported dtype; expected float32, int32 or bool, got ${dtype}`);
  }
}

/**
 * The short dtype suffix of program keys (`add_f32`, `sum_i32`, `where_bool`).
 * @example suffix('int32') // 'i32'
 */
export function suffix(dtype: DType): string {
  return dtype === 'bool' ? 'bool' : wgslType(dtype);
}

/**
 * Workgroup counts for `n` threads of `WG` each, as (x, y, 1) with x at most `maxPerDim`:
 * a kernel computes its flat index with {@link FLAT_INDEX}.
 * @example dispatch1D(1 << 25, 65535) // [65535, 3, 1]
 */
export function dispatch1D(n: number, maxPerDim: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) {
    throw new ShapeError(
      `webgpu: too many threads for one dispatch; expected at most ${maxPerDim * maxPerDim * WG}, got ${n}`,
    );
  }
  return [Math.ceil(groups / y), y, 1];
}

/**
 * The entry point's parameters of a 1-D kernel.
 * @example `fn main(${MAIN_PARAMS}) { let i = ${FLAT_INDEX}; ... }`
 */
export const MAIN_PARAMS =
  '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32';

/**
 * The flat thread index over a {@link dispatch1D} grid (uses {@link MAIN_PARAMS}' names).
 * @example `let i = ${FLAT_INDEX}; if (i >= n) { return; }`
 */
export const FLAT_INDEX = `(wid.y * nwg.x + wid.x) * ${WG}u + lid`;

/**
 * A uniform block of `words` 32-bit words, read with {@link uw}: WGSL uniform arrays have
 * a 16-byte element stride, so the words are packed in `vec4<u32>`s.
 * @example uniformDecl(9) // 'struct U { w: array<vec4<u32>, 3> }\n@group(0) @binding(0) var<uniform> u: U;'
 */
export function uniformDecl(words: number): string {
  return `struct U { w: array<vec4<u32>, ${Math.max(1, Math.ceil(words / 4))}> }\n@group(0) @binding(0) var<uniform> u: U;`;
}

/**
 * The WGSL expression reading uniform word `i` (a constant index) as u32.
 * @example uw(5) // 'u.w[1].y'
 */
export function uw(i: number): string {
  return `u.w[${i >> 2}].${'xyzw'[i & 3] ?? 'x'}`;
}

/**
 * Words padded to whole `vec4`s, as a launch's `uniforms`.
 * @example uniformWords([7, 1, 2]) // Uint32Array [7, 1, 2, 0]
 */
export function uniformWords(words: readonly number[]): Uint32Array {
  const out = new Uint32Array(Math.max(4, Math.ceil(words.length / 4) * 4));
  for (let i = 0; i < words.length; i++) out[i] = (words[i] ?? 0) >>> 0;
  return out;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * The bit pattern of `v` rounded to float32, for a uniform word.
 * @example f32Bits(1) // 0x3f800000
 */
export function f32Bits(v: number): number {
  F32[0] = v;
  return U32[0] ?? 0;
}

/**
 * IEEE helpers on f32 through bit patterns (WGSL may assume finite math otherwise). NaN and
 * infinity come from a runtime zero (`NONFINITE_ZERO`, a private variable), because a WGSL
 * const-expression that evaluates to NaN or infinity is a shader-creation error (Tint
 * rejects `bitcast<f32>(0x7fc00000u)`).
 * @example `${F32_HELPERS}\nfn f(a: f32) -> f32 { if (is_nan(a)) { return a; } return max(a, 0.0); }`
 */
export const F32_HELPERS = /* wgsl */ `
var<private> NONFINITE_ZERO: u32;
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn nan_f32() -> f32 { return bitcast<f32>(0x7fc00000u | NONFINITE_ZERO); }
fn inf_f32() -> f32 { return bitcast<f32>(0x7f800000u | NONFINITE_ZERO); }
fn neg_f32(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ 0x80000000u); }
fn abs_f32(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu); }
fn copysign_f32(m: f32, s: f32) -> f32 { return bitcast<f32>((bitcast<u32>(m) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u)); }
`;

/**
 * Elementwise dims collapsed: size-1 dims dropped and neighbouring dims merged where every
 * operand is contiguous across them (as wasm.ts's descriptor), outermost first.
 * Returns null for an empty shape (nothing to do).
 * @example collapse([2, 3], [[3, 1], [3, 1]]) // { shape: [6], strides: [[1], [1]] }
 */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } | null {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  // Innermost first while building, reversed at the end.
  for (let i = shape.length - 1; i >= 0; i--) {
    const n = shape[i] ?? 1;
    if (n === 0) return null;
    if (n === 1) continue;
    const r = outShape.length;
    let merge = r > 0;
    if (merge) {
      for (let k = 0; k < strides.length; k++) {
        const s = outStrides[k] as number[];
        if ((strides[k]?.[i] ?? 0) !== (s[r - 1] ?? 0) * (outShape[r - 1] ?? 1)) {
          merge = false;
          break;
        }
      }
    }
    if (merge) {
      outShape[r - 1] = (outShape[r - 1] ?? 1) * n;
      continue;
    }
    outShape.push(n);
    for (let k = 0; k < strides.length; k++) (outStrides[k] as number[]).push(strides[k]?.[i] ?? 0);
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape.reverse(), strides: outStrides.map((s) => s.reverse()) };
}

/**
 * WGSL statements that turn the flat index `i` (row-major over a shape in uniform words
 * `shapeAt..shapeAt+rank`) into element offsets `o0..o{k}` of each operand, whose offset
 * and strides sit at `operandAt[k]` (offset) and `operandAt[k]+1..` (strides). Unrolled
 * for the rank; u32 arithmetic wraps, so negative strides (as i32 bit patterns) work.
 * @example offsetsCode(1, 4, [5, 7]) // 'var o0: u32 = u.w[1].y;\n  var o1: u32 = u.w[1].w;\n  o0 = o0 + i * u.w[1].z; ...'
 */
export function offsetsCode(rank: number, shapeAt: number, operandAt: readonly number[]): string {
  const lines: string[] = [];
  operandAt.forEach((at, k) => lines.push(`var o${k}: u32 = ${uw(at)};`));
  if (rank === 1) {
    operandAt.forEach((at, k) => lines.push(`o${k} = o${k} + i * ${uw(at + 1)};`));
    return lines.join('\n  ');
  }
  lines.push('var rem: u32 = i;');
  for (let d = rank - 1; d >= 0; d--) {
    if (d > 0) {
      lines.push(`{ let n = ${uw(shapeAt + d)}; let c = rem % n; rem = rem / n;`);
    } else {
      lines.push('{ let c = rem;');
    }
    operandAt.forEach((at, k) => lines.push(`  o${k} = o${k} + c * ${uw(at + 1 + d)};`));
    lines.push('}');
  }
  return lines.join('\n  ');
}

/**
 * Row-major contiguous strides.
 * @example contiguousStrides([2, 3, 4]) // [12, 4, 1]
 */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] ?? 1;
  }
  return s;
}

/**
 * The element count of a shape.
 * @example numel([2, 0, 3]) // 0
 */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/**
 * True when a view is row-major contiguous (size-1 dims may have any stride).
 * @example isContiguous({ shape: [2, 1, 3], strides: [3, 99, 1] }) // true
 */
export function isContiguous(v: Pick<GpuView, 'shape' | 'strides'>): boolean {
  let acc = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    const n = v.shape[i] ?? 1;
    if (n !== 1 && v.strides[i] !== acc) return false;
    acc *= n;
  }
  return true;
}

/**
 * A shape or stride list as error messages write it.
 * @example fmt([2, 3]) // '[2,3]'
 */
export function fmt(xs: readonly number[]): string {
  return `[${xs.join(',')}]`;
}

/**
 * The one descriptor of `key` in `cache` (a kernel file's own map), made on first use with a
 * 1-D workgroup of {@link WG}; the source closure runs only on the backend's pipeline-cache miss.
 * @example const p = cachedProgram(programs, 'relu_f32_r1', () => source);
 */
export function cachedProgram(cache: Map<string, Program>, key: string, source: () => string): Program {
  let p = cache.get(key);
  if (p === undefined) {
    p = { key, source, workgroupSize: [WG, 1, 1] };
    cache.set(key, p);
  }
  return p;
}
