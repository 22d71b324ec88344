/**
 * @module lightning/callbacks/callback — `Callback`: an object with optional hooks and its own state.
 *
 * The Trainer calls every hook of every callback in order, awaiting each. A callback's
 * `stateDict()` goes into the checkpoint under its `stateKey`, and `loadStateDict` gets it
 * back on resume, as in Lightning.
 */
import type { Optimizer } from '../../optim/optimizer.ts';
import type { Tensor } from '../../tensor/index.ts';
import type { LightningModule } from '../module.ts';
import type { Trainer } from '../trainer.ts';

/** What a hook may return. */
export type HookResult = void | Promise<void>;

/** The stage names Lightning passes to `setup` and `teardown`. */
export type Stage = 'fit' | 'validate' | 'test' | 'predict';

/**
 * The base of every callback; each hook does nothing until overridden.
 * @example
 * class PrintEpochs extends Callback {
 *   override onTrainEpochEnd(trainer: Trainer) { console.log('epoch', trainer.currentEpoch, 'done'); }
 * }
 * new Trainer({ callbacks: [new PrintEpochs()] });
 */
export class Callback {
  /**
   * The key of this callback's state in a checkpoint's `callbacks` (Lightning's `state_key`):
   * the class name, plus the settings that tell two instances apart for callbacks that may repeat.
   */
  get stateKey(): string {
    return this.constructor.name;
  }

  /** State to store in checkpoints (default: none). */
  stateDict(): Record<string, unknown> {
    return {};
  }

  /** Restores what `stateDict` returned. */
  loadStateDict(state: Readonly<Record<string, unknown>>): void {
    void state;
  }

  setup(trainer: Trainer, module: LightningModule, stage: Stage): HookResult { void trainer; void module; void stage; }
  teardown(trainer: Trainer, module: LightningModule, stage: Stage): HookResult { void trainer; void module; void stage; }
  onFitStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onFitEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onSanityCheckStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onSanityCheckEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTrainStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTrainEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTrainEpochStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTrainEpochEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTrainBatchStart(trainer: Trainer, module: LightningModule, batch: unknown, batchIdx: number): HookResult { void trainer; void module; void batch; void batchIdx; }
  onTrainBatchEnd(trainer: Trainer, module: LightningModule, outputs: unknown, batch: unknown, batchIdx: number): HookResult { void trainer; void module; void outputs; void batch; void batchIdx; }
  onValidationStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onValidationEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onValidationEpochStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onValidationEpochEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onValidationBatchEnd(trainer: Trainer, module: LightningModule, outputs: unknown, batch: unknown, batchIdx: number): HookResult { void trainer; void module; void outputs; void batch; void batchIdx; }
  onTestStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTestEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTestEpochStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTestEpochEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onTestBatchEnd(trainer: Trainer, module: LightningModule, outputs: unknown, batch: unknown, batchIdx: number): HookResult { void trainer; void module; void outputs; void batch; void batchIdx; }
  onPredictStart(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onPredictEnd(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onPredictBatchEnd(trainer: Trainer, module: LightningModule, outputs: unknown, batch: unknown, batchIdx: number): HookResult { void trainer; void module; void outputs; void batch; void batchIdx; }
  onBeforeBackward(trainer: Trainer, module: LightningModule, loss: Tensor): HookResult { void trainer; void module; void loss; }
  onAfterBackward(trainer: Trainer, module: LightningModule): HookResult { void trainer; void module; }
  onBeforeOptimizerStep(trainer: Trainer, module: LightningModule, optimizer: Optimizer): HookResult { void trainer; void module; void optimizer; }
  onBeforeZeroGrad(trainer: Trainer, module: LightningModule, optimizer: Optimizer): HookResult { void trainer; void module; void optimizer; }
  /** Called with the checkpoint dict before it is written; may add keys. */
  onSaveCheckpoint(trainer: Trainer, module: LightningModule, checkpoint: Record<string, unknown>): HookResult { void trainer; void module; void checkpoint; }
  onLoadCheckpoint(trainer: Trainer, module: LightningModule, checkpoint: Readonly<Record<string, unknown>>): HookResult { void trainer; void module; void checkpoint; }
  onException(trainer: Trainer, module: LightningModule, error: unknown): HookResult { void trainer; void module; void error; }
}

/**
 * Python's `repr` of a small dict of settings, as Lightning's `_generate_state_key` builds keys.
 * @example pyReprDict({ monitor: null, mode: 'min' }) // "{'monitor': None, 'mode': 'min'}"
 */
export function pyReprDict(values: Readonly<Record<string, string | number | boolean | null>>): string {
  const repr = (v: string | number | boolean | null): string =>
    v === null ? 'None' : typeof v === 'boolean' ? (v ? 'True' : 'False') : typeof v === 'string' ? `'${v}'` : String(v);
  return `{${Object.entries(values).map(([k, v]) => `'${k}': ${repr(v)}`).join(', ')}}`;
}
