/**
 * @module bindings/temp-files — the names of `writeFile`'s temporary files, and the sweep that
 * removes those a killed writer left behind, shared by the Node, Deno and browser bindings.
 *
 * A temporary file is `.<target>.<writer>.<n>.lts-tmp`: hidden, beside its target, with the
 * writer's process id (or a per-tab id) so a later process can tell whether its writer lives.
 */
import { FileSystemError } from '../runtime/errors.ts';
import { TEMP_FILE_SUFFIX } from '../runtime/platform.ts';

/** The parts of a temporary file's name. */
export interface TempFileName {
  /** The file it was going to become. */
  readonly target: string;
  /** The process id, or a browser tab's id. */
  readonly writer: string;
  readonly counter: number;
}

/** What a sweep knows about a writer: writing it now (this process), alive, gone, or unknowable. */
export type WriterState = 'in-flight' | 'alive' | 'gone' | 'unknown';

/** A temporary file whose writer cannot be checked is stale after 10 minutes untouched. */
export const UNKNOWN_WRITER_STALE_MS = 10 * 60_000;
/** A live writer's id may be a reused pid: its temporary file is stale after a day untouched. */
export const LIVE_WRITER_STALE_MS = 24 * 60 * 60_000;

const PATTERN = /^\.(.+)\.([0-9a-z]+)\.(\d+)\.lts-tmp$/;

/**
 * The temporary name for a write of `target` (a file name, not a path).
 * @example tempFileName('epoch=1.ckpt', 4242, 0) // '.epoch=1.ckpt.4242.0.lts-tmp'
 */
export function tempFileName(target: string, writer: string | number, counter: number): string {
  return `.${target}.${writer}.${counter}${TEMP_FILE_SUFFIX}`;
}

/**
 * The parts of one of our temporary names, or undefined for any other name.
 * @example parseTempFileName('.a.ckpt.4242.0.lts-tmp') // { target: 'a.ckpt', writer: '4242', counter: 0 }
 */
export function parseTempFileName(name: string): TempFileName | undefined {
  const m = PATTERN.exec(name);
  if (m === null) return undefined;
  return { target: m[1] ?? '', writer: m[2] ?? '', counter: Number(m[3]) };
}

/** What a sweep asks of its host's file system. */
export interface SweepHost {
  /** Names in `dir`; rejects with a FileSystemError. */
  list(dir: string): Promise<string[]>;
  join(dir: string, name: string): string;
  /** Whether the writer named in a temporary file is still writing it. */
  writer(writer: string, path: string): WriterState;
  /** Milliseconds since the file was last modified; undefined when it is gone or not a file. */
  ageMs(path: string): Promise<number | undefined>;
  /** Removes a file; false when it was already gone. */
  remove(path: string): Promise<boolean>;
}

/** How long a temporary file must lie untouched before the sweep takes it, by its writer's state. */
function staleAfterMs(state: WriterState): number {
  if (state === 'in-flight') return Number.POSITIVE_INFINITY;
  if (state === 'gone') return 0;
  return state === 'alive' ? LIVE_WRITER_STALE_MS : UNKNOWN_WRITER_STALE_MS;
}

/**
 * Removes the temporary files of our naming in `dir` whose writer is gone (or that lay untouched
 * past {@link UNKNOWN_WRITER_STALE_MS} / {@link LIVE_WRITER_STALE_MS}); returns their paths.
 * A missing `dir` removes nothing.
 *
 * @example const removed = await sweepStaleTempFiles('runs/ckpts', nodeSweepHost);
 */
export async function sweepStaleTempFiles(dir: string, host: SweepHost): Promise<string[]> {
  let names: string[];
  try {
    names = await host.list(dir);
  } catch (error) {
    if (error instanceof FileSystemError && error.code === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const parsed = parseTempFileName(name);
    if (parsed === undefined) continue;
    const path = host.join(dir, name);
    const limit = staleAfterMs(host.writer(parsed.writer, path));
    if (limit === Number.POSITIVE_INFINITY) continue;
    const age = await host.ageMs(path);
    if (age === undefined || Math.max(0, age) < limit) continue;
    if (await host.remove(path)) removed.push(path);
  }
  return removed;
}
