/**
 * @module webgpu.test — the WebGPU backend's own checks (pool, errors, batching, the
 * reduction tree, a lost device) and a short training run of the seed model, in Deno,
 * whose navigator.gpu gives an adapter here (lavapipe on a machine without a GPU); every
 * check a script prints must read `ok`. A machine without an adapter skips, naming why.
 * The parity cases run through test/runtimes/webgpu/ instead.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Under CI (.ci/run) a missing adapter fails the test instead of skipping it. */
const IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
import { describeRun, runChild, type RunResult } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const SCRIPT = 'test/backends/webgpu/backend-deno.ts';

/** Runs a Deno script from the repo root. */
function runScript(script: string): Promise<RunResult> {
  return runChild(DENO, ['run', '-A', script], {
    cwd: ROOT,
    timeoutMs: 240_000,
    env: { XDG_RUNTIME_DIR: process.env['XDG_RUNTIME_DIR'] ?? '/tmp' },
    maxRssMiB: 4096,
  });
}

describe('webgpu backend (Deno)', () => {
  it('webgpu: the Deno checks of the backend all pass', { timeout: 250_000 }, async (ctx) => {
    const r = await runScript(SCRIPT);
    const skip = /^SKIP (.*)$/m.exec(r.stdout);
    if (skip !== null) {
      if (IN_CI)
        throw new Error(
          `webgpu: no WebGPU adapter in CI; expected Deno's navigator.gpu on lavapipe (.ci/run installs mesa-vulkan-drivers), got: ${skip[1]}`,
        );
      ctx.skip(skip[1]);
      return;
    }
    expect(r.code, describeRun('webgpu: deno run test/backends/webgpu/backend-deno.ts; expected exit 0', r)).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^(ok|FAIL) /.test(l));
    expect(lines.length, 'checks reported').toBeGreaterThanOrEqual(19);
    expect(lines.filter((l) => l.startsWith('FAIL '))).toEqual([]);
    expect(r.stdout).toMatch(/^(\d+) of \1 passed$/m);
  });

  it("webgpu: the seed autoencoder trains 8 Adam steps with the reference backend's losses and a flat live-buffer count", {
    timeout: 250_000,
  }, async (ctx) => {
    const r = await runScript('test/backends/webgpu/train-smoke-deno.ts');
    const skip = /^SKIP (.*)$/m.exec(r.stdout);
    if (skip !== null) {
      if (IN_CI)
        throw new Error(
          `webgpu: no WebGPU adapter in CI; expected Deno's navigator.gpu on lavapipe (.ci/run installs mesa-vulkan-drivers), got: ${skip[1]}`,
        );
      ctx.skip(skip[1]);
      return;
    }
    expect(r.code, describeRun('webgpu: deno run test/backends/webgpu/train-smoke-deno.ts; expected exit 0', r)).toBe(
      0,
    );
    expect(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).length).toBe(9);
  });
});
