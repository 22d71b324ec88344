/**
 * @module runtimes.test — the same smoke training run in Node, Deno and Chromium.
 *
 * Each runtime runs test/runtimes/smoke.ts in a child process. With
 * deterministic (simd128) kernels their printed losses and weight hashes must
 * be bitwise identical. The compiled entries come from `npm run build`; when
 * the build is missing or older than the sources, it is rebuilt first.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeRun, mtime, newestMtime, runChild, type RunResult } from '../helpers/child-process.ts';
import { expectClose, TOLERANCES } from '../helpers/tolerance.ts';
import { SMOKE_PREFIX, SMOKE_STEPS, TRAINER_STEPS } from './smoke.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const RUN_TIMEOUT_MS = 100_000;
/** Per test: the child's own limit plus time to report. */
const TEST_TIMEOUT_MS = 120_000;

/** Runs a command from the repo root. */
function run(command: string, args: readonly string[], timeoutMs: number = RUN_TIMEOUT_MS): Promise<RunResult> {
  return runChild(command, args, { cwd: ROOT, timeoutMs });
}

/** Rebuilds what a runtime needs when it is missing or older than its sources. */
async function ensureBuilt(): Promise<void> {
  const wasmSources = Math.max(
    newestMtime(join(ROOT, 'assembly'), ['.ts']),
    mtime(join(ROOT, 'scripts', 'build-wasm.mjs')),
  );
  const wasmBuilt = Math.min(
    mtime(join(ROOT, 'build', 'kernels-simd.wasm')),
    mtime(join(ROOT, 'build', 'kernels-relaxed.wasm')),
  );
  if (wasmBuilt === 0 || wasmBuilt < wasmSources) {
    const r = await run(process.execPath, ['scripts/build-wasm.mjs'], 300_000);
    if (r.code !== 0) throw new Error(describeRun('runtimes: npm run build:wasm failed; expected exit 0', r));
  }
  const tsSources = Math.max(
    newestMtime(join(ROOT, 'runtime'), ['.ts']),
    newestMtime(join(ROOT, 'bindings'), ['.ts']),
    newestMtime(join(ROOT, 'test', 'runtimes'), ['.ts']),
  );
  const tsBuilt = Math.min(
    mtime(join(ROOT, 'dist', 'bindings', 'node.js')),
    mtime(join(ROOT, 'dist', 'bindings', 'browser.js')),
    mtime(join(ROOT, 'dist', 'test', 'runtimes', 'node', 'smoke.js')),
    mtime(join(ROOT, 'dist', 'test', 'runtimes', 'browser', 'run.js')),
  );
  if (tsBuilt === 0 || tsBuilt < tsSources) {
    const r = await run(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      300_000,
    );
    if (r.code !== 0) throw new Error(describeRun('runtimes: npm run build:ts failed; expected exit 0', r));
  }
}

interface Loss {
  readonly hex: string;
  readonly value: number;
}

interface SmokeOutput {
  readonly lines: readonly string[];
  /** Losses by backend name ('reference', 'wasm'), in step order. */
  readonly losses: ReadonlyMap<string, readonly Loss[]>;
}

function parseSmoke(stdout: string): SmokeOutput {
  const lines = stdout
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.startsWith(SMOKE_PREFIX));
  const losses = new Map<string, Loss[]>();
  for (const line of lines) {
    const m = /^smoke (\w+) loss (\d+) 0x([0-9a-f]{8}) (\S+)$/.exec(line);
    if (m === null) continue;
    const list = losses.get(m[1]!) ?? [];
    list.push({ hex: m[3]!, value: Number(m[4]) });
    losses.set(m[1]!, list);
  }
  return { lines, losses };
}

const outputs = new Map<string, SmokeOutput>();

/** Runs one runtime's smoke and checks its output on its own. */
async function smokeIn(name: string, command: string, args: readonly string[]): Promise<void> {
  const r = await run(command, args);
  expect(r.code, describeRun(name, r)).toBe(0);
  const out = parseSmoke(r.stdout);
  expect(out.lines.length, describeRun(name, r)).toBeGreaterThan(0);
  const context = `${name}:\n${out.lines.join('\n')}`;
  expect(out.lines, describeRun(name, r)).toContain(`${SMOKE_PREFIX}backend wasm`);
  expect(out.lines, describeRun(name, r)).toContain(`${SMOKE_PREFIX}done`);
  expect(out.lines, describeRun(name, r)).toContain(
    `${SMOKE_PREFIX}files roundtrip ok; listing w.bin | b; missing file rejects; after remove w.bin; clock monotonic`,
  );
  // the whole-Trainer run: weights, logged values and checkpoint tensors, hashed
  for (const pattern of [
    new RegExp(`^smoke trainer steps ${TRAINER_STEPS} weights fnv1a 0x[0-9a-f]{8}$`),
    /^smoke trainer metrics\.csv \d+ bytes fnv1a 0x[0-9a-f]{8}$/,
    /^smoke trainer checkpoints .*epoch=3-step=100\.ckpt last\.ckpt$/,
    /^smoke trainer last\.ckpt \d+ tensors fnv1a 0x[0-9a-f]{8}$/,
  ]) {
    expect(
      out.lines.some((l) => pattern.test(l)),
      `${context}\n(expected a line matching ${pattern})`,
    ).toBe(true);
  }
  for (const backend of ['reference', 'wasm']) {
    const losses = out.losses.get(backend) ?? [];
    expect(losses, `${context}\n(${backend} losses)`).toHaveLength(SMOKE_STEPS);
    expect(
      out.lines.some((l) => new RegExp(`^smoke ${backend} weights fnv1a 0x[0-9a-f]{8}$`).test(l)),
      context,
    ).toBe(true);
    for (const { value } of losses) expect(Number.isFinite(value), context).toBe(true);
    for (let i = 1; i < losses.length; i++) {
      expect(losses[i]!.value, `${context}\n${backend} loss ${i} should fall below loss ${i - 1}`).toBeLessThan(
        losses[i - 1]!.value,
      );
    }
  }
  // wasm may accumulate in another order than the reference: a whole training chain's tolerance.
  expectClose(
    (out.losses.get('wasm') ?? []).map((l) => l.value),
    (out.losses.get('reference') ?? []).map((l) => l.value),
    TOLERANCES.gradient.float32,
    `${name}: wasm losses against the reference backend's`,
  );
  outputs.set(name, out);
  console.info(`${name}:\n${out.lines.join('\n')}`);
}

describe('runtimes', () => {
  beforeAll(ensureBuilt, 600_000);

  it(
    'runtimes: node runs the smoke through dist/bindings/node.js',
    async () => {
      await smokeIn('node', process.execPath, ['dist/test/runtimes/node/smoke.js']);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'runtimes: deno runs the smoke from the TypeScript sources',
    async () => {
      expect(
        existsSync(DENO),
        `runtimes: Deno not found; expected ${DENO} (npm ci installs the deno package), got nothing there`,
      ).toBe(true);
      await smokeIn('deno', DENO, [
        'run',
        '--allow-read',
        `--allow-write=${tmpdir()}`,
        '--no-prompt',
        'test/runtimes/deno/smoke.ts',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'runtimes: chromium runs the smoke through dist/bindings/browser.js',
    async () => {
      expect(
        existsSync(CHROMIUM),
        `runtimes: Chromium not found; expected an executable at ${CHROMIUM} (apt-get install -y chromium; .ci/run does), got nothing there`,
      ).toBe(true);
      await smokeIn('chromium', process.execPath, ['dist/test/runtimes/browser/run.js']);
    },
    TEST_TIMEOUT_MS,
  );

  it('runtimes: node, deno and chromium print bitwise identical losses and weights, and the same Trainer run (weights, logged values, checkpoint tensors)', () => {
    const node = outputs.get('node');
    expect([...outputs.keys()].sort(), 'runtimes: a runtime failed above; expected all three outputs').toEqual([
      'chromium',
      'deno',
      'node',
    ]);
    expect(outputs.get('deno')?.lines).toEqual(node?.lines);
    expect(outputs.get('chromium')?.lines).toEqual(node?.lines);
  });
});
