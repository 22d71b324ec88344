/**
 * @module lightning/loops/batch-limits — how many batches each loop runs, from the loader
 * lengths and the `limit*Batches`, `fastDevRun`, `overfitBatches` and `valCheckInterval` options.
 */
import type { Loader } from '../datamodule.ts';
import { MisconfigurationError } from '../errors.ts';
import { limitBatches, type ResolvedTrainerOptions } from '../trainer-options.ts';

/** What fit runs per epoch. */
export interface FitBatchLimits {
  /** Training batches per epoch. */
  readonly numTrainingBatches: number;
  /** Validation batches per run, per loader (empty without validation). */
  readonly numValBatches: number[];
  /** Validate every this many training batches (Infinity: at epoch end). */
  readonly valCheckBatch: number;
}

/**
 * A loader's batch count, or Infinity for an iterable without `length`.
 * @example loaderLength(new DataLoader(ds, { batchSize: 32 })) // Math.ceil(ds.length / 32)
 */
export function loaderLength(loader: Loader): number {
  return typeof loader.length === 'number' ? loader.length : Infinity;
}

/**
 * Lightning's fit limits: `fastDevRun` overrides `overfitBatches`, which overrides the
 * `limit*Batches`; a whole-number `valCheckInterval` counts batches, a fraction a share of the epoch.
 * @example fitBatchLimits(trainer.options, trainLoader, null).numTrainingBatches
 */
export function fitBatchLimits(o: ResolvedTrainerOptions, train: Loader, val: Loader | null): FitBatchLimits {
  const trainLimit = o.fastDevRun > 0 ? o.fastDevRun : o.overfitBatches > 0 ? o.overfitBatches : o.limitTrainBatches;
  const numTrainingBatches = limitBatches(loaderLength(train), trainLimit);
  const valLimit = o.fastDevRun > 0 ? o.fastDevRun : o.overfitBatches > 0 ? o.overfitBatches : o.limitValBatches;
  const numValBatches = val === null ? [] : [limitBatches(loaderLength(val), valLimit)];
  return { numTrainingBatches, numValBatches, valCheckBatch: valCheckBatch(o, numTrainingBatches) };
}

function valCheckBatch(o: ResolvedTrainerOptions, numTrainingBatches: number): number {
  const vci = o.fastDevRun > 0 ? null : o.valCheckInterval;
  if (vci === null) return Infinity;
  if (vci === 1) return 1;
  if (Number.isInteger(vci)) {
    if (vci > numTrainingBatches) {
      throw new MisconfigurationError(
        `Trainer: valCheckInterval (${vci}) must be at most the number of training batches; expected <= ${numTrainingBatches}, got ${vci}`,
      );
    }
    return vci;
  }
  return Number.isFinite(numTrainingBatches) ? Math.max(1, Math.floor(numTrainingBatches * vci)) : Infinity;
}

/**
 * Batches one validate, test or predict run takes from `loader` (`fastDevRun` overrides the limit).
 * @example evalBatchLimit(trainer.options, 'test', testLoader)
 */
export function evalBatchLimit(
  o: ResolvedTrainerOptions,
  stage: 'validate' | 'test' | 'predict',
  loader: Loader,
): number {
  const limit =
    o.fastDevRun > 0
      ? o.fastDevRun
      : stage === 'test'
        ? o.limitTestBatches
        : stage === 'predict'
          ? o.limitPredictBatches
          : o.limitValBatches;
  return limitBatches(loaderLength(loader), limit);
}
