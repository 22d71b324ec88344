/**
 * @module optim — optimizers and learning-rate schedulers with torch.optim's names and
 * numbers: SGD, Adam, AdamW, RMSprop; StepLR, MultiStepLR, ExponentialLR,
 * CosineAnnealingLR, LinearLR, OneCycleLR, ReduceLROnPlateau.
 * @example
 * import { optim } from 'lightning-ts';
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 * const sched = new optim.StepLR(opt, { stepSize: 10, gamma: 0.5 });
 */
export {
  Optimizer,
  toSnake,
  toCamel,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type ParamState,
  type StateValue,
  type OptimizerStateDict,
  type OptimizerStateDictLike,
  type ZeroGradOptions,
  type OptimizerSpec,
} from './optimizer.ts';
export { SGD, type SGDOptions, type SGDParamGroup } from './sgd.ts';
export {
  Adam,
  AdamW,
  adamGroupUpdate,
  adamUpdate,
  adamUpdateComposite,
  type AdamOptions,
  type AdamParamGroup,
  type AdamSlot,
  type AdamUpdateOptions,
} from './adam.ts';
export { RMSprop, type RMSpropOptions, type RMSpropParamGroup } from './rmsprop.ts';
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
  type SchedulerOptions,
  type SchedulerStateDict,
  type StepLROptions,
  type MultiStepLROptions,
  type ExponentialLROptions,
  type CosineAnnealingLROptions,
  type LinearLROptions,
} from './lr-scheduler.ts';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle-lr.ts';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.ts';
