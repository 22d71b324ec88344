/**
 * @module lightning/trainer — `Trainer`: fit, validate, test and predict a LightningModule.
 *
 * Options are checked in `trainer-options.ts`; the loops are plain async functions in
 * `loops/`; this class holds the run's state (progress record, metrics, callbacks, loggers,
 * optimizers) and the entry points.
 */
import type { Optimizer } from '../optim/optimizer.ts';
import { noGrad } from '../autograd.ts';
import { defaultGenerator } from '../random.ts';
import { getPlatform } from '../platform.ts';
import { keep } from '../memory.ts';
import { Tensor } from '../tensor/index.ts';
import { TensorBoardLogger } from './loggers/tensorboard.ts';
import type { Logger, LoggerStatus } from './loggers/logger.ts';
import { Callback, type Stage } from './callbacks/callback.ts';
import { ModelCheckpoint } from './callbacks/model-checkpoint.ts';
import { EarlyStopping } from './callbacks/early-stopping.ts';
import { ProgressBar } from './callbacks/progress-bar.ts';
import { ModelSummary } from './callbacks/model-summary.ts';
import { CheckpointError, MisconfigurationError } from './errors.ts';
import { LightningModule, internalsOf, isOverridden } from './module.ts';
import type { LightningDataModule, Loader } from './datamodule.ts';
import { normalizeOptimizers, type LRSchedulerConfig } from './optimizers.ts';
import { ResultCollection, type LogStage } from './results.ts';
import { limitBatches, resolveTrainerOptions, type ResolvedTrainerOptions, type TrainerOptions } from './trainer-options.ts';
import { LIGHTNING_VERSION, readCheckpoint, stateDictOf, writeCheckpoint, type CheckpointDict } from './checkpoint.ts';
import { fitProgressFromState, loopsStateDict, newFitProgress, type FitProgress } from './loops/progress.ts';
import { countSteps, runFitLoop } from './loops/fit-loop.ts';
import { Precision } from './precision.ts';
import { chooseAccelerator, moveBatch, type AcceleratorChoice } from './accelerator.ts';
import type { Backend } from '../backend.ts';
import { NotAvailableYetError } from './errors.ts';
import { iterate, runEvaluation } from './loops/evaluation-loop.ts';

/** Options of `fit` beyond the loaders. */
export interface FitOptions {
  readonly datamodule?: LightningDataModule;
  /** Resume from a checkpoint: a path, 'last' or 'best'. */
  readonly ckptPath?: string | null;
}

/** Options of `validate`, `test` and `predict`. */
export interface EvalOptions {
  readonly datamodule?: LightningDataModule;
  /** Load these weights first: a path, or 'best'/'last' of this Trainer's ModelCheckpoint. */
  readonly ckptPath?: string | null;
}

/** Options of `callHook`. @internal */
interface HookOptions {
  readonly stage?: LogStage;
  readonly moduleHook?: string;
  readonly batch?: unknown;
  /** true: only ModelCheckpoint/EarlyStopping; false: all but them. */
  readonly monitoring?: boolean;
  /** Runs after the module's hook, before the monitoring callbacks. */
  readonly between?: () => Promise<void>;
}

const SMOOTHING_WINDOW = 20;

function isMonitoring(cb: Callback): boolean {
  return cb instanceof ModelCheckpoint || cb instanceof EarlyStopping;
}

function loaderLength(loader: Loader): number {
  const n = (loader as { length?: unknown }).length;
  if (typeof n === 'number') return n;
  return Infinity;
}

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
  loggers: Logger[] = [];
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
  state: { fn: Stage | null; status: 'initializing' | 'running' | 'finished' | 'interrupted' } = { fn: null, status: 'initializing' };
  /** Where the fit loop is (saved in checkpoints). */
  progress: FitProgress = newFitProgress();
  /** Logged values of the current run. @internal */
  readonly results = new ResultCollection();
  /** When fit started (platform ms). @internal */
  startTime = 0;
  /** The checkpoint fit resumed from, if any. */
  ckptPath: string | null = null;
  #lossWindow: number[] = [];
  /** A ProgressBar is among the callbacks (looked up once per entry point, not per step). */
  #hasProgressBar = false;
  #pendingLosses: Tensor[] = [];
  #hasValidation = false;
  /** What `precision` does at each point of a step (autocast, loss scaling, 16-bit weights). */
  readonly precisionPlugin: Precision;
  #accelerator: AcceleratorChoice | null = null;
  /** Set once the accelerator's device is lost. */
  #lost: Error | null = null;

  constructor(options: TrainerOptions = {}) {
    this.options = resolveTrainerOptions(options);
    const o = this.options;
    this.precisionPlugin = new Precision(o.precision);
    const cbs = [...o.callbacks];
    if (o.enableProgressBar && !cbs.some((c) => c instanceof ProgressBar)) cbs.push(new ProgressBar());
    if (!o.enableProgressBar) for (const c of cbs) if (c instanceof ProgressBar) c.disable();
    if (o.enableModelSummary && !cbs.some((c) => c instanceof ModelSummary)) cbs.push(new ModelSummary());
    if (o.enableCheckpointing && o.fastDevRun === 0 && !cbs.some((c) => c instanceof ModelCheckpoint)) cbs.push(new ModelCheckpoint());
    if (!o.enableCheckpointing && cbs.some((c) => c instanceof ModelCheckpoint)) {
      throw new MisconfigurationError('Trainer: enableCheckpointing is false but a ModelCheckpoint was passed in callbacks; expected one or the other, got both');
    }
    this.callbacks = [...cbs.filter((c) => !(c instanceof ModelCheckpoint)), ...cbs.filter((c) => c instanceof ModelCheckpoint)];
    if (o.fastDevRun === 0) {
      if (o.logger === true) this.loggers = [new TensorBoardLogger({ saveDir: o.defaultRootDir })];
      else if (Array.isArray(o.logger)) this.loggers = [...(o.logger as Logger[])];
    }
  }

  // ------------------------------------------------------------------ views

  /** The epoch being run. */
  get currentEpoch(): number { return this.progress.epoch; }
  /** Optimizer steps taken. */
  get globalStep(): number { return this.progress.optimizerSteps; }
  get maxEpochs(): number { return this.options.maxEpochs; }
  get maxSteps(): number { return this.options.maxSteps; }
  /** The first logger, or null. */
  get logger(): Logger | null { return this.loggers[0] ?? null; }
  /** The first ModelCheckpoint, or null. */
  get checkpointCallback(): ModelCheckpoint | null { return this.checkpointCallbacks[0] ?? null; }
  get checkpointCallbacks(): ModelCheckpoint[] { return this.callbacks.filter((c): c is ModelCheckpoint => c instanceof ModelCheckpoint); }
  get earlyStoppingCallback(): EarlyStopping | null { return this.callbacks.find((c): c is EarlyStopping => c instanceof EarlyStopping) ?? null; }
  get progressBarCallback(): ProgressBar | null { return this.callbacks.find((c): c is ProgressBar => c instanceof ProgressBar) ?? null; }
  /** Validation runs during fit (a val loader and a validationStep). */
  get validationEnabled(): boolean { return this.#hasValidation; }
  /** The run's folder: the first logger's `logDir` (resolved at fit start), else `defaultRootDir`. */
  get logDir(): string {
    const l = this.logger;
    if (l === null) return this.options.defaultRootDir;
    try { return l.logDir; } catch { return this.options.defaultRootDir; }
  }
  /** The running mean of the last 20 training losses (as read at the last refresh), or null. */
  get smoothedLoss(): number | null {
    if (this.#lossWindow.length === 0) return null;
    return this.#lossWindow.reduce((a, b) => a + b, 0) / this.#lossWindow.length;
  }

  /** The precision setting in use, as Lightning's `trainer.precision` (e.g. '16-mixed'). */
  get precision(): string { return this.options.precision; }
  /** The backend the model runs on (chosen by `accelerator` at the first fit/validate/test/predict), or null before. */
  get rootBackend(): Backend | null { return this.#accelerator?.backend ?? null; }
  /** The accelerator in use: 'cpu', 'webgpu' or a given backend's name (null before the first run). */
  get acceleratorName(): string | null { return this.#accelerator?.name ?? null; }
  /** The WebGPU adapter in use (e.g. 'NVIDIA H100 80GB HBM3 / nvidia'), '' for the cpu or a given backend. */
  get acceleratorDescription(): string { return this.#accelerator?.description ?? ''; }

  /**
   * @internal The batch with its tensors on the model's backend (Lightning's
   * transfer_batch_to_device); the batch itself, not a promise, when nothing moves.
   */
  transferBatch(batch: unknown): unknown {
    const a = this.#accelerator;
    if (this.#lost !== null) throw this.#lost;
    const moved = a === null ? batch : moveBatch(batch, a.backend);
    if (!this.precisionPlugin.trueHalf) return moved;
    return moved instanceof Promise ? moved.then((b) => this.precisionPlugin.convertInput(b)) : this.precisionPlugin.convertInput(moved);
  }

  /** @internal */
  now(): number { return getPlatform().now(); }
  /** @internal */
  maxStepsReached(): boolean { return this.options.maxSteps !== -1 && this.globalStep >= this.options.maxSteps; }

  // ------------------------------------------------------------- internals

  /** @internal Keeps the step's loss for the progress bar's smoothed value (read at the next refresh). */
  recordLoss(loss: Tensor): void {
    if (!this.options.enableProgressBar || !this.#hasProgressBar) return;
    this.#pendingLosses.push(keep(loss.detach()));
    if (this.#pendingLosses.length > SMOOTHING_WINDOW) this.#pendingLosses.shift()!.dispose();
  }

  /** @internal */
  resetSmoothing(): void {
    this.#lossWindow = [];
  }

  /** @internal Counts a stepped batch; every `logEveryNSteps` marks step metrics due for the loggers. */
  advanceSteppedBatches(): void {
    const s = this.progress.batchesThatStepped;
    this.progress.batchesThatStepped = s + 1;
    if ((s + 1) % this.options.logEveryNSteps === 0 && this.loggers.length > 0) this.#logDue = s;
  }
  #logDue: number | null = null;

  /**
   * @internal Writes due step metrics (after the step's scope closed): the only per-step
   * readback, every logEveryNSteps. Returns a promise only when something is due.
   */
  writeDueStepMetrics(): Promise<void> | void {
    const s = this.#logDue;
    if (s === null) return;
    this.#logDue = null;
    return this.#writeStepMetrics(s);
  }

  async #writeStepMetrics(s: number): Promise<void> {
    await this.results.flush();
    const views = this.results.stepMetrics('train', true);
    if (Object.keys(views.logger).length > 0) await this.logToLoggers({ ...views.logger, epoch: this.currentEpoch }, s);
  }

  /** @internal Reads back what was logged since the last refresh and updates the metric views. */
  async refreshMetrics(): Promise<void> {
    await this.results.flush();
    const views = this.results.stepMetrics('train');
    Object.assign(this.callbackMetrics, views.callback);
    Object.assign(this.progressBarMetrics, views.progBar);
    const pending = this.#pendingLosses;
    this.#pendingLosses = [];
    for (const t of pending) {
      this.#lossWindow.push(Number((await t.data())[0]));
      t.dispose();
    }
    if (this.#lossWindow.length > SMOOTHING_WINDOW) this.#lossWindow = this.#lossWindow.slice(-SMOOTHING_WINDOW);
  }

  /** @internal Copies `stage`'s epoch values into the views; returns what goes to the loggers. */
  publishEpochMetrics(stage: LogStage): Record<string, number> {
    const v = this.results.epochMetrics(stage);
    Object.assign(this.callbackMetrics, v.callback);
    Object.assign(this.progressBarMetrics, v.progBar);
    return v.logger;
  }

  /** @internal Sends metrics to every logger. */
  async logToLoggers(metrics: Record<string, number>, step: number): Promise<void> {
    Object.assign(this.loggedMetrics, metrics);
    for (const l of this.loggers) await l.logMetrics(metrics, step);
  }

  /** Per hook name: the callbacks that override it, split into [others, monitoring]. Rebuilt at each entry point. */
  #hookTable = new Map<string, [Callback[], Callback[]]>();

  #overriders(name: string): [Callback[], Callback[]] {
    let entry = this.#hookTable.get(name);
    if (entry === undefined) {
      const base = (Callback.prototype as unknown as Record<string, unknown>)[name];
      const with_ = this.callbacks.filter((c) => {
        const fn = (c as unknown as Record<string, unknown>)[name];
        return typeof fn === 'function' && fn !== base;
      });
      entry = [with_.filter((c) => !isMonitoring(c)), with_.filter(isMonitoring)];
      this.#hookTable.set(name, entry);
    }
    return entry;
  }

  /**
   * @internal Whether calling hook `name` would run anything: a callback overriding it, or the
   * module overriding `moduleHook`. The training loop skips unused per-step hooks with it, so
   * a step costs no async call, promise or options object per hook (bench/trainer.mjs).
   */
  hookUsed(name: string, moduleHook?: string): boolean {
    const key = moduleHook === undefined ? name : `${name}|${moduleHook}`;
    let used = this.#hookUsed.get(key);
    if (used === undefined) {
      const [others, monitoring] = this.#overriders(name);
      const module = this.lightningModule as unknown as Record<string, unknown> | null;
      used = others.length > 0 || monitoring.length > 0
        || (moduleHook !== undefined && module !== null && module[moduleHook] !== (LightningModule.prototype as unknown as Record<string, unknown>)[moduleHook]);
      this.#hookUsed.set(key, used);
    }
    return used;
  }
  #hookUsed = new Map<string, boolean>();

  /**
   * @internal Calls a hook on callbacks (non-monitoring), the module, then monitoring callbacks;
   * returns the module's result. Callbacks that keep the base no-op are skipped, and only
   * promises are awaited, so an unused hook costs nothing per step.
   */
  async callHook(name: string, args: readonly unknown[], opts: HookOptions = {}): Promise<unknown> {
    const module = this.lightningModule!;
    const [others, monitoring] = this.#overriders(name);
    if (opts.monitoring !== true) {
      for (const cb of others) {
        const r = ((cb as unknown as Record<string, unknown>)[name] as (...a: unknown[]) => unknown).call(cb, this, module, ...args);
        if (r instanceof Promise) await r;
      }
    }
    let result: unknown;
    if (opts.moduleHook !== undefined && opts.monitoring !== true) {
      const fn = (module as unknown as Record<string, unknown>)[opts.moduleHook];
      const base = (LightningModule.prototype as unknown as Record<string, unknown>)[opts.moduleHook];
      if (typeof fn === 'function' && fn !== base) {
        const internals = internalsOf(module);
        const prev = internals.context;
        internals.context = opts.stage === undefined ? null : { stage: opts.stage, hook: opts.moduleHook, results: this.results, batch: opts.batch };
        try {
          result = (fn as (...a: unknown[]) => unknown).apply(module, [...args]);
          if (result instanceof Promise) result = await result;
        } finally {
          internals.context = prev;
        }
      }
    }
    if (opts.between !== undefined) await opts.between();
    if (opts.monitoring !== false) {
      for (const cb of monitoring) {
        const r = ((cb as unknown as Record<string, unknown>)[name] as (...a: unknown[]) => unknown).call(cb, this, module, ...args);
        if (r instanceof Promise) await r;
      }
    }
    return result;
  }

  /** @internal Calls a hook on every callback only. */
  async callCallbacks(name: string, args: readonly unknown[]): Promise<void> {
    await this.callHook(name, args, {});
  }

  async #setupLoggers(): Promise<void> {
    for (const l of this.loggers) await l.resolveVersion();
  }

  #attach(model: LightningModule): void {
    this.#hookTable.clear();
    this.#hookUsed.clear();
    this.#hasProgressBar = this.progressBarCallback !== null;
    if (typeof model?.trainingStep !== 'function' || typeof model.configureOptimizers !== 'function') {
      throw new MisconfigurationError(`Trainer: not a LightningModule; expected an instance of a LightningModule subclass, got ${model === null ? 'null' : typeof model}`);
    }
    this.lightningModule = model;
    internalsOf(model).trainer = this;
    if (this.options.deterministic) checkDeterministicKernels(model);
  }

  /**
   * Picks the backend (once per Trainer), moves the model's parameters and buffers there and,
   * for the true-half precisions, rounds them to 16-bit values. Runs before configureOptimizers.
   */
  async #setupAccelerator(model: LightningModule): Promise<void> {
    if (this.#accelerator === null) {
      const o = this.options;
      let choice = await chooseAccelerator(o);
      if (choice.name === 'cpu') {
        // cpu: leave a model built on a synchronous backend where it is.
        const first = model.parameters()[0];
        if (first !== undefined && first.backend.capabilities.syncReadback) choice = { ...choice, backend: first.backend };
      }
      this.#accelerator = choice;
      choice.lost?.then((e) => { this.#lost = e; }, () => undefined);
    }
    await model.toBackend(this.#accelerator.backend);
    this.precisionPlugin.roundParameters(model.parameters());
  }

  async #configureOptimizers(model: LightningModule): Promise<void> {
    const { optimizers, schedulers } = normalizeOptimizers(await model.configureOptimizers());
    this.optimizers = optimizers;
    this.lrSchedulerConfigs = schedulers;
    internalsOf(model).optimizers = optimizers;
    internalsOf(model).schedulers = schedulers.map((s) => s.scheduler);
    if (!model.automaticOptimization) for (const o of optimizers) countSteps(o);
  }

  // ------------------------------------------------------------- checkpoints

  /**
   * The checkpoint dict of the current state, with Lightning's keys.
   * @example const ckpt = await trainer.dumpCheckpoint(); ckpt['global_step'] // 313
   */
  async dumpCheckpoint(weightsOnly = false): Promise<CheckpointDict> {
    const model = this.lightningModule;
    if (model === null) throw new MisconfigurationError('Trainer.saveCheckpoint: no model attached; expected a call during or after fit, got none');
    const ckpt: CheckpointDict = {
      epoch: this.currentEpoch,
      global_step: this.globalStep,
      'pytorch-lightning_version': LIGHTNING_VERSION,
      state_dict: this.precisionPlugin.checkpointWeights(model.stateDict()),
      loops: loopsStateDict(this.progress),
    };
    if (!weightsOnly) {
      const callbacks: Record<string, unknown> = {};
      for (const cb of this.callbacks) {
        const s = cb.stateDict();
        if (Object.keys(s).length > 0 || cb instanceof ModelCheckpoint || cb instanceof EarlyStopping) callbacks[cb.stateKey] = s;
      }
      ckpt['callbacks'] = callbacks;
      ckpt['optimizer_states'] = this.optimizers.map((o) => {
        const sd = o.stateDict();
        return { state: new Map(Object.entries(sd.state).map(([k, v]) => [Number(k), v])), param_groups: sd.param_groups };
      });
      ckpt['lr_schedulers'] = this.lrSchedulerConfigs.map((c) => c.scheduler.stateDict());
      // Lightning 2: the precision plugin's state under its class name ('MixedPrecision'), when it has any.
      const prec = this.precisionPlugin.checkpointState();
      if (prec !== null) ckpt[prec[0]] = prec[1];
      ckpt['rng_state'] = { ...defaultGenerator.getState() };
    }
    const hp = model.hparams;
    if (Object.keys(hp).length > 0) {
      ckpt['hparams_name'] = 'kwargs';
      ckpt['hyper_parameters'] = { ...hp };
    }
    if (this.datamodule !== null) {
      const s = this.datamodule.stateDict();
      if (Object.keys(s).length > 0) ckpt[this.datamodule.constructor.name] = s;
    }
    await this.callHook('onSaveCheckpoint', [ckpt], { moduleHook: 'onSaveCheckpoint' });
    return ckpt;
  }

  /**
   * Writes a checkpoint of the current state to `path` (atomically).
   * @example await trainer.saveCheckpoint('manual.ckpt')
   */
  async saveCheckpoint(path: string, weightsOnly = false): Promise<void> {
    const ckpt = await this.dumpCheckpoint(weightsOnly);
    await writeCheckpoint(path, ckpt);
  }

  #resolveCkptPath(ckptPath: string): string {
    if (ckptPath !== 'best' && ckptPath !== 'last') return ckptPath;
    const cb = this.checkpointCallback;
    const p = cb?.resolveCkptPath(ckptPath) ?? '';
    if (p === '') {
      if (ckptPath === 'last' && cb !== null && cb.dirpath !== null) return `${cb.dirpath}/last.ckpt`;
      throw new CheckpointError(`Trainer: ckptPath '${ckptPath}' has no checkpoint to point to; expected a ModelCheckpoint that saved one${ckptPath === 'last' ? ' (saveLast: true)' : ' (with a monitor)'}, got none`);
    }
    return p;
  }

  async #restore(model: LightningModule, path: string, full: boolean): Promise<void> {
    // Straight onto the model's backend (writes are synchronous everywhere), so loading never
    // needs a synchronous read of another backend's tensors.
    const target = this.#accelerator?.backend;
    const ckpt = await readCheckpoint(path, target === undefined ? {} : { backend: target });
    await this.callHook('onLoadCheckpoint', [ckpt], { moduleHook: 'onLoadCheckpoint' });
    const sd = stateDictOf(ckpt, path);
    try {
      model.loadStateDict(sd);
    } catch (e) {
      throw new CheckpointError(`Trainer: checkpoint '${path}' does not fit ${model.constructor.name}; expected its weights, got: ${(e as Error).message}`, { cause: e });
    } finally {
      for (const t of sd.values()) t.dispose();
    }
    this.precisionPlugin.roundParameters(model.parameters());
    if (!full) return;
    this.precisionPlugin.loadCheckpointState(ckpt);
    const opt = ckpt['optimizer_states'];
    if (!Array.isArray(opt)) throw new CheckpointError(`Trainer: checkpoint '${path}' has no optimizer_states (saved weights-only?); expected a full checkpoint to resume from, got keys ${Object.keys(ckpt).join(', ')}`);
    if (opt.length !== this.optimizers.length) throw new CheckpointError(`Trainer: checkpoint '${path}' has ${opt.length} optimizer states; expected ${this.optimizers.length} (one per optimizer), got ${opt.length}`);
    // torch >= 1.12 saves Adam's `step` as a 0-d tensor; read it here, asynchronously.
    for (const s of opt as { state?: Record<string, Record<string, unknown>> }[]) {
      for (const st of Object.values(s?.state ?? {})) {
        const step = st['step'];
        if (step instanceof Tensor && step.numel() === 1) {
          st['step'] = await step.item();
          step.dispose();
        }
      }
    }
    this.optimizers.forEach((o, i) => {
      const s = opt[i] as { state: Record<string, Record<string, unknown>>; param_groups: Record<string, unknown>[] };
      o.loadStateDict(s as never);
      for (const st of Object.values(s.state)) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
    });
    const sch = ckpt['lr_schedulers'];
    if (Array.isArray(sch)) this.lrSchedulerConfigs.forEach((c, i) => { if (sch[i] !== undefined) c.scheduler.loadStateDict(sch[i] as Record<string, unknown>); });
    const cbs = ckpt['callbacks'];
    if (typeof cbs === 'object' && cbs !== null) {
      for (const cb of this.callbacks) {
        const s = (cbs as Record<string, unknown>)[cb.stateKey];
        if (typeof s === 'object' && s !== null) cb.loadStateDict(s as Record<string, unknown>);
      }
    }
    this.progress = fitProgressFromState(ckpt['loops'], Number(ckpt['epoch'] ?? 0), Number(ckpt['global_step'] ?? 0));
    const rng = ckpt['rng_state'] as { seed?: unknown; offset?: unknown } | undefined;
    if (rng !== undefined && typeof rng.seed === 'number' && typeof rng.offset === 'number') defaultGenerator.setState({ seed: rng.seed, offset: rng.offset });
    if (this.datamodule !== null) {
      const s = ckpt[this.datamodule.constructor.name];
      if (typeof s === 'object' && s !== null) this.datamodule.loadStateDict(s as Record<string, unknown>);
    }
  }

  // ------------------------------------------------------------- entry points

  /**
   * Trains `model`: sanity check, epochs of training with validation, checkpoints and logs.
   * @example await new Trainer({ maxEpochs: 5 }).fit(model, trainLoader, valLoader, { ckptPath: 'last' })
   */
  async fit(model: LightningModule, trainLoader?: Loader | null, valLoader?: Loader | null, options: FitOptions = {}): Promise<void> {
    this.#attach(model);
    this.state = { fn: 'fit', status: 'running' };
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
      throw new MisconfigurationError('Trainer.fit: no training data; expected a train loader or a datamodule with trainDataloader(), got none');
    }
    const o = this.options;
    let val: Loader | null = valLoader ?? null;
    if (o.overfitBatches > 0) val = trainLoader;
    this.#hasValidation = val !== null && isOverridden(model, 'validationStep') && o.limitValBatches !== 0;
    const trainLen = loaderLength(trainLoader);
    const trainLimit = o.fastDevRun > 0 ? o.fastDevRun : o.overfitBatches > 0 ? o.overfitBatches : o.limitTrainBatches;
    this.numTrainingBatches = limitBatches(trainLen, trainLimit);
    if (this.#hasValidation) {
      const valLimit = o.fastDevRun > 0 ? o.fastDevRun : o.overfitBatches > 0 ? o.overfitBatches : o.limitValBatches;
      this.numValBatches = [limitBatches(loaderLength(val!), valLimit)];
    } else {
      this.numValBatches = [];
    }
    const vci = o.fastDevRun > 0 ? null : o.valCheckInterval;
    if (vci === null || vci === 1) this.valCheckBatch = vci === 1 && Number.isInteger(vci) ? 1 : Infinity;
    else if (Number.isInteger(vci)) {
      if (vci > this.numTrainingBatches) {
        throw new MisconfigurationError(`Trainer: valCheckInterval (${vci}) must be at most the number of training batches; expected <= ${this.numTrainingBatches}, got ${vci}`);
      }
      this.valCheckBatch = vci;
    } else {
      this.valCheckBatch = Number.isFinite(this.numTrainingBatches) ? Math.max(1, Math.floor(this.numTrainingBatches * vci)) : Infinity;
    }

    let status: LoggerStatus = 'success';
    try {
      await this.#setupLoggers();
      for (const cb of this.callbacks) await cb.setup(this, model, 'fit');
      if (!model.automaticOptimization && (this.precisionPlugin.scaler !== null || this.precisionPlugin.trueHalf)) {
        throw new NotAvailableYetError(`Trainer: precision '${o.precision}' with manual optimization is not available yet (the loss scaling and 16-bit weight rounding hook into the automatic optimizer step); expected automaticOptimization or precision '32-true' / 'bf16-mixed', got manual optimization with '${o.precision}'`);
      }
      await this.#setupAccelerator(model);
      await this.#configureOptimizers(model);
      if (options.ckptPath !== undefined && options.ckptPath !== null) {
        const path = this.#resolveCkptPath(options.ckptPath);
        this.ckptPath = path;
        await this.#restore(model, path, true);
      }
      if (Object.keys(model.hparams).length > 0) for (const l of this.loggers) await l.logHyperparams(model.hparams);
      await this.callHook('onFitStart', [], { moduleHook: 'onFitStart' });
      const sanity = o.numSanityValSteps;
      if (this.#hasValidation && sanity !== 0) {
        this.sanityChecking = true;
        await this.callHook('onSanityCheckStart', []);
        await runEvaluation(this, model, val!, 'validation', sanity === -1 ? this.numValBatches[0]! : Math.min(sanity, this.numValBatches[0]!));
        this.sanityChecking = false;
        await this.callHook('onSanityCheckEnd', []);
      }
      await this.callHook('onTrainStart', [], { moduleHook: 'onTrainStart' });
      await runFitLoop(this, model, trainLoader, this.#hasValidation ? val : null);
      await this.callHook('onTrainEnd', [], { moduleHook: 'onTrainEnd' });
      await this.callHook('onFitEnd', [], { moduleHook: 'onFitEnd' });
      this.state = { fn: 'fit', status: 'finished' };
    } catch (e) {
      status = 'failed';
      this.state = { fn: 'fit', status: 'interrupted' };
      for (const cb of this.callbacks) await cb.onException(this, model, e);
      throw e;
    } finally {
      this.sanityChecking = false;
      this.training = false;
      for (const l of this.loggers) await l.finalize(status);
      for (const cb of this.callbacks) await cb.teardown(this, model, 'fit');
      if (dm !== null) await dm.teardown('fit');
    }
  }

  async #evaluate(kind: 'validation' | 'test', model: LightningModule | undefined, loader: Loader | null | undefined, options: EvalOptions): Promise<Record<string, number>[]> {
    const m = model ?? this.lightningModule;
    if (m === null || m === undefined) throw new MisconfigurationError(`Trainer.${kind === 'test' ? 'test' : 'validate'}: no model; expected a LightningModule, got none`);
    this.#attach(m);
    const stage: Stage = kind === 'test' ? 'test' : 'validate';
    this.state = { fn: stage, status: 'running' };
    const dm = options.datamodule ?? this.datamodule;
    if (dm !== null && (loader === undefined || loader === null)) {
      await dm.prepareData();
      await dm.setup(stage);
      loader = kind === 'test' ? dm.testDataloader() : dm.valDataloader();
    }
    if (loader === undefined || loader === null) {
      throw new MisconfigurationError(`Trainer.${stage}: no data; expected a loader or a datamodule with ${kind === 'test' ? 'testDataloader' : 'valDataloader'}(), got none`);
    }
    await this.#setupAccelerator(m);
    if (options.ckptPath !== undefined && options.ckptPath !== null) await this.#restore(m, this.#resolveCkptPath(options.ckptPath), false);
    await this.#setupLoggers();
    const limit = this.options.fastDevRun > 0 ? this.options.fastDevRun : kind === 'test' ? this.options.limitTestBatches : this.options.limitValBatches;
    const n = limitBatches(loaderLength(loader), limit);
    if (kind === 'validation') this.numValBatches = [n];
    const metrics = await runEvaluation(this, m, loader, kind, n);
    this.state = { fn: stage, status: 'finished' };
    return [metrics];
  }

  /**
   * Runs the validation loop once; returns the epoch metrics (one dict per loader).
   * @example const [{ val_loss }] = await trainer.validate(model, valLoader)
   */
  validate(model?: LightningModule, loader?: Loader | null, options: EvalOptions = {}): Promise<Record<string, number>[]> {
    return this.#evaluate('validation', model, loader, options);
  }

  /**
   * Runs the test loop once; returns the epoch metrics (one dict per loader).
   * @example const [{ test_loss }] = await trainer.test(model, testLoader)
   */
  test(model?: LightningModule, loader?: Loader | null, options: EvalOptions = {}): Promise<Record<string, number>[]> {
    return this.#evaluate('test', model, loader, options);
  }

  /**
   * Runs `predictStep` over the loader with gradients off; returns each step's output.
   * The outputs are yours to dispose.
   * @example const embeddings = await trainer.predict(model, loader)
   */
  async predict(model?: LightningModule, loader?: Loader | null, options: EvalOptions = {}): Promise<unknown[]> {
    const m = model ?? this.lightningModule;
    if (m === null || m === undefined) throw new MisconfigurationError('Trainer.predict: no model; expected a LightningModule, got none');
    this.#attach(m);
    this.state = { fn: 'predict', status: 'running' };
    const dm = options.datamodule ?? this.datamodule;
    if (dm !== null && (loader === undefined || loader === null)) {
      await dm.prepareData();
      await dm.setup('predict');
      loader = dm.predictDataloader();
    }
    if (loader === undefined || loader === null) throw new MisconfigurationError('Trainer.predict: no data; expected a loader or a datamodule with predictDataloader(), got none');
    await this.#setupAccelerator(m);
    if (options.ckptPath !== undefined && options.ckptPath !== null) await this.#restore(m, this.#resolveCkptPath(options.ckptPath), false);
    const wasTraining = m.training;
    m.eval();
    const n = limitBatches(loaderLength(loader), this.options.fastDevRun > 0 ? this.options.fastDevRun : this.options.limitPredictBatches);
    const out: unknown[] = [];
    await this.callHook('onPredictStart', []);
    const it = iterate(loader);
    try {
      for (let i = 0; i < n; i++) {
        const r = await it.next();
        if (r.done === true) break;
        const batch = await this.transferBatch(r.value);
        const internals = internalsOf(m);
        internals.context = { stage: 'predict', hook: 'predictStep', results: this.results, batch };
        try {
          const y = await noGrad(() => this.precisionPlugin.forward(() => m.predictStep(batch, i)));
          out.push(y);
          await this.callCallbacks('onPredictBatchEnd', [y, batch, i]);
        } finally {
          internals.context = null;
        }
      }
    } finally {
      await it.return?.();
    }
    await this.callHook('onPredictEnd', []);
    m.train(wasTraining);
    this.state = { fn: 'predict', status: 'finished' };
    return out;
  }
}

/**
 * `deterministic: true` promises bitwise-repeatable runs in every runtime, which the
 * relaxed-simd (FMA) kernels do not give. The Trainer cannot move tensors to another
 * backend, so it refuses to start and says how to get the simd128 kernels.
 */
function checkDeterministicKernels(model: LightningModule): void {
  for (const p of model.parameters()) {
    const variant = (p.backend as { readonly variant?: unknown }).variant;
    if (variant === 'relaxed') {
      throw new MisconfigurationError("Trainer: deterministic is true but the model's tensors live on the relaxed-simd wasm kernels, whose FMA results differ across runtimes; expected the simd128 kernels (await init({ deterministic: true }) before building the model), got variant 'relaxed'");
    }
  }
}
