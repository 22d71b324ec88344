/**
 * @module lightning/hook-dispatcher — how the Trainer and the loops call the hooks of
 * `hooks.ts`: one method per hook, which spells its name, so a grep for a hook finds where it runs.
 *
 * A callback or module that does not define a hook costs one `!== undefined` check, and a
 * hook's result is awaited only when it is a promise (a per-step hook that returns nothing
 * costs no microtask; bench/trainer.mjs measures it at batch 1).
 */
import type { Optimizer } from '../optim/optimizer.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Callback } from './callbacks/callback.ts';
import { EarlyStopping } from './callbacks/early-stopping.ts';
import { ModelCheckpoint } from './callbacks/model-checkpoint.ts';
import type { Stage } from './hooks.ts';
import { internalsOf, type LightningModule } from './module.ts';
import type { LogStage } from './results.ts';
import type { Trainer } from './trainer.ts';

/** Which per-step hooks anyone defines, found once per run, so a step skips the rest without a call. */
export interface StepHooksUsed {
  readonly trainBatchStart: boolean;
  readonly beforeBackward: boolean;
  readonly afterBackward: boolean;
  readonly beforeOptimizerStep: boolean;
  readonly beforeZeroGrad: boolean;
  readonly trainBatchEnd: boolean;
}

/** Lightning's monitoring callbacks, which run after the module's hook (they read what it logged). */
function isMonitoring(cb: Callback): boolean {
  return cb instanceof ModelCheckpoint || cb instanceof EarlyStopping;
}

/**
 * Calls hooks for one run (built at each entry point). Most hooks run on the callbacks, then the
 * module, then ModelCheckpoint/EarlyStopping; setup, teardown and onException run on every
 * callback in list order.
 * @example await trainer.hooks.onValidationEpochEnd('validation')
 */
export class HookDispatcher {
  /** Callbacks that run before the module's hook. */
  readonly #before: readonly Callback[];
  /** ModelCheckpoint and EarlyStopping: after the module's hook. */
  readonly #after: readonly Callback[];
  readonly trainer: Trainer;
  readonly module: LightningModule;
  /** Every callback, in the Trainer's order. */
  readonly callbacks: readonly Callback[];
  readonly used: StepHooksUsed;

  constructor(trainer: Trainer, module: LightningModule, callbacks: readonly Callback[]) {
    this.trainer = trainer;
    this.module = module;
    this.callbacks = callbacks;
    this.#before = callbacks.filter((c) => !isMonitoring(c));
    this.#after = callbacks.filter(isMonitoring);
    const m = module;
    this.used = {
      trainBatchStart: m.onTrainBatchStart !== undefined || callbacks.some((c) => c.onTrainBatchStart !== undefined),
      beforeBackward: m.onBeforeBackward !== undefined || callbacks.some((c) => c.onBeforeBackward !== undefined),
      afterBackward: m.onAfterBackward !== undefined || callbacks.some((c) => c.onAfterBackward !== undefined),
      beforeOptimizerStep:
        m.onBeforeOptimizerStep !== undefined || callbacks.some((c) => c.onBeforeOptimizerStep !== undefined),
      beforeZeroGrad: callbacks.some((c) => c.onBeforeZeroGrad !== undefined),
      trainBatchEnd: m.onTrainBatchEnd !== undefined || callbacks.some((c) => c.onTrainBatchEnd !== undefined),
    };
  }

  /**
   * Runs a module hook with `log` routed to `stage` (null: `log` is an error there) and returns
   * its result; the caller's log context comes back after.
   */
  async #inModule(stage: LogStage | null, hook: string, batch: unknown, call: () => unknown): Promise<unknown> {
    const internals = internalsOf(this.module);
    const prev = internals.context;
    internals.context = stage === null ? null : { stage, hook, results: this.trainer.results, batch };
    try {
      const r = call();
      return r instanceof Promise ? await r : r;
    } finally {
      internals.context = prev;
    }
  }

  // --------------------------------------------------- every callback, in list order

  async setup(stage: Stage): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.callbacks) if (cb.setup !== undefined) await cb.setup(t, m, stage);
  }

  async teardown(stage: Stage): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.callbacks) if (cb.teardown !== undefined) await cb.teardown(t, m, stage);
  }

  async onException(error: unknown): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.callbacks) if (cb.onException !== undefined) await cb.onException(t, m, error);
  }

  // ------------------------------------------------------------------------ fit

  async onFitStart(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onFitStart?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onFitStart !== undefined) await this.#inModule(null, 'onFitStart', undefined, () => m.onFitStart?.());
    for (const cb of this.#after) {
      const r = cb.onFitStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onFitEnd(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onFitEnd?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onFitEnd !== undefined) await this.#inModule(null, 'onFitEnd', undefined, () => m.onFitEnd?.());
    for (const cb of this.#after) {
      const r = cb.onFitEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onSanityCheckStart(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onSanityCheckStart?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onSanityCheckStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onSanityCheckEnd(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onSanityCheckEnd?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onSanityCheckEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onTrainStart(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTrainStart?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onTrainStart !== undefined) await this.#inModule(null, 'onTrainStart', undefined, () => m.onTrainStart?.());
    for (const cb of this.#after) {
      const r = cb.onTrainStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onTrainEnd(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTrainEnd?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onTrainEnd !== undefined) await this.#inModule(null, 'onTrainEnd', undefined, () => m.onTrainEnd?.());
    for (const cb of this.#after) {
      const r = cb.onTrainEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onTrainEpochStart(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTrainEpochStart?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onTrainEpochStart !== undefined)
      await this.#inModule('train', 'onTrainEpochStart', undefined, () => m.onTrainEpochStart?.());
    for (const cb of this.#after) {
      const r = cb.onTrainEpochStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  /**
   * Callbacks, then the module; then `afterModule` (epoch metrics to the loggers, epoch
   * schedulers), then the monitoring callbacks, so checkpoints see the stepped schedulers.
   */
  async onTrainEpochEnd(afterModule: () => Promise<void>): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTrainEpochEnd?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onTrainEpochEnd !== undefined)
      await this.#inModule('train', 'onTrainEpochEnd', undefined, () => m.onTrainEpochEnd?.());
    await afterModule();
    for (const cb of this.#after) {
      const r = cb.onTrainEpochEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  /** Returns the module's result (-1 skips the rest of the epoch). */
  async onTrainBatchStart(batch: unknown, batchIdx: number): Promise<unknown> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTrainBatchStart?.(t, m, batch, batchIdx);
      if (r !== undefined) await r;
    }
    const result =
      m.onTrainBatchStart === undefined
        ? undefined
        : await this.#inModule('train', 'onTrainBatchStart', batch, () => m.onTrainBatchStart?.(batch, batchIdx));
    for (const cb of this.#after) {
      const r = cb.onTrainBatchStart?.(t, m, batch, batchIdx);
      if (r !== undefined) await r;
    }
    return result;
  }

  async onTrainBatchEnd(outputs: unknown, batch: unknown, batchIdx: number): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTrainBatchEnd?.(t, m, outputs, batch, batchIdx);
      if (r !== undefined) await r;
    }
    if (m.onTrainBatchEnd !== undefined)
      await this.#inModule('train', 'onTrainBatchEnd', batch, () => m.onTrainBatchEnd?.(outputs, batch, batchIdx));
    for (const cb of this.#after) {
      const r = cb.onTrainBatchEnd?.(t, m, outputs, batch, batchIdx);
      if (r !== undefined) await r;
    }
  }

  async onBeforeBackward(loss: Tensor, batch: unknown): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onBeforeBackward?.(t, m, loss);
      if (r !== undefined) await r;
    }
    if (m.onBeforeBackward !== undefined)
      await this.#inModule('train', 'onBeforeBackward', batch, () => m.onBeforeBackward?.(loss));
    for (const cb of this.#after) {
      const r = cb.onBeforeBackward?.(t, m, loss);
      if (r !== undefined) await r;
    }
  }

  async onAfterBackward(batch: unknown): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onAfterBackward?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onAfterBackward !== undefined)
      await this.#inModule('train', 'onAfterBackward', batch, () => m.onAfterBackward?.());
    for (const cb of this.#after) {
      const r = cb.onAfterBackward?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onBeforeOptimizerStep(optimizer: Optimizer): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onBeforeOptimizerStep?.(t, m, optimizer);
      if (r !== undefined) await r;
    }
    if (m.onBeforeOptimizerStep !== undefined)
      await this.#inModule('train', 'onBeforeOptimizerStep', undefined, () => m.onBeforeOptimizerStep?.(optimizer));
    for (const cb of this.#after) {
      const r = cb.onBeforeOptimizerStep?.(t, m, optimizer);
      if (r !== undefined) await r;
    }
  }

  async onBeforeZeroGrad(optimizer: Optimizer): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onBeforeZeroGrad?.(t, m, optimizer);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onBeforeZeroGrad?.(t, m, optimizer);
      if (r !== undefined) await r;
    }
  }

  // ------------------------------------------------------------------ validation

  async onValidationStart(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onValidationStart?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onValidationStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onValidationEnd(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onValidationEnd?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onValidationEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  /** `stage`: 'validation', or 'sanity' during the sanity check. */
  async onValidationEpochStart(stage: LogStage): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onValidationEpochStart?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onValidationEpochStart !== undefined)
      await this.#inModule(stage, 'onValidationEpochStart', undefined, () => m.onValidationEpochStart?.());
    for (const cb of this.#after) {
      const r = cb.onValidationEpochStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onValidationEpochEnd(stage: LogStage): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onValidationEpochEnd?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onValidationEpochEnd !== undefined)
      await this.#inModule(stage, 'onValidationEpochEnd', undefined, () => m.onValidationEpochEnd?.());
    for (const cb of this.#after) {
      const r = cb.onValidationEpochEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  /** Lightning's `on_validation_batch_end(outputs, batch, batch_idx, dataloader_idx)`: callbacks, then the module. */
  async onValidationBatchEnd(stage: LogStage, outputs: unknown, batch: unknown, batchIdx: number): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onValidationBatchEnd?.(t, m, outputs, batch, batchIdx, 0);
      if (r !== undefined) await r;
    }
    if (m.onValidationBatchEnd !== undefined)
      await this.#inModule(stage, 'onValidationBatchEnd', batch, () =>
        m.onValidationBatchEnd?.(outputs, batch, batchIdx, 0),
      );
    for (const cb of this.#after) {
      const r = cb.onValidationBatchEnd?.(t, m, outputs, batch, batchIdx, 0);
      if (r !== undefined) await r;
    }
  }

  // ------------------------------------------------------------------------ test

  async onTestStart(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTestStart?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onTestStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onTestEnd(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTestEnd?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onTestEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onTestEpochStart(stage: LogStage): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTestEpochStart?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onTestEpochStart !== undefined)
      await this.#inModule(stage, 'onTestEpochStart', undefined, () => m.onTestEpochStart?.());
    for (const cb of this.#after) {
      const r = cb.onTestEpochStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onTestEpochEnd(stage: LogStage): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTestEpochEnd?.(t, m);
      if (r !== undefined) await r;
    }
    if (m.onTestEpochEnd !== undefined)
      await this.#inModule(stage, 'onTestEpochEnd', undefined, () => m.onTestEpochEnd?.());
    for (const cb of this.#after) {
      const r = cb.onTestEpochEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  /** Lightning's `on_test_batch_end(outputs, batch, batch_idx, dataloader_idx)`: callbacks, then the module. */
  async onTestBatchEnd(stage: LogStage, outputs: unknown, batch: unknown, batchIdx: number): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onTestBatchEnd?.(t, m, outputs, batch, batchIdx, 0);
      if (r !== undefined) await r;
    }
    if (m.onTestBatchEnd !== undefined)
      await this.#inModule(stage, 'onTestBatchEnd', batch, () => m.onTestBatchEnd?.(outputs, batch, batchIdx, 0));
    for (const cb of this.#after) {
      const r = cb.onTestBatchEnd?.(t, m, outputs, batch, batchIdx, 0);
      if (r !== undefined) await r;
    }
  }

  // --------------------------------------------------------------------- predict

  async onPredictStart(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onPredictStart?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onPredictStart?.(t, m);
      if (r !== undefined) await r;
    }
  }

  async onPredictEnd(): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onPredictEnd?.(t, m);
      if (r !== undefined) await r;
    }
    for (const cb of this.#after) {
      const r = cb.onPredictEnd?.(t, m);
      if (r !== undefined) await r;
    }
  }

  /** Lightning's `on_predict_batch_end(outputs, batch, batch_idx, dataloader_idx)`: callbacks, then the module. */
  async onPredictBatchEnd(outputs: unknown, batch: unknown, batchIdx: number): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onPredictBatchEnd?.(t, m, outputs, batch, batchIdx, 0);
      if (r !== undefined) await r;
    }
    if (m.onPredictBatchEnd !== undefined)
      await this.#inModule('predict', 'onPredictBatchEnd', batch, () =>
        m.onPredictBatchEnd?.(outputs, batch, batchIdx, 0),
      );
    for (const cb of this.#after) {
      const r = cb.onPredictBatchEnd?.(t, m, outputs, batch, batchIdx, 0);
      if (r !== undefined) await r;
    }
  }

  // ----------------------------------------------------------------- checkpoints

  async onSaveCheckpoint(checkpoint: Record<string, unknown>): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onSaveCheckpoint?.(t, m, checkpoint);
      if (r !== undefined) await r;
    }
    if (m.onSaveCheckpoint !== undefined)
      await this.#inModule(null, 'onSaveCheckpoint', undefined, () => m.onSaveCheckpoint?.(checkpoint));
    for (const cb of this.#after) {
      const r = cb.onSaveCheckpoint?.(t, m, checkpoint);
      if (r !== undefined) await r;
    }
  }

  async onLoadCheckpoint(checkpoint: Readonly<Record<string, unknown>>): Promise<void> {
    const { trainer: t, module: m } = this;
    for (const cb of this.#before) {
      const r = cb.onLoadCheckpoint?.(t, m, checkpoint);
      if (r !== undefined) await r;
    }
    if (m.onLoadCheckpoint !== undefined)
      await this.#inModule(null, 'onLoadCheckpoint', undefined, () => m.onLoadCheckpoint?.(checkpoint));
    for (const cb of this.#after) {
      const r = cb.onLoadCheckpoint?.(t, m, checkpoint);
      if (r !== undefined) await r;
    }
  }
}
