/**
 * @module optim/lr-scheduler — epoch-based learning-rate schedulers, as
 * torch.optim.lr_scheduler (1.13): StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR
 * (torch's recursive form), LinearLR and OneCycleLR.
 *
 * As in torch, constructing a scheduler sets `initialLr` on every group (torch's
 * `initial_lr`) and takes the first step, so `getLastLr()` is the lr of epoch 0. Call
 * `optimizer.step()` before `scheduler.step()`. State dicts use torch's keys.
 */
import { ValueError } from '../errors.ts';
import type { Optimizer, ParamGroup } from './optimizer.ts';

/** A scheduler's state dict: torch's keys (`last_epoch`, `_last_lr`, `base_lrs`, ...). */
export type SchedulerStateDict = Record<string, unknown>;

function checkInt(owner: string, what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ValueError(`${owner}: invalid ${what}; expected an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function checkFinite(
  owner: string,
  what: string,
  value: unknown,
  expected: string,
  ok: (v: number) => boolean,
): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) {
    throw new ValueError(`${owner}: invalid ${what}; expected ${expected}, got ${String(value)}`);
  }
  return value;
}

/** Throws on option keys a scheduler does not know. @internal */
export function checkOptionKeys(owner: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ValueError(`${owner}: unknown option '${key}'; expected one of ${known.join(', ')}, got '${key}'`);
    }
  }
}

/** Common options of the epoch-based schedulers. */
export interface SchedulerOptions {
  /** The index of the last epoch when resuming (default -1: start afresh). */
  readonly lastEpoch?: number;
}

/**
 * The base of epoch-based schedulers, as torch's `_LRScheduler`. A subclass sets its
 * fields, then calls `initialStep()` at the end of its constructor (TypeScript runs
 * subclass field initialisers after `super()`, so the base cannot take that step itself).
 * @example
 * class Halve extends LRScheduler {
 *   constructor(opt: Optimizer) { super('Halve', opt); this.initialStep(); }
 *   protected getLr(): number[] { return this.groups().map((g) => (this.lastEpoch === 0 ? g.lr : g.lr / 2)); }
 * }
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The lr of each group when scheduling started (its `initialLr`). */
  baseLrs: number[];
  /** Epochs stepped so far minus one (-1 before the first step). */
  lastEpoch: number;
  /** @internal */
  protected lastLr: number[] = [];
  /** @internal How many times `step()` ran (torch's `_step_count`). */
  protected stepCount = 0;
  readonly #name: string;

  protected constructor(name: string, optimizer: Optimizer, lastEpoch = -1) {
    this.#name = name;
    this.optimizer = optimizer;
    checkInt(name, 'lastEpoch', lastEpoch, -1);
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) {
          throw new ValueError(
            `${name}: param 'initial_lr' is not specified in paramGroups[${i}] when resuming an optimizer; expected initialLr set, got none`,
          );
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr ?? g.lr);
    this.lastEpoch = lastEpoch;
  }

  /** The scheduler's class name. */
  get name(): string {
    return this.#name;
  }

  /** The optimizer's groups. @internal */
  protected groups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }

  /** Takes the step torch's constructor takes. @internal */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The lr of each group for `lastEpoch` (the recursive, chainable form). @internal */
  protected abstract getLr(): number[];

  /**
   * Advances one epoch and sets each group's lr.
   * @example for (const batch of loader) { ...; opt.step(); } sched.step();
   */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const values = this.getLr();
    this.groups().forEach((g, i) => {
      g.lr = values[i]!;
    });
    this.lastLr = this.groups().map((g) => g.lr);
  }

  /**
   * The lrs the last `step()` set, one per group.
   * @example sched.getLastLr() // [0.1]
   */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** This scheduler's own hyperparameters, with torch's keys. @internal */
  protected abstract hyperState(): SchedulerStateDict;

  /** Restores `hyperState()` output. @internal */
  protected abstract loadHyperState(sd: Readonly<SchedulerStateDict>): void;

  /**
   * The state, with torch's keys, so PyTorch can load it.
   * @example sched.stateDict().last_epoch // 0
   */
  stateDict(): SchedulerStateDict {
    return {
      ...this.hyperState(),
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      verbose: false,
      _step_count: this.stepCount,
      _get_lr_called_within_step: false,
      _last_lr: [...this.lastLr],
    };
  }

  /**
   * Restores `stateDict()` output (ours or PyTorch's). Group lrs are not touched, as in
   * torch: load the optimizer's state dict too.
   * @example sched.loadStateDict(ckpt.lr_schedulers[0])
   */
  loadStateDict(sd: Readonly<SchedulerStateDict>): void {
    const name = this.#name;
    const n = this.groups().length;
    const lrList = (key: string): number[] => {
      const v = sd[key];
      if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number')) {
        throw new ValueError(
          `${name}.loadStateDict: '${key}' must hold one number per param group; expected ${n} numbers, got ${JSON.stringify(v)}`,
        );
      }
      return [...(v as number[])];
    };
    const baseLrs = lrList('base_lrs');
    const lastLr = sd['_last_lr'] === undefined ? this.lastLr : lrList('_last_lr');
    const lastEpoch = checkInt(name, "state 'last_epoch'", sd['last_epoch'], -1);
    this.loadHyperState(sd);
    this.baseLrs = baseLrs;
    this.lastLr = lastLr;
    this.lastEpoch = lastEpoch;
    if (typeof sd['_step_count'] === 'number') this.stepCount = sd['_step_count'];
  }
}

function need(owner: string, sd: Readonly<SchedulerStateDict>, key: string): unknown {
  if (!(key in sd))
    throw new ValueError(
      `${owner}.loadStateDict: missing key '${key}'; expected torch's keys, got ${Object.keys(sd).join(', ')}`,
    );
  return sd[key];
}

/** Options of StepLR. */
export interface StepLROptions extends SchedulerOptions {
  /** Epochs between decays (required). */
  readonly stepSize: number;
  /** Multiplier at each decay (default 0.1). */
  readonly gamma?: number;
}

/**
 * Multiplies the lr by `gamma` every `stepSize` epochs, as torch's StepLR.
 * @example new StepLR(opt, { stepSize: 30, gamma: 0.1 })
 */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: Optimizer, options: StepLROptions) {
    checkOptionKeys('StepLR', options, ['stepSize', 'gamma', 'lastEpoch']);
    super('StepLR', optimizer, options.lastEpoch);
    this.stepSize = checkInt('StepLR', 'stepSize', options.stepSize, 1);
    this.gamma = checkFinite('StepLR', 'gamma', options.gamma ?? 0.1, 'a number', Number.isFinite);
    this.initialStep();
  }
  protected override getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups().map((g) => g.lr);
    return this.groups().map((g) => g.lr * this.gamma);
  }
  protected override hyperState(): SchedulerStateDict {
    return { step_size: this.stepSize, gamma: this.gamma };
  }
  protected override loadHyperState(sd: Readonly<SchedulerStateDict>): void {
    this.stepSize = checkInt('StepLR', "state 'step_size'", need('StepLR', sd, 'step_size'), 1);
    this.gamma = checkFinite('StepLR', "state 'gamma'", need('StepLR', sd, 'gamma'), 'a number', Number.isFinite);
  }
}

/** Options of MultiStepLR. */
export interface MultiStepLROptions extends SchedulerOptions {
  /** Epochs at which to decay; a repeated milestone decays once per repeat (required). */
  readonly milestones: readonly number[];
  /** Multiplier at each milestone (default 0.1). */
  readonly gamma?: number;
}

/**
 * Multiplies the lr by `gamma` at each milestone, as torch's MultiStepLR.
 * @example new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 })
 */
export class MultiStepLR extends LRScheduler {
  /** Milestone → how many times it was given (torch keeps a Counter). */
  milestones: Map<number, number>;
  gamma: number;
  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    checkOptionKeys('MultiStepLR', options, ['milestones', 'gamma', 'lastEpoch']);
    super('MultiStepLR', optimizer, options.lastEpoch);
    if (!Array.isArray(options.milestones)) {
      throw new ValueError(
        `MultiStepLR: invalid milestones; expected an array of epochs, got ${String(options.milestones)}`,
      );
    }
    this.milestones = new Map();
    for (const m of options.milestones) {
      checkInt('MultiStepLR', 'milestone', m, 0);
      this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    }
    this.gamma = checkFinite('MultiStepLR', 'gamma', options.gamma ?? 0.1, 'a number', Number.isFinite);
    this.initialStep();
  }
  protected override getLr(): number[] {
    const count = this.milestones.get(this.lastEpoch);
    if (count === undefined) return this.groups().map((g) => g.lr);
    return this.groups().map((g) => g.lr * this.gamma ** count);
  }
  protected override hyperState(): SchedulerStateDict {
    return { milestones: Object.fromEntries(this.milestones), gamma: this.gamma };
  }
  protected override loadHyperState(sd: Readonly<SchedulerStateDict>): void {
    const m = need('MultiStepLR', sd, 'milestones');
    if (typeof m !== 'object' || m === null)
      throw new ValueError(
        `MultiStepLR.loadStateDict: invalid 'milestones'; expected { epoch: count }, got ${String(m)}`,
      );
    const entries = m instanceof Map ? [...(m as Map<unknown, unknown>).entries()] : Object.entries(m);
    this.milestones = new Map(entries.map(([k, v]) => [Number(k), Number(v)]));
    this.gamma = checkFinite(
      'MultiStepLR',
      "state 'gamma'",
      need('MultiStepLR', sd, 'gamma'),
      'a number',
      Number.isFinite,
    );
  }
}

/** Options of ExponentialLR. */
export interface ExponentialLROptions extends SchedulerOptions {
  /** Multiplier per epoch (required). */
  readonly gamma: number;
}

/**
 * Multiplies the lr by `gamma` every epoch, as torch's ExponentialLR.
 * @example new ExponentialLR(opt, { gamma: 0.95 })
 */
export class ExponentialLR extends LRScheduler {
  gamma: number;
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    checkOptionKeys('ExponentialLR', options, ['gamma', 'lastEpoch']);
    super('ExponentialLR', optimizer, options.lastEpoch);
    this.gamma = checkFinite('ExponentialLR', 'gamma', options.gamma, 'a number', Number.isFinite);
    this.initialStep();
  }
  protected override getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups().map((g) => g.lr);
    return this.groups().map((g) => g.lr * this.gamma);
  }
  protected override hyperState(): SchedulerStateDict {
    return { gamma: this.gamma };
  }
  protected override loadHyperState(sd: Readonly<SchedulerStateDict>): void {
    this.gamma = checkFinite(
      'ExponentialLR',
      "state 'gamma'",
      need('ExponentialLR', sd, 'gamma'),
      'a number',
      Number.isFinite,
    );
  }
}

/** Options of CosineAnnealingLR. */
export interface CosineAnnealingLROptions extends SchedulerOptions {
  /** Half-period in epochs (torch's `T_max`, required). */
  readonly TMax: number;
  /** The lowest lr (torch's `eta_min`, default 0). */
  readonly etaMin?: number;
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `TMax` epochs (and back, periodically),
 * in torch's recursive form, so its values match torch's CosineAnnealingLR.
 * @example new CosineAnnealingLR(opt, { TMax: 100 })
 */
export class CosineAnnealingLR extends LRScheduler {
  TMax: number;
  etaMin: number;
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    checkOptionKeys('CosineAnnealingLR', options, ['TMax', 'etaMin', 'lastEpoch']);
    super('CosineAnnealingLR', optimizer, options.lastEpoch);
    this.TMax = checkFinite('CosineAnnealingLR', 'TMax', options.TMax, 'TMax > 0', (v) => v > 0);
    this.etaMin = checkFinite('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0, 'etaMin >= 0', (v) => v >= 0);
    this.initialStep();
  }
  protected override getLr(): number[] {
    const { lastEpoch: e, TMax: T, etaMin } = this;
    const groups = this.groups();
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    // Python's % takes the divisor's sign; (e - 1 - T) is negative before the first trough.
    const m = 2 * T;
    if ((((e - 1 - T) % m) + m) % m === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map(
      (g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin,
    );
  }
  protected override hyperState(): SchedulerStateDict {
    return { T_max: this.TMax, eta_min: this.etaMin };
  }
  protected override loadHyperState(sd: Readonly<SchedulerStateDict>): void {
    this.TMax = checkFinite(
      'CosineAnnealingLR',
      "state 'T_max'",
      need('CosineAnnealingLR', sd, 'T_max'),
      'T_max > 0',
      (v) => v > 0,
    );
    this.etaMin = checkFinite(
      'CosineAnnealingLR',
      "state 'eta_min'",
      need('CosineAnnealingLR', sd, 'eta_min'),
      'eta_min >= 0',
      (v) => v >= 0,
    );
  }
}

/** Options of LinearLR. */
export interface LinearLROptions extends SchedulerOptions {
  /** Factor at epoch 0 (default 1/3). */
  readonly startFactor?: number;
  /** Factor from `totalIters` on (default 1). */
  readonly endFactor?: number;
  /** Epochs to go from start to end (default 5). */
  readonly totalIters?: number;
}

/**
 * Scales the lr linearly from `startFactor` to `endFactor` over `totalIters` epochs, as torch's LinearLR.
 * @example new LinearLR(opt, { startFactor: 0.1, totalIters: 10 }) // warm-up
 */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;
  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    checkOptionKeys('LinearLR', options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    super('LinearLR', optimizer, options.lastEpoch);
    // torch accepts start_factor 0 here and then divides by it; require > 0.
    this.startFactor = checkFinite(
      'LinearLR',
      'startFactor',
      options.startFactor ?? 1 / 3,
      '0 < startFactor <= 1',
      (v) => v > 0 && v <= 1,
    );
    this.endFactor = checkFinite(
      'LinearLR',
      'endFactor',
      options.endFactor ?? 1,
      '0 <= endFactor <= 1',
      (v) => v >= 0 && v <= 1,
    );
    this.totalIters = checkInt('LinearLR', 'totalIters', options.totalIters ?? 5, 1);
    this.initialStep();
  }
  protected override getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    if (e === 0) return this.groups().map((g) => g.lr * s);
    if (e > n) return this.groups().map((g) => g.lr);
    return this.groups().map((g) => g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }
  protected override hyperState(): SchedulerStateDict {
    return { start_factor: this.startFactor, end_factor: this.endFactor, total_iters: this.totalIters };
  }
  protected override loadHyperState(sd: Readonly<SchedulerStateDict>): void {
    this.startFactor = checkFinite(
      'LinearLR',
      "state 'start_factor'",
      need('LinearLR', sd, 'start_factor'),
      '0 < start_factor <= 1',
      (v) => v > 0 && v <= 1,
    );
    this.endFactor = checkFinite(
      'LinearLR',
      "state 'end_factor'",
      need('LinearLR', sd, 'end_factor'),
      '0 <= end_factor <= 1',
      (v) => v >= 0 && v <= 1,
    );
    this.totalIters = checkInt('LinearLR', "state 'total_iters'", need('LinearLR', sd, 'total_iters'), 1);
  }
}
