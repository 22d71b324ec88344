/**
 * @module lightning/callbacks/early-stopping — Lightning's EarlyStopping.
 */
import type { Trainer } from '../trainer.ts';
import { MisconfigurationError, NonFiniteMetricError } from '../errors.ts';
import { Callback, pyReprDict } from './callback.ts';

/** Options of {@link EarlyStopping}; defaults as Lightning's. */
export interface EarlyStoppingOptions {
  readonly monitor: string;
  /** The least change that counts as an improvement (default 0). */
  readonly minDelta?: number;
  /** Checks without improvement before stopping (default 3). */
  readonly patience?: number;
  readonly mode?: 'min' | 'max';
  /** A monitor that was never logged is an error (default true). */
  readonly strict?: boolean;
  /** A NaN or infinite metric ends fit with a NonFiniteMetricError (default true; false treats it as no improvement). */
  readonly checkFinite?: boolean;
  /** Stop as soon as the metric is better than this. */
  readonly stoppingThreshold?: number | null;
  /** Stop as soon as the metric is worse than this. */
  readonly divergenceThreshold?: number | null;
  /** Check at train epoch end instead of validation end (default: when no validation runs). */
  readonly checkOnTrainEpochEnd?: boolean;
}

/**
 * Stops training when `monitor` stops improving.
 * @example new Trainer({ callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 2 })] })
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly strict: boolean;
  readonly checkFinite: boolean;
  readonly stoppingThreshold: number | null;
  readonly divergenceThreshold: number | null;
  readonly #checkOnTrainEpochEnd: boolean | undefined;
  waitCount = 0;
  stoppedEpoch = 0;
  bestScore: number;
  /** Why training stopped, once it has. */
  stoppingReason: string | null = null;

  constructor(options: EarlyStoppingOptions) {
    super();
    if (typeof options?.monitor !== 'string' || options.monitor === '') {
      throw new MisconfigurationError(
        `EarlyStopping: monitor is missing; expected a logged metric name such as 'val_loss', got ${String(options?.monitor)}`,
      );
    }
    this.monitor = options.monitor;
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new MisconfigurationError(
        `EarlyStopping: invalid mode; expected 'min' or 'max', got '${String(this.mode)}'`,
      );
    // Lightning flips the sign of min_delta for 'min' so that "better" is always score - delta.
    this.minDelta = Math.abs(options.minDelta ?? 0) * (this.mode === 'min' ? -1 : 1);
    this.patience = options.patience ?? 3;
    this.strict = options.strict ?? true;
    this.checkFinite = options.checkFinite ?? true;
    this.stoppingThreshold = options.stoppingThreshold ?? null;
    this.divergenceThreshold = options.divergenceThreshold ?? null;
    this.#checkOnTrainEpochEnd = options.checkOnTrainEpochEnd;
    this.bestScore = this.mode === 'min' ? Infinity : -Infinity;
  }

  override get stateKey(): string {
    return `EarlyStopping${pyReprDict({ monitor: this.monitor, mode: this.mode })}`;
  }

  override stateDict(): Record<string, unknown> {
    return {
      wait_count: this.waitCount,
      stopped_epoch: this.stoppedEpoch,
      best_score: this.bestScore,
      patience: this.patience,
    };
  }

  override loadStateDict(s: Readonly<Record<string, unknown>>): void {
    if (typeof s['wait_count'] === 'number') this.waitCount = s['wait_count'];
    if (typeof s['stopped_epoch'] === 'number') this.stoppedEpoch = s['stopped_epoch'];
    if (typeof s['best_score'] === 'number') this.bestScore = s['best_score'];
  }

  #onTrainEnd(trainer: Trainer): boolean {
    return this.#checkOnTrainEpochEnd ?? !trainer.validationEnabled;
  }

  override onTrainEpochEnd(trainer: Trainer): void {
    if (this.#onTrainEnd(trainer)) this.#check(trainer);
  }

  override onValidationEnd(trainer: Trainer): void {
    if (!this.#onTrainEnd(trainer)) this.#check(trainer);
  }

  #better(a: number, b: number): boolean {
    return this.mode === 'min' ? a < b : a > b;
  }

  #check(trainer: Trainer): void {
    if (trainer.sanityChecking || trainer.options.fastDevRun > 0) return;
    const current = trainer.callbackMetrics[this.monitor];
    if (current === undefined) {
      if (this.strict) {
        throw new MisconfigurationError(
          `EarlyStopping: monitor '${this.monitor}' was never logged; expected one of the logged metrics (${Object.keys(trainer.callbackMetrics).join(', ') || 'none'}), got '${this.monitor}' (log it with this.log('${this.monitor}', value), fix the name, or pass strict: false to allow it)`,
        );
      }
      return;
    }
    let stop = false;
    let reason: string | null = null;
    if (this.checkFinite && !Number.isFinite(current)) {
      // Lightning stops quietly here; a typed error makes a diverged run impossible to miss.
      this.stoppedEpoch = trainer.currentEpoch;
      this.stoppingReason = `Monitored metric ${this.monitor} = ${current} is not finite. Previous best value was ${this.bestScore.toFixed(3)}.`;
      trainer.shouldStop = true;
      throw new NonFiniteMetricError(
        `EarlyStopping: monitored metric '${this.monitor}' is not finite at epoch ${trainer.currentEpoch} (training diverged); expected a finite value, got ${current} (best so far ${this.bestScore}). ` +
          'Lower the learning rate, clip gradients (gradientClipVal), check the loss for log(0) or division by zero, or pass checkFinite: false to treat it as no improvement',
      );
    }
    if (this.stoppingThreshold !== null && this.#better(current, this.stoppingThreshold)) {
      stop = true;
      reason = `Stopping threshold reached: ${this.monitor} = ${current} ${this.mode === 'min' ? '<' : '>'} ${this.stoppingThreshold}. Signaling Trainer to stop.`;
    } else if (this.divergenceThreshold !== null && this.#better(-current, -this.divergenceThreshold)) {
      stop = true;
      reason = `Divergence threshold reached: ${this.monitor} = ${current} ${this.mode === 'min' ? '>' : '<'} ${this.divergenceThreshold}. Signaling Trainer to stop.`;
    } else if (this.#better(current - this.minDelta, this.bestScore)) {
      this.bestScore = current;
      this.waitCount = 0;
    } else {
      this.waitCount++;
      if (this.waitCount >= this.patience) {
        stop = true;
        reason = `Monitored metric ${this.monitor} did not improve in the last ${this.waitCount} records. Best score: ${this.bestScore.toFixed(3)}. Signaling Trainer to stop.`;
      }
    }
    if (stop) {
      trainer.shouldStop = true;
      this.stoppedEpoch = trainer.currentEpoch;
      this.stoppingReason = reason;
    }
  }
}
