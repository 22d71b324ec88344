/**
 * @module optim/rmsprop — RMSprop with smoothing constant alpha, weight decay, momentum and
 * the centered variant, as torch.optim.RMSprop (torch 1.13's single-tensor implementation,
 * operation for operation).
 */
import { zerosLike, type Tensor } from '../tensor/index.ts';
import {
  checkBoolean,
  checkNumber,
  Optimizer,
  type OptimizerSpec,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.ts';

/** Options of RMSprop (torch's defaults). */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  readonly lr?: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  readonly alpha?: number;
  /** Added to the denominator (default 1e-8). */
  readonly eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Momentum factor (default 0). */
  readonly momentum?: number;
  /** Normalise by the estimated variance instead of the second moment (default false). */
  readonly centered?: boolean;
  /** Maximize the objective instead (default false). */
  readonly maximize?: boolean;
}

/** A parameter group of RMSprop with every option filled in. */
export interface RMSpropParamGroup extends ParamGroup {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

const SPEC: OptimizerSpec = {
  name: 'RMSprop',
  defaults: { lr: 1e-2, momentum: 0, alpha: 0.99, eps: 1e-8, centered: false, weightDecay: 0, maximize: false },
  torchOnly: { foreach: null, differentiable: false },
  stateKeys: { step: true, required: ['square_avg'], optional: ['momentum_buffer', 'grad_avg'] },
  validate(o) {
    checkNumber('RMSprop', 'learning rate', 'lr >= 0', o['lr'], (v) => v >= 0);
    checkNumber('RMSprop', 'epsilon value', 'eps >= 0', o['eps'], (v) => v >= 0);
    checkNumber('RMSprop', 'momentum value', 'momentum >= 0', o['momentum'], (v) => v >= 0);
    checkNumber('RMSprop', 'weight_decay value', 'weightDecay >= 0', o['weightDecay'], (v) => v >= 0);
    checkNumber('RMSprop', 'alpha value', 'alpha >= 0', o['alpha'], (v) => v >= 0);
    checkBoolean('RMSprop', 'centered', o['centered']);
    checkBoolean('RMSprop', 'maximize', o['maximize']);
  },
};

/**
 * RMSprop, as torch.optim.RMSprop. State per parameter: `step`, `square_avg`, and
 * `momentum_buffer` (momentum > 0) and `grad_avg` (centered).
 * @example const opt = new RMSprop(model.parameters(), { lr: 1e-2, momentum: 0.9, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropParamGroup> {
  constructor(params: ParamsInput, options: RMSpropOptions = {}) {
    super(SPEC, params, options as Readonly<Record<string, unknown>>);
  }

  protected override update(): void {
    for (const group of this.paramGroups) {
      const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
      for (const p of group.params) {
        if (p.grad === null) continue;
        const s = this.stateOf(p);
        if (s['step'] === undefined) {
          s['step'] = 0;
          s['square_avg'] = this.newState(zerosLike(p));
          if (momentum > 0) s['momentum_buffer'] = this.newState(zerosLike(p));
          if (centered) s['grad_avg'] = this.newState(zerosLike(p));
        }
        if (momentum > 0 && s['momentum_buffer'] == null) s['momentum_buffer'] = this.newState(zerosLike(p));
        if (centered && s['grad_avg'] == null) s['grad_avg'] = this.newState(zerosLike(p));
        s['step'] = (s['step'] as number) + 1;
        let grad = maximize ? p.grad.neg() : p.grad;
        if (weightDecay !== 0) grad = grad.add(p.mul(weightDecay));
        const squareAvg = s['square_avg'] as Tensor;
        // addcmul_(t1, t2, value) is self + (value · t1) · t2.
        squareAvg.mul_(alpha).add_(grad.mul(1 - alpha).mul(grad));
        let avg: Tensor;
        if (centered) {
          const gradAvg = s['grad_avg'] as Tensor;
          gradAvg.mul_(alpha).add_(grad.mul(1 - alpha));
          avg = squareAvg.add(gradAvg.mul(-1).mul(gradAvg)).sqrt();
        } else {
          avg = squareAvg.sqrt();
        }
        avg = avg.add(eps);
        if (momentum > 0) {
          const buf = s['momentum_buffer'] as Tensor;
          buf.mul_(momentum).add_(grad.div(avg));
          p.add_(buf.mul(-lr));
        } else {
          p.add_(grad.mul(-lr).div(avg));
        }
      }
    }
  }
}
