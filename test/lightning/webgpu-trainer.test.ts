/**
 * @module lightning/webgpu-trainer.test — `new Trainer({ accelerator: 'webgpu' })` in Deno trains
 * the seed autoencoder and a small CNN with the loss curve of the wasm backend (same seed,
 * within float tolerance), in '32-true', '16-mixed', 'bf16-mixed' and '16-true', and saves a checkpoint
 * with asynchronous reads. Runs test/lightning/webgpu/trainer-parity.ts under Deno; CI has only
 * software adapters (Mesa's lavapipe), so the program allows the fallback adapter explicitly.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeRun, runChild, type RunResult } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const PREFIX = 'TRAINER_PARITY ';

interface RunLine {
  readonly kind: 'seed' | 'cnn';
  readonly precision: string;
  readonly accelerator: string;
  readonly backend: string;
  readonly losses: number[];
  readonly adapter: string;
  readonly f16: boolean | null;
  readonly ckptStep: number;
  readonly params: string[];
  readonly error?: string;
}

let result: RunResult;
let lines: RunLine[] = [];

beforeAll(async () => {
  expect(
    existsSync(DENO),
    `webgpu trainer: Deno not found; expected ${DENO} (npm ci installs the deno package), got nothing there`,
  ).toBe(true);
  result = await runChild(
    DENO,
    ['run', '-A', '--no-prompt', 'test/lightning/webgpu/trainer-parity.ts', '--allow-fallback'],
    { cwd: ROOT, timeoutMs: 170_000 },
  );
  lines = result.stdout
    .split('\n')
    .filter((l) => l.startsWith(PREFIX))
    .map((l) => JSON.parse(l.slice(PREFIX.length)) as RunLine);
}, 180_000);

function pair(kind: 'seed' | 'cnn', precision: string): [RunLine, RunLine] {
  const cpu = lines.find((l) => l.kind === kind && l.precision === precision && l.accelerator === 'cpu');
  const gpu = lines.find((l) => l.kind === kind && l.precision === precision && l.accelerator === 'webgpu');
  expect(cpu, describeRun('webgpu trainer (deno)', result)).toBeDefined();
  expect(gpu, describeRun('webgpu trainer (deno)', result)).toBeDefined();
  return [cpu!, gpu!];
}

/** Every step's loss within rtol of the wasm run's. */
function expectCurve(gpu: readonly number[], cpu: readonly number[], rtol: number): void {
  expect(gpu.length).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    expect(Math.abs(gpu[i]! - cpu[i]!), `step ${i}: webgpu ${gpu[i]} vs wasm ${cpu[i]}`).toBeLessThanOrEqual(
      rtol * Math.abs(cpu[i]!),
    );
  }
}

describe('Trainer on WebGPU (Deno)', () => {
  it('webgpu trainer: the Deno program ran to the end on a WebGPU adapter', () => {
    expect(result.code, describeRun('webgpu trainer (deno)', result)).toBe(0);
    expect(lines.some((l) => l.error !== undefined)).toBe(false);
    const gpu = lines.filter((l) => l.accelerator === 'webgpu');
    expect(gpu.length).toBe(5);
    for (const l of gpu) {
      expect(l.backend).toBe('webgpu');
      expect(l.adapter).not.toBe('');
      expect(new Set(l.params)).toEqual(new Set(['webgpu']));
    }
  });

  it("webgpu trainer: the seed autoencoder's loss curve matches wasm's (float32, 6 steps of Adam)", () => {
    const [cpu, gpu] = pair('seed', '32-true');
    expectCurve(gpu.losses, cpu.losses, 1e-4);
    expect(gpu.ckptStep).toBe(6);
  });

  it("webgpu trainer: a small CNN's loss curve (conv2d, max pool, cross-entropy) matches wasm's", () => {
    const [cpu, gpu] = pair('cnn', '32-true');
    expectCurve(gpu.losses, cpu.losses, 1e-4);
    expect(gpu.ckptStep).toBe(6);
  });

  it("webgpu trainer: '16-mixed', 'bf16-mixed' and '16-true' on WebGPU match the same precision on wasm", () => {
    for (const precision of ['16-mixed', 'bf16-mixed', '16-true']) {
      const [cpu, gpu] = pair('seed', precision);
      expectCurve(gpu.losses, cpu.losses, 1e-4);
      const [ref] = pair('seed', '32-true');
      expect(gpu.losses).not.toEqual(ref.losses);
    }
  });
});
