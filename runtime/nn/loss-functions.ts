/**
 * @module nn/loss-functions — the loss functions of `F`, with torch.nn.functional's
 * formulas and reductions ('mean' | 'sum' | 'none').
 *
 * Each is composed from tensor ops. The two binary cross-entropies carry their
 * own gradient rule (torch's closed forms), because the composed rule of a
 * clamped log would give NaN or 0 where torch gives a finite gradient.
 */
import { noGrad } from '../autograd.ts';
import { isFloating } from '../dtype.ts';
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.ts';
import { tidy } from '../memory.ts';
import { type Tensor, broadcastView, cast, logSoftmax, record, sub, sumTo, where, zerosOn } from '../tensor/index.ts';
import { shapeString } from '../shape.ts';

/** How a loss reduces its per-element values: their mean (default), their sum, or none. */
export type Reduction = 'mean' | 'sum' | 'none';

/** The option every loss takes. */
export interface ReductionOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  readonly reduction?: Reduction;
}

const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'];

function reductionOf(op: string, options: ReductionOptions): Reduction {
  const r = options.reduction ?? 'mean';
  if (!REDUCTIONS.includes(r)) {
    throw new ValueError(`${op}: unknown reduction; expected 'mean', 'sum' or 'none', got ${JSON.stringify(r)}`);
  }
  return r;
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? loss.sum() : loss.mean();
}

function floatInput(op: string, input: Tensor): void {
  if (!isFloating(input.dtype)) {
    throw new DTypeError(`${op}: input must be floating point; expected float32 or float64, got ${input.dtype}`);
  }
}

// torch broadcasts mismatched input/target shapes here with only a warning; an
// [N, 1] input against an [N] target then silently becomes an [N, N] loss.
function sameShape(op: string, input: Tensor, target: Tensor): void {
  if (input.dim() !== target.dim() || input.shape.some((s, i) => s !== target.shape[i])) {
    throw new ShapeError(
      `${op}: input and target shapes differ; expected target ${shapeString(input.shape)}, got ${shapeString(target.shape)}`,
    );
  }
}

function pointwise(op: string, input: Tensor, target: Tensor, options: ReductionOptions): [Reduction, Tensor] {
  const r = reductionOf(op, options);
  floatInput(op, input);
  sameShape(op, input, target);
  return [r, input.sub(target)];
}

/**
 * Mean squared error (x − y)², as torch.nn.functional.mse_loss.
 * @example mseLoss(tensor([1, 2]), tensor([0, 0])) // 2.5
 */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const [r, d] = pointwise('mseLoss', input, target, options);
  return reduce(d.mul(d), r);
}

/**
 * Mean absolute error |x − y|, as torch.nn.functional.l1_loss.
 * @example l1Loss(tensor([1, -2]), tensor([0, 0])) // 1.5
 */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const [r, d] = pointwise('l1Loss', input, target, options);
  return reduce(d.abs(), r);
}

/** Options of `smoothL1Loss`. */
export interface SmoothL1Options extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1; 0 is the L1 loss). */
  readonly beta?: number;
}

/**
 * 0.5·d²/β where |d| < β, else |d| − 0.5·β, as torch.nn.functional.smooth_l1_loss.
 * @example smoothL1Loss(tensor([0.5, 3]), tensor([0, 0])) // (0.125 + 2.5) / 2
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be non-negative; expected beta >= 0, got ${beta}`);
  const [r, d] = pointwise('smoothL1Loss', input, target, options);
  const a = d.abs();
  if (beta === 0) return reduce(a, r);
  return reduce(where(a.lt(beta), a.mul(a).mul(0.5 / beta), a.sub(0.5 * beta)), r);
}

/** Options of `huberLoss`. */
export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  readonly delta?: number;
}

/**
 * 0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ), as torch.nn.functional.huber_loss.
 * @example huberLoss(tensor([3]), tensor([0]), { delta: 2 }) // 4
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new ValueError(`huberLoss: delta must be positive; expected delta > 0, got ${delta}`);
  const [r, d] = pointwise('huberLoss', input, target, options);
  const a = d.abs();
  return reduce(where(a.lt(delta), a.mul(a).mul(0.5), a.sub(0.5 * delta).mul(delta)), r);
}

/** Options of `nllLoss`. */
export interface NllLossOptions extends ReductionOptions {
  /** A rescaling weight per class, `[C]` (default none). */
  readonly weight?: Tensor | null;
  /** Targets equal to this contribute nothing, not even to the mean's divisor (default −100). */
  readonly ignoreIndex?: number;
}

/** Checks class-index targets against `[N, C, d1...]` input (or `[C]` with a 0-d target). */
function checkClassTarget(op: string, input: Tensor, target: Tensor, ignoreIndex: number): void {
  if (target.dtype !== 'int32') {
    throw new DTypeError(`${op}: class-index targets must be integers; expected int32, got ${target.dtype}`);
  }
  const expected = input.dim() === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (target.dim() !== expected.length || target.shape.some((s, i) => s !== expected[i])) {
    throw new ShapeError(
      `${op}: target shape does not fit the input; expected ${shapeString(expected)} for input ${shapeString(input.shape)}, got ${shapeString(target.shape)}`,
    );
  }
  const c = input.shape[input.dim() === 1 ? 0 : 1]!;
  if (target.backend.capabilities.syncReadback && target.numel() > 0) {
    for (const v of target.dataSync()) {
      if (v !== ignoreIndex && (v < 0 || v >= c)) {
        throw new IndexError(
          `${op}: target out of bounds; expected 0 <= target < ${c} or ignoreIndex ${ignoreIndex}, got ${v}`,
        );
      }
    }
  }
}

function checkClassWeight(op: string, weight: Tensor | null | undefined, c: number): Tensor | null {
  if (weight === undefined || weight === null) return null;
  if (weight.dim() !== 1 || weight.shape[0] !== c) {
    throw new ShapeError(
      `${op}: weight must have one value per class; expected [${c}], got ${shapeString(weight.shape)}`,
    );
  }
  return weight;
}

/** Per-target weights (0 where ignored), and the picked input values, for `[N, C, ...]` input. */
function pickTargets(
  input: Tensor,
  target: Tensor,
  weight: Tensor | null,
  ignoreIndex: number,
): { picked: Tensor; w: Tensor; valid: Tensor; safe: Tensor } {
  const valid = target.ne(ignoreIndex);
  const safe = where(valid, target, zerosOn(target.backend, [], 'int32'));
  const picked = input.gather(1, safe.unsqueeze(1)).squeeze(1);
  const w =
    weight === null
      ? valid.to(input.dtype)
      : where(
          valid,
          weight
            .indexSelect(0, safe.reshape([-1]))
            .reshape(safe.shape)
            .to(input.dtype),
          0,
        );
  return { picked, w, valid, safe };
}

/**
 * Negative log likelihood of class-index targets: −w[t]·input[t], as
 * torch.nn.functional.nll_loss. `input` holds log-probabilities `[N, C, d1...]`
 * (or `[C]`), `target` int32 `[N, d1...]` (or 0-d). The mean divides by the sum
 * of the weights of the targets that are not ignored.
 * @example nllLoss(logSoftmax(logits, 1), tensor([0, 2], { dtype: 'int32' }))
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  return nllLossAs('nllLoss', input, target, options);
}

function nllLossAs(op: string, input: Tensor, target: Tensor, options: NllLossOptions): Tensor {
  const r = reductionOf(op, options);
  floatInput(op, input);
  if (input.dim() < 1)
    throw new ShapeError(
      `${op}: input needs a class dim; expected [N, C, ...] or [C], got ${shapeString(input.shape)}`,
    );
  const ignoreIndex = options.ignoreIndex ?? -100;
  checkClassTarget(op, input, target, ignoreIndex);
  const weight = checkClassWeight(op, options.weight, input.shape[input.dim() === 1 ? 0 : 1]!);
  if (input.dim() === 1) {
    const loss = nllLossAs(op, input.unsqueeze(0), target.unsqueeze(0), options);
    return r === 'none' ? loss.squeeze(0) : loss;
  }
  const { picked, w } = pickTargets(input, target, weight, ignoreIndex);
  const loss = picked.mul(w).neg();
  if (r === 'none') return loss;
  if (r === 'sum') return loss.sum();
  return loss.sum().div(w.sum());
}

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  readonly labelSmoothing?: number;
}

/**
 * Cross entropy of logits `[N, C, d1...]` (or `[C]`) against int32 class indices
 * `[N, d1...]` or float class probabilities of the input's shape, as
 * torch.nn.functional.cross_entropy, with weight, ignoreIndex and labelSmoothing.
 * @example crossEntropy(logits, tensor([1, 0], { dtype: 'int32' }), { labelSmoothing: 0.1 })
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const r = reductionOf('crossEntropy', options);
  floatInput('crossEntropy', input);
  if (input.dim() < 1)
    throw new ShapeError(
      `crossEntropy: input needs a class dim; expected [N, C, ...] or [C], got ${shapeString(input.shape)}`,
    );
  const ls = options.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) {
    throw new ValueError(
      `crossEntropy: labelSmoothing must be between 0 and 1; expected 0 <= labelSmoothing <= 1, got ${ls}`,
    );
  }
  const classDim = input.dim() === 1 ? 0 : 1;
  const c = input.shape[classDim]!;
  const weight = checkClassWeight('crossEntropy', options.weight, c);
  const wShape = input.shape.map((s, i) => (i === classDim ? s : 1));
  const logp = logSoftmax(input, classDim);

  if (isFloating(target.dtype)) {
    // torch's cross_entropy_loss_prob_target: the mean divides by N·d1·..., not by weights.
    sameShape('crossEntropy', input, target);
    let t = ls > 0 ? target.mul(1 - ls).add(ls / c) : target;
    if (weight !== null) t = t.mul(weight.view(wShape));
    const prod = logp.mul(t);
    if (r === 'none') return prod.sum(classDim).neg();
    if (r === 'sum') return prod.sum().neg();
    return prod
      .sum()
      .neg()
      .div(input.numel() / c);
  }

  const ignoreIndex = options.ignoreIndex ?? -100;
  const nll = nllLossAs('crossEntropy', logp, target, { reduction: r, weight, ignoreIndex });
  if (ls === 0) return nll;
  // torch's cross_entropy_loss_label_smoothing.
  const lp = classDim === 0 ? logp.unsqueeze(0) : logp;
  const tg = classDim === 0 ? target.unsqueeze(0) : target;
  let smooth = (weight === null ? lp : lp.mul(weight.view([1, ...wShape.slice(classDim === 0 ? 0 : 1)]))).sum(1).neg();
  const { w, valid } = pickTargets(lp, tg, weight, ignoreIndex);
  smooth = where(valid, smooth, 0);
  let ret: Tensor;
  if (r === 'none') ret = classDim === 0 ? smooth.squeeze(0) : smooth;
  else if (r === 'sum') ret = smooth.sum();
  else ret = smooth.sum().div(w.sum());
  return nll.mul(1 - ls).add(ret.mul(ls / c));
}

/** Options of `binaryCrossEntropy`. */
export interface BinaryCrossEntropyOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcast to the input's shape (default none). */
  readonly weight?: Tensor | null;
}

function checkWeight(op: string, weight: Tensor | null | undefined, input: Tensor, name = 'weight'): Tensor | null {
  if (weight === undefined || weight === null) return null;
  try {
    broadcastView(op, weight, input.shape);
  } catch (cause) {
    throw new ShapeError(
      `${op}: ${name} does not broadcast to the input; expected a shape that broadcasts to ${shapeString(input.shape)}, got ${shapeString(weight.shape)}`,
      { cause },
    );
  }
  return weight;
}

/** −(t·max(log x, −100) + (1 − t)·max(log(1 − x), −100)) with torch's gradient rule. */
function bceElementwise(x: Tensor, t: Tensor): Tensor {
  const logs = (): [Tensor, Tensor] => [x.log().clamp(-100), sub(1, x).log().clamp(-100)];
  const out = noGrad(() =>
    tidy(() => {
      const [lx, l1x] = logs();
      // torch's kernel: (t − 1)·max(log(1 − x), −100) − t·max(log x, −100), which gives +0 at x = t.
      return t.sub(1).mul(l1x).sub(t.mul(lx));
    }),
  );
  // torch's binary_cross_entropy_backward: (x − t) / max(x·(1 − x), 1e-12); the target's: log(1 − x) − log(x), clamped.
  return record(out, 'BinaryCrossEntropy', [x, t], (g) => [
    x.requiresGrad ? g.mul(x.sub(t)).div(x.mul(sub(1, x)).clamp(1e-12)) : null,
    t.requiresGrad
      ? (() => {
          const [lx, l1x] = logs();
          return g.mul(l1x.sub(lx));
        })()
      : null,
  ]);
}

/**
 * Binary cross entropy of probabilities `input` in [0, 1] against `target`, with
 * each log clamped at −100 as torch.nn.functional.binary_cross_entropy.
 * @example binaryCrossEntropy(tensor([0.8, 0.2]), tensor([1, 0]))
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BinaryCrossEntropyOptions = {}): Tensor {
  const r = reductionOf('binaryCrossEntropy', options);
  floatInput('binaryCrossEntropy', input);
  sameShape('binaryCrossEntropy', input, target);
  const weight = checkWeight('binaryCrossEntropy', options.weight, input);
  if (input.backend.capabilities.syncReadback && input.numel() > 0) {
    for (const v of input.dataSync()) {
      if (!(v >= 0 && v <= 1)) {
        throw new ValueError(
          `binaryCrossEntropy: input values must be probabilities; expected 0 <= input <= 1, got ${v}`,
        );
      }
    }
  }
  let loss = bceElementwise(input, cast(target, input.dtype));
  if (weight !== null) loss = loss.mul(weight);
  return reduce(loss, r);
}

/** Options of `binaryCrossEntropyWithLogits`. */
export interface BinaryCrossEntropyWithLogitsOptions extends BinaryCrossEntropyOptions {
  /** Weight of the positive term per class, broadcast over the input (default none). */
  readonly posWeight?: Tensor | null;
}

/** (1 − t)·x + lw·softplus(−x), lw = (pw − 1)·t + 1, computed stably, with torch's gradient rule. */
function bceWithLogitsElementwise(x: Tensor, t: Tensor, pw: Tensor | null): Tensor {
  // softplus(−x) = max(−x, 0) + log1p(exp(−|x|)), which loses nothing to cancellation.
  const softplusNeg = (): Tensor => x.neg().relu().add(x.abs().neg().softplus());
  const logWeight = (): Tensor | null => (pw === null ? null : pw.sub(1).mul(t).add(1));
  const out = noGrad(() =>
    tidy(() => {
      const lw = logWeight();
      const sp = softplusNeg();
      return sub(1, t)
        .mul(x)
        .add(lw === null ? sp : lw.mul(sp));
    }),
  );
  const parents = pw === null ? [x, t] : [x, t, pw];
  return record(out, 'BinaryCrossEntropyWithLogits', parents, (g) => {
    const lw = logWeight();
    // d/dx = lw·σ(x) − pw·t (σ(x) − t without posWeight); d/dt = (pw − 1)·softplus(−x) − x; d/dpw = t·softplus(−x).
    const gx = !x.requiresGrad
      ? null
      : lw === null
        ? g.mul(x.sigmoid().sub(t))
        : g.mul(lw.mul(x.sigmoid()).sub(pw!.mul(t)));
    const gt = !t.requiresGrad ? null : pw === null ? g.mul(x.neg()) : g.mul(pw.sub(1).mul(softplusNeg()).sub(x));
    const gpw = pw === null || !pw.requiresGrad ? null : sumTo(g.mul(t).mul(softplusNeg()), pw.shape);
    return [gx, gt, gpw];
  });
}

/**
 * Binary cross entropy of logits (sigmoid folded in, numerically stable), as
 * torch.nn.functional.binary_cross_entropy_with_logits, with `posWeight`
 * weighting the positive term.
 * @example binaryCrossEntropyWithLogits(logits, targets, { posWeight: tensor([3]) })
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options: BinaryCrossEntropyWithLogitsOptions = {},
): Tensor {
  const r = reductionOf('binaryCrossEntropyWithLogits', options);
  floatInput('binaryCrossEntropyWithLogits', input);
  sameShape('binaryCrossEntropyWithLogits', input, target);
  const weight = checkWeight('binaryCrossEntropyWithLogits', options.weight, input);
  const posWeight = checkWeight('binaryCrossEntropyWithLogits', options.posWeight, input, 'posWeight');
  let loss = bceWithLogitsElementwise(
    input,
    cast(target, input.dtype),
    posWeight === null ? null : cast(posWeight, input.dtype),
  );
  if (weight !== null) loss = loss.mul(weight);
  return reduce(loss, r);
}
