/**
 * @module ddp/interrupt.test — Ctrl-C during fit, end to end in Node and Deno, on one process
 * and on 2 DDP ranks: a child process trains until interrupted (test/ddp/fixtures/interrupt.mjs
 * on the build, fixtures/deno-interrupt.ts on the sources), the test waits for its first
 * checkpoint and sends SIGINT to its process group (as a terminal's Ctrl-C does), then checks
 * how it ended and what it left on disk.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERRUPT_NOTICE } from '../../runtime/lightning/interrupt.ts';
import { TEMP_FILE_SUFFIX } from '../../runtime/platform.ts';
import { describeRun, mtime, newestMtime, runChild, type RunResult } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'lightning-ts.node.js');
const NODE_FIXTURE = join(ROOT, 'test', 'ddp', 'fixtures', 'interrupt.mjs');
const DENO_FIXTURE = join(ROOT, 'test', 'ddp', 'fixtures', 'deno-interrupt.ts');
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
/** Checkpoint every this many training steps. */
const EVERY_N = 5;
/** Startup (DDP workers, Deno compiling the sources) up to the first checkpoint. */
const START_MS = 60_000;
/** A graceful stop takes milliseconds; past this the process counts as hung. */
const STOP_MS = 10_000;

const scratch: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lightning-ts-interrupt-'));
  scratch.push(d);
  return d;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A training child process in its own process group, with what it printed so far. */
function startTraining(runtime: 'node' | 'deno', options: Record<string, unknown>) {
  const json = JSON.stringify({ everyN: EVERY_N, ...options });
  const [command, args] =
    runtime === 'node'
      ? [process.execPath, [NODE_FIXTURE, json]]
      : [DENO, ['run', '-A', '--no-prompt', DENO_FIXTURE, json]];
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exited = false;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  const group = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      /* already gone */
    }
  };
  return {
    output: () => stdout + stderr,
    /** Ctrl-C as a terminal sends it: SIGINT to the whole process group. */
    ctrlC: () => group('SIGINT'),
    /** Waits until `ok()` holds; fails if the process ends first or `ms` pass. */
    async until(what: string, ok: () => boolean, ms: number): Promise<void> {
      const end = Date.now() + ms;
      while (!ok()) {
        if (exited || Date.now() > end) {
          group('SIGKILL');
          throw new Error(
            `interrupt: ${what} never came; ${exited ? 'the process ended' : `${ms} ms passed`}\n${stdout}\n${stderr}`,
          );
        }
        await sleep(50);
      }
    },
    /** How it ended, or a timeout after `ms` (the group is then killed). */
    async ended(ms: number): Promise<RunResult> {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        group('SIGKILL');
      }, ms);
      const { code, signal } = await closed;
      clearTimeout(timer);
      return { code, signal, stdout, stderr, timedOut };
    },
  };
}

/** Trains until the first checkpoint exists, presses Ctrl-C, and returns how the process ended. */
async function interruptAfterFirstCheckpoint(
  runtime: 'node' | 'deno',
  devices: number,
): Promise<{ run: RunResult; ckpts: string }> {
  const out = tempDir();
  const ckpts = join(out, 'ckpts');
  const training = startTraining(runtime, { out, devices });
  await training.until('the first checkpoint', () => existsSync(join(ckpts, 'last.ckpt')), START_MS);
  // Into the training that follows (more checkpoints replace the first).
  await sleep(200);
  training.ctrlC();
  return { run: await training.ended(STOP_MS), ckpts };
}

/** The checkpoint loaded by the library (the Node fixture's load mode). */
async function loadCheckpoint(path: string): Promise<{ keys: string[]; globalStep: number; stateDict: string[] }> {
  const r = await runChild(process.execPath, [NODE_FIXTURE, JSON.stringify({ load: path })], {
    cwd: ROOT,
    timeoutMs: 30_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('CKPT '));
  if (r.code !== 0 || line === undefined) throw new Error(describeRun(`interrupt: loading ${path} failed`, r));
  return JSON.parse(line.slice(5)) as { keys: string[]; globalStep: number; stateDict: string[] };
}

/** What a graceful stop must leave: the notice, the typed error, whole checkpoints, no temp file. */
async function expectGracefulStop(name: string, run: RunResult, ckpts: string): Promise<void> {
  expect(run.timedOut, describeRun(name, run)).toBe(false);
  expect(run.signal, describeRun(name, run)).toBeNull();
  expect(run.code, describeRun(name, run)).toBe(1);
  expect(run.stdout.split(INTERRUPT_NOTICE)).toHaveLength(2);
  expect(run.stdout).toContain('status interrupted');
  const m = /InterruptedError: Trainer\.fit: interrupted \(SIGINT\) at epoch (\d+), global step (\d+);/.exec(
    run.stderr,
  );
  expect(m, describeRun(name, run)).not.toBeNull();
  expect(run.stderr).toContain(`the checkpoints already written are untouched (last: ${join(ckpts, 'last.ckpt')})`);
  const stoppedAt = Number(m![2]);
  const names = readdirSync(ckpts);
  expect(names.filter((n) => n.endsWith(TEMP_FILE_SUFFIX))).toEqual([]);
  expect(names.filter((n) => n.endsWith('.ckpt')).length).toBeGreaterThanOrEqual(2);
  for (const n of names) {
    const ckpt = await loadCheckpoint(join(ckpts, n));
    expect(ckpt.keys).toEqual(expect.arrayContaining(['epoch', 'global_step', 'state_dict', 'optimizer_states']));
    expect(ckpt.stateDict).toContain('encoder.0.weight');
    expect(ckpt.globalStep % EVERY_N).toBe(0);
    // The run stopped between batches, after the checkpoints of the step it had finished.
    if (n === 'last.ckpt') expect(ckpt.globalStep).toBe(Math.floor(stoppedAt / EVERY_N) * EVERY_N);
  }
}

describe('interrupt (Ctrl-C) in Node and Deno', () => {
  beforeAll(async () => {
    const sources = Math.max(newestMtime(join(ROOT, 'runtime'), ['.ts']), newestMtime(join(ROOT, 'bindings'), ['.ts']));
    if (mtime(BUNDLE) < sources) {
      const r = await runChild('npm', ['run', 'build:ts'], { cwd: ROOT, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(describeRun('interrupt: npm run build:ts failed; expected exit 0', r));
    }
  }, 300_000);

  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  it('interrupt: node, Ctrl-C stops fit with an InterruptedError, removes its listener, and leaves whole checkpoints that load', async () => {
    const { run, ckpts } = await interruptAfterFirstCheckpoint('node', 1);
    await expectGracefulStop('node, one process', run, ckpts);
    expect(run.stdout).toContain('SIGINT listeners 0 before fit, 0 after');
  }, 90_000);

  it('interrupt: node, ddp on 2 ranks, Ctrl-C stops every rank and the process ends (no worker left)', async () => {
    const { run, ckpts } = await interruptAfterFirstCheckpoint('node', 2);
    await expectGracefulStop('node, ddp 2', run, ckpts);
    expect(run.stderr).toContain('DistributedError: DDP: rank 0 failed');
  }, 90_000);

  it('interrupt: node, a second Ctrl-C while the run shuts down ends the process at once (the default)', async () => {
    const out = tempDir();
    const training = startTraining('node', { out, hold: true });
    await training.until('the first checkpoint', () => existsSync(join(out, 'ckpts', 'last.ckpt')), START_MS);
    training.ctrlC();
    await training.until('onException', () => training.output().includes('HOLDING in onException'), STOP_MS);
    training.ctrlC();
    const run = await training.ended(STOP_MS);
    expect(run.timedOut, describeRun('second Ctrl-C', run)).toBe(false);
    expect(run.signal, describeRun('second Ctrl-C', run)).toBe('SIGINT');
  }, 90_000);

  it('interrupt: deno, Ctrl-C stops fit with an InterruptedError and leaves whole checkpoints that load', async () => {
    expect(existsSync(DENO), `interrupt: Deno not found; expected ${DENO} (npm ci installs it)`).toBe(true);
    const { run, ckpts } = await interruptAfterFirstCheckpoint('deno', 1);
    await expectGracefulStop('deno, one process', run, ckpts);
  }, 90_000);

  it('interrupt: deno, ddp on 2 ranks, Ctrl-C stops every rank and the process ends (no worker left)', async () => {
    const { run, ckpts } = await interruptAfterFirstCheckpoint('deno', 2);
    await expectGracefulStop('deno, ddp 2', run, ckpts);
  }, 90_000);

  it('interrupt: deno, a second Ctrl-C while the run shuts down ends the process at once (the default)', async () => {
    const out = tempDir();
    const training = startTraining('deno', { out, hold: true });
    await training.until('the first checkpoint', () => existsSync(join(out, 'ckpts', 'last.ckpt')), START_MS);
    training.ctrlC();
    await training.until('onException', () => training.output().includes('HOLDING in onException'), STOP_MS);
    training.ctrlC();
    const run = await training.ended(STOP_MS);
    expect(run.timedOut, describeRun('deno second Ctrl-C', run)).toBe(false);
    expect(run.signal, describeRun('deno second Ctrl-C', run)).toBe('SIGINT');
  }, 90_000);
});
