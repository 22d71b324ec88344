/**
 * @module io/fuzz/main — the long fuzz run behind scripts/fuzz.mjs (bundled by esbuild,
 * run by Node). Flags: `--cases N` (random cases per target), `--seconds S` (stop starting
 * cases after S seconds), `--seed N`, `--truncate N` (cut seeds up to N bytes at every
 * length), `--messages N` (print the N commonest
 * error messages per reader), `--write-corpus` (regenerate test/fixtures/fuzz-corpus). Prints per reader the
 * cases tried and their outcomes; exits 1 on any crash.
 */
import { createReferenceBackend } from '../../../runtime/backends/reference/backend.ts';
import { setDefaultBackend } from '../../../runtime/default-backend.ts';
import { formatReport, fuzz, targets } from './engine.ts';
import { loadSeeds, writeCorpus } from './seeds.ts';

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], root: string): Promise<number> {
  const flag = (name: string, fallback: number): number => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
  };
  const backend = createReferenceBackend();
  setDefaultBackend(backend);
  if (argv.includes('--write-corpus')) {
    const names = await writeCorpus(`${root}/test/fixtures/fuzz-corpus`, backend);
    console.log(`wrote ${names.length} files to test/fixtures/fuzz-corpus: ${names.join(', ')}`);
    return 0;
  }
  const seconds = flag('seconds', NaN);
  const report = await fuzz(targets(loadSeeds(root), backend), {
    casesPerTarget: flag('cases', Number.isNaN(seconds) ? 2000 : Infinity),
    ...(Number.isNaN(seconds) ? {} : { durationMs: seconds * 1000 }),
    seed: flag('seed', Date.now() % 2 ** 31),
    truncateUpTo: flag('truncate', 4096),
    caseMs: flag('case-ms', 5000),
    rss: () => process.memoryUsage().rss,
  });
  console.log(formatReport(report, flag('messages', 0)));
  console.log(`  peak rss growth: ${(report.peakRssGrowth / 2 ** 20).toFixed(0)} MiB`);
  return report.crashes.length === 0 ? 0 : 1;
}
