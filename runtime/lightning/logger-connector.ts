/**
 * @module lightning/logger-connector — where logged values go: the Trainer's metric views
 * (`callbackMetrics`, `progressBarMetrics`, `loggedMetrics`) and the loggers (Lightning's
 * `_LoggerConnector`).
 *
 * `log()` keeps device tensors; they are read back here only when something reads them: every
 * `logEveryNSteps` for the loggers, at a progress-bar refresh, at an epoch end.
 */
import { keep } from '../memory.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Logger, LoggerStatus } from './loggers/logger.ts';
import { checkHyperparameters } from './loggers/hparams-check.ts';
import { TensorBoardLogger } from './loggers/tensorboard.ts';
import type { LogStage } from './results.ts';
import type { ResolvedTrainerOptions } from './trainer-options.ts';
import type { Trainer } from './trainer.ts';

/** How many training losses the progress bar's smoothed loss averages (Lightning's running mean window). */
const SMOOTHING_WINDOW = 20;

/**
 * The loggers the options ask for: a TensorBoardLogger by default, none with `logger: false`
 * or under `fastDevRun` (which writes nothing, as Lightning).
 * @example configureLoggers(resolveTrainerOptions({ logger: false })) // []
 */
export function configureLoggers(o: ResolvedTrainerOptions): Logger[] {
  if (o.fastDevRun !== 0 || o.logger === false) return [];
  return o.logger === true ? [new TensorBoardLogger({ saveDir: o.defaultRootDir })] : [...o.logger];
}

/**
 * Moves logged values from the Trainer's ResultCollection to its metric views and loggers.
 * @example await trainer.loggerConnector.refreshMetrics(); trainer.callbackMetrics['train_loss']
 */
export class LoggerConnector {
  #lossWindow: number[] = [];
  #pendingLosses: Tensor[] = [];
  /** A ProgressBar is among the callbacks (looked up once per entry point, not per step). */
  #hasProgressBar = false;
  /** The stepped-batch count whose step metrics are due for the loggers, if any. */
  #logDue: number | null = null;

  readonly trainer: Trainer;

  constructor(trainer: Trainer) {
    this.trainer = trainer;
  }

  /** Called when a run starts: notes whether anything shows the smoothed loss. */
  attach(hasProgressBar: boolean): void {
    this.#hasProgressBar = hasProgressBar;
  }

  /** Settles every logger's version, so `logDir` is known before callbacks read it. */
  async setupLoggers(): Promise<void> {
    for (const l of this.trainer.loggers) await l.resolveVersion();
  }

  /** Sends the module's hyperparameters to every logger (when it has any). */
  async logHyperparams(hparams: Readonly<Record<string, unknown>>): Promise<void> {
    if (Object.keys(hparams).length === 0 || this.trainer.loggers.length === 0) return;
    // Under DDP only rank 0 writes to the loggers (Lightning's rank_zero_only).
    if (!this.trainer.isGlobalZero) return;
    // Before any logger walks them: a cyclic or explosively shared graph fails here, at fit start.
    checkHyperparameters(hparams, 'Trainer.fit');
    for (const l of this.trainer.loggers) await l.logHyperparams(hparams);
  }

  async finalize(status: LoggerStatus): Promise<void> {
    if (!this.trainer.isGlobalZero) return;
    for (const l of this.trainer.loggers) await l.finalize(status);
  }

  /** Sends metrics to every logger, and records them as `loggedMetrics`. */
  async logMetrics(metrics: Record<string, number>, step: number): Promise<void> {
    Object.assign(this.trainer.loggedMetrics, metrics);
    if (!this.trainer.isGlobalZero) return;
    for (const l of this.trainer.loggers) await l.logMetrics(metrics, step);
  }

  /** The running mean of the last 20 training losses (as read at the last refresh), or null. */
  get smoothedLoss(): number | null {
    if (this.#lossWindow.length === 0) return null;
    return this.#lossWindow.reduce((a, b) => a + b, 0) / this.#lossWindow.length;
  }

  /** Keeps the step's loss for the progress bar's smoothed value (read at the next refresh). */
  recordLoss(loss: Tensor): void {
    if (!this.trainer.options.enableProgressBar || !this.#hasProgressBar) return;
    this.#pendingLosses.push(keep(loss.detach()));
    if (this.#pendingLosses.length > SMOOTHING_WINDOW) this.#pendingLosses.shift()!.dispose();
  }

  /** Starts a new epoch's smoothing window of losses. */
  resetSmoothing(): void {
    this.#lossWindow = [];
  }

  /** Counts a stepped batch; every `logEveryNSteps` marks step metrics due for the loggers. */
  advanceSteppedBatches(): void {
    const p = this.trainer.progress;
    const s = p.batchesThatStepped;
    p.batchesThatStepped = s + 1;
    if ((s + 1) % this.trainer.options.logEveryNSteps === 0 && this.trainer.loggers.length > 0) this.#logDue = s;
  }

  /**
   * Writes due step metrics (after the step's scope closed): the only per-step readback, every
   * logEveryNSteps. Returns a promise only when something is due.
   */
  writeDueStepMetrics(): Promise<void> | void {
    const s = this.#logDue;
    if (s === null) return;
    this.#logDue = null;
    return this.#writeStepMetrics(s);
  }

  async #writeStepMetrics(s: number): Promise<void> {
    const t = this.trainer;
    await t.results.flush();
    const views = t.results.stepMetrics('train', true);
    if (Object.keys(views.logger).length > 0) await this.logMetrics({ ...views.logger, epoch: t.currentEpoch }, s);
  }

  /** Reads back what was logged since the last refresh and updates the metric views. */
  async refreshMetrics(): Promise<void> {
    const t = this.trainer;
    await t.results.flush();
    const views = t.results.stepMetrics('train');
    Object.assign(t.callbackMetrics, views.callback);
    Object.assign(t.progressBarMetrics, views.progBar);
    const pending = this.#pendingLosses;
    this.#pendingLosses = [];
    for (const l of pending) {
      this.#lossWindow.push(Number((await l.data())[0]));
      l.dispose();
    }
    if (this.#lossWindow.length > SMOOTHING_WINDOW) this.#lossWindow = this.#lossWindow.slice(-SMOOTHING_WINDOW);
  }

  /** Copies `stage`'s epoch values into the views; returns what goes to the loggers. */
  publishEpochMetrics(stage: LogStage): Record<string, number> {
    const t = this.trainer;
    const v = t.results.epochMetrics(stage);
    Object.assign(t.callbackMetrics, v.callback);
    Object.assign(t.progressBarMetrics, v.progBar);
    return v.logger;
  }
}
