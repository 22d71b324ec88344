/**
 * @module optim/sgd — stochastic gradient descent with momentum, dampening, Nesterov
 * momentum, weight decay and maximize, as torch.optim.SGD (torch 1.13's single-tensor
 * implementation, operation for operation).
 */
import { ValueError } from '../errors.ts';
import type { Tensor } from '../tensor/index.ts';
import {
  checkBoolean,
  checkNumber,
  Optimizer,
  type OptimizerSpec,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.ts';

/** Options of SGD (torch's defaults; `lr` is required, as in torch). */
export interface SGDOptions {
  /** Learning rate (required). */
  readonly lr: number;
  /** Momentum factor (default 0). */
  readonly momentum?: number;
  /** Dampening of the momentum (default 0). */
  readonly dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  readonly nesterov?: boolean;
  /** Maximize the objective instead (default false). */
  readonly maximize?: boolean;
}

/** A parameter group of SGD with every option filled in. */
export interface SGDParamGroup extends ParamGroup {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

const SPEC: OptimizerSpec = {
  name: 'SGD',
  defaults: { lr: undefined, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
  torchOnly: { foreach: null, differentiable: false },
  stateKeys: { step: false, required: [], optional: ['momentum_buffer'] },
  validate(o) {
    checkNumber('SGD', 'learning rate', 'lr >= 0', o['lr'], (v) => v >= 0);
    checkNumber('SGD', 'momentum value', 'momentum >= 0', o['momentum'], (v) => v >= 0);
    checkNumber('SGD', 'dampening value', 'a number', o['dampening'], () => true);
    checkNumber('SGD', 'weight_decay value', 'weightDecay >= 0', o['weightDecay'], (v) => v >= 0);
    checkBoolean('SGD', 'nesterov', o['nesterov']);
    checkBoolean('SGD', 'maximize', o['maximize']);
    if (o['nesterov'] === true && ((o['momentum'] as number) <= 0 || o['dampening'] !== 0)) {
      throw new ValueError(
        `SGD: Nesterov momentum requires a momentum and zero dampening; expected momentum > 0 and dampening 0, got momentum ${String(o['momentum'])}, dampening ${String(o['dampening'])}`,
      );
    }
  },
};

/**
 * SGD, as torch.optim.SGD. State per parameter: `momentum_buffer` (null without momentum).
 * @example const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 */
export class SGD extends Optimizer<SGDParamGroup> {
  constructor(params: ParamsInput, options: SGDOptions) {
    if (typeof options !== 'object' || options === null || options.lr === undefined) {
      throw new ValueError('SGD: lr is required; expected a learning rate >= 0, got undefined');
    }
    super(SPEC, params, options as unknown as Readonly<Record<string, unknown>>);
  }

  protected override update(): void {
    for (const group of this.paramGroups) {
      const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
      for (const p of group.params) {
        if (p.grad === null) continue;
        const s = this.stateOf(p);
        let dp = maximize ? p.grad.neg() : p.grad;
        if (weightDecay !== 0) dp = dp.add(p.mul(weightDecay));
        if (momentum !== 0) {
          let buf = (s['momentum_buffer'] ?? null) as Tensor | null;
          if (buf === null) {
            buf = this.newState(dp.clone());
            s['momentum_buffer'] = buf;
          } else {
            buf.mul_(momentum).add_(dp.mul(1 - dampening));
          }
          dp = nesterov ? dp.add(buf.mul(momentum)) : buf;
        } else {
          s['momentum_buffer'] = null;
        }
        p.add_(dp.mul(-lr));
      }
    }
  }
}
