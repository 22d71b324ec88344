/**
 * @module matmul-kernels.test — the WebGPU matmul, im2col/col2im and fused Adam kernels
 * against the reference backend, through their Deno check scripts (navigator.gpu there:
 * lavapipe on a machine without a GPU): every case a script prints must read `ok`, and the
 * script must end with `all passed`. A machine without a WebGPU adapter skips, naming why.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Under CI (.ci/run) a missing adapter fails the test instead of skipping it. */
const IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
import { describeRun, runChild } from '../../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');

/** Each script and the fewest `ok` lines it prints (its case count without the f16 cases). */
const SCRIPTS = [
  { name: 'matmul', script: 'test/backends/webgpu/matmul-check.ts', minCases: 81 },
  { name: 'im2col/col2im', script: 'test/backends/webgpu/conv-check.ts', minCases: 18 },
  { name: 'adam', script: 'test/backends/webgpu/adam-check.ts', minCases: 20 },
] as const;

describe('webgpu kernels (Deno)', () => {
  for (const { name, script, minCases } of SCRIPTS) {
    it(`webgpu ${name}: every case matches the reference backend`, { timeout: 300_000 }, async (ctx) => {
      const r = await runChild(DENO, ['run', '-A', script], {
        cwd: ROOT,
        timeoutMs: 290_000,
        env: { XDG_RUNTIME_DIR: process.env['XDG_RUNTIME_DIR'] ?? '/tmp' },
        maxRssMiB: 4096,
      });
      const skip = /^SKIP (.*)$/m.exec(r.stdout);
      if (skip !== null) {
        if (IN_CI)
          throw new Error(
            `webgpu: no WebGPU adapter in CI; expected Deno's navigator.gpu on lavapipe (.ci/run installs mesa-vulkan-drivers), got: ${skip[1]}`,
          );
        ctx.skip(skip[1]);
        return;
      }
      expect(r.code, describeRun(`webgpu: deno run ${script}; expected exit 0`, r)).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines.filter((l) => l.startsWith('FAIL '))).toEqual([]);
      expect(lines.filter((l) => l.startsWith('ok ')).length).toBeGreaterThanOrEqual(minCases);
      expect(r.stdout).toMatch(/: all passed$/m);
    });
  }
});
