/**
 * @module helpers/child-process — run a program in a child process with a timeout, and
 * tell whether a build output is older than its sources. Shared by the suites that run
 * the runtimes' smoke program and the seed example.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** How a child process ended, and what it printed. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Set when `maxRssMiB` was exceeded: the child's resident memory when it was killed. */
  readonly killedAtRssMiB?: number;
}

/** Options of {@link runChild}. */
export interface RunChildOptions {
  readonly cwd: string;
  readonly timeoutMs: number;
  /** Variables added to (or, as undefined, removed from) this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Kill the child (and its group) when its resident memory passes this many MiB (Linux,
   * read from /proc every 250 ms). A runaway child then fails its test instead of taking
   * the machine's memory from every other process.
   */
  readonly maxRssMiB?: number;
}

/** The resident memory of `pid` in MiB, from /proc (undefined where there is none). */
function residentMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Runs a command in its own process group, so a timeout kills its children too.
 * @example const r = await runChild(process.execPath, ['-e', '1'], { cwd: '.', timeoutMs: 5000 }); r.code // 0
 */
export function runChild(command: string, args: readonly string[], options: RunChildOptions): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killedAtRssMiB: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, options.timeoutMs);
    const limit = options.maxRssMiB;
    const watch =
      limit === undefined
        ? undefined
        : setInterval(() => {
            const rss = child.pid === undefined ? undefined : residentMiB(child.pid);
            if (rss === undefined || rss <= limit || child.pid === undefined) return;
            killedAtRssMiB = Math.round(rss);
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              /* already gone */
            }
          }, 250);
    const stop = (): void => {
      clearTimeout(timer);
      if (watch !== undefined) clearInterval(watch);
    };
    child.on('error', (error) => {
      stop();
      fail(error);
    });
    child.on('close', (code, signal) => {
      stop();
      done({ code, signal, stdout, stderr, timedOut, ...(killedAtRssMiB === undefined ? {} : { killedAtRssMiB }) });
    });
  });
}

/** A failure message: how the run ended, then the tails of its stdout and stderr. */
export function describeRun(name: string, r: RunResult): string {
  const why =
    r.killedAtRssMiB !== undefined
      ? `killed at ${r.killedAtRssMiB} MiB resident (over its memory limit)`
      : r.timedOut
        ? 'timed out'
        : r.signal !== null
          ? `killed by ${r.signal}`
          : `exit ${String(r.code)}`;
  return `${name}: ${why}\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

/** Newest modification time of the files under `dir` whose names end in one of `exts` (0 if none). */
export function newestMtime(dir: string, exts: readonly string[]): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) newest = Math.max(newest, newestMtime(path, exts));
    else if (exts.some((e) => name.endsWith(e))) newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}

/** A file's modification time, or 0 when it does not exist. */
export function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}
