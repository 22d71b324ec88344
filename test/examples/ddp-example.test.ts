/**
 * @module examples/ddp-example.test — `npm run example:ddp` (examples/ddp.ts): the quick start's
 * autoencoder on 2 ranks, started as a user would in Node (the compiled dist/examples/ddp.js) and
 * in Deno (`deno run -A examples/ddp.ts`, offline), each in a fresh working folder.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, mtime, newestMtime, runChild, type RunResult } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const COMPILED = join(ROOT, 'dist', 'examples', 'ddp.js');
const RUN_TIMEOUT_MS = 60_000;

const scratch: string[] = [];
function tempCwd(): string {
  const d = mkdtempSync(join(tmpdir(), 'lightning-ts-example-ddp-'));
  scratch.push(d);
  return d;
}

/** What both runtimes must show: both ranks finish, rank 0 alone writes and reports. */
function checkRun(r: RunResult, cwd: string): string {
  expect(r.stdout).toContain('rank 0 of 2: fit done at step 313');
  expect(r.stdout).toContain('rank 1 of 2: fit done at step 313');
  expect(r.stdout).toContain('checkpoint: ./lightning_logs/version_0/checkpoints/epoch=0-step=313.ckpt');
  expect(r.stdout.match(/^checkpoint: /gm)).toHaveLength(1);
  expect(readdirSync(join(cwd, 'lightning_logs'))).toEqual(['version_0']);
  const files = readdirSync(join(cwd, 'lightning_logs', 'version_0'));
  expect(files.filter((f) => f.startsWith('events.out.tfevents.'))).toHaveLength(1);
  expect(readdirSync(join(cwd, 'lightning_logs', 'version_0', 'checkpoints'))).toEqual(['epoch=0-step=313.ckpt']);
  const line = r.stdout.split('\n').find((l) => l.startsWith('embedding of digit'));
  expect(line).toMatch(/^embedding of digit \d: \[-?\d+\.\d{3}, -?\d+\.\d{3}, -?\d+\.\d{3}\]$/);
  return line!;
}

describe('examples/ddp', () => {
  let nodeLine: string | null = null;

  beforeAll(async () => {
    const sources = Math.max(
      newestMtime(join(ROOT, 'runtime'), ['.ts']),
      newestMtime(join(ROOT, 'bindings'), ['.ts']),
      newestMtime(join(ROOT, 'examples'), ['.ts']),
    );
    if (mtime(COMPILED) < sources) {
      const r = await runChild('npm', ['run', 'build:ts'], { cwd: ROOT, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(describeRun('examples: npm run build:ts failed; expected exit 0', r));
    }
  }, 300_000);

  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  it('ddp example: Node (npm run example:ddp) trains on 2 ranks; rank 0 alone writes the logs and the checkpoint, which loads in one process', async () => {
    const cwd = tempCwd();
    const r = await runChild(process.execPath, [COMPILED], { cwd, timeoutMs: RUN_TIMEOUT_MS });
    expect(r.code, describeRun('node dist/examples/ddp.js', r)).toBe(0);
    nodeLine = checkRun(r, cwd);
  }, 90_000);

  it('ddp example: Deno (deno run -A examples/ddp.ts) does the same, with the same weights', async () => {
    const cwd = tempCwd();
    const r = await runChild(
      DENO,
      ['run', '-A', '--cached-only', '--config', join(ROOT, 'deno.json'), join(ROOT, 'examples', 'ddp.ts')],
      { cwd, timeoutMs: RUN_TIMEOUT_MS },
    );
    expect(r.code, describeRun('deno run examples/ddp.ts', r)).toBe(0);
    const line = checkRun(r, cwd);
    // same seed, data order, kernels and reduction order: the same embedding to the printed digit
    if (nodeLine !== null) expect(line).toBe(nodeLine);
  }, 90_000);
});
