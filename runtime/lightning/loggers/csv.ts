/**
 * @module lightning/loggers/csv — Lightning's CSVLogger: `metrics.csv` and `hparams.yaml`.
 *
 * The CSV is what Lightning's ExperimentWriter writes: a header of every key
 * logged so far, sorted; one row per `logMetrics` call with its `step`;
 * empty cells for keys a row lacks; CRLF line ends (Python's csv module);
 * numbers as Python prints them (`step` and `epoch` as integers, metrics as
 * floats, `1.0`). The Platform has no append, so each save rewrites the whole
 * file atomically, which also covers Lightning's header rewrite when new keys appear.
 */
import { inComponent } from '../../errors.ts';
import { getPlatform } from '../../platform.ts';
import { checkHyperparameters } from './hparams-check.ts';
import {
  addPrefix,
  joinPath,
  LoggerError,
  RunFolderLogger,
  type HParams,
  type Logger,
  type LoggerStatus,
} from './logger.ts';
import { pyFloatRepr } from './py-format.ts';
import { toYaml } from './yaml.ts';

const INTEGER_KEYS = new Set(['step', 'epoch']);

function cell(key: string, value: number | undefined): string {
  if (value === undefined) return '';
  if (INTEGER_KEYS.has(key) && Number.isInteger(value)) return String(value);
  return pyFloatRepr(value);
}

function csvField(text: string): string {
  // Python's csv QUOTE_MINIMAL: quote fields holding the delimiter, a quote or a line break.
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The CSVLogger's experiment: rows in memory, written by `save()`.
 * @example
 * const w = new CsvExperimentWriter(async () => 'logs/version_0');
 * w.logMetrics({ loss: 0.5 }, 0);
 * await w.save();
 */
export class CsvExperimentWriter {
  readonly #logDir: () => Promise<string>;
  /** Every row logged, in order (each with its `step`). */
  readonly rows: Record<string, number>[] = [];
  /** The hyperparameters, nested as given. */
  hparams: Record<string, unknown> = {};

  constructor(logDir: string | (() => Promise<string>)) {
    this.#logDir = typeof logDir === 'string' ? () => Promise.resolve(logDir) : logDir;
  }

  /** The sorted union of every row's keys: the CSV header. */
  get metricsKeys(): string[] {
    const keys = new Set<string>();
    for (const r of this.rows) for (const k of Object.keys(r)) keys.add(k);
    return [...keys].sort();
  }

  /** Adds a row; `step` defaults to the number of rows so far, as Lightning's. */
  logMetrics(metrics: Readonly<Record<string, number>>, step?: number): void {
    const row: Record<string, number> = {};
    for (const [k, v] of Object.entries(metrics)) {
      if (typeof v !== 'number') {
        throw new LoggerError(
          `CSVLogger: metric '${k}' is not a number; expected a number (await t.item() for a tensor), got ${typeof v}`,
        );
      }
      row[k] = v;
    }
    row.step = step ?? this.rows.length;
    this.rows.push(row);
  }

  /** Merges hyperparameters into those saved to `hparams.yaml`. */
  logHparams(params: HParams): void {
    this.hparams = { ...this.hparams, ...params };
  }

  /** The `metrics.csv` text for the rows so far. */
  csv(): string {
    const keys = this.metricsKeys;
    const lines = [keys.map(csvField).join(',')];
    for (const r of this.rows) lines.push(keys.map((k) => csvField(cell(k, r[k]))).join(','));
    return `${lines.join('\r\n')}\r\n`;
  }

  /** Writes `hparams.yaml` and (when there are rows) `metrics.csv`, each atomically. */
  async save(): Promise<void> {
    const dir = await this.#logDir();
    const platform = getPlatform();
    await platform.mkdirp(dir);
    const utf8 = new TextEncoder();
    await platform.writeFile(joinPath(dir, 'hparams.yaml'), utf8.encode(toYaml(this.hparams)));
    if (this.rows.length > 0) await platform.writeFile(joinPath(dir, 'metrics.csv'), utf8.encode(this.csv()));
  }
}

/** Options of {@link CSVLogger}; defaults as Lightning's. */
export interface CSVLoggerOptions {
  /** The folder that holds the experiments. */
  readonly saveDir: string;
  /** The experiment folder under `saveDir` (default 'lightning_logs'; '' writes into `saveDir`). */
  readonly name?: string;
  /** A version number (`version_N`) or a folder name; by default the next free `version_N`. */
  readonly version?: number | string;
  /** Prepended to every metric key, joined with '-' (default ''). */
  readonly prefix?: string;
  /** Save every this many steps (Lightning's `flush_logs_every_n_steps`, default 100). */
  readonly flushLogsEveryNSteps?: number;
}

/**
 * Logs metrics to `saveDir/name/version_N/metrics.csv` and hyperparameters to `hparams.yaml`.
 * @example
 * const logger = new CSVLogger({ saveDir: 'logs' });
 * await logger.logMetrics({ train_loss: 0.5, epoch: 0 }, 49);
 * await logger.finalize('success'); // logs/lightning_logs/version_0/metrics.csv
 */
export class CSVLogger extends RunFolderLogger implements Logger {
  readonly #prefix: string;
  readonly #flushEvery: number;
  readonly #experiment: CsvExperimentWriter;

  constructor(options: CSVLoggerOptions) {
    super('CSVLogger', options);
    this.#prefix = options.prefix ?? '';
    this.#flushEvery = options.flushLogsEveryNSteps ?? 100;
    if (!Number.isSafeInteger(this.#flushEvery) || this.#flushEvery < 1) {
      throw new LoggerError(
        `CSVLogger: invalid flushLogsEveryNSteps; expected a positive integer, got ${this.#flushEvery}`,
      );
    }
    this.#experiment = new CsvExperimentWriter(() => this.preparedLogDir());
  }

  get experiment(): CsvExperimentWriter {
    return this.#experiment;
  }

  /** Adds a row; saves every `flushLogsEveryNSteps` steps, as Lightning's. */
  async logMetrics(metrics: Readonly<Record<string, number>>, step?: number): Promise<void> {
    this.#experiment.logMetrics(addPrefix(metrics, this.#prefix), step);
    const s = step ?? this.#experiment.rows.length - 1;
    if ((s + 1) % this.#flushEvery === 0) await this.save();
  }

  /** Keeps hyperparameters for `hparams.yaml` (written on save); a graph YAML cannot write fails here. */
  async logHyperparams(params: HParams): Promise<void> {
    checkHyperparameters(params, 'CSVLogger');
    this.#experiment.logHparams(params);
  }

  /** Writes `hparams.yaml` and `metrics.csv`; a file-system fault is a FileSystemError naming CSVLogger and the path. */
  async save(): Promise<void> {
    try {
      await this.#experiment.save();
    } catch (error) {
      inComponent('CSVLogger', error);
    }
  }

  /** Saves whatever the status (Lightning's CSVLogger saves on every finalize). */
  async finalize(_status: LoggerStatus): Promise<void> {
    await this.save();
  }
}
