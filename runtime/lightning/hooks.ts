/**
 * @module lightning/hooks — Lightning's hook list as two typed interfaces of optional methods:
 * `CallbackHooks` (merged into `Callback`) and `ModuleHooks` (merged into `LightningModule`).
 *
 * A subclass defines the hooks it needs with `override`; `hook-dispatcher.ts` calls them.
 */
import type { Optimizer } from '../optim/optimizer.ts';
import type { Tensor } from '../tensor/index.ts';
import type { LightningModule } from './module.ts';
import type { Trainer } from './trainer.ts';

/** What a callback hook may return. */
export type HookResult = void | Promise<void>;

/** The stage names Lightning passes to `setup` and `teardown`. */
export type Stage = 'fit' | 'validate' | 'test' | 'predict';

/**
 * A callback's hooks, each optional, with Lightning's arguments (`trainer, pl_module, ...`).
 * @example
 * class PrintEpochs extends Callback {
 *   override onTrainEpochEnd(trainer: Trainer) { console.log('epoch', trainer.currentEpoch, 'done'); }
 * }
 */
export interface CallbackHooks {
  setup?(trainer: Trainer, module: LightningModule, stage: Stage): HookResult;
  teardown?(trainer: Trainer, module: LightningModule, stage: Stage): HookResult;
  onFitStart?(trainer: Trainer, module: LightningModule): HookResult;
  onFitEnd?(trainer: Trainer, module: LightningModule): HookResult;
  onSanityCheckStart?(trainer: Trainer, module: LightningModule): HookResult;
  onSanityCheckEnd?(trainer: Trainer, module: LightningModule): HookResult;
  onTrainStart?(trainer: Trainer, module: LightningModule): HookResult;
  onTrainEnd?(trainer: Trainer, module: LightningModule): HookResult;
  onTrainEpochStart?(trainer: Trainer, module: LightningModule): HookResult;
  onTrainEpochEnd?(trainer: Trainer, module: LightningModule): HookResult;
  onTrainBatchStart?(trainer: Trainer, module: LightningModule, batch: unknown, batchIdx: number): HookResult;
  /** `outputs` is what `trainingStep` returned. */
  onTrainBatchEnd?(
    trainer: Trainer,
    module: LightningModule,
    outputs: unknown,
    batch: unknown,
    batchIdx: number,
  ): HookResult;
  onValidationStart?(trainer: Trainer, module: LightningModule): HookResult;
  onValidationEnd?(trainer: Trainer, module: LightningModule): HookResult;
  onValidationEpochStart?(trainer: Trainer, module: LightningModule): HookResult;
  onValidationEpochEnd?(trainer: Trainer, module: LightningModule): HookResult;
  /** `outputs` is what `validationStep` returned. */
  onValidationBatchEnd?(
    trainer: Trainer,
    module: LightningModule,
    outputs: unknown,
    batch: unknown,
    batchIdx: number,
    dataloaderIdx: number,
  ): HookResult;
  onTestStart?(trainer: Trainer, module: LightningModule): HookResult;
  onTestEnd?(trainer: Trainer, module: LightningModule): HookResult;
  onTestEpochStart?(trainer: Trainer, module: LightningModule): HookResult;
  onTestEpochEnd?(trainer: Trainer, module: LightningModule): HookResult;
  /** `outputs` is what `testStep` returned. */
  onTestBatchEnd?(
    trainer: Trainer,
    module: LightningModule,
    outputs: unknown,
    batch: unknown,
    batchIdx: number,
    dataloaderIdx: number,
  ): HookResult;
  onPredictStart?(trainer: Trainer, module: LightningModule): HookResult;
  onPredictEnd?(trainer: Trainer, module: LightningModule): HookResult;
  /** `outputs` is what `predictStep` returned. */
  onPredictBatchEnd?(
    trainer: Trainer,
    module: LightningModule,
    outputs: unknown,
    batch: unknown,
    batchIdx: number,
    dataloaderIdx: number,
  ): HookResult;
  onBeforeBackward?(trainer: Trainer, module: LightningModule, loss: Tensor): HookResult;
  onAfterBackward?(trainer: Trainer, module: LightningModule): HookResult;
  onBeforeOptimizerStep?(trainer: Trainer, module: LightningModule, optimizer: Optimizer): HookResult;
  onBeforeZeroGrad?(trainer: Trainer, module: LightningModule, optimizer: Optimizer): HookResult;
  /** Called with the checkpoint dict before it is written; may add keys. */
  onSaveCheckpoint?(trainer: Trainer, module: LightningModule, checkpoint: Record<string, unknown>): HookResult;
  onLoadCheckpoint?(
    trainer: Trainer,
    module: LightningModule,
    checkpoint: Readonly<Record<string, unknown>>,
  ): HookResult;
  onException?(trainer: Trainer, module: LightningModule, error: unknown): HookResult;
}

/**
 * A LightningModule's hooks, each optional, with Lightning's arguments.
 * @example
 * class Lit extends LightningModule {
 *   override onValidationBatchEnd(outputs: unknown, batch: unknown, batchIdx: number) { this.seen.push(outputs); }
 * }
 */
export interface ModuleHooks {
  onFitStart?(): unknown;
  onFitEnd?(): unknown;
  onTrainStart?(): unknown;
  onTrainEnd?(): unknown;
  onTrainEpochStart?(): unknown;
  onTrainEpochEnd?(): unknown;
  onValidationEpochStart?(): unknown;
  onValidationEpochEnd?(): unknown;
  onTestEpochStart?(): unknown;
  onTestEpochEnd?(): unknown;
  /** Return -1 to skip the rest of the epoch, as Lightning. */
  onTrainBatchStart?(batch: unknown, batchIdx: number): unknown;
  onTrainBatchEnd?(outputs: unknown, batch: unknown, batchIdx: number): unknown;
  onValidationBatchEnd?(outputs: unknown, batch: unknown, batchIdx: number, dataloaderIdx: number): unknown;
  onTestBatchEnd?(outputs: unknown, batch: unknown, batchIdx: number, dataloaderIdx: number): unknown;
  onPredictBatchEnd?(outputs: unknown, batch: unknown, batchIdx: number, dataloaderIdx: number): unknown;
  onBeforeBackward?(loss: Tensor): unknown;
  onAfterBackward?(): unknown;
  onBeforeOptimizerStep?(optimizer: Optimizer): unknown;
  /** Called with the checkpoint dict before it is written; may add keys. */
  onSaveCheckpoint?(checkpoint: Record<string, unknown>): unknown;
  /** Called with the loaded checkpoint dict before state is restored. */
  onLoadCheckpoint?(checkpoint: Readonly<Record<string, unknown>>): unknown;
}
