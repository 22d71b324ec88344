/**
 * @module lightning/trainer-options — every Trainer option, its default, and its validation, in one place.
 *
 * Defaults are Lightning 2's. Unknown options, bad values, flags Lightning 2 removed, and
 * options whose capability arrives later all throw here, before any work starts.
 *
 * Counts versus fractions: Python tells `1` (one batch) from `1.0` (all batches) by type;
 * JavaScript cannot. Here an integer >= 1 is a count of batches, a non-integer in (0, 1) is a
 * fraction, 0 disables, and leaving the option out means "all" (Lightning's `1.0`).
 */
import type { Logger } from './loggers/logger.ts';
import type { Callback } from './callbacks/callback.ts';
import type { LightningDataModule } from './datamodule.ts';
import type { Backend } from '../backend.ts';
import type { GpuRequestOptions } from '../backends/webgpu/device.ts';
import { MisconfigurationError, NotAvailableYetError } from './errors.ts';
import { getPlatform } from '../platform.ts';
import { resolvePrecision, type PrecisionName } from './precision.ts';

/** A batch limit: an integer count, a fraction in (0, 1), or 0 (none). */
export type BatchLimit = number;

/** `maxTime` as Lightning accepts it: `'DD:HH:MM:SS'`, or days/hours/minutes/seconds. */
export type MaxTime =
  | string
  | { readonly days?: number; readonly hours?: number; readonly minutes?: number; readonly seconds?: number };

/** The options of `new Trainer(options)`; every one is optional. */
export interface TrainerOptions {
  /** Stop after this many epochs (default 1000 when neither maxSteps nor maxTime is set, else unlimited; -1: unlimited). */
  readonly maxEpochs?: number | null;
  /** Train at least this many epochs, even when a callback asks to stop (default 0). */
  readonly minEpochs?: number | null;
  /** Stop after this many optimizer steps (default -1: unlimited). */
  readonly maxSteps?: number;
  /** Stop after this wall time. */
  readonly maxTime?: MaxTime | null;
  /** Train batches per epoch: count or fraction (default all). */
  readonly limitTrainBatches?: BatchLimit;
  /** Validation batches per run: count or fraction (default all). */
  readonly limitValBatches?: BatchLimit;
  /** Test batches: count or fraction (default all). */
  readonly limitTestBatches?: BatchLimit;
  /** Predict batches: count or fraction (default all). */
  readonly limitPredictBatches?: BatchLimit;
  /** Train and validate on this many (or this fraction of) training batches (default 0: off). */
  readonly overfitBatches?: BatchLimit;
  /** Run n batches of train/val/test (true: 1) with no logging or checkpoints (default false). */
  readonly fastDevRun?: boolean | number;
  /** Validate every n training batches (integer) or this fraction of an epoch (default once per epoch). */
  readonly valCheckInterval?: number;
  /** Validate every n epochs (default 1). */
  readonly checkValEveryNEpoch?: number;
  /** Validation batches to run before training as a sanity check (default 2; -1: all). */
  readonly numSanityValSteps?: number;
  /** Accumulate gradients over k batches before each optimizer step (default 1). */
  readonly accumulateGradBatches?: number;
  /** Clip gradients at this value (default none). */
  readonly gradientClipVal?: number | null;
  /** 'norm' (total 2-norm, the default) or 'value' (elementwise). */
  readonly gradientClipAlgorithm?: 'norm' | 'value' | null;
  /**
   * '32-true' (default), '16-mixed', 'bf16-mixed', '16-true' or 'bf16-true' (also Lightning's
   * aliases '16', 16, 'bf16', '32', 32). See lightning/precision.ts for what each does.
   */
  readonly precision?: string | number;
  /**
   * Where the model trains: 'cpu' (the wasm backend), 'webgpu' (alias 'gpu'), 'auto' (default:
   * WebGPU where a hardware adapter exists, else cpu), or a Backend to run on (as Lightning
   * accepts an Accelerator instance).
   */
  readonly accelerator?: string | Backend;
  /** How the Trainer requests its WebGPU device (`allowFallbackAdapter` lets a software adapter count; default refuse). */
  readonly webgpu?: GpuRequestOptions;
  /**
   * How many ranks: an integer >= 1, -1 or 'auto' (default: 1, or the host's hardware
   * concurrency under `strategy: 'ddp'`). More than 1 means DDP (as Lightning's 'auto').
   */
  readonly devices?: number | string | readonly number[];
  /** 'auto' (default), 'single_device' or 'ddp' (data parallel over worker threads; see lightning/strategies/ddp.ts). */
  readonly strategy?: string;
  /**
   * Under DDP, every BatchNorm layer in training takes its batch statistics over the global batch
   * (every rank's), as torch's SyncBatchNorm (default false); on one device it changes nothing.
   */
  readonly syncBatchnorm?: boolean;
  /** Callbacks, run in order. */
  readonly callbacks?: readonly Callback[] | Callback;
  /** true (default): a TensorBoardLogger at `defaultRootDir/lightning_logs/version_N`; false: none; or loggers. */
  readonly logger?: boolean | Logger | readonly Logger[];
  /** Show a progress bar (default true). */
  readonly enableProgressBar?: boolean;
  /** Add a ModelCheckpoint when none is given (default true). */
  readonly enableCheckpointing?: boolean;
  /** Print a model summary at fit start (default true). */
  readonly enableModelSummary?: boolean;
  /** Write step metrics to the loggers every n optimizer steps (default 50). */
  readonly logEveryNSteps?: number;
  /** Where logs and checkpoints go when no logger or callback says otherwise (default '.'). */
  readonly defaultRootDir?: string;
  /**
   * Require deterministic kernels (default false): fit refuses to start when the model
   * lives on the relaxed-simd build (call `init({ deterministic: true })` first).
   */
  readonly deterministic?: boolean | 'warn';
}

/** Every option with its default applied and its value checked. */
export interface ResolvedTrainerOptions {
  readonly maxEpochs: number;
  readonly minEpochs: number;
  readonly maxSteps: number;
  /** Milliseconds, or null. */
  readonly maxTime: number | null;
  readonly limitTrainBatches: BatchLimit | null;
  readonly limitValBatches: BatchLimit | null;
  readonly limitTestBatches: BatchLimit | null;
  readonly limitPredictBatches: BatchLimit | null;
  readonly overfitBatches: BatchLimit;
  readonly fastDevRun: number;
  readonly valCheckInterval: number | null;
  readonly checkValEveryNEpoch: number;
  readonly numSanityValSteps: number;
  readonly accumulateGradBatches: number;
  readonly gradientClipVal: number | null;
  readonly gradientClipAlgorithm: 'norm' | 'value';
  readonly precision: PrecisionName;
  /** 'auto' is settled at fit (it needs to look for an adapter); a Backend is used as given. */
  readonly accelerator: 'cpu' | 'webgpu' | 'auto' | Backend;
  readonly webgpu: GpuRequestOptions;
  /** The number of ranks (1 on a single device). */
  readonly devices: number;
  readonly strategy: 'single_device' | 'ddp';
  readonly syncBatchnorm: boolean;
  readonly callbacks: readonly Callback[];
  readonly logger: boolean | readonly Logger[];
  readonly enableProgressBar: boolean;
  readonly enableCheckpointing: boolean;
  readonly enableModelSummary: boolean;
  readonly logEveryNSteps: number;
  readonly defaultRootDir: string;
  readonly deterministic: boolean;
}

const KNOWN: readonly (keyof TrainerOptions)[] = [
  'maxEpochs',
  'minEpochs',
  'maxSteps',
  'maxTime',
  'limitTrainBatches',
  'limitValBatches',
  'limitTestBatches',
  'limitPredictBatches',
  'overfitBatches',
  'fastDevRun',
  'valCheckInterval',
  'checkValEveryNEpoch',
  'numSanityValSteps',
  'accumulateGradBatches',
  'gradientClipVal',
  'gradientClipAlgorithm',
  'precision',
  'accelerator',
  'webgpu',
  'devices',
  'strategy',
  'syncBatchnorm',
  'callbacks',
  'logger',
  'enableProgressBar',
  'enableCheckpointing',
  'enableModelSummary',
  'logEveryNSteps',
  'defaultRootDir',
  'deterministic',
];

/** Flags Lightning 2 removed (or never had in this casing), and what replaces them. */
const REMOVED: Readonly<Record<string, string>> = {
  gpus: "accelerator: 'gpu' (WebGPU) with devices: 1",
  num_processes: "strategy: 'ddp' with devices: N (and accelerator: 'cpu')",
  numProcesses: "strategy: 'ddp' with devices: N (and accelerator: 'cpu')",
  tpu_cores: "accelerator: 'tpu' with devices: N in Lightning; here use accelerator and devices",
  tpuCores: "accelerator: 'tpu' with devices: N in Lightning; here use accelerator and devices",
  resume_from_checkpoint: 'trainer.fit(model, trainLoader, valLoader, { ckptPath: path })',
  resumeFromCheckpoint: 'trainer.fit(model, trainLoader, valLoader, { ckptPath: path })',
  auto_select_gpus: "devices: 'auto'",
  autoSelectGpus: "devices: 'auto'",
  progress_bar_refresh_rate: 'callbacks: [new ProgressBar({ refreshRate })]',
  progressBarRefreshRate: 'callbacks: [new ProgressBar({ refreshRate })]',
  weights_summary: 'enableModelSummary, or callbacks: [new ModelSummary({ maxDepth })]',
  weightsSummary: 'enableModelSummary, or callbacks: [new ModelSummary({ maxDepth })]',
  checkpoint_callback: 'enableCheckpointing',
  checkpointCallback: 'enableCheckpointing',
};

const NOT_YET_ACCELERATORS = new Set(['cuda', 'mps', 'tpu', 'hpu', 'ipu']);
const NOT_YET_STRATEGIES = new Set(['ddp_spawn', 'ddp_notebook', 'ddp_fork', 'fsdp', 'deepspeed']);

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fail(what: string, expected: string, got: unknown): never {
  throw new MisconfigurationError(`Trainer: invalid ${what}; expected ${expected}, got ${show(got)}`);
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return v.constructor?.name ?? 'object';
  return String(v);
}

function int(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(name, `an integer >= ${min}`, v);
  return v;
}

function limit(name: string, v: unknown): BatchLimit | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!Number.isInteger(v) && v > 1)) {
    fail(name, 'an integer count >= 0 or a fraction in (0, 1)', v);
  }
  return v;
}

function bool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(name, 'true or false', v);
  return v;
}

function parseMaxTime(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(v);
    if (m === null) fail('maxTime', "'DD:HH:MM:SS' or { days, hours, minutes, seconds }", v);
    return (((Number(m[1]) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000;
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    let ms = 0;
    const scale: Record<string, number> = { days: 86400e3, hours: 3600e3, minutes: 60e3, seconds: 1e3 };
    for (const [k, x] of Object.entries(o)) {
      const s = scale[k];
      if (s === undefined || typeof x !== 'number' || !(x >= 0))
        fail('maxTime', 'non-negative days, hours, minutes and seconds', `${k}: ${String(x)}`);
      ms += x * s;
    }
    return ms;
  }
  return fail('maxTime', "'DD:HH:MM:SS' or { days, hours, minutes, seconds }", v);
}

/**
 * Checks `options` and fills in Lightning's defaults. Throws a MisconfigurationError for an unknown
 * option (naming the closest known one), a bad value or a removed flag (naming its replacement),
 * and a NotAvailableYetError for accelerators, strategies, device counts and precisions that
 * are not available (CUDA/MPS/TPU by name, DDP, float64, FP8).
 * @example resolveTrainerOptions({ maxEpochs: 3 }).numSanityValSteps // 2
 */
export function resolveTrainerOptions(options: unknown = {}): ResolvedTrainerOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail('options', 'an object of Trainer options', options);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if ((KNOWN as readonly string[]).includes(key)) continue;
    const replacement = REMOVED[key];
    if (replacement !== undefined) {
      throw new MisconfigurationError(
        `Trainer: option '${key}' was removed in Lightning 2; expected ${replacement}, got ${key}: ${show(o[key])}`,
      );
    }
    const c = camel(key);
    const hint = (KNOWN as readonly string[]).includes(c)
      ? `'${c}' (options use TypeScript casing)`
      : `one of ${KNOWN.join(', ')}`;
    throw new MisconfigurationError(`Trainer: unknown option '${key}'; expected ${hint}, got '${key}'`);
  }

  // Hardware first: an unavailable capability is the most useful thing to report.
  const acc = o['accelerator'] ?? 'auto';
  let accelerator: ResolvedTrainerOptions['accelerator'];
  if (
    typeof acc === 'object' &&
    acc !== null &&
    typeof (acc as Partial<Backend>).run === 'function' &&
    typeof (acc as Partial<Backend>).alloc === 'function'
  ) {
    accelerator = acc as Backend;
  } else {
    if (typeof acc !== 'string') fail('accelerator', "'auto', 'cpu', 'webgpu', 'gpu' or a Backend", acc);
    if (NOT_YET_ACCELERATORS.has(acc)) {
      throw new NotAvailableYetError(
        `Trainer: accelerator '${acc}' is not available (GPUs are reached through WebGPU here); expected 'auto', 'cpu', 'webgpu' or 'gpu', got '${acc}'`,
      );
    }
    if (acc !== 'auto' && acc !== 'cpu' && acc !== 'webgpu' && acc !== 'gpu')
      fail('accelerator', "'auto', 'cpu', 'webgpu', 'gpu' or a Backend", acc);
    accelerator = acc === 'gpu' ? 'webgpu' : acc;
  }
  const webgpu = o['webgpu'] ?? {};
  if (typeof webgpu !== 'object' || webgpu === null || Array.isArray(webgpu))
    fail('webgpu', 'WebGPU request options ({ allowFallbackAdapter, powerPreference, requiredFeatures })', webgpu);
  const strategy = o['strategy'] ?? 'auto';
  if (typeof strategy !== 'string') fail('strategy', "'auto', 'single_device' or 'ddp'", strategy);
  if (NOT_YET_STRATEGIES.has(strategy)) {
    throw new NotAvailableYetError(
      `Trainer: strategy '${strategy}' is not available yet (data parallelism re-runs the script per rank); expected 'auto', 'single_device' or 'ddp', got '${strategy}'`,
    );
  }
  if (strategy !== 'auto' && strategy !== 'single_device' && strategy !== 'ddp')
    fail('strategy', "'auto', 'single_device' or 'ddp'", strategy);
  const devices = o['devices'] ?? 'auto';
  if (Array.isArray(devices)) {
    throw new NotAvailableYetError(
      `Trainer: devices as a list of device ids is not available yet (ranks are worker threads, not device ids); expected a count, -1 or 'auto', got ${show(devices)}`,
    );
  }
  const all = (): number => getPlatform().hardwareConcurrency;
  const nDevices = devices === 'auto' ? (strategy === 'ddp' ? all() : 1) : devices === -1 ? all() : devices;
  if (typeof nDevices !== 'number' || !Number.isInteger(nDevices) || nDevices < 1)
    fail('devices', "an integer >= 1, -1 (all cores) or 'auto'", devices);
  if (strategy === 'single_device' && nDevices !== 1)
    fail('devices', "1 with strategy 'single_device' (use strategy: 'ddp' for more)", devices);
  const ddp = strategy === 'ddp' || (strategy === 'auto' && nDevices > 1);
  if (ddp && accelerator === 'webgpu') {
    throw new NotAvailableYetError(
      `Trainer: strategy 'ddp' with accelerator 'webgpu' is not supported yet (the ranks are CPU worker threads sharing one host); expected accelerator 'cpu' or 'auto' with strategy 'ddp', got accelerator 'webgpu'`,
    );
  }
  // The ranks are CPU workers: 'auto' must not probe for a GPU that every rank would share.
  if (ddp && accelerator === 'auto') accelerator = 'cpu';
  const precision = resolvePrecision(o['precision']);

  const maxSteps = o['maxSteps'] === undefined ? -1 : int('maxSteps', o['maxSteps'], -1);
  const maxTime = parseMaxTime(o['maxTime']);
  let maxEpochs: number;
  if (o['maxEpochs'] === undefined || o['maxEpochs'] === null) {
    // Lightning 2: 1000 epochs unless another limit is set.
    maxEpochs = maxSteps === -1 && maxTime === null ? 1000 : -1;
  } else {
    maxEpochs = int('maxEpochs', o['maxEpochs'], -1);
  }
  const minEpochs = o['minEpochs'] === undefined || o['minEpochs'] === null ? 0 : int('minEpochs', o['minEpochs'], 0);

  let fastDevRun = 0;
  const fdr = o['fastDevRun'];
  if (fdr === true) fastDevRun = 1;
  else if (fdr !== undefined && fdr !== false) fastDevRun = int('fastDevRun', fdr, 0);

  const valCheckInterval = o['valCheckInterval'];
  if (
    valCheckInterval !== undefined &&
    valCheckInterval !== null &&
    (typeof valCheckInterval !== 'number' ||
      !(valCheckInterval > 0) ||
      (!Number.isInteger(valCheckInterval) && valCheckInterval > 1))
  ) {
    fail('valCheckInterval', 'an integer number of batches >= 1 or a fraction of an epoch in (0, 1]', valCheckInterval);
  }
  const clip = o['gradientClipVal'];
  if (clip !== undefined && clip !== null && (typeof clip !== 'number' || !(clip >= 0) || !Number.isFinite(clip))) {
    fail('gradientClipVal', 'a finite number >= 0', clip);
  }
  const algo = o['gradientClipAlgorithm'] ?? 'norm';
  if (algo !== 'norm' && algo !== 'value') fail('gradientClipAlgorithm', "'norm' or 'value'", algo);

  const cbs = o['callbacks'];
  const callbacks =
    cbs === undefined || cbs === null ? [] : Array.isArray(cbs) ? (cbs as Callback[]) : [cbs as Callback];
  for (const cb of callbacks) if (typeof cb !== 'object' || cb === null) fail('callbacks', 'Callback objects', cb);

  const lg = o['logger'] ?? true;
  let logger: boolean | readonly Logger[];
  if (typeof lg === 'boolean') logger = lg;
  else if (Array.isArray(lg)) logger = lg as Logger[];
  else if (typeof lg === 'object' && typeof (lg as Partial<Logger>).logMetrics === 'function') logger = [lg as Logger];
  else fail('logger', 'true, false, a Logger or a list of Loggers', lg);

  const root = o['defaultRootDir'] ?? '.';
  if (typeof root !== 'string' || root === '') fail('defaultRootDir', 'a non-empty folder path', root);
  const det = o['deterministic'] ?? false;
  if (det !== true && det !== false && det !== 'warn') fail('deterministic', "true, false or 'warn'", det);

  // Lightning's fast_dev_run: n batches of each loop, one epoch, no sanity check, no logs or checkpoints.
  if (fastDevRun > 0) maxEpochs = 1;
  return {
    maxEpochs,
    minEpochs,
    maxSteps: fastDevRun > 0 ? fastDevRun : maxSteps,
    maxTime,
    limitTrainBatches: limit('limitTrainBatches', o['limitTrainBatches']),
    limitValBatches: limit('limitValBatches', o['limitValBatches']),
    limitTestBatches: limit('limitTestBatches', o['limitTestBatches']),
    limitPredictBatches: limit('limitPredictBatches', o['limitPredictBatches']),
    overfitBatches: limit('overfitBatches', o['overfitBatches']) ?? 0,
    fastDevRun,
    valCheckInterval: (valCheckInterval as number | undefined) ?? null,
    checkValEveryNEpoch:
      o['checkValEveryNEpoch'] === undefined ? 1 : int('checkValEveryNEpoch', o['checkValEveryNEpoch'], 1),
    numSanityValSteps:
      fastDevRun > 0
        ? 0
        : o['numSanityValSteps'] === undefined
          ? 2
          : int('numSanityValSteps', o['numSanityValSteps'], -1),
    accumulateGradBatches:
      o['accumulateGradBatches'] === undefined ? 1 : int('accumulateGradBatches', o['accumulateGradBatches'], 1),
    gradientClipVal: (clip as number | undefined | null) ?? null,
    gradientClipAlgorithm: algo,
    precision,
    accelerator,
    webgpu: webgpu as GpuRequestOptions,
    devices: nDevices,
    strategy: ddp ? 'ddp' : 'single_device',
    syncBatchnorm: bool('syncBatchnorm', o['syncBatchnorm'], false),
    callbacks,
    logger,
    enableProgressBar: bool('enableProgressBar', o['enableProgressBar'], true),
    enableCheckpointing: bool('enableCheckpointing', o['enableCheckpointing'], true),
    enableModelSummary: bool('enableModelSummary', o['enableModelSummary'], true),
    logEveryNSteps: o['logEveryNSteps'] === undefined ? 50 : int('logEveryNSteps', o['logEveryNSteps'], 1),
    defaultRootDir: root,
    deterministic: det === true,
  };
}

/**
 * How many batches of a loader of `length` batches a limit allows (Lightning's `_parse_num_batches`).
 * @example limitBatches(100, 0.25, 'limitTrainBatches') // 25
 */
export function limitBatches(length: number, lim: BatchLimit | null): number {
  if (lim === null) return length;
  if (Number.isInteger(lim)) return Math.min(length, lim);
  return Number.isFinite(length) ? Math.floor(length * lim) : length;
}

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
