/**
 * @module lightning/loops/progress — the fit loop's serialisable progress record, and its
 * `loops` entry in checkpoints (Lightning's key layout, our numbers).
 */
import type { GeneratorState } from '../../random.ts';

/** Where the fit loop is; plain data, saved in checkpoints. */
export interface FitProgress {
  /** The epoch being run (or about to run). */
  epoch: number;
  /** Epochs finished. */
  epochsCompleted: number;
  /** Batches finished in the current epoch. */
  batchesInEpoch: number;
  /** Batches finished over the whole run. */
  batchesTotal: number;
  /** Optimizer steps (the global step). */
  optimizerSteps: number;
  /** Lightning's `_batches_that_stepped`: the step the loggers see. */
  batchesThatStepped: number;
  /** The last batch of the epoch has run. */
  isLastBatch: boolean;
  /** The RNG state when the current epoch's loader started (to replay its shuffle on a mid-epoch resume). */
  epochStartRng: GeneratorState | null;
}

/**
 * A fresh record.
 * @example newFitProgress().epoch // 0
 */
export function newFitProgress(): FitProgress {
  return {
    epoch: 0,
    epochsCompleted: 0,
    batchesInEpoch: 0,
    batchesTotal: 0,
    optimizerSteps: 0,
    batchesThatStepped: 0,
    isLastBatch: false,
    epochStartRng: null,
  };
}

function counts(n: number): Record<string, number> {
  return { ready: n, started: n, processed: n, completed: n };
}

function started(n: number): Record<string, number> {
  return { ready: n, started: n, completed: n };
}

function readyCompleted(n: number): Record<string, Record<string, number>> {
  return { total: { ready: n, completed: n }, current: { ready: n, completed: n } };
}

function emptyBatchProgress(): Record<string, unknown> {
  return { total: counts(0), current: counts(0), is_last_batch: false };
}

/**
 * The checkpoint's `loops` dict, keyed as Lightning 2 keys it.
 * @example loopsStateDict(newFitProgress()).fit_loop['epoch_loop.state_dict'] // { _batches_that_stepped: 0 }
 */
export function loopsStateDict(p: FitProgress): {
  fit_loop: Record<string, unknown>;
  validate_loop: Record<string, unknown>;
  test_loop: Record<string, unknown>;
  predict_loop: Record<string, unknown>;
} {
  return {
    fit_loop: {
      state_dict: {},
      epoch_progress: {
        total: { ...counts(p.epoch), completed: p.epochsCompleted },
        current: { ...counts(p.epoch), completed: p.epochsCompleted },
      },
      'epoch_loop.state_dict': { _batches_that_stepped: p.batchesThatStepped },
      'epoch_loop.batch_progress': {
        total: counts(p.batchesTotal),
        current: counts(p.batchesInEpoch),
        is_last_batch: p.isLastBatch,
      },
      'epoch_loop.automatic_optimization.state_dict': {},
      'epoch_loop.automatic_optimization.optim_progress': {
        optimizer: {
          step: readyCompleted(p.optimizerSteps),
          // Lightning zeroes gradients once per optimizer step.
          zero_grad: { total: started(p.optimizerSteps), current: started(p.optimizerSteps) },
        },
      },
      'epoch_loop.manual_optimization.state_dict': {},
      'epoch_loop.manual_optimization.optim_step_progress': readyCompleted(0),
      // Scheduler steps are not counted here; the schedulers' own state (lr_schedulers) restores them.
      'epoch_loop.scheduler_progress': readyCompleted(0),
      'epoch_loop.val_loop.state_dict': {},
      'epoch_loop.val_loop.batch_progress': emptyBatchProgress(),
      'epoch_loop.lightning_ts': {
        epoch_start_rng:
          p.epochStartRng === null ? null : { seed: p.epochStartRng.seed, offset: p.epochStartRng.offset },
      },
    },
    validate_loop: { state_dict: {}, batch_progress: emptyBatchProgress() },
    test_loop: { state_dict: {}, batch_progress: emptyBatchProgress() },
    predict_loop: { state_dict: {}, batch_progress: { total: counts(0), current: counts(0) } },
  };
}

function num(x: unknown, fallback = 0): number {
  return typeof x === 'number' ? x : fallback;
}
function obj(x: unknown): Record<string, unknown> {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
}

/**
 * Reads a `loops` dict back (ours, or a real Lightning checkpoint's fit_loop).
 * @example fitProgressFromState(loopsStateDict(p)).epoch === p.epoch // true
 */
export function fitProgressFromState(loops: unknown, fallbackEpoch = 0, fallbackStep = 0): FitProgress {
  const fit = obj(obj(loops)['fit_loop']);
  const ep = obj(fit['epoch_progress']);
  const bp = obj(fit['epoch_loop.batch_progress']);
  const opt = obj(obj(obj(fit['epoch_loop.automatic_optimization.optim_progress'])['optimizer'])['step']);
  const ours = obj(fit['epoch_loop.lightning_ts']);
  const rng = ours['epoch_start_rng'];
  return {
    epoch: num(obj(ep['current'])['processed'], fallbackEpoch),
    epochsCompleted: num(obj(ep['current'])['completed'], fallbackEpoch),
    batchesInEpoch: num(obj(bp['current'])['completed']),
    batchesTotal: num(obj(bp['total'])['completed']),
    optimizerSteps: num(obj(opt['total'])['completed'], fallbackStep),
    batchesThatStepped: num(obj(fit['epoch_loop.state_dict'])['_batches_that_stepped'], fallbackStep),
    isLastBatch: bp['is_last_batch'] === true,
    epochStartRng:
      rng !== null && typeof rng === 'object' ? { seed: num(obj(rng)['seed']), offset: num(obj(rng)['offset']) } : null,
  };
}
