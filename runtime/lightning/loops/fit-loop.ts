/**
 * @module lightning/loops/fit-loop — epochs, training batches, optimizer steps and validation
 * checks, as plain async functions over the Trainer's progress record.
 *
 * Each training step (fetching the batch included) runs in one async `tidy` scope, so what
 * the step made is freed when it ends; gradients, optimizer state and logged values are
 * kept. Nothing is read back per step: the loss goes to the progress bar's window and
 * logged values stay tensors until a flush (every `logEveryNSteps`, a redraw, an epoch end).
 */
import { defaultGenerator } from '../../random.ts';
import { tidy } from '../../memory.ts';
import { Tensor } from '../../tensor/index.ts';
import type { Optimizer } from '../../optim/optimizer.ts';
import { MisconfigurationError } from '../errors.ts';
import { internalsOf, type LightningModule } from '../module.ts';
import { clipGradNorm_, clipGradValue_, normalizeOptimizers } from '../optimizers.ts';
import type { Loader } from '../datamodule.ts';
import type { HookDispatcher } from '../hook-dispatcher.ts';
import type { Trainer } from '../trainer.ts';
import { iterate, runEvaluation } from './evaluation-loop.ts';
import { DataLoader } from '../../data/dataloader.ts';
import { DistributedSampler } from '../../data/distributed-sampler.ts';

/** Stop bits the DDP ranks agree on after each batch: a callback asked to stop, or maxTime passed. */
const STOP_ASKED = 1;
const TIME_UP = 2;

/** The loss a training step returned, checked. */
function extractLoss(module: LightningModule, out: unknown): Tensor | null {
  if (out === null) return null;
  const name = module.constructor.name;
  const loss =
    out instanceof Tensor
      ? out
      : typeof out === 'object' && out !== undefined && 'loss' in out
        ? (out as { loss: unknown }).loss
        : undefined;
  if (out === undefined) {
    throw new MisconfigurationError(
      `${name}.trainingStep: returned nothing; expected a scalar loss tensor or { loss } (return null to skip the batch), got undefined`,
    );
  }
  if (!(loss instanceof Tensor)) {
    throw new MisconfigurationError(
      `${name}.trainingStep: returned no loss; expected a scalar loss tensor or { loss: Tensor }, got ${typeof out === 'object' ? `an object with keys ${Object.keys(out as object).join(', ')}` : typeof out}`,
    );
  }
  if (loss.numel() !== 1) {
    throw new MisconfigurationError(
      `${name}.trainingStep: the loss is not a scalar; expected a one-element tensor, got shape [${loss.shape.join(', ')}]`,
    );
  }
  if (!loss.requiresGrad) {
    throw new MisconfigurationError(
      `${name}.trainingStep: the loss does not require grad; expected a loss computed from the parameters, got a tensor outside the graph`,
    );
  }
  return loss;
}

/** Whether validation runs after training batch `batchIdx` (Lightning's `_should_check_val_fx`). */
function shouldValidate(trainer: Trainer, batchIdx: number, isLast: boolean): boolean {
  if (!trainer.validationEnabled) return false;
  if ((trainer.currentEpoch + 1) % trainer.options.checkValEveryNEpoch !== 0) return false;
  const interval = trainer.valCheckBatch;
  if (!Number.isFinite(interval)) return isLast;
  return (batchIdx + 1) % interval === 0 || (isLast && trainer.options.valCheckInterval === null);
}

async function stepSchedulers(trainer: Trainer, interval: 'step' | 'epoch'): Promise<void> {
  for (const c of trainer.lrSchedulerConfigs) {
    if (c.interval !== interval) continue;
    const count = interval === 'step' ? trainer.globalStep : trainer.currentEpoch + 1;
    const due = count % c.frequency === 0;
    if (c.reduceOnPlateau) {
      // An epoch scheduler's monitor is checked at every epoch end, due or not, so a misspelt
      // name fails after the first epoch's validation rather than at the first due step.
      if (!due && interval === 'step') continue;
      await trainer.loggerConnector.refreshMetrics();
      const v = trainer.callbackMetrics[c.monitor!];
      if (v === undefined) {
        if (!c.strict) continue;
        throw new MisconfigurationError(
          `ReduceLROnPlateau: monitor '${c.monitor}' was never logged; expected one of the logged metrics (${Object.keys(trainer.callbackMetrics).join(', ') || 'none'}), got '${c.monitor}' (log it with this.log('${c.monitor}', value), fix lrScheduler.monitor, or set lrScheduler.strict: false)`,
        );
      }
      if (due) c.scheduler.step(v);
    } else if (due) {
      c.scheduler.step();
    }
  }
}

async function optimizerStep(trainer: Trainer, hooks: HookDispatcher, optimizer: Optimizer): Promise<void> {
  // 16-mixed: the hooks and clipping see unscaled gradients (Lightning's MixedPrecision.optimizer_step).
  trainer.precisionPlugin.unscaleGradients(optimizer);
  if (hooks.used.beforeOptimizerStep) await hooks.onBeforeOptimizerStep(optimizer);
  const clip = trainer.options.gradientClipVal;
  if (clip !== null && clip > 0) {
    const params = optimizer.paramGroups.flatMap((g) => g.params);
    if (trainer.options.gradientClipAlgorithm === 'norm') clipGradNorm_(params, clip);
    else clipGradValue_(params, clip);
  }
  const stepped = trainer.precisionPlugin.step(optimizer);
  if (stepped !== undefined) await stepped;
  if (hooks.used.beforeZeroGrad) await hooks.onBeforeZeroGrad(optimizer);
  optimizer.zeroGrad();
}

/**
 * One training epoch: batches, steps, logging, mid-epoch validation and checkpoints.
 * @example await runTrainingEpoch(trainer, model, trainLoader, valLoader)
 */
export async function runTrainingEpoch(
  trainer: Trainer,
  module: LightningModule,
  train: Loader,
  val: Loader | null,
): Promise<void> {
  const p = trainer.progress;
  const internals = internalsOf(module);
  const total = trainer.numTrainingBatches;
  const accumulate = trainer.options.accumulateGradBatches;
  const resumeAt = p.batchesInEpoch;
  const hooks = trainer.hooks;
  const logs = trainer.loggerConnector;
  // A mid-epoch resume replays the epoch's shuffle, skips what was done, then restores the RNG.
  const rngNow = defaultGenerator.getState();
  if (resumeAt > 0 && p.epochStartRng !== null) defaultGenerator.setState(p.epochStartRng);
  else p.epochStartRng = defaultGenerator.getState();
  const it = iterate(train);
  try {
    for (let i = 0; i < resumeAt; i++) {
      await tidy(async () => {
        await it.next();
      });
    }
    if (resumeAt > 0) defaultGenerator.setState(rngNow);
    let batchIdx = resumeAt;
    while (batchIdx < total) {
      // Ctrl-C stops here (lightning/interrupt.ts), after the last batch's checkpoints.
      const pause = trainer.interrupt?.boundary();
      if (pause !== undefined) await pause;
      if (trainer.maxStepsReached()) break;
      if (
        trainer.strategy === null &&
        trainer.options.maxTime !== null &&
        trainer.now() - trainer.startTime >= trainer.options.maxTime
      ) {
        trainer.shouldStop = true;
        break;
      }
      const isLast = batchIdx + 1 >= total;
      const stop = await tidy(async (): Promise<boolean> => {
        const r = await it.next();
        if (r.done === true) return true;
        const moved = trainer.transferBatch(r.value);
        const batch = moved instanceof Promise ? await moved : moved;
        trainer.isLastBatch = isLast;
        const startRes = hooks.used.trainBatchStart ? await hooks.onTrainBatchStart(batch, batchIdx) : undefined;
        // -1 ends the epoch here (Lightning's); under DDP a rank that returns it ends every rank's,
        // so the ranks stay in step (one more agreement a batch, only where the hook is defined).
        if (hooks.used.trainBatchStart && trainer.strategy !== null) {
          if ((await trainer.strategy.agree(startRes === -1 ? 1 : 0)) !== 0) return true;
        } else if (startRes === -1) return true;
        let outputs: unknown;
        if (module.automaticOptimization) {
          const optimizer = trainer.optimizers[0];
          if (optimizer === undefined)
            throw new MisconfigurationError(
              `${module.constructor.name}.configureOptimizers: returned no optimizer; expected one for automatic optimization, got none`,
            );
          internals.context = { stage: 'train', hook: 'trainingStep', results: trainer.results, batch };
          try {
            outputs = await trainer.precisionPlugin.forward(() => module.trainingStep(batch, batchIdx));
          } finally {
            internals.context = null;
          }
          const loss = extractLoss(module, outputs);
          const synced = trainer.syncLogged();
          if (synced !== undefined) await synced;
          const boundary = (batchIdx + 1) % accumulate === 0 || isLast;
          const ddp = trainer.strategy;
          if (loss !== null) {
            logs.recordLoss(loss);
            const scaled = accumulate > 1 ? loss.div(accumulate) : loss;
            if (hooks.used.beforeBackward) await hooks.onBeforeBackward(scaled, batch);
            trainer.precisionPlugin.scaleLoss(scaled).backward();
            if (hooks.used.afterBackward) await hooks.onAfterBackward(batch);
          }
          // DDP: every rank averages its gradients at the boundary (as DDP's no_sync between
          // accumulation steps), before unscaling and clipping, so that inf checks and clipping
          // see the same gradients on every rank; a rank whose step returned null still takes part.
          let stepped = loss !== null;
          if (boundary && ddp !== null)
            stepped = await ddp.reduceGradients(optimizer.paramGroups.flatMap((g) => g.params));
          if (boundary && stepped) {
            await optimizerStep(trainer, hooks, optimizer);
            p.optimizerSteps++;
            await stepSchedulers(trainer, 'step');
          }
          if (boundary && stepped) logs.advanceSteppedBatches();
        } else {
          internals.context = { stage: 'train', hook: 'trainingStep', results: trainer.results, batch };
          const before = trainer.optimizers.map((o) => stepCount(o));
          try {
            outputs = await trainer.precisionPlugin.forward(() => module.trainingStep(batch, batchIdx));
          } finally {
            internals.context = null;
          }
          const synced = trainer.syncLogged();
          if (synced !== undefined) await synced;
          const stepped = trainer.optimizers.reduce((n, o, k) => n + (stepCount(o) - before[k]!), 0);
          p.optimizerSteps += stepped;
          if (outputs instanceof Tensor) logs.recordLoss(outputs);
          logs.advanceSteppedBatches();
        }
        p.batchesInEpoch++;
        p.batchesTotal++;
        p.isLastBatch = isLast;
        if (hooks.used.trainBatchEnd) await hooks.onTrainBatchEnd(outputs, batch, batchIdx);
        const syncedAfter = trainer.syncLogged();
        if (syncedAfter !== undefined) await syncedAfter;
        return false;
      });
      const due = logs.writeDueStepMetrics();
      if (due !== undefined) await due;
      if (stop) break;
      if (val !== null && shouldValidate(trainer, batchIdx, isLast)) {
        await runEvaluation(trainer, module, val, 'validation', trainer.numValBatches[0] ?? 0);
        module.train();
      }
      batchIdx++;
      const asked = trainer.shouldStop && trainer.currentEpoch + 1 >= trainer.options.minEpochs;
      if (trainer.strategy !== null) {
        // Every rank stops at the same batch: a stop asked on any rank (or its clock) stops all.
        const o = trainer.options;
        const late = o.maxTime !== null && trainer.now() - trainer.startTime >= o.maxTime;
        const agreed = await trainer.strategy.agree((asked ? STOP_ASKED : 0) | (late ? TIME_UP : 0));
        if (agreed !== 0) {
          trainer.shouldStop = true;
          break;
        }
      } else if (asked) break;
    }
  } finally {
    await it.return?.();
  }
}

/** Counts optimizer steps in manual optimization by watching each state's `step`. */
function stepCount(o: Optimizer): number {
  const counter = STEP_COUNTS.get(o);
  return counter?.() ?? 0;
}
const STEP_COUNTS = new WeakMap<Optimizer, () => number>();

/**
 * Wraps `optimizer.step` so manual optimization counts toward the global step.
 * @example countSteps(opt)
 */
export function countSteps(o: Optimizer): void {
  if (STEP_COUNTS.has(o)) return;
  let n = 0;
  const step = o.step.bind(o);
  o.step = ((closure?: () => unknown) => {
    n++;
    return step(closure);
  }) as Optimizer['step'];
  STEP_COUNTS.set(o, () => n);
}

/**
 * The module's optimizers and LR schedulers, on the trainer and the module (Lightning's
 * `_init_optimizers`); under manual optimization each optimizer counts its own steps.
 * @example await setupOptimizers(trainer, model); trainer.optimizers.length // 1
 */
export async function setupOptimizers(trainer: Trainer, module: LightningModule): Promise<void> {
  const { optimizers, schedulers } = normalizeOptimizers(await module.configureOptimizers());
  trainer.optimizers = optimizers;
  trainer.lrSchedulerConfigs = schedulers;
  const internals = internalsOf(module);
  internals.optimizers = optimizers;
  internals.schedulers = schedulers.map((s) => s.scheduler);
  if (!module.automaticOptimization) for (const o of optimizers) countSteps(o);
}

/**
 * Epochs until a limit or a stop: Lightning's fit loop.
 * @example await runFitLoop(trainer, model, trainLoader, valLoader)
 */
export async function runFitLoop(
  trainer: Trainer,
  module: LightningModule,
  train: Loader,
  val: Loader | null,
): Promise<void> {
  const p = trainer.progress;
  const o = trainer.options;
  const start = trainer.startTime;
  const hooks = trainer.hooks;
  const logs = trainer.loggerConnector;
  // A checkpoint taken at an epoch's end resumes at the next epoch.
  if (p.batchesInEpoch > 0 && p.batchesInEpoch >= trainer.numTrainingBatches) {
    p.epochsCompleted = Math.max(p.epochsCompleted, p.epoch + 1);
    p.epoch++;
    p.batchesInEpoch = 0;
    p.isLastBatch = false;
  }
  while (true) {
    if (o.maxEpochs !== -1 && p.epoch >= o.maxEpochs) break;
    if (trainer.maxStepsReached()) break;
    let asked = trainer.shouldStop && p.epoch >= o.minEpochs;
    let late = o.maxTime !== null && trainer.now() - start >= o.maxTime;
    if (trainer.strategy !== null) {
      const agreed = await trainer.strategy.agree((asked ? STOP_ASKED : 0) | (late ? TIME_UP : 0));
      asked = (agreed & STOP_ASKED) !== 0 && p.epoch >= o.minEpochs;
      late = (agreed & TIME_UP) !== 0;
    }
    if (asked || late) break;
    if (train instanceof DataLoader && train.sampler instanceof DistributedSampler) train.sampler.setEpoch(p.epoch);
    trainer.shouldStop = false;
    trainer.results.reset('train');
    module.train();
    logs.resetSmoothing();
    await hooks.onTrainEpochStart();
    await runTrainingEpoch(trainer, module, train, val);
    // Callbacks, then the module's epoch-end hook; then epoch metrics are logged and epoch
    // schedulers step; then the monitoring callbacks (checkpoints see the stepped schedulers).
    await logs.refreshMetrics();
    logs.publishEpochMetrics('train');
    await hooks.onTrainEpochEnd(async () => {
      const synced = trainer.syncLogged();
      if (synced !== undefined) await synced;
      await logs.refreshMetrics();
      const after = logs.publishEpochMetrics('train');
      if (Object.keys(after).length > 0)
        await logs.logMetrics({ ...after, epoch: trainer.currentEpoch }, p.batchesThatStepped - 1);
      await stepSchedulers(trainer, 'epoch');
    });
    p.epochsCompleted = p.epoch + 1;
    p.epoch++;
    p.batchesInEpoch = 0;
    p.isLastBatch = false;
    p.epochStartRng = null;
  }
}
