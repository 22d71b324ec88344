/**
 * @module lightning/trainer — `Trainer`: fit, validate, test and predict a LightningModule.
 *
 * This file holds the entry points and the run's state, read top to bottom as Lightning's
 * `_run`. Options are checked in `trainer-options.ts`; hooks are typed in `hooks.ts` and
 * called through `hook-dispatcher.ts`; checkpoints are dumped and restored by
 * `checkpoint-connector.ts`; logged values reach the metric views and loggers through
 * `logger-connector.ts`; the loops are plain async functions in `loops/`.
 */
import type { Optimizer } from '../optim/optimizer.ts';
import type { Backend } from '../backend.ts';
import { getPlatform } from '../platform.ts';
import type { Logger, LoggerStatus } from './loggers/logger.ts';
import type { Callback, Stage } from './callbacks/callback.ts';
import { ModelCheckpoint } from './callbacks/model-checkpoint.ts';
import { EarlyStopping } from './callbacks/early-stopping.ts';
import { ProgressBar } from './callbacks/progress-bar.ts';
import { configureCallbacks } from './callback-connector.ts';
import { MisconfigurationError } from './errors.ts';
import { runAlone } from './run-lock.ts';
import { internalsOf, isOverridden, type LightningModule } from './module.ts';
import type { LightningDataModule, Loader } from './datamodule.ts';
import type { LRSchedulerConfig } from './optimizers.ts';
import { ResultCollection } from './results.ts';
import {
  resolveTrainerOptions,
  type EvalOptions,
  type FitOptions,
  type ResolvedTrainerOptions,
  type TrainerOptions,
} from './trainer-options.ts';
import { writeCheckpoint, type CheckpointDict } from './checkpoint.ts';
import { dumpCheckpoint, resolveCkptPath, restoreCheckpoint } from './checkpoint-connector.ts';
import { HookDispatcher } from './hook-dispatcher.ts';
import { configureLoggers, LoggerConnector } from './logger-connector.ts';
import { Precision } from './precision.ts';
import { AcceleratorConnector, checkDeterministicKernels } from './accelerator.ts';
import { newFitProgress, type FitProgress } from './loops/progress.ts';
import { evalBatchLimit, fitBatchLimits, loaderLength } from './loops/batch-limits.ts';
import { runFitLoop, setupOptimizers } from './loops/fit-loop.ts';
import { runEvaluation } from './loops/evaluation-loop.ts';
import { runPrediction } from './loops/predict-loop.ts';
import { DDPStrategy, layoutEntries, type ModelLayout } from './strategies/ddp.ts';
import { shardLoader, type ShardMode } from './strategies/distributed-loader.ts';
import { defaultGenerator } from '../random.ts';
import { BatchNorm } from '../nn/normalization.ts';
import type { ProcessGroup } from '../nn/functional.ts';
import { runInterruptible, type InterruptWatch } from './interrupt.ts';

export type { EvalOptions, FitOptions } from './trainer-options.ts';

/** The words Lightning's `has_len_all_ranks` and fit loop use when there is nothing to train on. */
const EMPTY_LOADER_WARNING =
  'Total length of `DataLoader` across ranks is zero. Please make sure this was your intention.';
const NO_TRAINING_BATCHES = '`Trainer.fit` stopped: No training batches.';

/**
 * Runs a LightningModule's loops with Lightning's defaults: a progress bar, TensorBoard logs
 * and checkpoints under `lightning_logs/version_N/`.
 * @example
 * const trainer = new Trainer({ maxEpochs: 1 });
 * await trainer.fit(autoencoder, trainLoader);
 */
export class Trainer {
  /** The checked options. */
  readonly options: ResolvedTrainerOptions;
  /** Callbacks in the order they run (checkpoints last, as Lightning orders them). */
  callbacks: Callback[];
  /** The loggers (empty with `logger: false`). */
  loggers: Logger[];
  /** Every metric logged, latest values, for callbacks. */
  callbackMetrics: Record<string, number> = {};
  /** What was sent to the loggers last. */
  loggedMetrics: Record<string, number> = {};
  /** What the progress bar shows. */
  progressBarMetrics: Record<string, number> = {};
  /** Set by callbacks (EarlyStopping) to end fit after this epoch (or batch). */
  shouldStop = false;
  /** The module being run. */
  lightningModule: LightningModule | null = null;
  datamodule: LightningDataModule | null = null;
  optimizers: Optimizer[] = [];
  lrSchedulerConfigs: LRSchedulerConfig[] = [];
  /** Training batches per epoch after limits. */
  numTrainingBatches = Infinity;
  /** Validation batches per run after limits, per loader. */
  numValBatches: number[] = [];
  /** Validate every this many training batches (Infinity: at epoch end). */
  valCheckBatch = Infinity;
  /** The sanity check is running. */
  sanityChecking = false;
  /** fit is running (also during its validation). */
  training = false;
  /** The batch being trained is the epoch's last. */
  isLastBatch = false;
  /** What fit/validate/test/predict is doing. */
  state: { fn: Stage | null; status: 'initializing' | 'running' | 'finished' | 'interrupted' } = {
    fn: null,
    status: 'initializing',
  };
  /** Where the fit loop is (saved in checkpoints). */
  progress: FitProgress = newFitProgress();
  /** Logged values of the current run. @internal */
  readonly results = new ResultCollection();
  /** Moves logged values to the metric views and the loggers. @internal */
  readonly loggerConnector = new LoggerConnector(this);
  /** When fit started (platform ms). @internal */
  startTime = 0;
  /** The checkpoint fit resumed from, if any. */
  ckptPath: string | null = null;
  /** What `precision` does at each point of a step (autocast, loss scaling, 16-bit weights). */
  readonly precisionPlugin: Precision;
  /**
   * The data-parallel pool under `strategy: 'ddp'` with more than one device (null on one
   * device): ranks, collectives and the worker pool (see lightning/strategies/ddp.ts).
   */
  readonly strategy: DDPStrategy | null;
  /** @internal Rank 0's listener for Ctrl-C while an entry point runs (lightning/interrupt.ts), else null. */
  interrupt: InterruptWatch | null = null;
  #hooks: HookDispatcher | null = null;
  /** The BatchNorm layers `syncBatchnorm` synced for this run, with the group each had before. */
  #syncedNorms: [BatchNorm, ProcessGroup | null][] = [];
  #hasValidation = false;
  readonly #accelerator = new AcceleratorConnector();

  constructor(options: TrainerOptions = {}) {
    this.options = resolveTrainerOptions(options);
    this.strategy =
      this.options.strategy === 'ddp' && this.options.devices > 1 ? new DDPStrategy(this.options.devices) : null;
    this.precisionPlugin = new Precision(this.options.precision);
    this.callbacks = configureCallbacks(this.options);
    this.loggers = configureLoggers(this.options);
    // Under DDP only rank 0 draws the progress bar.
    if (!this.isGlobalZero) this.progressBarCallback?.disable();
  }

  // ------------------------------------------------------------------ views

  /** This process's rank (0 in the script's own process, 1..N-1 in the workers DDP starts). */
  get globalRank(): number {
    return this.strategy?.globalRank ?? 0;
  }
  /** The rank on this machine (the same as `globalRank`: one machine). */
  get localRank(): number {
    return this.globalRank;
  }
  /** Always 0: one machine. */
  get nodeRank(): number {
    return 0;
  }
  /** How many ranks train together (`devices`). */
  get worldSize(): number {
    return this.strategy?.worldSize ?? 1;
  }
  /** Whether this is rank 0, the one that logs, checkpoints and draws the progress bar; guard rank-0-only code after fit with it. */
  get isGlobalZero(): boolean {
    return this.globalRank === 0;
  }

  /** The epoch being run. */
  get currentEpoch(): number {
    return this.progress.epoch;
  }
  /** Optimizer steps taken. */
  get globalStep(): number {
    return this.progress.optimizerSteps;
  }
  get maxEpochs(): number {
    return this.options.maxEpochs;
  }
  get maxSteps(): number {
    return this.options.maxSteps;
  }
  /** The first logger, or null. */
  get logger(): Logger | null {
    return this.loggers[0] ?? null;
  }
  /** The first ModelCheckpoint, or null. */
  get checkpointCallback(): ModelCheckpoint | null {
    return this.checkpointCallbacks[0] ?? null;
  }
  get checkpointCallbacks(): ModelCheckpoint[] {
    return this.callbacks.filter((c): c is ModelCheckpoint => c instanceof ModelCheckpoint);
  }
  get earlyStoppingCallback(): EarlyStopping | null {
    return this.callbacks.find((c): c is EarlyStopping => c instanceof EarlyStopping) ?? null;
  }
  get progressBarCallback(): ProgressBar | null {
    return this.callbacks.find((c): c is ProgressBar => c instanceof ProgressBar) ?? null;
  }
  /** Validation runs during fit (a val loader and a validationStep). */
  get validationEnabled(): boolean {
    return this.#hasValidation;
  }
  /** The run's folder: the first logger's `logDir` (resolved at fit start), else `defaultRootDir`. */
  get logDir(): string {
    const l = this.logger;
    if (l === null) return this.options.defaultRootDir;
    try {
      return l.logDir;
    } catch {
      return this.options.defaultRootDir;
    }
  }
  /** The running mean of the last 20 training losses (as read at the last refresh), or null. */
  get smoothedLoss(): number | null {
    return this.loggerConnector.smoothedLoss;
  }
  /** The precision setting in use, as Lightning's `trainer.precision` (e.g. '16-mixed'). */
  get precision(): string {
    return this.options.precision;
  }
  /** The backend the model runs on (chosen by `accelerator` at the first fit/validate/test/predict), or null before. */
  get rootBackend(): Backend | null {
    return this.#accelerator.choice?.backend ?? null;
  }
  /** The accelerator in use: 'cpu', 'webgpu' or a given backend's name (null before the first run). */
  get acceleratorName(): string | null {
    return this.#accelerator.choice?.name ?? null;
  }
  /** The WebGPU adapter in use (e.g. 'NVIDIA H100 80GB HBM3 / nvidia'), '' for the cpu or a given backend. */
  get acceleratorDescription(): string {
    return this.#accelerator.choice?.description ?? '';
  }

  /** @internal The hooks of the current run's callbacks and module. */
  get hooks(): HookDispatcher {
    if (this.#hooks === null)
      throw new MisconfigurationError(
        'Trainer: no model attached; expected a call from inside fit/validate/test/predict, got none',
      );
    return this.#hooks;
  }

  /**
   * @internal The batch with its tensors on the model's backend (Lightning's
   * transfer_batch_to_device); the batch itself, not a promise, when nothing moves.
   */
  transferBatch(batch: unknown): unknown {
    const moved = this.#accelerator.moveBatch(batch);
    if (!this.precisionPlugin.trueHalf) return moved;
    return moved instanceof Promise
      ? moved.then((b) => this.precisionPlugin.convertInput(b))
      : this.precisionPlugin.convertInput(moved);
  }

  /** @internal */
  now(): number {
    return getPlatform().now();
  }
  /** @internal */
  maxStepsReached(): boolean {
    return this.options.maxSteps !== -1 && this.globalStep >= this.options.maxSteps;
  }

  /**
   * The checkpoint dict of the current state, with Lightning's keys.
   * @example const ckpt = await trainer.dumpCheckpoint(); ckpt['global_step'] // 313
   */
  dumpCheckpoint(weightsOnly = false): Promise<CheckpointDict> {
    return dumpCheckpoint(this, weightsOnly);
  }

  /**
   * Writes a checkpoint of the current state to `path` (atomically).
   * @example await trainer.saveCheckpoint('manual.ckpt')
   */
  async saveCheckpoint(path: string, weightsOnly = false): Promise<void> {
    // Under DDP only rank 0 writes (every rank holds the same state).
    if (!this.isGlobalZero) return;
    await writeCheckpoint(path, await dumpCheckpoint(this, weightsOnly));
  }

  // ------------------------------------------------------------- entry points

  /**
   * Trains `model`: sanity check, epochs of training with validation, checkpoints and logs.
   * @example await new Trainer({ maxEpochs: 5 }).fit(model, trainLoader, valLoader, { ckptPath: 'last' })
   */
  async fit(
    model: LightningModule,
    trainLoader?: Loader | null,
    valLoader?: Loader | null,
    options: FitOptions = {},
  ): Promise<void> {
    return runAlone(this, 'fit', () => this.#run(() => this.#fit(model, trainLoader, valLoader, options)));
  }

  async #fit(
    model: LightningModule,
    trainLoader: Loader | null | undefined,
    valLoader: Loader | null | undefined,
    options: FitOptions,
  ): Promise<void> {
    this.#attach(model, 'fit');
    this.training = true;
    this.startTime = this.now();
    const dm = options.datamodule ?? null;
    this.datamodule = dm;
    if (dm !== null) {
      await dm.prepareData();
      await dm.setup('fit');
      trainLoader ??= dm.trainDataloader() ?? null;
      valLoader ??= dm.valDataloader() ?? null;
    }
    if (trainLoader === undefined || trainLoader === null) {
      throw new MisconfigurationError(
        'Trainer.fit: no training data; expected a train loader or a datamodule with trainDataloader(), got none',
      );
    }
    const o = this.options;
    trainLoader = this.#shard(trainLoader, 'train');
    if (valLoader !== undefined && valLoader !== null) valLoader = this.#shard(valLoader, 'eval');
    const givenVal = o.overfitBatches > 0 ? trainLoader : (valLoader ?? null);
    this.#hasValidation = givenVal !== null && isOverridden(model, 'validationStep') && o.limitValBatches !== 0;
    const val = this.#hasValidation ? givenVal : null;
    ({
      numTrainingBatches: this.numTrainingBatches,
      numValBatches: this.numValBatches,
      valCheckBatch: this.valCheckBatch,
    } = fitBatchLimits(o, trainLoader, val));

    let status: LoggerStatus = 'success';
    try {
      await this.#prepare(model, 'fit', options.ckptPath);
      await this.hooks.onFitStart();
      const sanity = o.numSanityValSteps;
      if (val !== null && sanity !== 0) {
        this.sanityChecking = true;
        await this.hooks.onSanityCheckStart();
        const n = this.numValBatches[0] ?? 0;
        await runEvaluation(this, model, val, 'validation', sanity === -1 ? n : Math.min(sanity, n));
        this.sanityChecking = false;
        await this.hooks.onSanityCheckEnd();
      }
      // As Lightning's fit loop: with no training batches it says so and skips training (and so
      // writes no checkpoint); on_train_start/end do not run.
      if (this.numTrainingBatches === 0) {
        if (this.isGlobalZero) {
          if (loaderLength(trainLoader) === 0) console.warn(`lightning-ts: ${EMPTY_LOADER_WARNING}`);
          console.warn(`lightning-ts: ${NO_TRAINING_BATCHES}`);
        }
      } else {
        await this.hooks.onTrainStart();
        await runFitLoop(this, model, trainLoader, val);
        await this.hooks.onTrainEnd();
      }
      await this.hooks.onFitEnd();
      this.state = { fn: 'fit', status: 'finished' };
    } catch (caught) {
      const e = this.interrupt?.errorFor(caught) ?? caught;
      status = 'failed';
      this.state = { fn: 'fit', status: 'interrupted' };
      await this.hooks.onException(e);
      throw e;
    } finally {
      this.sanityChecking = false;
      this.training = false;
      await this.loggerConnector.finalize(status);
      await this.hooks.teardown('fit');
      if (dm !== null) await dm.teardown('fit');
    }
  }

  /**
   * Runs the validation loop once; returns the epoch metrics (one dict per loader).
   * @example const [{ val_loss }] = await trainer.validate(model, valLoader)
   */
  validate(
    model?: LightningModule,
    loader?: Loader | null,
    options: EvalOptions = {},
  ): Promise<Record<string, number>[]> {
    return runAlone(this, 'validate', () =>
      this.#run(async () => {
        const [m, l] = await this.#startEvaluation('validate', model, loader, options);
        const n = evalBatchLimit(this.options, 'validate', l);
        this.numValBatches = [n];
        const metrics = await runEvaluation(this, m, l, 'validation', n);
        this.state = { fn: 'validate', status: 'finished' };
        return [metrics];
      }),
    );
  }

  /**
   * Runs the test loop once; returns the epoch metrics (one dict per loader).
   * @example const [{ test_loss }] = await trainer.test(model, testLoader)
   */
  test(model?: LightningModule, loader?: Loader | null, options: EvalOptions = {}): Promise<Record<string, number>[]> {
    return runAlone(this, 'test', () =>
      this.#run(async () => {
        const [m, l] = await this.#startEvaluation('test', model, loader, options);
        const metrics = await runEvaluation(this, m, l, 'test', evalBatchLimit(this.options, 'test', l));
        this.state = { fn: 'test', status: 'finished' };
        return [metrics];
      }),
    );
  }

  /**
   * Runs `predictStep` over the loader with gradients off; returns each step's output.
   * The outputs are yours to dispose.
   * @example const embeddings = await trainer.predict(model, loader)
   */
  predict(model?: LightningModule, loader?: Loader | null, options: EvalOptions = {}): Promise<unknown[]> {
    return runAlone(this, 'predict', () =>
      this.#run(async () => {
        const [m, l] = await this.#startEvaluation('predict', model, loader, options);
        let out = await runPrediction(this, m, l, evalBatchLimit(this.options, 'predict', l));
        if (this.strategy !== null) out = await this.strategy.gatherPredictions(out, this.rootBackend!);
        this.state = { fn: 'predict', status: 'finished' };
        return out;
      }),
    );
  }

  // ------------------------------------------------------------- the shared start

  /** An entry point's body with Ctrl-C handled (lightning/interrupt.ts), as one DDP run. */
  #run<T>(body: () => Promise<T>): Promise<T> {
    return runInterruptible(this, () => this.#distributed(body));
  }

  /**
   * Runs an entry point's body as one DDP run: the end waits for every rank, and a failure
   * ends the run on every rank (see strategies/ddp.ts). On one device, the body as it is.
   */
  async #distributed<T>(body: () => Promise<T>): Promise<T> {
    const s = this.strategy;
    if (s === null) return body();
    let out: T;
    try {
      out = await body();
    } catch (e) {
      this.#unsyncBatchNorms();
      await s.end(e);
      throw e;
    }
    this.#unsyncBatchNorms();
    await s.end(undefined);
    return out;
  }

  /** Lightning's `sync_batchnorm` (its TorchSyncBatchNorm layer sync): every BatchNorm sums its statistics over the ranks. */
  #syncBatchNorms(model: LightningModule, group: ProcessGroup): void {
    for (const m of model.modules()) {
      if (!(m instanceof BatchNorm)) continue;
      this.#syncedNorms.push([m, m.processGroup]);
      m.processGroup = group;
    }
  }

  /** Undoes {@link #syncBatchNorms} at the end of a run, so the module works alone afterwards. */
  #unsyncBatchNorms(): void {
    for (const [m, before] of this.#syncedNorms.splice(0)) m.processGroup = before;
  }

  /** This rank's share of a loader (the loader itself on one device). */
  #shard(loader: Loader, mode: ShardMode): Loader {
    const s = this.strategy;
    return s === null ? loader : shardLoader(loader, mode, s.globalRank, s.worldSize, defaultGenerator.initialSeed());
  }

  /** @internal Under DDP, replaces every syncDist value logged since the last call by its mean over the ranks. */
  syncLogged(): Promise<void> | undefined {
    const s = this.strategy;
    if (s === null) return undefined;
    return this.results.syncDistributed((v) => s.allReduceMean(v));
  }

  /** Rank 0's logger versions, so that every rank's logDir names rank 0's folder. */
  #loggerVersions(): (number | string | null)[] {
    return this.loggers.map((l) => {
      try {
        return l.version;
      } catch {
        return null;
      }
    });
  }

  /** Attaches `model` to this run, with the hooks of its callbacks, and marks `stage` running. */
  #attach(model: LightningModule, stage: Stage): void {
    if (typeof model?.trainingStep !== 'function' || typeof model.configureOptimizers !== 'function') {
      throw new MisconfigurationError(
        `Trainer: not a LightningModule; expected an instance of a LightningModule subclass, got ${model === null ? 'null' : typeof model}`,
      );
    }
    this.lightningModule = model;
    internalsOf(model).trainer = this;
    this.#hooks = new HookDispatcher(this, model, this.callbacks);
    this.loggerConnector.attach(this.progressBarCallback !== null);
    if (this.options.deterministic) checkDeterministicKernels(model);
    this.state = { fn: stage, status: 'running' };
  }

  /**
   * validate/test/predict: the model (given, else the last one run) and the loader (given,
   * else the datamodule's), then the same preparation as fit.
   */
  async #startEvaluation(
    stage: 'validate' | 'test' | 'predict',
    model: LightningModule | undefined,
    loader: Loader | null | undefined,
    options: EvalOptions,
  ): Promise<[LightningModule, Loader]> {
    const m = model ?? this.lightningModule;
    if (m === null || m === undefined)
      throw new MisconfigurationError(`Trainer.${stage}: no model; expected a LightningModule, got none`);
    this.#attach(m, stage);
    const dm = options.datamodule ?? this.datamodule;
    if (dm !== null && (loader === undefined || loader === null)) {
      await dm.prepareData();
      await dm.setup(stage);
      loader =
        stage === 'test' ? dm.testDataloader() : stage === 'predict' ? dm.predictDataloader() : dm.valDataloader();
    }
    if (loader === undefined || loader === null) {
      const wanted = stage === 'test' ? 'testDataloader' : stage === 'predict' ? 'predictDataloader' : 'valDataloader';
      throw new MisconfigurationError(
        `Trainer.${stage}: no data; expected a loader or a datamodule with ${wanted}(), got none`,
      );
    }
    await this.#prepare(m, stage, options.ckptPath);
    return [m, this.#shard(loader, stage === 'predict' ? 'predict' : 'eval')];
  }

  /**
   * What every entry point does before its loop, in Lightning's `_run` order: loggers, callback
   * setup, accelerator and precision, optimizers, then the checkpoint (all of its state when
   * fit resumes, the weights for the others).
   */
  async #prepare(model: LightningModule, stage: Stage, ckptPath: string | null | undefined): Promise<void> {
    const fitting = stage === 'fit';
    const ddp = this.strategy;
    const layout: ModelLayout = {
      params: model.parameters(),
      buffers: [...model.namedBuffers()].map(([, b]) => b),
      entries: layoutEntries(model.namedParameters(), model.namedBuffers()),
    };
    this.results.distributed = ddp !== null;
    if (stage !== 'predict' && (ddp === null || ddp.isGlobalZero)) await this.loggerConnector.setupLoggers();
    if (ddp !== null) {
      // Every rank takes rank 0's logger versions, so logDir (and checkpoint paths) are rank 0's.
      const versions = await ddp.start(stage, layout, this.#loggerVersions());
      if (!ddp.isGlobalZero) {
        this.loggers.forEach((l, i) => {
          const v = versions[i];
          if (v !== null && v !== undefined) l.adoptVersion?.(v);
        });
        if (stage !== 'predict') await this.loggerConnector.setupLoggers();
      }
    }
    if (fitting) {
      await this.hooks.setup('fit');
      this.precisionPlugin.checkManualOptimization(model.automaticOptimization);
    }
    // The true-half precisions round the moved weights to 16-bit values before the optimizers see them.
    await this.#accelerator.connect(this.options, model);
    this.precisionPlugin.roundParameters(model.parameters());
    if (fitting) await setupOptimizers(this, model);
    if (ckptPath !== undefined && ckptPath !== null) {
      const path = resolveCkptPath(this, ckptPath);
      if (fitting) this.ckptPath = path;
      await restoreCheckpoint(this, model, path, fitting);
    }
    // Rank 0's weights and buffers on every rank before the first step (torch DDP's broadcast).
    if (ddp !== null)
      await ddp.broadcastModule({ params: model.parameters(), buffers: [...model.namedBuffers()].map(([, b]) => b) });
    if (ddp !== null && this.options.syncBatchnorm) this.#syncBatchNorms(model, ddp);
    if (fitting) await this.loggerConnector.logHyperparams(model.hparams);
  }
}
