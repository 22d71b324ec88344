/**
 * @module tensor/conv — 2-D convolution and pooling, as torch.nn.functional's conv2d, max_pool2d,
 * avg_pool2d, adaptive_avg_pool2d, unfold and fold.
 *
 * Two primitives carry them: `im2col` (unfold, with a pad value) and its adjoint `col2im`
 * (fold); each is the other's gradient rule. Everything else is composed:
 * - conv2d = im2col, then per group `weight [Cout/g, Cin/g·kH·kW] @ cols [N, Cin/g·kH·kW, L]`
 *   (one batched matmul, the weight broadcast with batch stride 0), plus the bias;
 * - max pooling = im2col with −∞ padding, then `max` over the window axis (its gradient
 *   scatters to the first maximum, as torch's max_pool2d_with_indices_backward);
 * - average pooling = im2col with zero padding, `sum` over the window axis, then a
 *   division by torch's per-window divisor;
 * - adaptive average pooling = average pooling when the sizes divide, else a mean over
 *   torch's windows `[⌊i·H/oH⌋, ⌈(i+1)·H/oH⌉)` per output row, then per output column.
 */
import { checkDType } from '../dtype.ts';
import { DTypeError, ShapeError, ValueError } from '../errors.ts';
import { cat } from './indexing.ts';
import { matmul } from './linalg.ts';
import type { Im2colAttrs } from '../ops.ts';
import { shapeString } from '../shape.ts';
import { Tensor, arrayFrom, record, runOp, sameBackend } from './tensor.ts';
import { traceOp } from './trace.ts';

/** An int or an (h, w) pair, as torch's `_pair` arguments. */
export type Size2 = number | readonly [number, number];

const FLOATS = ['float32', 'float64'] as const;

/** `[h, w]` from a `Size2`. */
function pair(v: Size2): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function checkPair(op: string, name: string, v: [number, number], min: number): void {
  if (!v.every((x) => Number.isInteger(x) && x >= min)) {
    throw new ValueError(
      `${op}: ${name} must be integers >= ${min}; expected e.g. ${min + 1} or [${min + 1}, ${min + 1}], got [${v.join(', ')}]`,
    );
  }
}

/**
 * Runs `im2col` on `x` `[N, C, H, W]` into `[N, C·kH·kW, oH, oW]`, recording `col2im` as its
 * gradient (padding elements are constants and get none).
 */
function im2colT(x: Tensor, g: Im2colAttrs, oh: number, ow: number, padValue: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const xc = x.contiguous();
  const out = runOp('im2col', x.backend, x.dtype, [n, c * g.kernelH * g.kernelW, oh, ow], [xc.view_()], {
    ...g,
    padValue,
  });
  return record(out, 'Im2col', [x], (grad) => [col2imT(grad, g, [n, c, h, w])]);
}

/** Runs `col2im` on `cols` `[N, C·kH·kW, oH, oW]` into `image` `[N, C, H, W]`, recording `im2col` as its gradient. */
function col2imT(cols: Tensor, g: Im2colAttrs, image: readonly [number, number, number, number]): Tensor {
  const cc = cols.contiguous();
  const out = runOp('col2im', cols.backend, cols.dtype, image, [cc.view_()], g);
  const oh = cols.shape[2]!;
  const ow = cols.shape[3]!;
  return record(out, 'Col2im', [cols], (grad) => [im2colT(grad, g, oh, ow, 0)]);
}

/** torch's conv output size: ⌊(size + 2·pad − dilation·(k − 1) − 1) / stride⌋ + 1. */
function convOut(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/**
 * torch's pooling_output_shape: the floor formula, or with ceil mode one more window
 * when it would start inside the image or the left padding.
 */
function poolOut(size: number, k: number, s: number, p: number, d: number, ceilMode: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((span + (ceilMode ? s - 1 : 0)) / s) + 1;
  if (ceilMode && (out - 1) * s >= size + p) out--;
  return out;
}

/** `x` as 4-D: a 3-D `[C, H, W]` input gains a batch dim, as torch's unbatched inputs. */
function batched(owner: string, x: Tensor, what: string): { x4: Tensor; unbatched: boolean } {
  if (x.dim() === 4) return { x4: x, unbatched: false };
  if (x.dim() === 3) return { x4: x.unsqueeze(0), unbatched: true };
  throw new ShapeError(`${owner}: wrong input rank; expected input ${what}, got ${shapeString(x.shape)}`);
}

/** Options of `conv2d` (torch's defaults). */
export interface Conv2dOptions {
  /** Window step (default 1). */
  readonly stride?: Size2;
  /** Zero padding on each side (default 0), or `'same'` (stride 1 only) or `'valid'` (0). */
  readonly padding?: Size2 | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  readonly dilation?: Size2;
  /** Channel groups: input and output channels split into this many independent convolutions (default 1). */
  readonly groups?: number;
}

/**
 * 2-D convolution (cross-correlation), as torch.nn.functional.conv2d: x `[N, Cin, H, W]`
 * (or `[Cin, H, W]`), weight `[Cout, Cin/groups, kH, kW]`, bias `[Cout]` → `[N, Cout, oH, oW]`.
 * `owner` names the caller in error messages (the Conv2d module passes its name).
 * @example conv2d(randn([8, 1, 28, 28]), randn([32, 1, 3, 3]), zeros([32])).shape // [8, 32, 26, 26]
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv2dOptions = {},
  owner = 'conv2d',
): Tensor {
  sameBackend(owner, bias === null ? [x, weight] : [x, weight, bias]);
  checkDType(owner, x.dtype, FLOATS);
  if (weight.dtype !== x.dtype || (bias !== null && bias.dtype !== x.dtype)) {
    throw new DTypeError(
      `${owner}: input, weight and bias dtypes differ; expected all ${x.dtype}, got weight ${weight.dtype}${bias === null ? '' : ` and bias ${bias.dtype}`}`,
    );
  }
  if (weight.dim() !== 4) {
    throw new ShapeError(
      `${owner}: weight must be 4-D; expected [Cout, Cin/groups, kH, kW], got ${shapeString(weight.shape)}`,
    );
  }
  const [cout, cinG, kh, kw] = weight.shape as [number, number, number, number];
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || cout % groups !== 0) {
    throw new ValueError(
      `${owner}: groups must be a positive integer dividing the output channels; expected a divisor of ${cout}, got ${groups}`,
    );
  }
  const cin = cinG * groups;
  const { x4, unbatched } = batched(owner, x, `[N, ${cin}, H, W] or [${cin}, H, W]`);
  const [n, c, h, w] = x4.shape as [number, number, number, number];
  if (c !== cin) {
    throw new ShapeError(
      `${owner}: wrong number of input channels; expected input [N, ${cin}, H, W] (weight ${shapeString(weight.shape)}, groups ${groups}), got ${shapeString(x.shape)}`,
    );
  }
  if (bias !== null && (bias.dim() !== 1 || bias.shape[0] !== cout)) {
    throw new ShapeError(
      `${owner}: bias must have one value per output channel; expected [${cout}], got ${shapeString(bias.shape)}`,
    );
  }
  const stride = pair(options.stride ?? 1);
  const dilation = pair(options.dilation ?? 1);
  checkPair(owner, 'stride', stride, 1);
  checkPair(owner, 'dilation', dilation, 1);
  const padOpt = options.padding ?? 0;
  let pad: [number, number];
  let outH: number;
  let outW: number;
  if (padOpt === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new ValueError(
        `${owner}: padding='same' is not supported for strided convolutions; expected stride 1, got [${stride.join(', ')}]`,
      );
    }
    // torch pads ⌊total/2⌋ before and the rest after; with out = in windows the extra
    // trailing element falls outside the image and reads the zero padding.
    pad = [Math.floor((dilation[0] * (kh - 1)) / 2), Math.floor((dilation[1] * (kw - 1)) / 2)];
    outH = h;
    outW = w;
  } else {
    pad = padOpt === 'valid' ? [0, 0] : pair(padOpt);
    checkPair(owner, 'padding', pad, 0);
    outH = convOut(h, kh, stride[0], pad[0], dilation[0]);
    outW = convOut(w, kw, stride[1], pad[1], dilation[1]);
  }
  if (outH <= 0 || outW <= 0) {
    throw new ShapeError(
      `${owner}: input is smaller than the (dilated) kernel; expected a padded input of at least [${dilation[0] * (kh - 1) + 1}, ${dilation[1] * (kw - 1) + 1}], got [${h + 2 * pad[0]}, ${w + 2 * pad[1]}]`,
    );
  }
  const g: Im2colAttrs = {
    kernelH: kh,
    kernelW: kw,
    strideH: stride[0],
    strideW: stride[1],
    padH: pad[0],
    padW: pad[1],
    dilationH: dilation[0],
    dilationW: dilation[1],
  };
  const L = outH * outW;
  const kk = kh * kw;
  const cols = im2colT(x4, g, outH, outW, 0).view([n, cin * kk, L]);
  const w2 = weight.reshape([cout, cinG * kk]);
  let y: Tensor;
  if (groups === 1) {
    y = matmul(w2, cols);
  } else {
    const coutG = cout / groups;
    const parts: Tensor[] = [];
    for (let gi = 0; gi < groups; gi++) {
      parts.push(matmul(w2.narrow(0, gi * coutG, coutG), cols.narrow(1, gi * cinG * kk, cinG * kk)));
    }
    y = cat(parts, 1);
  }
  // The bias runs along the rows of weight @ cols (torch's unfold layout puts the L
  // positions innermost), so it is a broadcast add rather than matmul's fused column bias.
  if (bias !== null) y = y.add(bias.view([1, cout, 1]));
  const out = y.view([n, cout, outH, outW]);
  // ONNX's pads are [top, left, bottom, right]; torch's 'same' puts an odd total's extra element at the end.
  const end = [
    endPad(outH, kh, stride[0], dilation[0], h, pad[0]),
    endPad(outW, kw, stride[1], dilation[1], w, pad[1]),
  ];
  return traceOp('conv2d', unbatched ? out.squeeze(0) : out, [x, weight, bias], {
    kernel: [kh, kw],
    stride,
    pads: [pad[0], pad[1], end[0], end[1]],
    dilation,
    groups,
  });
}

/** The trailing padding the last window reads past `size` (given `begin` in front), as an explicit-pads exporter needs it. */
function endPad(out: number, k: number, s: number, d: number, size: number, begin: number): number {
  return Math.max(0, (out - 1) * s + d * (k - 1) + 1 - size - begin);
}

/** Options of `maxPool2d` (torch's defaults). */
export interface MaxPool2dOptions {
  /** Window step (default: the kernel size). */
  readonly stride?: Size2 | null;
  /** −∞ padding on each side, at most half the kernel (default 0). */
  readonly padding?: Size2;
  /** Spacing between window elements (default 1). */
  readonly dilation?: Size2;
  /** Count windows with ⌈⌉ instead of ⌊⌋ (default false); a window must start inside the image or the left padding. */
  readonly ceilMode?: boolean;
}

/** The window geometry shared by the pools, validated as torch's pool2d shape checks. */
function poolGeometry(
  owner: string,
  x4: Tensor,
  kernelSize: Size2,
  o: { stride?: Size2 | null; padding?: Size2; dilation?: Size2; ceilMode?: boolean },
): { g: Im2colAttrs; oh: number; ow: number } {
  const k = pair(kernelSize);
  const s = o.stride === undefined || o.stride === null ? k : pair(o.stride);
  const p = pair(o.padding ?? 0);
  const d = pair(o.dilation ?? 1);
  checkPair(owner, 'kernel size', k, 1);
  checkPair(owner, 'stride', s, 1);
  checkPair(owner, 'padding', p, 0);
  checkPair(owner, 'dilation', d, 1);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) {
    throw new ValueError(
      `${owner}: pad should be at most half of kernel size; expected padding <= [${k[0] / 2}, ${k[1] / 2}], got [${p.join(', ')}]`,
    );
  }
  const [, , h, w] = x4.shape as [number, number, number, number];
  const ceil = o.ceilMode ?? false;
  const oh = poolOut(h, k[0], s[0], p[0], d[0], ceil);
  const ow = poolOut(w, k[1], s[1], p[1], d[1], ceil);
  if (oh <= 0 || ow <= 0) {
    throw new ShapeError(
      `${owner}: output size is too small; expected a padded input of at least [${d[0] * (k[0] - 1) + 1}, ${d[1] * (k[1] - 1) + 1}], got input ${shapeString(x4.shape)} with padding [${p.join(', ')}]`,
    );
  }
  const g: Im2colAttrs = {
    kernelH: k[0],
    kernelW: k[1],
    strideH: s[0],
    strideW: s[1],
    padH: p[0],
    padW: p[1],
    dilationH: d[0],
    dilationW: d[1],
  };
  return { g, oh, ow };
}

/** A pool's window as traced: kernel, stride, pads `[top, left, bottom, right]`, dilation. */
function poolAttrs(g: Im2colAttrs): { kernel: number[]; stride: number[]; pads: number[]; dilation: number[] } {
  return {
    kernel: [g.kernelH, g.kernelW],
    stride: [g.strideH, g.strideW],
    pads: [g.padH, g.padW, g.padH, g.padW],
    dilation: [g.dilationH, g.dilationW],
  };
}

/** `x` `[N, C, H, W]` as `[N·C, 1, H, W]`: pooling treats every channel as its own image. */
function planes(x4: Tensor): Tensor {
  const [n, c, h, w] = x4.shape as [number, number, number, number];
  return x4.reshape([n * c, 1, h, w]);
}

/**
 * Max over sliding windows, as torch.nn.functional.max_pool2d (NaN propagates; the
 * gradient goes to the first maximum of each window). x `[N, C, H, W]` or `[C, H, W]`.
 * @example maxPool2d(randn([8, 32, 26, 26]), 2).shape // [8, 32, 13, 13]
 */
export function maxPool2d(x: Tensor, kernelSize: Size2, options: MaxPool2dOptions = {}, owner = 'maxPool2d'): Tensor {
  checkDType(owner, x.dtype, FLOATS);
  const { x4, unbatched } = batched(owner, x, '[N, C, H, W] or [C, H, W]');
  const [n, c] = x4.shape as [number, number];
  const { g, oh, ow } = poolGeometry(owner, x4, kernelSize, options);
  const cols = im2colT(planes(x4), g, oh, ow, -Infinity);
  const out = cols.max(1).values.view([n, c, oh, ow]);
  return traceOp('max_pool2d', unbatched ? out.squeeze(0) : out, [x], {
    ...poolAttrs(g),
    ceilMode: options.ceilMode ?? false,
  });
}

/** Options of `avgPool2d` (torch's defaults). */
export interface AvgPool2dOptions {
  /** Window step (default: the kernel size). */
  readonly stride?: Size2 | null;
  /** Zero padding on each side, at most half the kernel (default 0). */
  readonly padding?: Size2;
  /** Count windows with ⌈⌉ instead of ⌊⌋ (default false). */
  readonly ceilMode?: boolean;
  /** Count the zero padding in each window's divisor (default true). */
  readonly countIncludePad?: boolean;
  /** Divide every window's sum by this instead (default none). */
  readonly divisorOverride?: number | null;
}

/**
 * The divisor of each output position, as torch's avg_pool2d kernel: the window clipped to
 * the padded image (countIncludePad), or to the image itself, or the override.
 */
function avgDivisors(g: Im2colAttrs, h: number, w: number, oh: number, ow: number, o: AvgPool2dOptions): number[] {
  const out: number[] = [];
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let hs = y * g.strideH - g.padH;
      let ws = x * g.strideW - g.padW;
      let he = Math.min(hs + g.kernelH, h + g.padH);
      let we = Math.min(ws + g.kernelW, w + g.padW);
      const poolSize = (he - hs) * (we - ws);
      hs = Math.max(hs, 0);
      ws = Math.max(ws, 0);
      he = Math.min(he, h);
      we = Math.min(we, w);
      const override = o.divisorOverride ?? null;
      out.push(override !== null ? override : (o.countIncludePad ?? true) ? poolSize : (he - hs) * (we - ws));
    }
  }
  return out;
}

/**
 * Mean over sliding windows, as torch.nn.functional.avg_pool2d: each window's sum divided
 * by torch's divisor (see `AvgPool2dOptions`). x `[N, C, H, W]` or `[C, H, W]`.
 * @example avgPool2d(randn([8, 3, 32, 32]), 2).shape // [8, 3, 16, 16]
 */
export function avgPool2d(x: Tensor, kernelSize: Size2, options: AvgPool2dOptions = {}, owner = 'avgPool2d'): Tensor {
  checkDType(owner, x.dtype, FLOATS);
  const { x4, unbatched } = batched(owner, x, '[N, C, H, W] or [C, H, W]');
  const [n, c, h, w] = x4.shape as [number, number, number, number];
  const { g, oh, ow } = poolGeometry(owner, x4, kernelSize, { ...options, dilation: 1 });
  const override = options.divisorOverride ?? null;
  if (override !== null && (!Number.isInteger(override) || override === 0)) {
    throw new ValueError(`${owner}: divisor must be not zero; expected a non-zero integer, got ${override}`);
  }
  const divisor = Tensor.fromArray(
    x.backend,
    x.dtype,
    [oh, ow],
    arrayFrom(x.dtype, avgDivisors(g, h, w, oh, ow, options)),
  );
  const sums = im2colT(planes(x4), g, oh, ow, 0).sum(1);
  const out = sums.div(divisor).view([n, c, oh, ow]);
  return traceOp('avg_pool2d', unbatched ? out.squeeze(0) : out, [x], {
    ...poolAttrs(g),
    ceilMode: options.ceilMode ?? false,
    countIncludePad: options.countIncludePad ?? true,
    divisorOverride: override,
  });
}

/** An adaptive pool's target size: an int, or `[h, w]` where null keeps the input's size. */
export type AdaptiveSize = number | readonly [number | null, number | null];

/** Means over torch's adaptive windows along `dim` (of size `size`), into `outSize` entries. */
function adaptiveMean(x: Tensor, dim: number, size: number, outSize: number): Tensor {
  if (outSize === size) return x;
  const parts: Tensor[] = [];
  for (let i = 0; i < outSize; i++) {
    const start = Math.floor((i * size) / outSize);
    const end = Math.ceil(((i + 1) * size) / outSize);
    parts.push(x.narrow(dim, start, end - start).mean(dim, true));
  }
  return cat(parts, dim);
}

/**
 * Average pooling to a fixed output size, as torch.nn.functional.adaptive_avg_pool2d:
 * output (i, j) averages rows `[⌊i·H/oH⌋, ⌈(i+1)·H/oH⌉)` and the matching columns.
 * x `[N, C, H, W]` or `[C, H, W]`.
 * @example adaptiveAvgPool2d(randn([8, 64, 7, 7]), 1).shape // [8, 64, 1, 1]
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize, owner = 'adaptiveAvgPool2d'): Tensor {
  checkDType(owner, x.dtype, FLOATS);
  const { x4, unbatched } = batched(owner, x, '[N, C, H, W] or [C, H, W]');
  const [n, c, h, w] = x4.shape as [number, number, number, number];
  const [rh, rw] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const oh = rh ?? h;
  const ow = rw ?? w;
  checkPair(owner, 'output size', [oh, ow], 0);
  if ((h === 0 || w === 0) && n * c > 0) {
    throw new ShapeError(
      `${owner}: input has an empty spatial dim; expected non-zero H and W, got ${shapeString(x.shape)}`,
    );
  }
  let out: Tensor;
  if (oh > 0 && ow > 0 && h % oh === 0 && w % ow === 0) {
    // Equal windows: the same numbers as a plain average pool (kernel = stride = H/oH).
    out = avgPool2d(x4, [h / oh, w / ow], {}, owner);
  } else {
    out = adaptiveMean(adaptiveMean(x4, 2, h, oh), 3, w, ow);
  }
  return traceOp('adaptive_avg_pool2d', unbatched ? out.squeeze(0) : out, [x], { outputSize: [oh, ow] });
}

/** Options of `unfold` and `fold` (torch's defaults). */
export interface UnfoldOptions {
  readonly dilation?: Size2;
  readonly padding?: Size2;
  readonly stride?: Size2;
}

function unfoldGeometry(op: string, kernelSize: Size2, o: UnfoldOptions): Im2colAttrs {
  const k = pair(kernelSize);
  const s = pair(o.stride ?? 1);
  const p = pair(o.padding ?? 0);
  const d = pair(o.dilation ?? 1);
  checkPair(op, 'kernel size', k, 1);
  checkPair(op, 'stride', s, 1);
  checkPair(op, 'padding', p, 0);
  checkPair(op, 'dilation', d, 1);
  return {
    kernelH: k[0],
    kernelW: k[1],
    strideH: s[0],
    strideW: s[1],
    padH: p[0],
    padW: p[1],
    dilationH: d[0],
    dilationW: d[1],
  };
}

/**
 * Sliding local blocks, as torch.nn.functional.unfold: x `[N, C, H, W]` → `[N, C·kH·kW, L]`.
 * @example unfold(randn([1, 2, 4, 4]), 2).shape // [1, 8, 9]
 */
export function unfold(x: Tensor, kernelSize: Size2, options: UnfoldOptions = {}): Tensor {
  checkDType('unfold', x.dtype, FLOATS);
  if (x.dim() !== 4)
    throw new ShapeError(`unfold: input must be 4-D; expected [N, C, H, W], got ${shapeString(x.shape)}`);
  const g = unfoldGeometry('unfold', kernelSize, options);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = convOut(h, g.kernelH, g.strideH, g.padH, g.dilationH);
  const ow = convOut(w, g.kernelW, g.strideW, g.padW, g.dilationW);
  if (oh <= 0 || ow <= 0) {
    throw new ShapeError(
      `unfold: input is smaller than the (dilated) kernel; expected at least one block, got ${shapeString(x.shape)}`,
    );
  }
  return traceOp('unfold', im2colT(x, g, oh, ow, 0).view([n, c * g.kernelH * g.kernelW, oh * ow]), [x]);
}

/**
 * Sums sliding local blocks back into an image, as torch.nn.functional.fold (unfold's adjoint):
 * x `[N, C·kH·kW, L]` → `[N, C, outputSize[0], outputSize[1]]`.
 * @example fold(unfold(x, 2), [4, 4], 2).shape // x.shape
 */
export function fold(x: Tensor, outputSize: Size2, kernelSize: Size2, options: UnfoldOptions = {}): Tensor {
  checkDType('fold', x.dtype, FLOATS);
  const g = unfoldGeometry('fold', kernelSize, options);
  const [h, w] = pair(outputSize);
  const kk = g.kernelH * g.kernelW;
  const oh = convOut(h, g.kernelH, g.strideH, g.padH, g.dilationH);
  const ow = convOut(w, g.kernelW, g.strideW, g.padW, g.dilationW);
  if (x.dim() !== 3 || x.shape[1]! % kk !== 0 || x.shape[2] !== oh * ow) {
    throw new ShapeError(
      `fold: input does not match the blocks; expected [N, C·${kk}, ${oh * ow}], got ${shapeString(x.shape)}`,
    );
  }
  const [n, ckk] = x.shape as [number, number];
  return traceOp('fold', col2imT(x.reshape([n, ckk, oh, ow]), g, [n, ckk / kk, h, w]), [x]);
}
