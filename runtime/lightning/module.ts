/**
 * @module lightning/module — `LightningModule`: a model plus its training recipe, as Lightning's.
 *
 * A subclass defines `trainingStep` and `configureOptimizers` (and, as it likes, the
 * validation/test/predict steps and hooks); the Trainer does the rest. `this.log` records
 * values with Lightning's semantics; they stay device tensors until the Trainer reads them.
 */
import type { Optimizer } from '../optim/optimizer.ts';
import { Module } from '../nn/module.ts';
import { Tensor } from '../tensor/index.ts';
import type { Logger } from './loggers/logger.ts';
import { MisconfigurationError } from './errors.ts';
import { inferBatchSize, type LogOptions, type LogStage, type ResultCollection } from './results.ts';
import type { Trainer } from './trainer.ts';
import type { OptimizersConfig, SchedulerLike } from './optimizers.ts';
import { loadModuleFromCheckpoint, type LoadFromCheckpointOptions } from './checkpoint.ts';
import type { ModuleHooks } from './hooks.ts';

/** What a training step may return: the loss, `{ loss, ...extra }`, or null to skip the batch. */
export type TrainingStepOutput = Tensor | { readonly loss: Tensor; readonly [key: string]: unknown } | null;

/** Where `log` calls go while a hook runs. @internal */
export interface LogContext {
  readonly stage: LogStage;
  readonly hook: string;
  readonly results: ResultCollection;
  readonly batch: unknown;
  batchSize?: number;
}

/** @internal What the Trainer attaches to a module. */
export interface ModuleInternals {
  trainer: Trainer | null;
  hparams: Record<string, unknown>;
  context: LogContext | null;
  optimizers: Optimizer[];
  schedulers: SchedulerLike[];
}

const INTERNALS = new WeakMap<LightningModule, ModuleInternals>();

/** @internal The module's Trainer-side state (kept out of the module's fields, so it never reaches `stateDict`). */
export function internalsOf(m: LightningModule): ModuleInternals {
  let s = INTERNALS.get(m);
  if (s === undefined) {
    s = { trainer: null, hparams: {}, context: null, optimizers: [], schedulers: [] };
    INTERNALS.set(m, s);
  }
  return s;
}

const TRAIN_STEP_HOOKS = new Set([
  'trainingStep',
  'onTrainBatchStart',
  'onTrainBatchEnd',
  'onBeforeBackward',
  'onAfterBackward',
  'onBeforeOptimizerStep',
  'onBeforeZeroGrad',
]);

/** Lightning's defaults per hook: training steps log on step, everything else on epoch. */
function defaultsFor(ctx: LogContext): { onStep: boolean; onEpoch: boolean } {
  if (ctx.stage === 'train' && TRAIN_STEP_HOOKS.has(ctx.hook)) return { onStep: true, onEpoch: false };
  return { onStep: false, onEpoch: true };
}

// The class merges with this interface, so each hook (onTrainEpochEnd, onValidationBatchEnd, ...)
// is an optional method a subclass defines with `override`; the Trainer calls only those defined.
export interface LightningModule extends ModuleHooks {}

/**
 * The base of a Lightning model: an `nn.Module` with step methods, optimizers and hooks.
 * @example
 * class LitAutoEncoder extends LightningModule {
 *   encoder = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
 *   decoder = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 784));
 *   override trainingStep([x]: [Tensor, Tensor]) {
 *     x = x.view(x.size(0), -1);
 *     const loss = F.mseLoss(this.decoder.forward(this.encoder.forward(x)), x);
 *     this.log('train_loss', loss);
 *     return loss;
 *   }
 *   override configureOptimizers() { return new optim.Adam(this.parameters(), { lr: 1e-3 }); }
 * }
 */
export class LightningModule extends Module {
  /** false: `trainingStep` calls `optimizers()`, `manualBackward` and `step` itself (default true). */
  automaticOptimization = true;

  // ------------------------------------------------------------- steps

  /** Inference: what the module computes for an input. */
  forward(..._args: unknown[]): unknown {
    throw new MisconfigurationError(
      `${this.constructor.name}.forward: not defined; expected a forward(x) method in the subclass, got none`,
    );
  }

  /** One training step; returns the loss (or `{ loss }`, or null to skip the batch). */
  trainingStep(
    _batch: unknown,
    _batchIdx: number,
  ): TrainingStepOutput | Promise<TrainingStepOutput> | void | Promise<void> {
    throw new MisconfigurationError(
      `${this.constructor.name}.trainingStep: not defined; expected a trainingStep(batch, batchIdx) method, got none`,
    );
  }

  /** One validation step (optional; validation runs only when it is defined). */
  validationStep(_batch: unknown, _batchIdx: number): unknown {
    return undefined;
  }

  /** One test step. */
  testStep(_batch: unknown, _batchIdx: number): unknown {
    throw new MisconfigurationError(
      `${this.constructor.name}.testStep: not defined; expected a testStep(batch, batchIdx) method for trainer.test, got none`,
    );
  }

  /** One prediction step (default: `forward(batch)`, as Lightning). */
  predictStep(batch: unknown, _batchIdx: number): unknown {
    return this.forward(batch);
  }

  /** The optimizers and schedulers, in any of Lightning's forms (see OptimizersConfig). */
  configureOptimizers(): OptimizersConfig | Promise<OptimizersConfig> {
    throw new MisconfigurationError(
      `${this.constructor.name}.configureOptimizers: not defined; expected a configureOptimizers() method returning an optimizer, got none`,
    );
  }

  // ------------------------------------------------------------- trainer state

  /** The Trainer running this module; throws when there is none. */
  get trainer(): Trainer {
    const t = internalsOf(this).trainer;
    if (t === null) {
      throw new MisconfigurationError(
        `${this.constructor.name}.trainer: not attached to a Trainer; expected a call from inside trainer.fit/validate/test/predict, got none`,
      );
    }
    return t;
  }

  /** The epoch the Trainer is in (0 when not attached). */
  get currentEpoch(): number {
    return internalsOf(this).trainer?.currentEpoch ?? 0;
  }

  /** Optimizer steps taken so far (0 when not attached). */
  get globalStep(): number {
    return internalsOf(this).trainer?.globalStep ?? 0;
  }

  /** The Trainer's first logger, or null. */
  get logger(): Logger | null {
    return internalsOf(this).trainer?.logger ?? null;
  }

  /** The hyperparameters given to `saveHyperparameters` (stored in checkpoints). */
  get hparams(): Record<string, unknown> {
    return internalsOf(this).hparams;
  }

  /**
   * Stores hyperparameters: they go into checkpoints (`hyper_parameters`) and the loggers, and
   * `loadFromCheckpoint` passes them back to the constructor.
   * @example constructor(hp: { hidden: number }) { super(); this.saveHyperparameters(hp); }
   */
  saveHyperparameters(hparams: Readonly<Record<string, unknown>> = {}): void {
    if (typeof hparams !== 'object' || hparams === null || Array.isArray(hparams)) {
      throw new MisconfigurationError(
        `${this.constructor.name}.saveHyperparameters: expected a plain object of hyperparameters, got ${Array.isArray(hparams) ? 'an array' : typeof hparams}`,
      );
    }
    Object.assign(internalsOf(this).hparams, hparams);
  }

  /**
   * The optimizers from `configureOptimizers`: one, or a list when there are several (for manual optimization).
   * @example const opt = this.optimizers() as Optimizer; opt.zeroGrad(); this.manualBackward(loss); opt.step();
   */
  optimizers(): Optimizer | Optimizer[] {
    const opts = internalsOf(this).optimizers;
    return opts.length === 1 ? opts[0]! : [...opts];
  }

  /** The LR schedulers from `configureOptimizers`: one, a list, or null when none. */
  lrSchedulers(): SchedulerLike | SchedulerLike[] | null {
    const s = internalsOf(this).schedulers;
    return s.length === 0 ? null : s.length === 1 ? s[0]! : [...s];
  }

  /**
   * `loss.backward()` with the backward hooks, for manual optimization.
   * @example this.manualBackward(loss)
   */
  manualBackward(loss: Tensor): void {
    if (!(loss instanceof Tensor)) {
      throw new MisconfigurationError(
        `${this.constructor.name}.manualBackward: expected a scalar loss Tensor, got ${typeof loss}`,
      );
    }
    this.onBeforeBackward?.(loss);
    loss.backward();
    // DDP averages the gradients of every optimizer's parameters here, as torch DDP does in backward.
    const ddp = internalsOf(this).trainer?.strategy ?? null;
    if (ddp?.running === true)
      ddp.reduceGradientsSync(internalsOf(this).optimizers.flatMap((o) => o.paramGroups.flatMap((g) => g.params)));
    this.onAfterBackward?.();
  }

  // ------------------------------------------------------------- logging

  /**
   * Records a scalar with Lightning's semantics. In `trainingStep` it defaults to onStep; in
   * validation and test steps to onEpoch (a mean weighted by batch size). With both, the keys
   * get `_step` and `_epoch` suffixes. Tensors are not read back here.
   * @example this.log('val_loss', loss, { progBar: true })
   */
  log(name: string, value: Tensor | number, options: LogOptions = {}): void {
    const ctx = internalsOf(this).context;
    if (typeof name !== 'string' || name === '') {
      throw new MisconfigurationError(`log: invalid name; expected a non-empty string, got ${JSON.stringify(name)}`);
    }
    if (ctx === null) {
      throw new MisconfigurationError(
        `log: '${name}' logged outside a Trainer hook; expected a call from a step or hook run by the Trainer, got none running`,
      );
    }
    if (ctx.stage === 'predict') {
      throw new MisconfigurationError(
        `log: '${name}' logged in ${ctx.hook}; expected logging in training, validation or test hooks, got a predict hook`,
      );
    }
    const d = defaultsFor(ctx);
    const onStep = options.onStep ?? d.onStep;
    const onEpoch = options.onEpoch ?? d.onEpoch;
    if (ctx.stage === 'train' && !TRAIN_STEP_HOOKS.has(ctx.hook) && onStep) {
      throw new MisconfigurationError(
        `log: '${name}' in ${ctx.hook} cannot use onStep; expected onStep: false in an epoch hook, got onStep: true`,
      );
    }
    if (!onStep && !onEpoch) return;
    ctx.results.log(
      ctx.stage,
      name,
      value,
      { ...options, onStep, onEpoch },
      () => (ctx.batchSize ??= inferBatchSize(ctx.batch)),
    );
  }

  /**
   * `log` for each entry of `values`, with the same options.
   * @example this.logDict({ val_loss: loss, val_acc: acc })
   */
  logDict(values: Readonly<Record<string, Tensor | number>>, options: LogOptions = {}): void {
    for (const [k, v] of Object.entries(values)) this.log(k, v, options);
  }

  // ------------------------------------------------------------- checkpoints

  /**
   * Builds the subclass from a checkpoint: the constructor gets the saved hyperparameters
   * (merged with `overrides`), then the weights are loaded.
   * @example const model = await LitAutoEncoder.loadFromCheckpoint('lightning_logs/version_0/checkpoints/epoch=0-step=313.ckpt');
   */
  static async loadFromCheckpoint<T extends LightningModule>(
    this: new (
      hparams: Record<string, unknown>,
    ) => T,
    path: string,
    overrides: Readonly<Record<string, unknown>> = {},
    options: LoadFromCheckpointOptions = {},
  ): Promise<T> {
    return loadModuleFromCheckpoint(this, path, overrides, options);
  }
}

/**
 * Whether `module` overrides `method` of LightningModule (Lightning's `is_overridden`).
 * @example isOverridden(model, 'validationStep') // true when the subclass defines it
 */
export function isOverridden(module: LightningModule, method: keyof LightningModule): boolean {
  return module[method] !== LightningModule.prototype[method];
}
