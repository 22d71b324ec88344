/**
 * @module optim/reduce-lr-on-plateau — ReduceLROnPlateau, as torch's (1.13): cut the lr by
 * `factor` when a metric has stopped improving for `patience` epochs.
 */
import { ValueError } from '../errors.ts';
import type { Optimizer } from './optimizer.ts';
import { checkOptionKeys, type SchedulerStateDict } from './lr-scheduler.ts';

/** Options of ReduceLROnPlateau (torch's defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower is better; 'max': higher is better. */
  readonly mode?: 'min' | 'max';
  /** Multiplier of the lr at each reduction (default 0.1; must be < 1). */
  readonly factor?: number;
  /** Epochs without improvement tolerated before a reduction (default 10). */
  readonly patience?: number;
  /** The smallest change that counts as an improvement (default 1e-4). */
  readonly threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  readonly thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  readonly cooldown?: number;
  /** The lowest lr, one or one per group (default 0). */
  readonly minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  readonly eps?: number;
}

const KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'] as const;

function nonNegInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ValueError(`ReduceLROnPlateau: invalid ${what}; expected an integer >= 0, got ${String(v)}`);
  }
  return v;
}

/**
 * ReduceLROnPlateau, as torch's. `step(metric)` once per epoch with the monitored value.
 * @example
 * const sched = new ReduceLROnPlateau(opt, { patience: 5 });
 * sched.step(await valLoss.item());
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  cooldownCounter = 0;
  minLrs: number[];
  eps: number;
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  lastEpoch = 0;
  #lastLr: number[] | null = null;

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    checkOptionKeys('ReduceLROnPlateau', options, KEYS);
    this.optimizer = optimizer;
    const factor = options.factor ?? 0.1;
    if (typeof factor !== 'number' || !(factor < 1) || !(factor >= 0)) {
      throw new ValueError(
        `ReduceLROnPlateau: factor should be < 1.0; expected 0 <= factor < 1, got ${String(factor)}`,
      );
    }
    this.factor = factor;
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n)
        throw new ValueError(
          `ReduceLROnPlateau: expected ${n} minLrs, one per param group; expected ${n}, got ${minLr.length}`,
        );
      this.minLrs = [...(minLr as number[])];
    } else {
      this.minLrs = new Array<number>(n).fill(minLr as number);
    }
    this.patience = nonNegInt('patience', options.patience ?? 10);
    this.cooldown = nonNegInt('cooldown', options.cooldown ?? 0);
    this.eps = options.eps ?? 1e-8;
    this.mode = options.mode ?? 'min';
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.#checkModes();
    this.best = this.modeWorse;
  }

  #checkModes(): void {
    if (this.mode !== 'min' && this.mode !== 'max') {
      throw new ValueError(
        `ReduceLROnPlateau: mode is unknown; expected 'min' or 'max', got ${JSON.stringify(this.mode)}`,
      );
    }
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new ValueError(
        `ReduceLROnPlateau: threshold mode is unknown; expected 'rel' or 'abs', got ${JSON.stringify(this.thresholdMode)}`,
      );
    }
  }

  /** The worst value for the mode (torch's `mode_worse`). */
  get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** True while waiting out a cooldown. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Whether `a` improves on `best` under the mode and threshold. */
  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /**
   * Records one epoch's metric and reduces the lr if it has plateaued.
   * @example sched.step(0.42)
   */
  step(metric: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) {
      throw new ValueError(
        `ReduceLROnPlateau: metric must be a number; expected a number (use await t.item()), got ${String(metric)}`,
      );
    }
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const oldLr = g.lr;
        const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
        if (oldLr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.#lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lrs after the last step (the groups' current lrs before any). */
  getLastLr(): number[] {
    return this.#lastLr === null ? this.optimizer.paramGroups.map((g) => g.lr) : [...this.#lastLr];
  }

  /** The state with torch's keys. */
  stateDict(): SchedulerStateDict {
    const sd: SchedulerStateDict = {
      factor: this.factor,
      min_lrs: [...this.minLrs],
      patience: this.patience,
      verbose: false,
      cooldown: this.cooldown,
      cooldown_counter: this.cooldownCounter,
      mode: this.mode,
      threshold: this.threshold,
      threshold_mode: this.thresholdMode,
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      mode_worse: this.modeWorse,
      eps: this.eps,
      last_epoch: this.lastEpoch,
    };
    if (this.#lastLr !== null) sd['_last_lr'] = [...this.#lastLr];
    return sd;
  }

  /** Restores `stateDict()` output (ours or PyTorch's). */
  loadStateDict(sd: Readonly<SchedulerStateDict>): void {
    const num = (key: string): number => {
      const v = sd[key];
      if (typeof v !== 'number')
        throw new ValueError(
          `ReduceLROnPlateau.loadStateDict: '${key}' must be a number; expected torch's keys, got ${String(v)}`,
        );
      return v;
    };
    const minLrs = sd['min_lrs'];
    if (!Array.isArray(minLrs) || minLrs.length !== this.optimizer.paramGroups.length) {
      throw new ValueError(
        `ReduceLROnPlateau.loadStateDict: 'min_lrs' must hold one number per param group; expected ${this.optimizer.paramGroups.length}, got ${JSON.stringify(minLrs)}`,
      );
    }
    const mode = sd['mode'];
    const thresholdMode = sd['threshold_mode'];
    const next = {
      factor: num('factor'),
      patience: num('patience'),
      cooldown: num('cooldown'),
      cooldownCounter: num('cooldown_counter'),
      threshold: num('threshold'),
      best: num('best'),
      numBadEpochs: num('num_bad_epochs'),
      eps: num('eps'),
      lastEpoch: num('last_epoch'),
    };
    const [prevMode, prevThresholdMode] = [this.mode, this.thresholdMode];
    this.mode = mode as 'min' | 'max';
    this.thresholdMode = thresholdMode as 'rel' | 'abs';
    try {
      this.#checkModes();
    } catch (e) {
      this.mode = prevMode;
      this.thresholdMode = prevThresholdMode;
      throw e;
    }
    Object.assign(this, next);
    this.minLrs = [...(minLrs as number[])];
    const last = sd['_last_lr'];
    if (Array.isArray(last)) this.#lastLr = [...(last as number[])];
  }
}
