/**
 * @module io/fuzz.test — every reader against mutated and crafted hostile input: each case
 * returns or throws one of the project's typed errors within its time bound, memory stays
 * bounded, and Object.prototype is untouched. Set FUZZ_CASES for more random cases per
 * reader; `node scripts/fuzz.mjs` runs the long version.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../runtime/backends/reference/backend.ts';
import { formatReport, fuzz, targets } from './fuzz/engine.ts';
import { loadSeeds } from './fuzz/seeds.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CASES = Number(process.env['FUZZ_CASES'] ?? 600);

describe('io fuzz', () => {
  it('io fuzz: every reader returns or throws a typed error on mutated, truncated and crafted input, in bounded time and memory', async () => {
    const backend = createReferenceBackend();
    const seeds = loadSeeds(root);
    const list = targets(seeds, backend);
    for (const t of list) expect(t.seeds.length, `seeds of ${t.name}`).toBeGreaterThan(0);
    const report = await fuzz(list, {
      casesPerTarget: CASES,
      seed: 20240601,
      truncateUpTo: 800,
      caseMs: 3000,
      rss: () => process.memoryUsage().rss,
    });
    expect(report.crashes, formatReport(report)).toEqual([]);
    for (const t of list) {
      const s = report.perTarget.get(t.name)!;
      expect(s.cases).toBeGreaterThanOrEqual(CASES);
      // Mutations keep some inputs valid and make others typed errors.
      expect(s.outcomes.get('valid') ?? 0, t.name).toBeGreaterThan(0);
    }
    // The crafted attacks hit each kind of limit.
    const kinds = new Set([...report.perTarget.values()].flatMap((s) => [...s.outcomes.keys()]));
    for (const k of [
      'LimitError(maxBytes)',
      'LimitError(maxDepth)',
      'LimitError(maxItems)',
      'LimitError(maxIntBytes)',
      'FormatError',
    ])
      expect(kinds).toContain(k);
    expect(report.peakRssGrowth).toBeLessThan(1024 * 2 ** 20);
  }, 60_000);
});
