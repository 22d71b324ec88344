/**
 * @module lightning/loggers/logger — the Logger contract and what the loggers share:
 * `version_N` numbering, paths, flattening and sanitising hyperparameters.
 *
 * As in Lightning, a logger has a name, a version, a root and a log folder,
 * and five methods. Version numbers are found by listing the save folder,
 * which is asynchronous here, so `resolveVersion()` settles them; every
 * writing method calls it first.
 */
import { FileSystemError, inComponent, LightningError } from '../../errors.ts';
import { getPlatform } from '../../platform.ts';
import { checkHyperparameters } from './hparams-check.ts';

/** How a run ended, as Lightning passes it to `finalize`. */
export type LoggerStatus = 'success' | 'failed' | 'finished' | 'interrupted';

/** A nested hyperparameter value: plain data only. */
export type HParams = { readonly [key: string]: unknown };

/**
 * What the Trainer needs from a logger (Lightning's `Logger`).
 * @example
 * const logger: Logger = new CSVLogger({ saveDir: 'logs' });
 * await logger.logMetrics({ train_loss: 0.5, epoch: 0 }, 9);
 * await logger.finalize('success');
 */
export interface Logger {
  /** The experiment name ('lightning_logs' by default). */
  readonly name: string;
  /** `N` of `version_N`, or the string given; throws before {@link Logger.resolveVersion} when not given. */
  readonly version: number | string;
  /** `saveDir/name`: where the versions live. */
  readonly rootDir: string;
  /** `rootDir/version_N`: where this run writes. */
  readonly logDir: string;
  /** The object behind the logger (a SummaryWriter, a CSV writer). */
  readonly experiment: unknown;
  /** Settles `version` (scanning `rootDir` for the next `version_N` when none was given). */
  resolveVersion(): Promise<number | string>;
  /**
   * Takes `version` as settled without touching the file system (DDP ranks other than 0 take
   * rank 0's, as Lightning broadcasts it). Optional: a logger without it resolves its own.
   */
  adoptVersion?(version: number | string): void;
  logMetrics(metrics: Readonly<Record<string, number>>, step?: number): Promise<void>;
  logHyperparams(params: HParams, metrics?: number | Readonly<Record<string, number>>): Promise<void>;
  save(): Promise<void>;
  finalize(status: LoggerStatus): Promise<void>;
}

/**
 * A logger misused or unable to write (e.g. `version` read before it is known).
 * @example try { logger.version; } catch (e) { if (e instanceof LoggerError) await logger.resolveVersion(); }
 */
export class LoggerError extends LightningError {}

/**
 * Joins path parts with '/', dropping empty parts (what every binding's file system accepts).
 * @example joinPath('logs', 'lightning_logs', 'version_0') // 'logs/lightning_logs/version_0'
 */
export function joinPath(...parts: readonly string[]): string {
  const kept = parts.filter((p) => p !== '');
  return kept
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') || '/' : p.replace(/^\/+|\/+$/g, '')))
    .join('/')
    .replace(/^\/\//, '/');
}

/** Whether a Platform error says the path does not exist (typed, or a host error's `code`). */
function isMissing(error: unknown): boolean {
  if (error instanceof FileSystemError) return error.code === 'ENOENT';
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/**
 * The next free version under `rootDir`, as Lightning's `_get_next_version`:
 * one more than the largest `version_<digits>` entry, or 0 when there is none
 * or the folder does not exist yet. Any other listing fault (a file on the way, no
 * permission) is rethrown as `component`'s FileSystemError.
 * @example await nextVersion('logs/lightning_logs') // 3 when version_0..version_2 exist
 */
export async function nextVersion(rootDir: string, component = 'Logger'): Promise<number> {
  let entries: string[];
  try {
    entries = await getPlatform().listDir(rootDir);
  } catch (error) {
    if (isMissing(error)) return 0;
    inComponent(component, error);
  }
  let max = -1;
  for (const entry of entries) {
    if (!entry.startsWith('version_')) continue;
    const part = entry.split('_')[1] ?? '';
    if (/^\d+$/.test(part)) max = Math.max(max, Number(part));
  }
  return max + 1;
}

/**
 * The folder name of a version: `version_N` for a number, the string itself otherwise.
 * @example versionFolder(3) // 'version_3'
 */
export function versionFolder(version: number | string): string {
  return typeof version === 'number' ? `version_${version}` : version;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Flattens nested objects into `a/b` keys, as Lightning's `_flatten_dict(params, '/')`.
 * @example flattenParams({ optim: { lr: 1e-3 }, layers: 2 }) // { 'optim/lr': 0.001, layers: 2 }
 */
export function flattenParams(params: HParams, delimiter = '/'): Record<string, unknown> {
  checkHyperparameters(params);
  const out: Record<string, unknown> = {};
  const walk = (value: unknown, prefix: string): void => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, prefix === '' ? k : `${prefix}${delimiter}${k}`);
    } else {
      out[prefix] = value;
    }
  };
  for (const [k, v] of Object.entries(params)) walk(v, k);
  return out;
}

/**
 * Python's `str()` of a plain value, for hyperparameters TensorBoard cannot hold
 * as numbers, strings or booleans (Lightning's `_sanitize_params` uses `str`).
 * @example pyStr([1, 'a', null]) // "[1, 'a', None]"
 */
export function pyStr(v: unknown, nested = false): string {
  if (!nested && typeof v === 'object') checkHyperparameters(v);
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return nested ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    return `[${Array.from(v as ArrayLike<unknown>, (x) => pyStr(x, true)).join(', ')}]`;
  }
  if (isPlainObject(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyStr(k, true)}: ${pyStr(x, true)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/**
 * Flattened hyperparameters with every value a string, number or boolean
 * (Lightning's `_sanitize_params(_flatten_dict(params))`).
 * @example sanitizeParams({ sizes: [64, 3], lr: 1e-3 }) // { sizes: '[64, 3]', lr: 0.001 }
 */
export function sanitizeParams(params: HParams): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(flattenParams(params))) {
    out[k] = typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : pyStr(v);
  }
  return out;
}

/**
 * Prefixes metric keys as Lightning's `_add_prefix` (join character '-').
 * @example addPrefix({ loss: 1 }, 'train') // { 'train-loss': 1 }
 */
export function addPrefix<T>(metrics: Readonly<Record<string, T>>, prefix: string, join = '-'): Record<string, T> {
  if (prefix === '') return { ...metrics };
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(metrics)) out[`${prefix}${join}${k}`] = v;
  return out;
}

/**
 * Checks a `version` option (a non-negative integer or a folder name); returns it.
 * @example checkVersion('CSVLogger', 3) // 3
 */
export function checkVersion(component: string, version: unknown): number | string | undefined {
  if (version === undefined) return undefined;
  if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 0) return version;
  if (typeof version === 'string' && version !== '' && !version.includes('/')) return version;
  throw new LoggerError(
    `${component}: invalid version; expected a non-negative integer or a folder name, got ${JSON.stringify(version)}`,
  );
}

/**
 * Where a logger writes: `saveDir/name/version_N`, with N found lazily (Lightning's
 * auto-increment needs `listDir`, which is async). TensorBoardLogger and CSVLogger share it.
 * @example const run = new RunFolder('CSVLogger', 'logs', 'lightning_logs', undefined); await run.resolveVersion(); run.logDir
 */
export class RunFolder {
  readonly #component: string;
  readonly saveDir: string;
  readonly name: string;
  #version: number | string | undefined;
  #resolving: Promise<number | string> | undefined;

  constructor(component: string, saveDir: string, name: string, version: unknown) {
    this.#component = component;
    this.saveDir = saveDir;
    this.name = name;
    this.#version = checkVersion(component, version);
  }

  /** `saveDir/name`. */
  get rootDir(): string {
    return joinPath(this.saveDir, this.name);
  }

  /** The version; throws until `resolveVersion()` has run when none was given. */
  get version(): number | string {
    if (this.#version === undefined) {
      throw new LoggerError(
        `${this.#component}: version is not known yet; expected await logger.resolveVersion() before reading version or logDir, got a read before it`,
      );
    }
    return this.#version;
  }

  /** `rootDir/version_N`. */
  get logDir(): string {
    return joinPath(this.rootDir, versionFolder(this.version));
  }

  /**
   * The given version, or one more than the largest `version_N` under `rootDir` (once). Where
   * the Platform has `makeDirExclusive`, the folder is reserved by creating it, trying the next
   * number while another writer holds one, so two loggers started at once never share a version.
   */
  async resolveVersion(): Promise<number | string> {
    if (this.#version !== undefined) return this.#version;
    this.#resolving ??= this.#reserve().then((v) => {
      this.#version ??= v;
      return this.#version;
    });
    // A failed attempt is not remembered: the next call lists again.
    return this.#resolving.catch((error: unknown) => {
      this.#resolving = undefined;
      throw error;
    });
  }

  /** Takes `version` as settled (a DDP rank taking rank 0's), unless one is already. */
  adopt(version: number | string): void {
    this.#version ??= version;
  }

  async #reserve(): Promise<number> {
    const first = await nextVersion(this.rootDir, this.#component);
    const platform = getPlatform();
    if (platform.makeDirExclusive === undefined) return first;
    for (let v = first; v < first + MAX_VERSION_TRIES; v++) {
      let created: boolean;
      try {
        created = await platform.makeDirExclusive(joinPath(this.rootDir, versionFolder(v)));
      } catch (error) {
        inComponent(this.#component, error);
      }
      if (created) return v;
    }
    throw new LoggerError(
      `${this.#component}: no free version folder under ${this.rootDir}; expected one of version_${first}..version_${first + MAX_VERSION_TRIES - 1} to be free, got all taken`,
    );
  }
}

/** How many taken `version_N` names {@link RunFolder} steps over before it gives up. */
const MAX_VERSION_TRIES = 1000;

/**
 * The folder half of a file logger (Lightning's `name`, `save_dir`, `root_dir`, `version`,
 * `log_dir`), over one {@link RunFolder}; TensorBoardLogger and CSVLogger extend it.
 * @example class MyLogger extends RunFolderLogger { constructor() { super('MyLogger', { saveDir: 'logs' }); } }
 */
export abstract class RunFolderLogger {
  protected readonly run: RunFolder;
  /** The logger's name in errors: 'TensorBoardLogger', 'CSVLogger'. */
  protected readonly component: string;
  #swept: string | undefined;

  constructor(
    component: string,
    options: { readonly saveDir?: unknown; readonly name?: string | undefined; readonly version?: unknown } | undefined,
  ) {
    this.component = component;
    if (typeof options?.saveDir !== 'string') {
      throw new LoggerError(
        `${component}: saveDir is missing; expected a folder path string, got ${typeof options?.saveDir}`,
      );
    }
    this.run = new RunFolder(component, options.saveDir, options.name ?? 'lightning_logs', options.version);
  }

  get name(): string {
    return this.run.name;
  }

  get saveDir(): string {
    return this.run.saveDir;
  }

  get rootDir(): string {
    return this.run.rootDir;
  }

  get version(): number | string {
    return this.run.version;
  }

  get logDir(): string {
    return this.run.logDir;
  }

  async resolveVersion(): Promise<number | string> {
    return this.run.resolveVersion();
  }

  adoptVersion(version: number | string): void {
    this.run.adopt(version);
  }

  /**
   * `logDir`, with the version settled and, before the first write into it, the temporary files
   * that killed writers left there swept (Platform.sweepTempFiles). Faults name this logger.
   */
  protected async preparedLogDir(): Promise<string> {
    try {
      await this.resolveVersion();
      const dir = this.logDir;
      if (this.#swept !== dir) {
        await getPlatform().sweepTempFiles?.(dir);
        this.#swept = dir;
      }
      return dir;
    } catch (error) {
      inComponent(this.component, error);
    }
  }
}
