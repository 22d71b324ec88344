#!/usr/bin/env node
// The long fuzz run of the byte-format readers (runtime/io): bundles test/io/fuzz/main.ts
// with esbuild into a temporary .mjs (Node 20 cannot run TypeScript) and runs it.
// Usage: node scripts/fuzz.mjs [--cases N | --seconds S] [--seed N] [--truncate N] [--case-ms N] [--write-corpus]
// Prints, per reader, the cases tried and their outcomes (valid, typed error kinds, crashes);
// exits 1 when any case crashed (an untyped error, a case over its time bound).
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'lightning-fuzz-'));
const out = join(dir, 'fuzz.mjs');
try {
  await build({
    entryPoints: [join(root, 'test/io/fuzz/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    logLevel: 'warning',
  });
  const { main } = await import(pathToFileURL(out).href);
  process.exitCode = await main(process.argv.slice(2), root);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
