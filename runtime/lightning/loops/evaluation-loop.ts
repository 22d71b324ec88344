/**
 * @module lightning/loops/evaluation-loop — validation and test as one plain async function.
 *
 * The module is put in eval mode with gradients off; each step runs in a `tidy` scope that
 * frees what it made (the batch included); logged values are reduced per epoch.
 */
import { noGrad } from '../../autograd.ts';
import { tidy } from '../../memory.ts';
import { internalsOf, type LightningModule } from '../module.ts';
import type { Loader } from '../datamodule.ts';
import type { Trainer } from '../trainer.ts';

/** Which evaluation: validation (also the sanity check) or test. */
export type EvalKind = 'validation' | 'test';

/**
 * Runs `maxBatches` of `loader` through `validationStep` or `testStep`, with the hooks, and
 * returns the epoch metrics logged (the `validate`/`test` result of one dataloader).
 * @example const metrics = await runEvaluation(trainer, model, valLoader, 'validation', 10)
 */
export async function runEvaluation(
  trainer: Trainer,
  module: LightningModule,
  loader: Loader,
  kind: EvalKind,
  maxBatches: number,
): Promise<Record<string, number>> {
  const hooks = trainer.hooks;
  const validating = kind === 'validation';
  const stage = trainer.sanityChecking ? 'sanity' : kind;
  const results = trainer.results;
  results.reset(stage);
  const wasTraining = module.training;
  module.eval();
  if (validating) await hooks.onValidationStart();
  else await hooks.onTestStart();
  if (validating) await hooks.onValidationEpochStart(stage);
  else await hooks.onTestEpochStart(stage);
  const internals = internalsOf(module);
  const it = iterate(loader);
  try {
    for (let batchIdx = 0; batchIdx < maxBatches; batchIdx++) {
      const pause = trainer.interrupt?.boundary();
      if (pause !== undefined) await pause;
      const done = await tidy(async (): Promise<boolean> => {
        const r = await it.next();
        if (r.done === true) return true;
        const moved = trainer.transferBatch(r.value);
        const batch = moved instanceof Promise ? await moved : moved;
        internals.context = { stage, hook: validating ? 'validationStep' : 'testStep', results, batch };
        try {
          const outputs = await noGrad(() =>
            trainer.precisionPlugin.forward(() =>
              validating ? module.validationStep(batch, batchIdx) : module.testStep(batch, batchIdx),
            ),
          );
          if (validating) await hooks.onValidationBatchEnd(stage, outputs, batch, batchIdx);
          else await hooks.onTestBatchEnd(stage, outputs, batch, batchIdx);
          const synced = trainer.syncLogged();
          if (synced !== undefined) await synced;
        } finally {
          internals.context = null;
        }
        return false;
      });
      if (done) break;
    }
  } finally {
    await it.return?.();
  }
  await results.flush();
  const epoch = results.epochMetrics(stage);
  const stepViews = results.stepMetrics(stage);
  if (stage !== 'sanity') {
    Object.assign(trainer.callbackMetrics, stepViews.callback, epoch.callback);
    Object.assign(trainer.progressBarMetrics, epoch.progBar);
  }
  if (validating) await hooks.onValidationEpochEnd(stage);
  else await hooks.onTestEpochEnd(stage);
  const synced = trainer.syncLogged();
  if (synced !== undefined) await synced;
  if (stage !== 'sanity') {
    await results.flush();
    const after = results.epochMetrics(stage);
    Object.assign(trainer.callbackMetrics, after.callback);
    Object.assign(trainer.progressBarMetrics, after.progBar);
    Object.assign(epoch.logger, after.logger);
    if (Object.keys(epoch.logger).length > 0) {
      await trainer.loggerConnector.logMetrics(
        { ...epoch.logger, epoch: trainer.currentEpoch },
        trainer.progress.batchesThatStepped,
      );
    }
  }
  if (validating) await hooks.onValidationEnd();
  else await hooks.onTestEnd();
  module.train(wasTraining);
  return stage === 'sanity' ? {} : { ...epoch.callback };
}

/** An async iterator over any loader (sync or async iterable). */
export function iterate(loader: Loader): AsyncIterator<unknown> {
  if (Symbol.asyncIterator in loader) return (loader as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const sync = (loader as Iterable<unknown>)[Symbol.iterator]();
  return {
    next: () => Promise.resolve(sync.next()),
    return: (v?: unknown) => Promise.resolve(sync.return?.(v) ?? { done: true as const, value: v }),
  };
}
