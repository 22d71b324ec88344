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
export async function runEvaluation(trainer: Trainer, module: LightningModule, loader: Loader, kind: EvalKind, maxBatches: number): Promise<Record<string, number>> {
  const stage = trainer.sanityChecking ? 'sanity' : kind;
  const results = trainer.results;
  results.reset(stage);
  const wasTraining = module.training;
  module.eval();
  const cap = kind === 'validation' ? 'Validation' : 'Test';
  await trainer.callHook(`on${cap}Start`, []);
  await trainer.callHook(`on${cap}EpochStart`, [], { stage, moduleHook: `on${cap}EpochStart` });
  const internals = internalsOf(module);
  const it = iterate(loader);
  try {
    for (let batchIdx = 0; batchIdx < maxBatches; batchIdx++) {
      let batchRef: unknown;
      const out = await tidy(async () => {
        const r = await it.next();
        if (r.done === true) return { done: true as const };
        const moved = trainer.transferBatch(r.value);
        const batch = moved instanceof Promise ? await moved : moved;
        batchRef = batch;
        internals.context = { stage, hook: kind === 'validation' ? 'validationStep' : 'testStep', results, batch };
        try {
          const step = await noGrad(() => trainer.precisionPlugin.forward(() => (kind === 'validation' ? module.validationStep(batch, batchIdx) : module.testStep(batch, batchIdx))));
          await trainer.callCallbacks(`on${cap}BatchEnd`, [undefined, batch, batchIdx]);
          void step;
        } finally {
          internals.context = null;
        }
        return { done: false as const };
      });
      void batchRef;
      if (out.done) break;
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
  await trainer.callHook(`on${cap}EpochEnd`, [], { stage, moduleHook: `on${cap}EpochEnd` });
  if (stage !== 'sanity') {
    await results.flush();
    const after = results.epochMetrics(stage);
    Object.assign(trainer.callbackMetrics, after.callback);
    Object.assign(trainer.progressBarMetrics, after.progBar);
    Object.assign(epoch.logger, after.logger);
    if (Object.keys(epoch.logger).length > 0) {
      await trainer.logToLoggers({ ...epoch.logger, epoch: trainer.currentEpoch }, trainer.progress.batchesThatStepped);
    }
  }
  await trainer.callHook(`on${cap}End`, []);
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
