/**
 * @module lightning/loggers/event-file-writer — one TensorBoard event file on the platform.
 *
 * The Platform has no append, so events are queued in memory and each
 * flush rewrites the whole file atomically (`writeFile` is temp + rename):
 * a reader never sees a torn record, at the cost of rewriting what was
 * already written. To bound that cost the writer starts a new file (a new
 * `...<n+1>` name, which TensorBoard reads as the same run) once one holds
 * `maxFileBytes`. Where a host's Platform offers `appendFile(path, bytes)`,
 * flushes append only the new records instead.
 */
import type { Platform } from '../../platform.ts';
import { getPlatform } from '../../platform.ts';
import { concatBytes, eventFileName, eventRecord, FILE_VERSION, type TfEvent } from '../../io/tfevents.ts';
import { FileSystemError } from '../../errors.ts';
import { joinPath, LoggerError } from './logger.ts';

/** Optional host services the event writer uses when a Platform has them (proposed additions). */
interface HostExtras {
  appendFile?: (path: string, data: Uint8Array) => Promise<void>;
  hostname?: () => string;
  readonly pid?: number;
}

/** Options of {@link EventFileWriter}. */
export interface EventFileWriterOptions {
  /** Flush once this many events are queued (torch's `max_queue`, default 10). */
  readonly maxQueue?: number;
  /** Flush when the oldest queued event is this many seconds old (torch's `flush_secs`, default 120). */
  readonly flushSecs?: number;
  /** Start a new file once one holds this many bytes (default 16 MiB; only without `appendFile`). */
  readonly maxFileBytes?: number;
  /** Appended to the file name, as torch's `filename_suffix`. */
  readonly filenameSuffix?: string;
}

let fileCounter = 0;
let processId: number | undefined;

/**
 * The host name and process id that go into event file names. They come from
 * the Platform's optional `hostname()` and `pid` where a binding provides them;
 * otherwise from the HOSTNAME / COMPUTERNAME variables (else 'localhost') and
 * a random number fixed for this run of the program.
 * @example const { hostname, pid } = hostIdentity(); // { hostname: 'box', pid: 4242 }
 */
export function hostIdentity(platform: Platform = getPlatform()): { hostname: string; pid: number } {
  const extras = platform as Platform & HostExtras;
  const raw = extras.hostname?.() ?? platform.env('HOSTNAME') ?? platform.env('COMPUTERNAME') ?? 'localhost';
  const hostname = raw.replace(/[^\w.-]/g, '_') || 'localhost';
  if (extras.pid !== undefined) return { hostname, pid: extras.pid };
  // Without a pid from the host, a random number keeps two processes that
  // start in the same second from choosing the same name.
  processId ??= (globalThis.crypto?.getRandomValues(new Uint32Array(1))[0] ?? Date.now()) % 1_000_000;
  return { hostname, pid: processId };
}

/**
 * Writes events into `events.out.tfevents.*` files in one folder.
 * @example
 * const w = new EventFileWriter('logs/run');
 * w.add({ wallTime: Date.now() / 1000, step: 1, summary: [scalarSummary('loss', 0.5)] });
 * await w.close();
 */
export class EventFileWriter {
  readonly #dir: () => Promise<string>;
  readonly #maxQueue: number;
  readonly #flushMs: number;
  readonly #maxFileBytes: number;
  readonly #suffix: string;
  #fileName = '';
  #written: Uint8Array[] = [];
  #writtenBytes = 0;
  #created = false;
  #pending: Uint8Array[] = [];
  #oldestPending = 0;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  #closed = false;
  #files: string[] = [];

  constructor(dir: string | (() => Promise<string>), options: EventFileWriterOptions = {}) {
    this.#dir = typeof dir === 'string' ? () => Promise.resolve(dir) : dir;
    this.#maxQueue = options.maxQueue ?? 10;
    this.#flushMs = (options.flushSecs ?? 120) * 1000;
    this.#maxFileBytes = options.maxFileBytes ?? 16 * 1024 * 1024;
    this.#suffix = options.filenameSuffix ?? '';
    if (!(this.#maxQueue >= 1) || !(this.#flushMs >= 0) || !(this.#maxFileBytes >= 1)) {
      throw new LoggerError(
        `event writer: invalid options; expected maxQueue >= 1, flushSecs >= 0, maxFileBytes >= 1, got ${this.#maxQueue}, ${this.#flushMs / 1000}, ${this.#maxFileBytes}`,
      );
    }
    this.#newFile();
  }

  /** The paths of the files written so far (the current one last). */
  get files(): readonly string[] {
    return this.#files;
  }

  #newFile(): void {
    const { hostname, pid } = hostIdentity();
    this.#fileName = eventFileName({ seconds: Date.now() / 1000, hostname, pid, index: fileCounter++ }) + this.#suffix;
    this.#written = [eventRecord({ wallTime: Date.now() / 1000, step: 0, fileVersion: FILE_VERSION })];
    this.#writtenBytes = this.#written[0]!.length;
    this.#created = false;
  }

  /** True when the queue is full or old enough that {@link EventFileWriter.flush} should run. */
  get due(): boolean {
    if (this.#pending.length === 0) return false;
    return this.#pending.length >= this.#maxQueue || getPlatform().now() - this.#oldestPending >= this.#flushMs;
  }

  /**
   * Queues one event. When the queue is due, a flush starts in the background;
   * its failure is thrown by the next `flush()` or `close()`.
   */
  add(event: TfEvent): void {
    if (this.#closed) {
      throw new LoggerError('event writer: write after close; expected events before close(), got an event after it');
    }
    if (this.#pending.length === 0) this.#oldestPending = getPlatform().now();
    this.#pending.push(eventRecord(event));
    if (this.due) {
      this.flush().catch((e: unknown) => {
        this.#error ??= e;
      });
    }
  }

  /** Writes every queued event. Flushes run one after another. */
  flush(): Promise<void> {
    const run = this.#chain.then(() => this.#flushNow());
    this.#chain = run.catch(() => undefined);
    return run.then(() => {
      const e = this.#error;
      if (e !== undefined) {
        this.#error = undefined;
        throw e;
      }
    });
  }

  async #flushNow(): Promise<void> {
    // An empty flush creates the first file (torch creates it at once), never a rolled-over one.
    if (this.#pending.length === 0 && (this.#created || this.#files.length > 0)) return;
    const platform = getPlatform();
    const extras = platform as Platform & HostExtras;
    const dir = await this.#dir();
    const path = joinPath(dir, this.#fileName);
    const batch = this.#pending;
    this.#pending = [];
    try {
      if (!this.#created) await platform.mkdirp(dir);
      if (extras.appendFile !== undefined && this.#created) {
        await extras.appendFile(path, concatBytes(batch));
      } else {
        await platform.writeFile(path, concatBytes([...this.#written, ...batch]));
      }
    } catch (error) {
      this.#pending = [...batch, ...this.#pending];
      // A typed fault already names the operation and the path; the logger puts its name on it.
      if (error instanceof FileSystemError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new LoggerError(
        `event writer: cannot write ${path}; expected a writable folder, got an error (${reason})`,
        { cause: error },
      );
    }
    if (!this.#created) this.#files.push(path);
    this.#created = true;
    if (extras.appendFile !== undefined) {
      this.#written = [];
    } else {
      for (const r of batch) {
        this.#written.push(r);
        this.#writtenBytes += r.length;
      }
      if (this.#writtenBytes >= this.#maxFileBytes) this.#newFile();
    }
  }

  /** Flushes, then refuses further events. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }
}
