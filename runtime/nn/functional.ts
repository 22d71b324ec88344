/**
 * @module nn/functional — `F`: the stateless forms of the layers, and the losses,
 * with torch.nn.functional's names in TypeScript casing.
 *
 * Everything is composed from tensor ops, so gradients come from their rules.
 * @example
 * import { F } from 'lightning-ts';
 * const loss = F.mseLoss(xHat, x);
 */
import { noGrad } from '../autograd.ts';
import { allocArray, isFloating } from '../dtype.ts';
import { BackendError, DTypeError, IndexError, ShapeError, ValueError } from '../errors.ts';
import { defaultGenerator, type Generator } from '../random.ts';
import { shapeString } from '../shape.ts';
import { Tensor, arrayFrom, mul, record, sub, traceOp, where } from '../tensor/index.ts';

export {
  relu,
  leakyRelu,
  sigmoid,
  tanh,
  gelu,
  silu,
  softplus,
  elu,
  type GeluOptions,
  type SoftplusOptions,
} from '../tensor/index.ts';
export { softmax, logSoftmax } from '../tensor/index.ts';
export { linear } from '../tensor/index.ts';
export { oneHot } from '../tensor/index.ts';
export {
  conv2d,
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  unfold,
  fold,
  type Conv2dOptions,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
  type AdaptiveSize,
  type Size2,
  type UnfoldOptions,
} from '../tensor/index.ts';
export * from './loss-functions.ts';

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Apply dropout (default true, as torch.nn.functional.dropout); false returns the input. */
  readonly training?: boolean;
  /** The generator for the mask (default: the default generator). */
  readonly generator?: Generator;
}

/** Throws unless 0 <= p <= 1. */
export function checkDropoutP(op: string, p: number): void {
  if (!(p >= 0 && p <= 1)) {
    throw new ValueError(`${op}: dropout probability has to be between 0 and 1; expected 0 <= p <= 1, got ${p}`);
  }
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1/(1−p), as
 * torch.nn.functional.dropout. With `training: false` (or p = 0) it returns `x`.
 * @example dropout(x, 0.2, { training: this.training })
 */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  checkDropoutP('dropout', p);
  if (options.training === false || p === 0) return x;
  if (!isFloating(x.dtype)) {
    throw new DTypeError(`dropout: input must be floating point; expected float32 or float64, got ${x.dtype}`);
  }
  // A Bernoulli(1 − p) keep-mask, pre-scaled, as torch's `input * mask / (1 - p)`.
  const u = (options.generator ?? defaultGenerator).uniform(x.numel());
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = allocArray(x.dtype, u.length);
  for (let i = 0; i < u.length; i++) mask[i] = u[i]! < 1 - p ? scale : 0;
  const m = Tensor.fromArray(x.backend, x.dtype, x.shape, mask);
  return mul(x, m);
}

/** Options of `layerNorm`. */
export interface LayerNormOptions {
  /** Scale of shape `normalizedShape` (default none). */
  readonly weight?: Tensor | null;
  /** Shift of shape `normalizedShape` (default none). */
  readonly bias?: Tensor | null;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/** `normalizedShape` as an array. */
export function normalizeShapeArg(normalizedShape: number | readonly number[]): number[] {
  return typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
}

/**
 * Normalises over the trailing `normalizedShape` dims with the biased variance,
 * then scales and shifts, as torch.nn.functional.layer_norm.
 * `owner` names the caller in error messages (the LayerNorm module passes its name).
 * @example layerNorm(x, [64], { weight, bias }) // x: [N, 64]
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: LayerNormOptions = {},
  owner = 'layerNorm',
): Tensor {
  const ns = normalizeShapeArg(normalizedShape);
  const k = ns.length;
  const lead = x.dim() - k;
  if (lead < 0 || ns.some((s, i) => x.shape[lead + i] !== s)) {
    throw new ShapeError(
      `${owner}: input's trailing dims differ from normalizedShape; expected x[-${k}:] == ${shapeString(ns)}, got ${shapeString(x.shape)}`,
    );
  }
  const dims = ns.map((_, i) => lead + i);
  const mu = x.mean(dims, true);
  const diff = x.sub(mu);
  const v = diff.mul(diff).mean(dims, true);
  let y = diff.mul(v.add(options.eps ?? 1e-5).rsqrt());
  if (options.weight !== undefined && options.weight !== null) y = y.mul(options.weight);
  if (options.bias !== undefined && options.bias !== null) y = y.add(options.bias);
  return traceOp('layer_norm', y, [x, options.weight ?? null, options.bias ?? null], {
    axis: lead,
    eps: options.eps ?? 1e-5,
  });
}

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** Per-channel scale `[C]` (default none). */
  readonly weight?: Tensor | null;
  /** Per-channel shift `[C]` (default none). */
  readonly bias?: Tensor | null;
  /** Use the batch's statistics and update the running ones (default false, as torch). */
  readonly training?: boolean;
  /** Weight of the new batch in the running averages (default 0.1): a number, or a 0-d float tensor on the input's backend. */
  readonly momentum?: number | Tensor;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /**
   * In training, take the statistics over the batches of every rank of this group, as torch's
   * SyncBatchNorm (default none: this batch alone).
   */
  readonly processGroup?: ProcessGroup | null;
}

/**
 * The ranks a batch norm takes its statistics over, as torch's process group: under
 * `Trainer({ strategy: 'ddp', syncBatchnorm: true })` the Trainer hands every BatchNorm its DDP
 * strategy for the run.
 * @example const group: ProcessGroup = { allReduceSumSync: (v) => v }; // one rank
 */
export interface ProcessGroup {
  /**
   * The element-wise sum of `values` over every rank, the same values on every rank (a fixed
   * rank order); returns once every rank has called it with the same length.
   */
  allReduceSumSync(values: Float32Array): Float32Array;
}

/**
 * `t` summed over the ranks of `group`, with `count` summed beside it; the gradient is summed
 * over the ranks too, since each rank's loss reaches every rank's input through the sum (torch's
 * SyncBatchNorm backward all-reduces its per-channel sums the same way). Values travel as float32.
 */
function sumOverRanks(t: Tensor, count: number, group: ProcessGroup, owner: string): [Tensor, number] {
  if (!t.backend.capabilities.syncReadback) {
    throw new BackendError(
      `${owner}: statistics over ranks need synchronous readback; expected the wasm or reference backend, got '${t.backend.name}'`,
    );
  }
  const sum = (v: Tensor, extra: number): [Tensor, number] => {
    const local = new Float32Array(v.numel() + 1);
    local.set(v.dataSync());
    local[v.numel()] = extra;
    const all = group.allReduceSumSync(local);
    return [Tensor.fromArray(v.backend, v.dtype, v.shape, arrayFrom(v.dtype, all.subarray(0, v.numel()))), all.at(-1)!];
  };
  const [out, total] = sum(t, count);
  return [record(out, 'sum_over_ranks', [t], (g) => [sum(g, 0)[0]]), total];
}

/**
 * Batch normalisation over every dim but the channel dim 1, as
 * torch.nn.functional.batch_norm. In training it normalises with the batch's
 * biased variance and moves the running mean and the running (unbiased) variance
 * toward the batch's by `momentum`, in place; otherwise it uses the running stats.
 * `owner` names the caller in error messages.
 * @example batchNorm(x, runningMean, runningVar, { weight, bias, training: true })
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions = {},
  owner = 'batchNorm',
): Tensor {
  if (x.dim() < 2) {
    throw new ShapeError(
      `${owner}: input needs a batch and a channel dim; expected rank >= 2, got ${shapeString(x.shape)}`,
    );
  }
  const c = x.shape[1]!;
  for (const [name, t] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', options.weight ?? null],
    ['bias', options.bias ?? null],
  ] as const) {
    if (t !== null && (t.dim() !== 1 || t.shape[0] !== c)) {
      throw new ShapeError(
        `${owner}: ${name} must have one value per channel; expected [${c}], got ${shapeString(t.shape)} for input ${shapeString(x.shape)}`,
      );
    }
  }
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const eps = options.eps ?? 1e-5;
  let y: Tensor;
  if (options.training === true) {
    const group = options.processGroup ?? null;
    let n = x.numel() / c;
    let synced: Tensor | null = null;
    if (group !== null) {
      // Two passes over every rank's batch (the mean, then the squared deviations from it), as
      // one process computes them, rather than sums of x and x² (which cancel when |mean| >> std).
      let sum: Tensor;
      [sum, n] = sumOverRanks(x.sum(dims, true), n, group, owner);
      synced = sum.div(n);
    }
    if (n <= 1) {
      throw new ValueError(
        `${owner}: expected more than 1 value per channel when training; expected batch × spatial size > 1, got input ${shapeString(x.shape)}${group === null ? '' : ` (${n} over every rank)`}`,
      );
    }
    const mu = synced ?? x.mean(dims, true);
    const diff = x.sub(mu);
    const v =
      group === null
        ? diff.mul(diff).mean(dims, true)
        : sumOverRanks(diff.mul(diff).sum(dims, true), 0, group, owner)[0].div(n);
    const m = options.momentum ?? 0.1;
    noGrad(() => {
      // A 0-d tensor momentum (BatchNorm's 1/num_batches_tracked on a backend without synchronous readback) stays on the device.
      const keepOld = typeof m === 'number' ? 1 - m : sub(1, m);
      const varScale = typeof m === 'number' ? (m * n) / (n - 1) : m.mul(n / (n - 1));
      if (runningMean !== null) runningMean.mul_(keepOld).add_(mu.reshape([c]).mul(m));
      if (runningVar !== null) runningVar.mul_(keepOld).add_(v.reshape([c]).mul(varScale));
    });
    y = diff.mul(v.add(eps).rsqrt());
  } else {
    if (runningMean === null || runningVar === null) {
      throw new ValueError(
        `${owner}: running statistics are required outside training; expected runningMean and runningVar tensors, got none`,
      );
    }
    y = x.sub(runningMean.view(bshape)).mul(runningVar.view(bshape).add(eps).rsqrt());
  }
  if (options.weight !== undefined && options.weight !== null) y = y.mul(options.weight.view(bshape));
  if (options.bias !== undefined && options.bias !== null) y = y.add(options.bias.view(bshape));
  // Only inference (running statistics) is one op; training composes the batch statistics.
  if (options.training === true) return y;
  return traceOp('batch_norm', y, [x, options.weight ?? null, options.bias ?? null, runningMean, runningVar], { eps });
}

/** Options of `embedding`. */
export interface EmbeddingOptions {
  /** This row gets no gradient (negative counts from the end), as torch's `padding_idx`. */
  readonly paddingIdx?: number | null;
}

/**
 * Rows of `weight` `[num, dim]` picked by the int32 indices `input`, giving
 * `[...input.shape, dim]`, as torch.nn.functional.embedding.
 * Indices out of range are an IndexError (checked where readback is synchronous).
 * `owner` names the caller in error messages.
 * @example embedding(tensor([[0, 2]], { dtype: 'int32' }), weight).shape // [1, 2, dim]
 */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}, owner = 'embedding'): Tensor {
  if (input.dtype !== 'int32') {
    throw new DTypeError(`${owner}: indices must be integers; expected int32, got ${input.dtype}`);
  }
  if (weight.dim() !== 2) {
    throw new ShapeError(
      `${owner}: weight must be 2-D; expected [numEmbeddings, embeddingDim], got ${shapeString(weight.shape)}`,
    );
  }
  const [num, dim] = weight.shape as [number, number];
  if (input.backend.capabilities.syncReadback && input.numel() > 0) {
    for (const v of input.dataSync()) {
      if (v < 0 || v >= num)
        throw new IndexError(`${owner}: index out of range; expected 0 <= index < ${num}, got ${v}`);
    }
  }
  const flat = input.reshape([-1]);
  let out = weight.indexSelect(0, flat);
  let pad = options.paddingIdx ?? null;
  if (pad !== null && pad < 0) pad += num;
  if (pad !== null && out.requiresGrad) {
    // The padding row's value is used but receives no gradient, as torch's embedding_backward.
    const keepGrad = flat.ne(pad).unsqueeze(1);
    out = where(
      keepGrad,
      out,
      noGrad(() => out.detach()),
    );
  }
  return traceOp('embedding', out.reshape([...input.shape, dim]), [weight, input]);
}
