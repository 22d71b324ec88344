/**
 * @module webgpu/kernels/conv — `im2col` (torch's unfold, with a pad value) and its adjoint
 * `col2im` (torch's fold) as WGSL kernels; a convolution is then one `matmul` over the
 * columns (runtime/ops.ts's {@link Im2colAttrs} geometry).
 *
 * `im2col` runs one invocation per column element, which gathers one image element or the
 * pad value: the writes are consecutive along the output width, so they coalesce.
 *
 * `col2im` is deterministic without atomics: it runs one invocation per image element,
 * which gathers the column elements that `im2col` read from it. For a fixed pixel
 * `(ih, iw)` and kernel offset `(ki, kj)` there is at most one window `(oh, ow)` with
 * `ih = oh·strideH − padH + ki·dilationH` (and likewise for w), so walking `ki`, then `kj`,
 * in increasing order visits the contributions in increasing column row `c·kH·kW + ki·kW
 * + kj`, which is the input's row-major order that ops.ts fixes for the sum. The sum is in
 * float32 (the reference's is in float64, rounded once; the `sum` tolerance covers it).
 *
 * Both dispatch a 1-D range of 256-wide workgroups folded onto x and y, so outputs beyond
 * `maxComputeWorkgroupsPerDimension · 256` elements still fit one launch.
 */
import type { Im2colAttrs, OpAttrs } from '../../../ops.ts';
import { DTypeError, ShapeError, ValueError } from '../../../errors.ts';
import { WG, dispatch1D, fmt, isContiguous, numel } from './common.ts';
import type { GpuView, KernelContext, Launch, Program } from '../program.ts';

/** The checks shared by both ops (as the reference's), then the uniform words of the geometry. */
function geometry(
  op: 'im2col' | 'col2im',
  image: GpuView,
  cols: GpuView,
  a: Im2colAttrs,
  padValue: number,
): Uint32Array {
  for (const k of ['kernelH', 'kernelW', 'strideH', 'strideW', 'dilationH', 'dilationW', 'padH', 'padW'] as const) {
    const v: unknown = (a as unknown as Record<string, unknown>)[k];
    const min = k.startsWith('pad') ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new ValueError(
        `${op}: attribute ${k} must be an integer >= ${min}; expected e.g. ${min + 1}, got ${String(v)}`,
      );
    }
  }
  for (const [role, v] of [
    ['image', image],
    ['columns', cols],
  ] as const) {
    if (v.dtype !== 'float32')
      throw new DTypeError(`${op}: ${role} has a dtype WebGPU lacks for this op; expected float32, got ${v.dtype}`);
    if (!isContiguous(v))
      throw new ShapeError(
        `${op}: ${role} must be contiguous; expected row-major strides, got ${fmt(v.strides)} for shape ${fmt(v.shape)}`,
      );
  }
  if (image.shape.length !== 4) {
    throw new ShapeError(`${op}: image must be 4-D; expected [N,C,H,W], got ${fmt(image.shape)}`);
  }
  const [n, c, h, w] = image.shape as readonly [number, number, number, number];
  if (cols.shape.length !== 4 || cols.shape[0] !== n || cols.shape[1] !== c * a.kernelH * a.kernelW) {
    throw new ShapeError(
      `${op}: columns have the wrong shape; expected [${n},${c * a.kernelH * a.kernelW},oH,oW], got ${fmt(cols.shape)}`,
    );
  }
  const words = new Uint32Array(20);
  words.set([
    n * c,
    h,
    w,
    cols.shape[2] as number,
    cols.shape[3] as number,
    a.kernelH,
    a.kernelW,
    a.strideH,
    a.strideW,
    a.padH,
    a.padW,
    a.dilationH,
    a.dilationW,
    image.offset,
    cols.offset,
    0,
  ]);
  new Float32Array(words.buffer).set([padValue], 15);
  return words;
}

const UNIFORM_STRUCT = `struct U {
  planes: u32, H: i32, W: i32, oH: i32,
  oW: i32, kH: i32, kW: i32, sH: i32,
  sW: i32, pH: i32, pW: i32, dH: i32,
  dW: i32, imgOff: u32, colOff: u32, padValue: f32,
  total: u32, _p0: u32, _p1: u32, _p2: u32,
}
@group(0) @binding(0) var<uniform> u: U;`;

const IM2COL: Program = {
  key: 'im2col_f32',
  workgroupSize: [WG, 1, 1],
  source: () => `${UNIFORM_STRUCT}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * ${WG}u + lid.x;
  if (i >= u.total) { return; }
  // i = (((plane·kH + ki)·kW + kj)·oH + oh)·oW + ow
  var t = i;
  let ow = i32(t % u32(u.oW)); t = t / u32(u.oW);
  let oh = i32(t % u32(u.oH)); t = t / u32(u.oH);
  let kj = i32(t % u32(u.kW)); t = t / u32(u.kW);
  let ki = i32(t % u32(u.kH));
  let plane = t / u32(u.kH);
  let ih = oh * u.sH - u.pH + ki * u.dH;
  let iw = ow * u.sW - u.pW + kj * u.dW;
  var v = u.padValue;
  if (ih >= 0 && ih < u.H && iw >= 0 && iw < u.W) {
    v = X[u.imgOff + (plane * u32(u.H) + u32(ih)) * u32(u.W) + u32(iw)];
  }
  O[u.colOff + i] = v;
}`,
};

const COL2IM: Program = {
  key: 'col2im_f32',
  workgroupSize: [WG, 1, 1],
  source: () => `${UNIFORM_STRUCT}
@group(0) @binding(1) var<storage, read> C: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * ${WG}u + lid.x;
  if (i >= u.total) { return; }
  // i = (plane·H + ih)·W + iw
  let iw = i32(i % u32(u.W));
  let ih = i32((i / u32(u.W)) % u32(u.H));
  let plane = i / u32(u.W * u.H);
  var acc = 0.0;
  // Increasing (ki, kj) is increasing column row: the input's row-major order.
  for (var ki = 0; ki < u.kH; ki++) {
    let y = ih + u.pH - ki * u.dH;
    if (y < 0 || y % u.sH != 0) { continue; }
    let oh = y / u.sH;
    if (oh >= u.oH) { continue; }
    for (var kj = 0; kj < u.kW; kj++) {
      let x = iw + u.pW - kj * u.dW;
      if (x < 0 || x % u.sW != 0) { continue; }
      let ow = x / u.sW;
      if (ow >= u.oW) { continue; }
      let row = (plane * u32(u.kH) + u32(ki)) * u32(u.kW) + u32(kj);
      acc = acc + C[u.colOff + (row * u32(u.oH) + u32(oh)) * u32(u.oW) + u32(ow)];
    }
  }
  O[u.imgOff + i] = acc;
}`,
};

/**
 * The launch of one `im2col` call: image `[N, C, H, W]` → columns `[N, C·kH·kW, oH, oW]`,
 * the pad value where a window leaves the image.
 *
 * @example
 * // 3×3 same-padding windows of a [2, 1, 28, 28] image: out [2, 9, 28, 28]
 * im2colLaunches(ctx, out, [x], { kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
 *   padH: 1, padW: 1, dilationH: 1, dilationW: 1, padValue: 0 });
 */
export function im2colLaunches(
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  attrs: OpAttrs['im2col'],
): Launch[] {
  const op = 'im2col';
  if (inputs.length !== 1) throw new ValueError(`${op}: wrong number of inputs; expected 1, got ${inputs.length}`);
  if (typeof attrs.padValue !== 'number') {
    throw new ValueError(`${op}: attribute padValue is missing; expected a number, got ${String(attrs.padValue)}`);
  }
  const x = inputs[0] as GpuView;
  const uniforms = geometry(op, x, out, attrs, attrs.padValue);
  const total = numel(out.shape);
  if (total === 0) return [];
  uniforms[16] = total;
  return [
    {
      program: IM2COL,
      buffers: [
        { buffer: x.buffer, readOnly: true },
        { buffer: out.buffer, readOnly: false },
      ],
      uniforms,
      workgroups: dispatch1D(total, ctx.limits.maxComputeWorkgroupsPerDimension),
    },
  ];
}

/**
 * The launch of one `col2im` call: columns `[N, C·kH·kW, oH, oW]` → image `[N, C, H, W]`
 * (out's shape gives the image size), each image element the sum of the column elements
 * read from it, in the columns' row-major order.
 *
 * @example
 * // the adjoint of the im2col example: cols [2, 9, 28, 28] → out [2, 1, 28, 28]
 * col2imLaunches(ctx, out, [cols], { kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
 *   padH: 1, padW: 1, dilationH: 1, dilationW: 1 });
 */
export function col2imLaunches(
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  attrs: OpAttrs['col2im'],
): Launch[] {
  const op = 'col2im';
  if (inputs.length !== 1) throw new ValueError(`${op}: wrong number of inputs; expected 1, got ${inputs.length}`);
  const cols = inputs[0] as GpuView;
  const uniforms = geometry(op, out, cols, attrs, 0);
  const total = numel(out.shape);
  if (total === 0) return [];
  uniforms[16] = total;
  return [
    {
      program: COL2IM,
      buffers: [
        { buffer: cols.buffer, readOnly: true },
        { buffer: out.buffer, readOnly: false },
      ],
      uniforms,
      workgroups: dispatch1D(total, ctx.limits.maxComputeWorkgroupsPerDimension),
    },
  ];
}
