/**
 * @module optim/adam — Adam and AdamW, as torch.optim.Adam / AdamW (torch 1.13's
 * single-tensor implementation, operation for operation), and the update math both share.
 * `adamGroupUpdate` runs the fused `adam` primitive once for many parameters (a
 * multi-tensor apply, as torch's foreach/fused Adam; in place), so a step costs one
 * backend call per parameter group; `adamUpdate` is its one-parameter form, and
 * `adamUpdateComposite` the same math as tensor ops, the fallback for operands the
 * primitive cannot take in place.
 */
import { noticeOnce } from '../notice.ts';
import { ValueError } from '../errors.ts';
import { zerosLike, type Tensor } from '../tensor/index.ts';
import type { Backend, TensorView } from '../backend.ts';
import type { AdamAttrs } from '../ops.ts';
import type { DType } from '../dtype.ts';
import {
  checkBoolean,
  checkNumber,
  Optimizer,
  type OptimizerSpec,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.ts';

/**
 * The hyperparameters of one `adamUpdate` call: the `adam` primitive's (ops.ts), with the
 * step count in place of the bias-correction factors it derives and the entry count.
 */
export interface AdamUpdateOptions extends Omit<AdamAttrs, 'stepSize' | 'bc2Sqrt' | 'count'> {
  /** The step count after this update (1 on the first update), for the bias corrections. */
  readonly step: number;
}

/** One parameter's operands for {@link adamGroupUpdate}. */
export interface AdamSlot {
  readonly param: Tensor;
  readonly grad: Tensor;
  readonly expAvg: Tensor;
  readonly expAvgSq: Tensor;
  /** The running max of `expAvgSq`; required when `amsgrad`, else ignored. */
  readonly maxExpAvgSq: Tensor | null;
}

/**
 * One Adam/AdamW update of every slot's `param` in place, with its moment buffers, exactly
 * as torch 1.13's `_single_tensor_adam(w)` (non-capturable branch) applied to each:
 * ```
 * g = maximize ? -grad : grad;  Adam: g = g + wd·param  |  AdamW: param *= 1 - lr·wd
 * m = m·β1 + (1-β1)·g;  v = v·β2 + ((1-β2)·g)·g
 * denom = sqrt(amsgrad ? (vmax = max(vmax, v)) : v) / sqrt(1-β2^t) + eps
 * param += (-(lr / (1-β1^t))·m) / denom
 * ```
 * All slots share `o` (one parameter group at one step count). The slots the primitive can
 * take (each slot's tensors contiguous, of one dtype and numel) go to ONE `adam` backend
 * call per (backend, dtype), usually one in all; any other slot runs
 * {@link adamUpdateComposite}. That fallback is slower but gives the same numbers, and it
 * says so once (`noticeOnce`); optimizer state made by the optimizer is always
 * contiguous, so only hand-built state gets here. Bias corrections are computed in float64, as Python does.
 * Call it under `noGrad` in a `tidy` scope (the optimizer's `step` does).
 * @example
 * adamGroupUpdate([{ param: w, grad: w.grad!, expAvg: mw, expAvgSq: vw, maxExpAvgSq: null },
 *                  { param: b, grad: b.grad!, expAvg: mb, expAvgSq: vb, maxExpAvgSq: null }],
 *   { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false, step: 1 });
 */
export function adamGroupUpdate(slots: readonly AdamSlot[], o: AdamUpdateOptions): void {
  /** Fusable slots' views, keyed by backend then dtype (one `adam` call each). */
  const calls = new Map<Backend, Map<DType, TensorView[]>>();
  // Checked for every slot before any is updated, so a bad slot leaves the group untouched.
  if (o.amsgrad && slots.some((s) => s.maxExpAvgSq === null)) {
    throw new ValueError('adamUpdate: amsgrad needs its max buffer; expected a tensor, got null');
  }
  for (const s of slots) {
    const { param } = s;
    const operands =
      o.amsgrad && s.maxExpAvgSq !== null
        ? [param, s.grad, s.expAvg, s.expAvgSq, s.maxExpAvgSq]
        : [param, s.grad, s.expAvg, s.expAvgSq];
    const fusable = operands.every(
      (t) => t.backend === param.backend && t.dtype === param.dtype && t.isContiguous() && t.numel() === param.numel(),
    );
    if (!fusable) {
      noticeOnce(
        'adam-composite',
        'Adam: a parameter or state tensor is non-contiguous or of mixed dtype or backend; it runs the unfused update (same numbers, slower)',
      );
      adamUpdateComposite(param, s.grad, s.expAvg, s.expAvgSq, s.maxExpAvgSq, o);
      continue;
    }
    let byDType = calls.get(param.backend);
    if (byDType === undefined) calls.set(param.backend, (byDType = new Map()));
    let views = byDType.get(param.dtype);
    if (views === undefined) byDType.set(param.dtype, (views = []));
    for (const t of operands) views.push(t.view_());
  }
  // Bias corrections in float64, as Python computes them; the kernel writes every param and
  // its moments in place (ops.ts's AdamAttrs), and `out` is the first param.
  const width = o.amsgrad ? 5 : 4;
  for (const [backend, byDType] of calls) {
    for (const views of byDType.values()) {
      backend.run('adam', views[0] as TensorView, views, {
        lr: o.lr,
        beta1: o.beta1,
        beta2: o.beta2,
        eps: o.eps,
        weightDecay: o.weightDecay,
        amsgrad: o.amsgrad,
        maximize: o.maximize,
        decoupled: o.decoupled,
        stepSize: o.lr / (1 - o.beta1 ** o.step),
        bc2Sqrt: Math.sqrt(1 - o.beta2 ** o.step),
        count: views.length / width,
      });
    }
  }
}

/**
 * One Adam/AdamW update of `param` in place: {@link adamGroupUpdate} with one slot.
 * @example adamUpdate(p, p.grad!, m, v, null, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false, step: 1 })
 */
export function adamUpdate(
  param: Tensor,
  grad: Tensor,
  expAvg: Tensor,
  expAvgSq: Tensor,
  maxExpAvgSq: Tensor | null,
  o: AdamUpdateOptions,
): void {
  adamGroupUpdate([{ param, grad, expAvg, expAvgSq, maxExpAvgSq }], o);
}

/**
 * `adamUpdate` as a sequence of tensor ops (the same math, one kernel per operation), for
 * operands the fused primitive cannot update in place (non-contiguous, or of mixed dtypes).
 * @example adamUpdateComposite(p, p.grad!, m, v, null, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false, step: 1 })
 */
export function adamUpdateComposite(
  param: Tensor,
  grad: Tensor,
  expAvg: Tensor,
  expAvgSq: Tensor,
  maxExpAvgSq: Tensor | null,
  o: AdamUpdateOptions,
): void {
  let g = o.maximize ? grad.neg() : grad;
  if (o.decoupled) param.mul_(1 - o.lr * o.weightDecay);
  else if (o.weightDecay !== 0) g = g.add(param.mul(o.weightDecay));
  expAvg.mul_(o.beta1).add_(g.mul(1 - o.beta1));
  expAvgSq.mul_(o.beta2).add_(g.mul(1 - o.beta2).mul(g));
  const biasCorrection1 = 1 - o.beta1 ** o.step;
  const biasCorrection2 = 1 - o.beta2 ** o.step;
  const stepSize = o.lr / biasCorrection1;
  const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
  let second = expAvgSq;
  if (o.amsgrad) {
    if (maxExpAvgSq === null)
      throw new ValueError('adamUpdate: amsgrad needs its max buffer; expected a tensor, got null');
    maxExpAvgSq.copy_(maxExpAvgSq.maximum(expAvgSq));
    second = maxExpAvgSq;
  }
  const denom = second.sqrt().div(biasCorrection2Sqrt).add(o.eps);
  // torch's addcdiv_ computes self + (value · t1) / t2.
  param.add_(expAvg.mul(-stepSize).div(denom));
}

/** Options of Adam (torch's defaults). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  readonly lr?: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  readonly betas?: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  readonly eps?: number;
  /** L2 penalty (Adam: added to the gradient; AdamW: decoupled). Default 0 (AdamW: 1e-2). */
  readonly weightDecay?: number;
  /** Use the AMSGrad variant (default false). */
  readonly amsgrad?: boolean;
  /** Maximize the objective instead (default false). */
  readonly maximize?: boolean;
}

/** A parameter group of Adam/AdamW with every option filled in. */
export interface AdamParamGroup extends ParamGroup {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

function adamSpec(name: string, weightDecay: number, torchOnly: Record<string, unknown>): OptimizerSpec {
  return {
    name,
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, maximize: false },
    torchOnly,
    stateKeys: { step: true, required: ['exp_avg', 'exp_avg_sq'], optional: ['max_exp_avg_sq'] },
    validate(o) {
      checkNumber(name, 'learning rate', 'lr >= 0', o['lr'], (v) => v >= 0);
      checkNumber(name, 'epsilon value', 'eps >= 0', o['eps'], (v) => v >= 0);
      const betas = o['betas'];
      if (!Array.isArray(betas) || betas.length !== 2) {
        throw new ValueError(`${name}: invalid betas; expected [beta1, beta2], got ${JSON.stringify(betas)}`);
      }
      checkNumber(name, 'beta parameter at index 0', '0 <= betas[0] < 1', betas[0], (v) => v >= 0 && v < 1);
      checkNumber(name, 'beta parameter at index 1', '0 <= betas[1] < 1', betas[1], (v) => v >= 0 && v < 1);
      checkNumber(name, 'weight_decay value', 'weightDecay >= 0', o['weightDecay'], (v) => v >= 0);
      checkBoolean(name, 'amsgrad', o['amsgrad']);
      checkBoolean(name, 'maximize', o['maximize']);
    },
  };
}

abstract class AdamBase extends Optimizer<AdamParamGroup> {
  protected abstract readonly decoupled: boolean;

  protected override update(): void {
    for (const group of this.paramGroups) {
      const [beta1, beta2] = group.betas;
      // One fused call per group and step count: parameters that missed steps (no grad)
      // have their own bias corrections, so they go in a call of their own.
      const byStep = new Map<number, AdamSlot[]>();
      for (const p of group.params) {
        if (p.grad === null) continue;
        const s = this.stateOf(p);
        if (s['step'] === undefined) {
          s['step'] = 0;
          s['exp_avg'] = this.newState(zerosLike(p));
          s['exp_avg_sq'] = this.newState(zerosLike(p));
          if (group.amsgrad) s['max_exp_avg_sq'] = this.newState(zerosLike(p));
        }
        if (group.amsgrad && s['max_exp_avg_sq'] == null) s['max_exp_avg_sq'] = this.newState(zerosLike(p));
        const step = (s['step'] as number) + 1;
        s['step'] = step;
        let slots = byStep.get(step);
        if (slots === undefined) byStep.set(step, (slots = []));
        slots.push({
          param: p,
          grad: p.grad,
          expAvg: s['exp_avg'] as Tensor,
          expAvgSq: s['exp_avg_sq'] as Tensor,
          maxExpAvgSq: group.amsgrad ? (s['max_exp_avg_sq'] as Tensor) : null,
        });
      }
      for (const [step, slots] of byStep) {
        adamGroupUpdate(slots, {
          lr: group.lr,
          beta1,
          beta2,
          eps: group.eps,
          weightDecay: group.weightDecay,
          amsgrad: group.amsgrad,
          maximize: group.maximize,
          decoupled: this.decoupled,
          step,
        });
      }
    }
  }
}

/**
 * Adam, as torch.optim.Adam: L2 weight decay added to the gradient, optional AMSGrad.
 * State per parameter: `step`, `exp_avg`, `exp_avg_sq` (and `max_exp_avg_sq` with amsgrad).
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * loss.backward(); opt.step(); opt.zeroGrad();
 */
export class Adam extends AdamBase {
  protected override readonly decoupled = false;
  constructor(params: ParamsInput, options: AdamOptions = {}) {
    super(
      adamSpec('Adam', 0, { foreach: null, capturable: false, differentiable: false, fused: false }),
      params,
      options as Readonly<Record<string, unknown>>,
    );
  }
}

/**
 * AdamW, as torch.optim.AdamW: decoupled weight decay (`param *= 1 - lr·wd`, default wd 1e-2).
 * @example const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
 */
export class AdamW extends AdamBase {
  protected override readonly decoupled = true;
  constructor(params: ParamsInput, options: AdamOptions = {}) {
    super(
      adamSpec('AdamW', 1e-2, { foreach: null, capturable: false }),
      params,
      options as Readonly<Record<string, unknown>>,
    );
  }
}
