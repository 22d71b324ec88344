/**
 * @module lightning/callbacks/model-checkpoint — Lightning's ModelCheckpoint: save the top-k and the last.
 *
 * Files go to `dirpath` (default `<logDir>/checkpoints`, or `<defaultRootDir>/checkpoints`
 * without a logger), named from `filename` (default `{epoch}-{step}`, which
 * auto-inserts the names: `epoch=0-step=313.ckpt`; `{val_loss:.2f}` takes a format).
 *
 * Deleting: the paths in a resumed checkpoint's state are data from a file. A checkpoint leaves
 * the top k only by deleting files this instance wrote in this run, or `.ckpt` files directly
 * inside its own `dirpath` (see checkpoint-paths.ts for `..`, absolute paths and links), and
 * never the file fit resumed from (Lightning's `_should_remove_checkpoint`).
 */
import { inComponent } from '../../errors.ts';
import { getPlatform } from '../../platform.ts';
import type { Trainer } from '../trainer.ts';
import { MisconfigurationError } from '../errors.ts';
import { Callback, pyReprDict } from './callback.ts';
import { checkpointNameInDir, maybeSameFile } from './checkpoint-paths.ts';

/** Options of {@link ModelCheckpoint}; defaults as Lightning's. */
export interface ModelCheckpointOptions {
  readonly dirpath?: string;
  /** A template such as `'{epoch}-{val_loss:.2f}'` (default `'{epoch}-{step}'`). */
  readonly filename?: string;
  /** The metric that ranks checkpoints (default none: the latest is best). */
  readonly monitor?: string | null;
  readonly mode?: 'min' | 'max';
  /** Keep the best k (default 1; -1 keeps all; 0 none). */
  readonly saveTopK?: number;
  /** Also write `last.ckpt` (default false). */
  readonly saveLast?: boolean;
  /** Save every n optimizer steps (default 0: off). */
  readonly everyNTrainSteps?: number;
  /** Save every n epochs (default 1). */
  readonly everyNEpochs?: number;
  /** Only the weights (default false). */
  readonly saveWeightsOnly?: boolean;
  /** Write `name=value` in `{name}` placeholders (default true). */
  readonly autoInsertMetricName?: boolean;
  /** Save at train epoch end instead of validation end (default: when no validation runs each epoch). */
  readonly saveOnTrainEpochEnd?: boolean;
}

/**
 * Formats `{name}` and `{name:.Nf}` placeholders from `metrics`, as Lightning's `format_checkpoint_name`.
 * @example formatCheckpointName('{epoch}-{val_loss:.2f}', { epoch: 1, val_loss: 0.1234 }) // 'epoch=1-val_loss=0.12'
 */
export function formatCheckpointName(
  template: string,
  metrics: Readonly<Record<string, number>>,
  autoInsert = true,
): string {
  return template.replace(/\{([^{}:]+)(?::([^{}]*))?\}/g, (_, name: string, fmt: string | undefined) => {
    const v = metrics[name] ?? 0;
    let s: string;
    const m = fmt === undefined ? null : /^\.(\d+)f$/.exec(fmt);
    if (m !== null) s = v.toFixed(Number(m[1]));
    else if (fmt !== undefined && /^0?\d+d$/.test(fmt))
      s = String(Math.trunc(v)).padStart(Number(fmt.replace('d', '')), '0');
    else s = String(v);
    return autoInsert ? `${name}=${s}` : s;
  });
}

/**
 * Saves checkpoints during fit, keeping the best `saveTopK` by `monitor`.
 * @example
 * const ckpt = new ModelCheckpoint({ monitor: 'val_loss', saveTopK: 2, filename: '{epoch}-{val_loss:.3f}' });
 * await new Trainer({ callbacks: [ckpt] }).fit(model, train, val);
 * ckpt.bestModelPath // '.../epoch=3-val_loss=0.012.ckpt'
 */
export class ModelCheckpoint extends Callback {
  dirpath: string | null;
  readonly filename: string;
  readonly monitor: string | null;
  readonly mode: 'min' | 'max';
  readonly saveTopK: number;
  readonly saveLast: boolean;
  readonly everyNTrainSteps: number;
  readonly everyNEpochs: number;
  readonly saveWeightsOnly: boolean;
  readonly autoInsertMetricName: boolean;
  readonly #saveOnTrainEpochEnd: boolean | undefined;
  bestModelPath = '';
  bestModelScore: number | null = null;
  currentScore: number | null = null;
  lastModelPath = '';
  kthBestModelPath = '';
  kthValue: number;
  /** Saved paths and their scores. */
  bestKModels: Record<string, number> = {};
  /** Lightning starts at 0, so no checkpoint is written before the first optimizer step. */
  #lastGlobalStepSaved = 0;
  /** The exact paths this instance wrote (the only paths outside `dirpath`'s plain files it may delete). */
  readonly #written = new Set<string>();
  /** The folders whose stale temporary files were swept (once, before the first write). */
  readonly #swept = new Set<string>();

  constructor(options: ModelCheckpointOptions = {}) {
    super();
    this.dirpath = options.dirpath ?? null;
    this.filename = options.filename ?? '{epoch}-{step}';
    this.monitor = options.monitor ?? null;
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new MisconfigurationError(
        `ModelCheckpoint: invalid mode; expected 'min' or 'max', got '${String(this.mode)}'`,
      );
    this.saveTopK = options.saveTopK ?? 1;
    if (!Number.isInteger(this.saveTopK) || this.saveTopK < -1)
      throw new MisconfigurationError(
        `ModelCheckpoint: invalid saveTopK; expected an integer >= -1, got ${String(this.saveTopK)}`,
      );
    if (this.monitor === null && this.saveTopK !== 0 && this.saveTopK !== 1 && this.saveTopK !== -1) {
      throw new MisconfigurationError(
        `ModelCheckpoint: saveTopK=${this.saveTopK} needs a monitor; expected saveTopK in {-1, 0, 1} without monitor, got ${this.saveTopK}`,
      );
    }
    this.saveLast = options.saveLast ?? false;
    this.everyNTrainSteps = options.everyNTrainSteps ?? 0;
    this.everyNEpochs = options.everyNEpochs ?? (this.everyNTrainSteps > 0 ? 0 : 1);
    this.saveWeightsOnly = options.saveWeightsOnly ?? false;
    this.autoInsertMetricName = options.autoInsertMetricName ?? true;
    this.#saveOnTrainEpochEnd = options.saveOnTrainEpochEnd;
    this.kthValue = this.mode === 'min' ? Infinity : -Infinity;
  }

  override get stateKey(): string {
    return `ModelCheckpoint${pyReprDict({ monitor: this.monitor, mode: this.mode, every_n_train_steps: this.everyNTrainSteps, every_n_epochs: this.everyNEpochs, train_time_interval: null })}`;
  }

  override stateDict(): Record<string, unknown> {
    return {
      monitor: this.monitor,
      best_model_score: this.bestModelScore,
      best_model_path: this.bestModelPath,
      current_score: this.currentScore,
      dirpath: this.dirpath,
      best_k_models: { ...this.bestKModels },
      kth_best_model_path: this.kthBestModelPath,
      kth_value: Number.isFinite(this.kthValue) ? this.kthValue : null,
      last_model_path: this.lastModelPath,
    };
  }

  override loadStateDict(s: Readonly<Record<string, unknown>>): void {
    if (s['dirpath'] !== this.dirpath && this.dirpath !== null) return; // Lightning: a different folder starts afresh
    const n = (x: unknown): number | null => (typeof x === 'number' ? x : null);
    this.bestModelScore = n(s['best_model_score']);
    this.bestModelPath = typeof s['best_model_path'] === 'string' ? s['best_model_path'] : '';
    this.currentScore = n(s['current_score']);
    this.kthBestModelPath = typeof s['kth_best_model_path'] === 'string' ? s['kth_best_model_path'] : '';
    this.kthValue = n(s['kth_value']) ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.lastModelPath = typeof s['last_model_path'] === 'string' ? s['last_model_path'] : '';
    const k = s['best_k_models'];
    // Only path -> number entries; fromEntries defines own properties, so '__proto__' stays a key.
    const entries =
      k instanceof Map
        ? [...(k as Map<unknown, unknown>)]
        : typeof k === 'object' && k !== null
          ? Object.entries(k)
          : [];
    this.bestKModels = Object.fromEntries(
      entries.filter((e): e is [string, number] => typeof e[0] === 'string' && typeof e[1] === 'number'),
    );
  }

  override setup(trainer: Trainer): void {
    this.dirpath ??= `${trainer.logDir}/checkpoints`;
  }

  #saveOnEpochEnd(trainer: Trainer): boolean {
    if (this.#saveOnTrainEpochEnd !== undefined) return this.#saveOnTrainEpochEnd;
    return (
      !trainer.validationEnabled ||
      (trainer.options.valCheckInterval === null && trainer.options.checkValEveryNEpoch === 1)
    );
  }

  #skip(trainer: Trainer): boolean {
    return trainer.sanityChecking || trainer.options.fastDevRun > 0 || this.#lastGlobalStepSaved === trainer.globalStep;
  }

  // Not async, so the steps that save nothing return no promise.
  override onTrainBatchEnd(trainer: Trainer): Promise<void> | void {
    if (this.everyNTrainSteps < 1 || this.#skip(trainer) || trainer.globalStep % this.everyNTrainSteps !== 0) return;
    return this.#save(trainer);
  }

  /**
   * Fails fast on a monitor that is not logged: at the first point where this callback would
   * read it (validation end, or train epoch end when it saves there), even when this
   * epoch does not save (everyNEpochs > 1, everyNTrainSteps), instead of at the first save.
   */
  #checkMonitor(trainer: Trainer): void {
    if (this.#monitorSeen || this.monitor === null || trainer.sanityChecking || trainer.options.fastDevRun > 0) return;
    if (!(this.monitor in trainer.callbackMetrics)) throw this.#missingMonitor(trainer);
    this.#monitorSeen = true;
  }
  #monitorSeen = false;

  #missingMonitor(trainer: Trainer): MisconfigurationError {
    return new MisconfigurationError(
      `ModelCheckpoint: monitor '${this.monitor}' was never logged; expected one of the logged metrics (${Object.keys(trainer.callbackMetrics).join(', ') || 'none'}), got '${this.monitor}' (log it with this.log('${this.monitor}', value) or fix the name)`,
    );
  }

  override async onTrainEpochEnd(trainer: Trainer): Promise<void> {
    if (this.#saveOnEpochEnd(trainer)) this.#checkMonitor(trainer);
    if (this.#skip(trainer) || !this.#saveOnEpochEnd(trainer)) return;
    if (this.everyNEpochs >= 1 && (trainer.currentEpoch + 1) % this.everyNEpochs === 0) await this.#save(trainer);
  }

  override async onValidationEnd(trainer: Trainer): Promise<void> {
    if (!this.#saveOnEpochEnd(trainer) && trainer.training) this.#checkMonitor(trainer);
    if (this.#skip(trainer) || this.#saveOnEpochEnd(trainer)) return;
    if (this.everyNEpochs >= 1 && (trainer.currentEpoch + 1) % this.everyNEpochs === 0) await this.#save(trainer);
  }

  async #save(trainer: Trainer): Promise<void> {
    const metrics: Record<string, number> = {
      ...trainer.callbackMetrics,
      epoch: trainer.currentEpoch,
      step: trainer.globalStep,
    };
    this.#lastGlobalStepSaved = trainer.globalStep;
    const dir = this.dirpath ?? `${trainer.logDir}/checkpoints`;
    if (this.monitor !== null && !(this.monitor in metrics)) throw this.#missingMonitor(trainer);
    if (this.saveTopK !== 0) {
      const score = this.monitor === null ? null : metrics[this.monitor]!;
      this.currentScore = score;
      const path = `${dir}/${formatCheckpointName(this.filename, metrics, this.autoInsertMetricName)}.ckpt`;
      if (this.monitor === null || this.saveTopK === -1) {
        const previous = this.bestModelPath;
        if (score !== null) this.bestKModels[path] = score;
        if (score === null || this.bestModelScore === null || this.#better(score, this.bestModelScore)) {
          this.bestModelPath = path;
          this.bestModelScore = score;
        }
        await this.#write(trainer, path);
        if (this.monitor === null && this.saveTopK === 1 && previous !== '' && previous !== path)
          await this.#remove(trainer, previous);
      } else if (this.#qualifies(score!)) {
        // As Lightning: the bookkeeping first, so the checkpoint records itself as best.
        this.bestKModels[path] = score!;
        let dropped: string | null = null;
        if (Object.keys(this.bestKModels).length > this.saveTopK) {
          dropped = this.#worst();
          delete this.bestKModels[dropped];
        }
        const worstPath = this.#worst();
        this.kthBestModelPath = worstPath;
        this.kthValue = this.bestKModels[worstPath]!;
        const best = Object.entries(this.bestKModels).reduce((a, b) => (this.#better(b[1], a[1]) ? b : a));
        this.bestModelPath = best[0];
        this.bestModelScore = best[1];
        await this.#write(trainer, path);
        if (dropped !== null && dropped !== path) await this.#remove(trainer, dropped);
      }
    }
    // Every save, whether or not the top k took this step, and after the step file: last.ckpt
    // is never older than the newest step checkpoint. As Lightning, the path is set first, so
    // the file records itself as the last.
    if (this.saveLast) {
      const last = `${dir}/last.ckpt`;
      this.lastModelPath = last;
      await this.#write(trainer, last);
    }
  }

  /** Writes a checkpoint (atomically, by the Platform), sweeping the folder before its first write. */
  async #write(trainer: Trainer, path: string): Promise<void> {
    try {
      const folder = path.slice(0, Math.max(0, path.lastIndexOf('/'))) || '.';
      if (!this.#swept.has(folder) && trainer.isGlobalZero) {
        await getPlatform().sweepTempFiles?.(folder);
        this.#swept.add(folder);
      }
      await trainer.saveCheckpoint(path, this.saveWeightsOnly);
    } catch (error) {
      inComponent('ModelCheckpoint', error);
    }
    this.#written.add(path);
  }

  #better(a: number, b: number): boolean {
    return this.mode === 'min' ? a < b : a > b;
  }

  #qualifies(score: number): boolean {
    if (Number.isNaN(score)) return false;
    return Object.keys(this.bestKModels).length < this.saveTopK || this.#better(score, this.kthValue);
  }

  #worst(): string {
    return Object.entries(this.bestKModels).reduce((a, b) => (this.#better(a[1], b[1]) ? b : a))[0];
  }

  /**
   * Deletes a checkpoint that left the top k, when it is this instance's to delete: never the
   * file fit resumed from; otherwise one written in this run, or a `.ckpt` file directly inside
   * `dirpath`. Anything else (a path from a hostile or foreign file) is left where it is.
   */
  async #remove(trainer: Trainer, path: string): Promise<void> {
    let target: string | null = this.#written.has(path) ? path : null;
    if (target === null && this.dirpath !== null) {
      const name = checkpointNameInDir(path, this.dirpath);
      if (name !== null) target = `${this.dirpath.replace(/\/+$/, '')}/${name}`;
    }
    if (target === null) return;
    const resumed = trainer.ckptPath;
    if (resumed !== null && (maybeSameFile(path, resumed) || maybeSameFile(target, resumed))) return;
    // Under DDP only rank 0 touches the files.
    if (!trainer.isGlobalZero) return;
    try {
      await getPlatform().removeFile(target);
    } catch (error) {
      inComponent('ModelCheckpoint', error);
    }
    this.#written.delete(target);
  }

  /** @internal for the Trainer: resolve 'best' and 'last'. */
  resolveCkptPath(which: 'best' | 'last'): string {
    return which === 'best' ? this.bestModelPath : this.lastModelPath;
  }
}

/** Used by the Trainer to tell monitoring callbacks apart (they run after the module's epoch-end hooks). */
export function isModelCheckpoint(cb: Callback): cb is ModelCheckpoint {
  return cb instanceof ModelCheckpoint;
}
