/**
 * @module lightning/callback-connector — the callbacks a Trainer runs: the ones given, plus
 * Lightning's defaults (ProgressBar, ModelSummary, ModelCheckpoint), checkpoints last
 * (Lightning's `_CallbackConnector`).
 */
import type { Callback } from './callbacks/callback.ts';
import { ModelCheckpoint } from './callbacks/model-checkpoint.ts';
import { ModelSummary } from './callbacks/model-summary.ts';
import { ProgressBar } from './callbacks/progress-bar.ts';
import { MisconfigurationError } from './errors.ts';
import type { ResolvedTrainerOptions } from './trainer-options.ts';

/**
 * The given callbacks with the defaults the options turn on, ModelCheckpoints moved last so
 * they save what the other callbacks and the module have done.
 * @example configureCallbacks(resolveTrainerOptions({})).map((c) => c.constructor.name) // ['ProgressBar', 'ModelSummary', 'ModelCheckpoint']
 */
export function configureCallbacks(o: ResolvedTrainerOptions): Callback[] {
  const cbs = [...o.callbacks];
  if (o.enableProgressBar && !cbs.some((c) => c instanceof ProgressBar)) cbs.push(new ProgressBar());
  if (!o.enableProgressBar) for (const c of cbs) if (c instanceof ProgressBar) c.disable();
  if (o.enableModelSummary && !cbs.some((c) => c instanceof ModelSummary)) cbs.push(new ModelSummary());
  if (o.enableCheckpointing && o.fastDevRun === 0 && !cbs.some((c) => c instanceof ModelCheckpoint))
    cbs.push(new ModelCheckpoint());
  if (!o.enableCheckpointing && cbs.some((c) => c instanceof ModelCheckpoint)) {
    throw new MisconfigurationError(
      'Trainer: enableCheckpointing is false but a ModelCheckpoint was passed in callbacks; expected one or the other, got both',
    );
  }
  return [...cbs.filter((c) => !(c instanceof ModelCheckpoint)), ...cbs.filter((c) => c instanceof ModelCheckpoint)];
}
