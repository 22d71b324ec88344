/**
 * @module ddp/deno.test — `strategy: 'ddp'` under Deno, from the TypeScript sources: each case
 * runs test/ddp/fixtures/deno-train.ts with `deno run -A` (rank 0), which starts its ranks as
 * module Web Workers that re-run the same module (bindings/web-worker-ranks.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRun, runChild, type RunResult } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const TRAIN = join(ROOT, 'test', 'ddp', 'fixtures', 'deno-train.ts');
const RUN_TIMEOUT_MS = 30_000;

const scratch: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lightning-ts-ddp-deno-'));
  scratch.push(d);
  return d;
}

function deno(options: Record<string, unknown>, out: string): Promise<RunResult> {
  return runChild(DENO, ['run', '-A', '--no-prompt', TRAIN, JSON.stringify({ out, ...options })], {
    cwd: ROOT,
    timeoutMs: RUN_TIMEOUT_MS,
  });
}

async function train(
  options: Record<string, unknown>,
): Promise<{ run: RunResult; losses: number[]; weights: Float32Array }> {
  const out = tempDir();
  const run = await deno(options, out);
  if (run.code !== 0)
    throw new Error(describeRun(`ddp: deno-train.ts ${JSON.stringify(options)} failed; expected exit 0`, run));
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, 'rank 0 printed its RESULT line').toBeDefined();
  const bytes = readFileSync(join(out, 'weights.bin'));
  const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { run, losses: (JSON.parse(line!.slice(7)) as { losses: number[] }).losses, weights };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('ddp (Deno Web Workers)', () => {
  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  it('ddp: deno, 2 ranks on half batches give the losses and weights of one process (seed autoencoder, 10 steps), bitwise the same on a rerun', async () => {
    expect(existsSync(DENO), `ddp: Deno not found; expected ${DENO} (npm ci installs it)`).toBe(true);
    const single = await train({ devices: 1, steps: 10 });
    const ddp = await train({ devices: 2, steps: 10 });
    const again = await train({ devices: 2, steps: 10 });
    expect(single.weights.length).toBe(101_651);
    expect(ddp.losses).toHaveLength(10);
    expect(maxAbsDiff(ddp.losses, single.losses)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ddp.weights, single.weights)).toBeLessThan(1e-5);
    expect(Buffer.from(again.weights.buffer).equals(Buffer.from(ddp.weights.buffer))).toBe(true);
    // The worker re-ran the module, and its code after fit ran too.
    expect(ddp.run.stdout).toContain('rank 1 of 2 after fit');
  }, 80_000);

  it('ddp: deno, syncBatchnorm, a CNN with BatchNorm and Dropout on 2 ranks gives the losses, weights and running stats of one process on the global batch (50 steps)', async () => {
    // The CNN and why its Dropout can match one process: test/ddp/fixtures/cnn.mjs. The bound is
    // ddp.test.ts's CNN_TOL (float32 rounding of sums split across the ranks; measured ~7e-7 here).
    const single = await train({ model: 'cnn', devices: 1, steps: 50 });
    const ddp = await train({ model: 'cnn', devices: 2, steps: 50, syncBatchnorm: true });
    expect(single.weights.length).toBe(698 + 9);
    expect(ddp.losses).toHaveLength(50);
    expect(maxAbsDiff(ddp.losses, single.losses)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ddp.weights, single.weights)).toBeLessThan(1e-5);
    expect(ddp.weights.at(-1)).toBe(50);
  }, 80_000);

  it('ddp: deno, a rank whose step throws ends fit on rank 0 with a DistributedError naming it, and the process ends', async () => {
    const r = await deno({ devices: 2, steps: 10, fault: 'throw' }, tempDir());
    expect(r.timedOut, describeRun('fault throw', r)).toBe(false);
    expect(r.code, describeRun('fault throw', r)).toBe(1);
    expect(r.stderr).toMatch(/DistributedError: DDP: rank 1 failed/);
    expect(r.stderr).toContain('RangeError: injected fault on rank 1');
  }, 40_000);

  it('ddp: deno eval has no script to re-run, so DDP fails with a WorkerStartError', async () => {
    const code = [
      `const { DataLoader, LightningModule, TensorDataset, Trainer, F, nn, optim, rand } = await import(${JSON.stringify(join(ROOT, 'bindings', 'deno.ts'))});`,
      'class M extends LightningModule { constructor() { super(); this.l = new nn.Linear(4, 1); }',
      '  trainingStep([x]) { return F.mseLoss(this.l.forward(x), x.sum(1, true)); }',
      '  configureOptimizers() { return new optim.SGD(this.parameters(), { lr: 0.1 }); } }',
      "await new Trainer({ strategy: 'ddp', devices: 2, maxSteps: 2, logger: false, enableCheckpointing: false }).fit(new M(), new DataLoader(new TensorDataset(rand([8, 4])), { batchSize: 2 }));",
    ].join('\n');
    const r = await runChild(DENO, ['eval', code], { cwd: ROOT, timeoutMs: RUN_TIMEOUT_MS });
    expect(r.code, describeRun('deno eval', r)).toBe(1);
    expect(r.stderr).toMatch(/WorkerStartError: DDP: no script file to re-run in the workers/);
  }, 40_000);
});
