/**
 * @module optim/scheduler-helpers — the optimizer and schedulers the scheduler suites build
 * from fixture-style names and options.
 */
import { zeros } from '../../runtime/tensor/index.ts';
import { Parameter } from '../../runtime/nn/index.ts';
import {
  Adam,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SGD,
  StepLR,
  type Optimizer,
} from '../../runtime/optim/index.ts';

/** The optimizer the fixture used: two groups, lr 0.1 and 0.05. */
export function makeOptimizer(kind: 'SGD' | 'Adam'): Optimizer {
  const groups = [{ params: [new Parameter(zeros([1]))] }, { params: [new Parameter(zeros([1]))], lr: 0.05 }];
  return kind === 'Adam' ? new Adam(groups, { lr: 0.1 }) : new SGD(groups, { lr: 0.1, momentum: 0.9 });
}

/** What the suites drive: any scheduler, ReduceLROnPlateau taking the metric. */
export interface Stepper {
  step(metric?: number): void;
  getLastLr(): number[];
  stateDict(): Record<string, unknown>;
  loadStateDict(sd: Record<string, unknown>): void;
}

/** A scheduler of the fixture's kind with its options. */
export function makeScheduler(name: string, opt: Optimizer, options: Readonly<Record<string, unknown>>): Stepper {
  const o = options as never;
  switch (name) {
    case 'StepLR':
      return new StepLR(opt, o);
    case 'MultiStepLR':
      return new MultiStepLR(opt, o);
    case 'ExponentialLR':
      return new ExponentialLR(opt, o);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, o);
    case 'LinearLR':
      return new LinearLR(opt, o);
    case 'OneCycleLR':
      return new OneCycleLR(opt, o);
    case 'ReduceLROnPlateau': {
      const s = new ReduceLROnPlateau(opt, o);
      return {
        step: (m) => s.step(m!),
        getLastLr: () => s.getLastLr(),
        stateDict: () => s.stateDict(),
        loadStateDict: (sd) => s.loadStateDict(sd),
      };
    }
    default:
      throw new Error(`unknown scheduler ${name}`);
  }
}
