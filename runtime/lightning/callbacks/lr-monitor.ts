/**
 * @module lightning/callbacks/lr-monitor — Lightning's LearningRateMonitor: logs `lr-<Optimizer>`.
 */
import type { Trainer } from '../trainer.ts';
import { MisconfigurationError } from '../errors.ts';
import { Callback } from './callback.ts';

/** Options of {@link LearningRateMonitor}. */
export interface LearningRateMonitorOptions {
  /** 'step' or 'epoch' (default: each scheduler's own interval, 'epoch' when there is none). */
  readonly loggingInterval?: 'step' | 'epoch' | null;
}

/**
 * Logs each optimizer's learning rate as `lr-Adam` (`lr-Adam/pg1`, ... for more groups;
 * `lr-Adam-1` for a second Adam), as Lightning names them.
 * @example new Trainer({ callbacks: [new LearningRateMonitor({ loggingInterval: 'step' })] })
 */
export class LearningRateMonitor extends Callback {
  readonly loggingInterval: 'step' | 'epoch' | null;

  constructor(options: LearningRateMonitorOptions = {}) {
    super();
    this.loggingInterval = options.loggingInterval ?? null;
    if (this.loggingInterval !== null && this.loggingInterval !== 'step' && this.loggingInterval !== 'epoch') {
      throw new MisconfigurationError(
        `LearningRateMonitor: invalid loggingInterval; expected 'step', 'epoch' or null, got '${String(this.loggingInterval)}'`,
      );
    }
  }

  /** The current learning rates by Lightning's names. */
  learningRates(trainer: Trainer): Record<string, number> {
    const out: Record<string, number> = {};
    const seen = new Map<string, number>();
    for (const opt of trainer.optimizers) {
      const base = `lr-${opt.name}`;
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      const name = n === 0 ? base : `${base}-${n}`;
      opt.paramGroups.forEach((g, i) => {
        out[opt.paramGroups.length === 1 ? name : `${name}/pg${i + 1}`] = g.lr;
      });
    }
    return out;
  }

  override onTrainStart(trainer: Trainer): void {
    if (trainer.loggers.length === 0) {
      throw new MisconfigurationError(
        'LearningRateMonitor: the Trainer has no logger; expected a logger to write learning rates to, got logger: false',
      );
    }
  }

  override async onTrainBatchStart(trainer: Trainer): Promise<void> {
    if (this.loggingInterval === 'epoch') return;
    const stepScheds = trainer.lrSchedulerConfigs.some((c) => c.interval === 'step');
    if (this.loggingInterval === 'step' || stepScheds) {
      if ((trainer.progress.batchesThatStepped + 1) % trainer.options.logEveryNSteps === 0) {
        await trainer.loggerConnector.logMetrics(this.learningRates(trainer), trainer.progress.batchesThatStepped);
      }
    }
  }

  override async onTrainEpochStart(trainer: Trainer): Promise<void> {
    if (this.loggingInterval === 'step') return;
    await trainer.loggerConnector.logMetrics(this.learningRates(trainer), trainer.progress.batchesThatStepped);
  }
}
