/**
 * @module helpers/torch — run Debian's python3-torch on a file we wrote.
 *
 * Tests that need torch use `torchIt`: it runs when /usr/bin/python3 imports torch,
 * and also whenever CI is set (where `.ci/run` installs python3-torch), so a missing
 * torch fails CI instead of skipping. Locally without torch the tests skip, said once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';

const CHECK_SCRIPT = new URL('../fixtures/io/torch-load-check.py', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';

/** Whether Debian's python3-torch can run here. */
export const HAS_TORCH =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';

/** `it` where torch runs or CI is set, else `it.skip`. */
export const torchIt = HAS_TORCH || IN_CI ? it : it.skip;
if (!HAS_TORCH && !IN_CI) {
  console.warn(
    'torch tests: skipping the torch.load checks: /usr/bin/python3 with torch (Debian python3-torch) is not installed and CI is unset',
  );
}

/** What test/fixtures/io/torch-load-check.py prints about a file. */
export interface TorchLoadResult {
  weights_only: string;
  audit: string[];
  entries: string[];
  value: unknown;
  restored?: string;
}

/**
 * torch.load of `bytes` (weights_only where torch 1.13 can, else after an opcode/global audit).
 * @example const r = torchLoad(await saveTorch({ a: ones([2]) })); r.audit // []
 */
export function torchLoad(bytes: Uint8Array, args: string[] = []): TorchLoadResult {
  if (!HAS_TORCH) {
    throw new Error(
      'torch tests: CI is set but /usr/bin/python3 cannot import torch; expected Debian python3-torch installed (apt-get install python3-torch), got none',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'torch-load-'));
  try {
    const path = join(dir, 'ours.ckpt');
    writeFileSync(path, bytes);
    return JSON.parse(
      execFileSync(PYTHON, [CHECK_SCRIPT, path, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }),
    ) as TorchLoadResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
