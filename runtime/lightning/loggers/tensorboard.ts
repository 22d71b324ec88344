/**
 * @module lightning/loggers/tensorboard — Lightning's TensorBoardLogger.
 *
 * Writes `saveDir/name/version_N/events.out.tfevents.*` (and `hparams.yaml`)
 * that TensorBoard reads without TensorFlow. `experiment` is a
 * {@link SummaryWriter}; `logMetrics` writes one scalar per key.
 */
import { inComponent } from '../../errors.ts';
import { getPlatform } from '../../platform.ts';
import { hparamsSummaries } from '../../io/tfevents.ts';
import type { EventFileWriterOptions } from './event-file-writer.ts';
import {
  addPrefix,
  joinPath,
  LoggerError,
  RunFolderLogger,
  sanitizeParams,
  type HParams,
  type Logger,
  type LoggerStatus,
} from './logger.ts';
import { SummaryWriter } from './summary-writer.ts';
import { toYaml } from './yaml.ts';

/** Options of {@link TensorBoardLogger}; defaults as Lightning's. */
export interface TensorBoardLoggerOptions extends EventFileWriterOptions {
  /** The folder that holds the experiments. */
  readonly saveDir: string;
  /** The experiment folder under `saveDir` (default 'lightning_logs'; '' writes into `saveDir`). */
  readonly name?: string;
  /** A version number (`version_N`) or a folder name; by default the next free `version_N`. */
  readonly version?: number | string;
  /** Log `hp_metric = -1` with the hyperparameters so the hparams tab shows them (default true). */
  readonly defaultHpMetric?: boolean;
  /** Prepended to every metric key, joined with '-' (default ''). */
  readonly prefix?: string;
  /** A folder under the version folder to write events into. */
  readonly subDir?: string;
}

/**
 * Logs to TensorBoard event files in Lightning's `lightning_logs/version_N/` layout.
 * @example
 * const logger = new TensorBoardLogger({ saveDir: 'tb_logs', name: 'my_model' });
 * await logger.logMetrics({ train_loss: 0.5 }, 10);
 * logger.experiment.addText('notes', 'first run');
 * await logger.finalize('success');
 */
export class TensorBoardLogger extends RunFolderLogger implements Logger {
  readonly #defaultHpMetric: boolean;
  readonly #prefix: string;
  readonly #subDir: string;
  readonly #writerOptions: EventFileWriterOptions;
  #experiment: SummaryWriter | undefined;
  /** The hyperparameters logged so far, nested as given (what `hparams.yaml` holds). */
  hparams: Record<string, unknown> = {};

  constructor(options: TensorBoardLoggerOptions) {
    super('TensorBoardLogger', options);
    this.#defaultHpMetric = options.defaultHpMetric ?? true;
    this.#prefix = options.prefix ?? '';
    this.#subDir = options.subDir ?? '';
    const { maxQueue, flushSecs, maxFileBytes, filenameSuffix } = options;
    this.#writerOptions = {
      ...(maxQueue !== undefined ? { maxQueue } : {}),
      ...(flushSecs !== undefined ? { flushSecs } : {}),
      ...(maxFileBytes !== undefined ? { maxFileBytes } : {}),
      ...(filenameSuffix !== undefined ? { filenameSuffix } : {}),
    };
  }

  /** `saveDir/name/version_N/subDir`. */
  override get logDir(): string {
    return joinPath(this.run.logDir, this.#subDir);
  }

  /** The SummaryWriter; its event file lands in `logDir` (resolved on first flush). */
  get experiment(): SummaryWriter {
    this.#experiment ??= new SummaryWriter(() => this.preparedLogDir(), this.#writerOptions);
    return this.#experiment;
  }

  /** Runs a write; a file-system fault becomes a FileSystemError naming TensorBoardLogger and the path. */
  async #writing(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      inComponent(this.component, error);
    }
  }

  /** One scalar per key at `step`; flushes when the writer's queue is due. */
  async logMetrics(metrics: Readonly<Record<string, number>>, step?: number): Promise<void> {
    const experiment = this.experiment;
    for (const [key, value] of Object.entries(addPrefix(metrics, this.#prefix))) {
      try {
        experiment.addScalar(key, value, step ?? 0);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new LoggerError(
          `TensorBoardLogger: cannot log metric '${key}'; expected a number, got ${typeof value} (${reason})`,
          { cause: error },
        );
      }
    }
    if (experiment.due) await this.#writing(() => experiment.flush());
  }

  /**
   * Records hyperparameters: kept for `hparams.yaml`, and written for the
   * hparams tab with `metrics` (or `hp_metric = -1` under `defaultHpMetric`),
   * as Lightning's `log_hyperparams`.
   */
  async logHyperparams(params: HParams, metrics?: number | Readonly<Record<string, number>>): Promise<void> {
    this.hparams = { ...this.hparams, ...params };
    const flat = sanitizeParams(params);
    const m =
      metrics === undefined
        ? this.#defaultHpMetric
          ? { hp_metric: -1 }
          : {}
        : typeof metrics === 'number'
          ? { hp_metric: metrics }
          : metrics;
    if (Object.keys(m).length === 0) return;
    await this.logMetrics(m, 0);
    const experiment = this.experiment;
    for (const value of hparamsSummaries(flat, Object.keys(addPrefix(m, this.#prefix))))
      experiment.addSummary([value], 0);
    if (experiment.due) await this.#writing(() => experiment.flush());
  }

  /** Flushes events and writes `hparams.yaml` into `logDir`. */
  async save(): Promise<void> {
    const yaml = new TextEncoder().encode(toYaml(this.hparams));
    await this.#writing(async () => {
      const dir = await this.preparedLogDir();
      if (this.#experiment !== undefined) await this.#experiment.flush();
      const platform = getPlatform();
      await platform.mkdirp(dir);
      await platform.writeFile(joinPath(dir, 'hparams.yaml'), yaml);
    });
  }

  /** Flushes and closes the event files; saves on success, as Lightning does. */
  async finalize(status: LoggerStatus): Promise<void> {
    if (this.#experiment !== undefined) {
      const experiment = this.#experiment;
      this.#experiment = undefined;
      await this.#writing(() => experiment.close());
    }
    if (status === 'success') await this.save();
  }
}
