/**
 * @module lightning/loops/predict-loop — `predictStep` over a loader with gradients off, as one
 * plain async function (Lightning's `_PredictionLoop`).
 *
 * The outputs are kept, so steps do not run in a `tidy` scope: what `predictStep` returns
 * belongs to the caller.
 */
import { noGrad } from '../../autograd.ts';
import { internalsOf, type LightningModule } from '../module.ts';
import type { Loader } from '../datamodule.ts';
import type { Trainer } from '../trainer.ts';
import { iterate } from './evaluation-loop.ts';

/**
 * Runs `maxBatches` of `loader` through `predictStep` in eval mode and returns each step's output.
 * @example const outputs = await runPrediction(trainer, model, loader, 10)
 */
export async function runPrediction(
  trainer: Trainer,
  module: LightningModule,
  loader: Loader,
  maxBatches: number,
): Promise<unknown[]> {
  const hooks = trainer.hooks;
  const wasTraining = module.training;
  module.eval();
  const out: unknown[] = [];
  await hooks.onPredictStart();
  const internals = internalsOf(module);
  const it = iterate(loader);
  try {
    for (let batchIdx = 0; batchIdx < maxBatches; batchIdx++) {
      const pause = trainer.interrupt?.boundary();
      if (pause !== undefined) await pause;
      const r = await it.next();
      if (r.done === true) break;
      const batch = await trainer.transferBatch(r.value);
      internals.context = { stage: 'predict', hook: 'predictStep', results: trainer.results, batch };
      try {
        const y = await noGrad(() => trainer.precisionPlugin.forward(() => module.predictStep(batch, batchIdx)));
        out.push(y);
        await hooks.onPredictBatchEnd(y, batch, batchIdx);
      } finally {
        internals.context = null;
      }
    }
  } finally {
    await it.return?.();
  }
  await hooks.onPredictEnd();
  module.train(wasTraining);
  return out;
}
