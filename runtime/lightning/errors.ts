/**
 * @module lightning/errors — the typed errors of the Lightning layer.
 *
 * Messages follow the project format: `<component>: <what is wrong>; expected <x>, got <y>`.
 */
import { LightningError } from '../errors.ts';

/**
 * A Trainer option, a `log` call, a step's output or a callback set up in a way that cannot work
 * (Lightning's `MisconfigurationError`).
 * @example try { new Trainer({ gpus: 1 } as never); } catch (e) { e instanceof MisconfigurationError; } // true
 */
export class MisconfigurationError extends LightningError {}

/**
 * An option whose capability arrives in a later release (WebGPU, DDP, mixed precision).
 * @example new Trainer({ accelerator: 'webgpu' }) // throws NotAvailableYetError
 */
export class NotAvailableYetError extends MisconfigurationError {}

/**
 * A second fit/validate/test/predict started while another Trainer's run is in progress in the
 * same process: grad mode (autograd's `noGrad`) and the default random generator are
 * process-wide, so two interleaved runs would change each other's results; the run already in
 * progress goes on unaffected.
 * @example await Promise.all([t1.fit(a, data), t2.fit(b, data)]) // the second rejects with ConcurrentRunError
 */
export class ConcurrentRunError extends MisconfigurationError {}

/**
 * fit/validate/test/predict stopped by an interrupt (Ctrl-C: SIGINT in Node and Deno), as a
 * Lightning user expects of a KeyboardInterrupt: the run stopped at a batch boundary on every
 * rank and took the exception path (state 'interrupted', callbacks' `onException`, loggers
 * finalized as failed). The message says where (epoch, global step). Checkpoints are written
 * to a temporary name and renamed, so the last one written is whole: resume fit from it.
 * @example try { await trainer.fit(model, loader); } catch (e) { if (e instanceof InterruptedError) console.log(e.message); }
 */
export class InterruptedError extends LightningError {}

/**
 * A checkpoint that is missing, truncated, not a checkpoint, or does not fit the model.
 * @example await LitModel.loadFromCheckpoint('notes.txt') // throws CheckpointError
 */
export class CheckpointError extends LightningError {}

/**
 * A monitored metric became NaN or infinite while EarlyStopping's `checkFinite` is on: training
 * diverged. The message names the metric and the usual remedies.
 * @example new EarlyStopping({ monitor: 'val_loss' }) // with val_loss = NaN, fit rejects with NonFiniteMetricError
 */
export class NonFiniteMetricError extends LightningError {}

/**
 * A data-parallel (`strategy: 'ddp'`) run failed on another rank, lost a worker, or its ranks
 * disagreed; `rank` names the rank at fault (-1 when none is known). The run ends on every rank.
 * @example try { await trainer.fit(model, loader); } catch (e) { if (e instanceof DistributedError) e.rank; }
 */
export class DistributedError extends LightningError {
  readonly rank: number;
  constructor(message: string, options: { readonly rank?: number; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.rank = options.rank ?? -1;
  }
}

/**
 * A DDP worker could not be started or could not load the script (a REPL or `node -e` has no
 * script file to re-run; the script threw at import in the worker).
 * @example new Trainer({ strategy: 'ddp', devices: 2 }).fit(model, loader) // from `node -e`: WorkerStartError
 */
export class WorkerStartError extends DistributedError {}
